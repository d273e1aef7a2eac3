"""Email one-time passcodes for B2B guests (external users without a home account on this server).

models.py   the codes (keyed hashes, 30-minute life, five tries)
policy.py   the Email configuration: allowExternalIdToUseEmailOtp
service.py  who uses email OTP, sending (rate-limited), verifying, redemption
method.py   the sign-in step ("Send code", then the code)
"""
