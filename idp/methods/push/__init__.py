"""Microsoft Authenticator notifications with number matching, and the device protocol behind them.

protocol.py   what is signed and how (ECDSA P-256, SHA-256): pairing proofs, polls, responses
models.py     paired devices (public keys), pairing codes, push requests
policy.py     the MicrosoftAuthenticator configuration of the methods policy
service.py    pairing, requests (two-digit number, three choices), verified responses, outcomes
method.py     the sign-in step
api.py        the device endpoints (/{tenant}/authenticator/v1/...)
pages.py      My Security Info: pair by QR code; delete a device
simulator.py  the simulated authenticator (development page and `flask idp authenticator ...`)
"""
