"""Passkeys (FIDO2): registration, sign-in, attestation enforcement and AAGUID key restrictions.

models.py      passkeys, issued registration challenges, the loaded FIDO metadata BLOB
policy.py      the Fido2 configuration (self-service, attestation, key restrictions: the AAGUID allow/block list)
mds.py         the FIDO Metadata Service BLOB: signature and chain check, per-AAGUID roots and model names
ceremonies.py  WebAuthn options and verification (py_webauthn), relying party id and origin
service.py     registration under policy, sign-in verification, sign counter, removal
method.py      the sign-in step (username-first and username-less)
api.py         Graph: /users/{id}/authentication/fido2Methods, creationOptions, provisioning
pages.py       My Security Info (add, list, delete) and the console (user panel, metadata upload)
"""
