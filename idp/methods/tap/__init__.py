"""Temporary Access Pass: a time-limited passcode that is a strong credential on its own.

models.py   the pass (hashed code, start, lifetime, one-time use)
policy.py   the TemporaryAccessPass configuration of the authentication methods policy
service.py  create/replace, usability, verify-and-consume, delete (revokes what it signed in)
method.py   the sign-in step
api.py      Graph: /users/{id}/authentication/temporaryAccessPassMethods
pages.py    console panel (create, show once, delete) and My Security Info entry
"""
