"""Phones: text-message codes and voice calls, sent through the telephony provider (the simulator by default).

numbers.py    parsing and formats (phonenumbers): E.164 stored, Graph's "+1 5555551234x123" shown
models.py     users' phones, texted codes, MFA calls, custom voice messages
policy.py     the Sms and Voice configurations of the methods policy
service.py    registration rules, codes (6 digits, 180 s, three tries), what policy lets each user use
voice.py      the call's IVR (#, the fraud code, 1 to confirm a block), scripts, custom messages by language
method.py     the sign-in steps (text message, call)
api.py        Graph: phoneMethods
pages.py      My Security Info
"""
