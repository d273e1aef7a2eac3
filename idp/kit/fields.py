"""How the console shows each policy setting: a plain name, a help line, and the control its type needs."""

from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l


@dataclass(frozen=True)
class Field:
    label: str
    help: str
    control: str = "number"  # number | switch | select
    minimum: int | None = None
    maximum: int | None = None
    options: tuple = field(default_factory=tuple)  # (value, label) for a select


POLICY_NAMES = {
    "TemporaryAccessPass": _l("Temporary Access Pass"),
    "SoftwareOath": _l("Third-party software OATH tokens"),
    "HardwareOath": _l("Hardware OATH tokens"),
    "Fido2": _l("Passkey (FIDO2)"),
    "Email": _l("Email OTP"),
    "Sms": _l("Text message (SMS)"),
    "Voice": _l("Voice call"),
    "MicrosoftAuthenticator": "Microsoft Authenticator",
}

FIELDS = {
    "minimumLifetimeInMinutes": Field(
        _l("Minimum lifetime (minutes)"),
        _l("The shortest time a new pass may be valid for."),
        minimum=10,
        maximum=43_200,
    ),
    "maximumLifetimeInMinutes": Field(
        _l("Maximum lifetime (minutes)"),
        _l("The longest time a new pass may be valid for (up to 30 days)."),
        minimum=10,
        maximum=43_200,
    ),
    "defaultLifetimeInMinutes": Field(
        _l("Default lifetime (minutes)"),
        _l("What a new pass gets unless the administrator chooses otherwise."),
        minimum=10,
        maximum=43_200,
    ),
    "defaultLength": Field(_l("Length (characters)"), _l("How many characters a new pass has."), minimum=8, maximum=48),
    "isUsableOnce": Field(_l("One-time use"), _l("Every pass can sign in only once."), "switch"),
    "isSelfServiceRegistrationAllowed": Field(
        _l("Allow self-service set up"), _l("Users may register passkeys themselves in My Security Info."), "switch"
    ),
    "isAttestationEnforced": Field(
        _l("Enforce attestation"), _l("A new passkey must prove its make and model (FIDO metadata)."), "switch"
    ),
    "allowExternalIdToUseEmailOtp": Field(
        _l("Guests from other organizations may sign in with a code sent by email"),
        _l("Managed by the service means on."),
        "select",
        options=(("default", _l("Managed by the service (on)")), ("enabled", _l("Yes")), ("disabled", _l("No"))),
    ),
}


def policy_name(method_id: str) -> str:
    return str(POLICY_NAMES.get(method_id, method_id))


def field_for(name: str, default) -> Field:
    if name in FIELDS:
        return FIELDS[name]
    return Field(name, "", "switch" if isinstance(default, bool) else "number" if isinstance(default, int) else "text")


MFA_FIELDS = {
    ("accountLockout", "isEnabled"): Field(
        _l("Lock accounts after repeated MFA denials"), _l("Stops someone from trying code after code."), "switch"
    ),
    ("accountLockout", "mfaDenialsBeforeLockout"): Field(
        _l("Denials before the account is locked"), "", minimum=1, maximum=99
    ),
    ("accountLockout", "minutesUntilCounterReset"): Field(
        _l("Minutes until the denial count resets"), "", minimum=1, maximum=1440
    ),
    ("accountLockout", "minutesUntilUnlock"): Field(
        _l("Minutes until a locked account is unlocked"), "", minimum=1, maximum=1440
    ),
    ("fraudAlert", "allowUsersToSubmitFraudAlerts"): Field(
        _l("Users may report a sign-in they did not make"), "", "switch"
    ),
    ("fraudAlert", "blockUserWhenFraudReported"): Field(
        _l("Block the user from MFA when they report fraud"),
        _l("Blocked users stay blocked for 90 days or until unblocked."),
        "switch",
    ),
    ("fraudAlert", "fraudCode"): Field(_l("Code that reports fraud during a phone call"), "", "text"),
    ("reportSuspiciousActivity", "state"): Field(
        _l("Report suspicious activity"),
        _l("Reports raise the user's risk and notify the administrators."),
        "select",
        options=(("default", _l("Managed by the service (off)")), ("enabled", _l("On")), ("disabled", _l("Off"))),
    ),
    ("reportSuspiciousActivity", "voiceReportingCode"): Field(
        _l("Code that reports during a phone call"), "", minimum=0, maximum=9
    ),
    ("notifications", "recipients"): Field(_l("Email addresses told about fraud reports, one per line"), "", "lines"),
    ("trustedIps", "skipMfaForTrustedIps"): Field(_l("Skip MFA for sign-ins from trusted IP ranges"), "", "switch"),
    ("trustedIps", "ranges"): Field(_l("Trusted IP ranges, one per line (CIDR, public addresses only)"), "", "lines"),
    ("verificationMethods", "verificationCode"): Field(
        _l("Verification code from an app or hardware token"), "", "switch"
    ),
    ("verificationMethods", "appNotification"): Field(_l("Notification through the mobile app"), "", "switch"),
    ("verificationMethods", "call"): Field(_l("Call to phone"), "", "switch"),
    ("verificationMethods", "textMessage"): Field(_l("Text message to phone"), "", "switch"),
    ("phoneCallSettings", "callerIdNumber"): Field(_l("Caller ID number"), _l("A US number only."), "text"),
    ("rememberMfa", "isEnabled"): Field(
        _l("Let users skip MFA on devices they trust"), _l('Users see "Don\'t ask again" when they sign in.'), "switch"
    ),
    ("rememberMfa", "days"): Field(_l("Days before MFA is asked again"), "", minimum=1, maximum=365),
    ("riskPolicy", "blockSignInForHighRiskUsers"): Field(_l("Block sign-in for users at high risk"), "", "switch"),
}


def mfa_field(section: str, name: str, default) -> Field:
    return MFA_FIELDS.get((section, name)) or field_for(name, default)


def field_error(plain, error):
    """A refused field's message in the reader's language: the sentence for the refusal's reason, else (in
    English) the service's own words, else the page's plain sentence for the field (idp.ui.refusal_text)."""
    from ..ui import refusal_text

    return refusal_text(error, fallback=plain)
