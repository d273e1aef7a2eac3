"""OATH TOTP: authenticator apps (software tokens) and hardware tokens from an inventory.

totp.py       code generation (pyotp), Base32 rules, the drift-window search
models.py     hardware token inventory, users' OATH methods, CSV import jobs
policy.py     the SoftwareOath and HardwareOath configurations of the methods policy
service.py    enrolment, assignment, activation (drift search), sign-in verification, replay
importer.py   the streaming CSV import job and its error CSV
method.py     the sign-in step (second factor)
api.py        Graph: softwareOathMethods, hardwareOathMethods, directory/authenticationMethodDevices
pages.py      My Security Info (authenticator app, hardware token) and the console (inventory, import)
"""
