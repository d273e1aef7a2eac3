"""The unauthenticated surface: every endpoint that answers a request carrying no session and no token,
with why it must be public. Anything else must refuse an anonymous caller (401, 403, or a redirect to the
sign-in). tests/test_fuzz_inputs.py requests every route anonymously and fails on a public one not listed
here, so a new public endpoint is a deliberate, reviewed decision.
"""

UNAUTHENTICATED: dict[str, str] = {
    # discovery and keys: public by the OpenID Connect specifications
    "oidc.discovery": "OpenID Provider metadata",
    "oidc.jwks": "the signing keys relying parties verify tokens with",
    "oidc.error_lookup": "explains an AADSTS code shown on an error page (no data)",
    "graph_openapi.openapi_json": "the admin API's OpenAPI document (no data)",
    "static": "stylesheet and scripts",
    "i18n.choose": "the language switcher (a cookie with the chosen language)",
    # OAuth endpoints: they authenticate the client or the token themselves
    "oidc.authorize": "starts a sign-in; validates the client and its exact redirect URI",
    "oidc.token": "client authentication, PKCE and one-time codes",
    "oidc.introspect": "client authentication",
    "oidc.revoke": "client authentication",
    "oidc.logout": "RP-initiated logout: ends only this browser's session",
    "oidc.userinfo": "bearer token (401 without one)",
    "oidc.devicecode": "device authorization grant: client-authenticated, issues a code the user confirms",
    "oidc.user_realm": "home realm discovery (what MSAL asks before sign-in); says no more than the sign-in page",
    "device.verify": "the device-code entry page: a code and a sign-in are still needed",
    "authenticator.pair": "push authenticator pairing: needs the one-time pairing secret",
    "authenticator.respond": "push approval: needs the device's signature",
    # the sign-in itself: bound to the browser's transaction, rate-limited, lockout-protected
    "signin.start": "the username page",
    "signin.identify": "records the username of this browser's transaction",
    "signin.method_step": "verifies a factor of this browser's transaction",
    "signin.usernameless_step": "a discoverable passkey: the credential names its user",
    "signin.stay_signed_in": "the last step of this browser's transaction",
    "signin.cancel": "cancels this browser's transaction",
    "signin.report_fraud": '"I didn\'t try to sign in": only after a first factor for that user',
    "signin.signed_in": "says whether this browser is signed in",
    "signin.new_password": "forceChangePasswordNextSignIn: only after this browser's transaction passed the password",
    # guests
    "guests.home": "the landing page",
    "guests.tenant_home": "a tenant's landing page",
    "guests.tenantless_login": "/common and /organizations sign-in (the user's domain picks the tenant)",
    "guests.redeem": "an invitation link: a signed, expiring token",
    "guests.report": '"report it" from a code e-mail: a signed, expiring, one-time link',
    # company branding: what every visitor of the tenant's sign-in pages sees
    "branding.banner_logo": "the tenant's banner logo (a checked PNG or JPEG, served with nosniff and a sandbox CSP)",
    "branding.stylesheet": "the tenant's background colour as a one-rule stylesheet (a checked #RRGGBB)",
    # telephony: called by the provider, not by a browser
    "twilio_voice.answer": "Twilio's voice webhook: refused unless X-Twilio-Signature verifies",
    "twilio_voice.gather": "Twilio's voice webhook: refused unless X-Twilio-Signature verifies",
    "twilio_voice.status": "Twilio's status webhook: refused unless X-Twilio-Signature verifies",
    "phone_audio.voice_message": "a custom voice message played to callers, by its unguessable id",
    # development mode only (IDP_DEV_MODE)
    "devphone.phone": "the development phone simulator (development mode)",
    "devphone.call_action": "the development phone simulator (development mode)",
    "demo.index": "the demo relying party (development mode)",
    "demo.login": "the demo relying party (development mode)",
    "demo.callback": "the demo relying party (development mode)",
    "demo.logout": "the demo relying party (development mode)",
    "devmail.mailbox": "the development outbox (development mode without SMTP)",
}
