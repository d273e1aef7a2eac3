"""MFA settings, as Entra's "configure MFA settings" page has them, enforced in every server process.

settings.py   the tenant's settings, section by section (lockout, fraud alert, suspicious activity,
              notifications, trusted IPs, verification methods, remember MFA, user risk)
models.py     settings rows, per-user state (lockout counters, last MFA, risk), blocks, detections, named locations
lockout.py    account lockout: attempts claimed atomically, so a burst never checks more than the threshold
blocks.py     block / unblock users (90 days)
fraud.py      "I didn't try to sign in": deny, block, raise risk, notify
risk.py       risk detections, risky users, the optional high-risk block
locations.py  trusted IPs and named locations (an MFA rule)
remember.py   the remember-MFA cookie (an MFA rule), revocation, the refresh-token rule
api.py        Graph-style resources; pages.py: the report step, the console page
"""
