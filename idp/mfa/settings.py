"""The tenant's MFA settings, section by section, with their defaults and rules.

The verification methods switch each method off for the whole tenant, whatever the methods policy says;
the phone-call settings give calls their caller ID (custom voice messages are uploads, in the phone slice).
"""

import copy
import re
from dataclasses import dataclass
from typing import Callable

import phonenumbers
from sqlalchemy import select

from ..errors import ServiceError
from .. import cache, clock
from ..directory import service as directory
from ..extensions import db
from ..inputs import RangeError, public_ip_range
from .models import MfaSettings

MAX_TRUSTED_RANGES = 50
EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]{1,255}")
VERIFICATION_METHODS = ("verificationCode", "appNotification", "call", "textMessage")


class SettingsError(ServiceError, ValueError):
    """A refused change; the message names the offending property (Graph's words). `field` and `limits` let a
    page say the same in its own words."""

    def __init__(
        self,
        message: str,
        field: str | None = None,
        limits: tuple[int, int] | None = None,
        reason_id: str | None = None,
        values: dict | None = None,
    ):
        super().__init__(message, target=field, reason_id=reason_id, values=values)
        self.limits = limits


def _whole(value, name, low, high):
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise SettingsError(f"Property '{name}' must be a whole number from {low} to {high}.", name, (low, high))


def _flag(value, name):
    if not isinstance(value, bool):
        raise SettingsError(f"Property '{name}' must be true or false.")


def _lockout(v):
    _flag(v["isEnabled"], "isEnabled")
    _whole(v["mfaDenialsBeforeLockout"], "mfaDenialsBeforeLockout", 1, 99)
    _whole(v["minutesUntilCounterReset"], "minutesUntilCounterReset", 1, 1440)
    _whole(v["minutesUntilUnlock"], "minutesUntilUnlock", 1, 1440)


def _fraud(v):
    _flag(v["allowUsersToSubmitFraudAlerts"], "allowUsersToSubmitFraudAlerts")
    _flag(v["blockUserWhenFraudReported"], "blockUserWhenFraudReported")
    if not isinstance(v["fraudCode"], str) or not re.fullmatch(r"[0-9]{1,8}", v["fraudCode"]):
        raise SettingsError("Property 'fraudCode' must be 1 to 8 digits.", "fraudCode")


def _notifications(v):
    recipients = v["recipients"]
    if (
        not isinstance(recipients, list)
        or len(recipients) > 50
        or not all(isinstance(r, str) and EMAIL.fullmatch(r) for r in recipients)
    ):
        raise SettingsError("Property 'recipients' must be a list of at most 50 email addresses.", "recipients")
    v["recipients"] = list(dict.fromkeys(r.lower() for r in recipients))


def trusted_ip_range(text) -> str:
    """A trusted-IPs entry: a public IPv4 range (named locations take IPv6 too)."""
    if isinstance(text, str) and ":" in text:
        raise SettingsError(
            f"'{text[:64]}' is an IPv6 range: trusted IPs take IPv4 only. Use a named location "
            "(Conditional Access → Named locations) for IPv6.",
            "ranges",
            reason_id="range.ipv6_trusted",
            values={"range": text[:64]},
        )
    try:
        return public_ip_range(text)
    except RangeError as error:
        raise SettingsError(str(error), "ranges", reason_id=error.reason_id, values=error.values) from None


def _trusted_ips(v):
    _flag(v["skipMfaForTrustedIps"], "skipMfaForTrustedIps")
    ranges = v["ranges"]
    if not isinstance(ranges, list):
        raise SettingsError("Property 'ranges' must be a list of IPv4 ranges in CIDR notation.", "ranges")
    if len(ranges) > MAX_TRUSTED_RANGES:
        raise SettingsError(
            f"At most {MAX_TRUSTED_RANGES} trusted IP ranges are allowed ({len(ranges)} given).",
            "ranges",
            reason_id="range.too_many",
            values={"count": MAX_TRUSTED_RANGES},
        )
    v["ranges"] = list(dict.fromkeys(trusted_ip_range(r) for r in ranges))


def _verification_methods(v):
    for name in VERIFICATION_METHODS:
        _flag(v[name], name)


def _phone_calls(v):
    """The caller ID shown on MFA calls: a US number, as on Entra's settings page (or empty: the provider's)."""
    number = v["callerIdNumber"]
    if not isinstance(number, str) or len(number) > 32:
        raise SettingsError("Property 'callerIdNumber' must be a US phone number.", "callerIdNumber")
    if not number.strip():
        v["callerIdNumber"] = ""
        return
    try:
        parsed = phonenumbers.parse(number.strip(), "US")
    except phonenumbers.NumberParseException:
        parsed = None
    if (
        parsed is None
        or not phonenumbers.is_valid_number(parsed)
        or phonenumbers.region_code_for_number(parsed) != "US"
    ):
        raise SettingsError("Property 'callerIdNumber': only US phone numbers can be the caller ID.", "callerIdNumber")
    v["callerIdNumber"] = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _suspicious_activity(v):
    if v["state"] not in ("enabled", "disabled", "default"):
        raise SettingsError("Property 'state' must be 'enabled', 'disabled' or 'default'.")
    target = v["includeTarget"]
    if (
        not isinstance(target, dict)
        or not isinstance(target.get("id"), str)
        or target.get("targetType", "group") != "group"
        or len(target["id"]) > 36
    ):
        raise SettingsError(
            'Property \'includeTarget\' must be {"targetType": "group", "id": "all_users" or a group id}.'
        )
    v["includeTarget"] = {"targetType": "group", "id": target["id"]}
    _whole(v["voiceReportingCode"], "voiceReportingCode", 0, 9)


def _suspicious_activity_group(v, tenant_id):
    target = v["includeTarget"]["id"]
    if target != "all_users" and directory.find_group(directory.find_tenant(tenant_id), target) is None:
        raise SettingsError(
            f"Property 'includeTarget': group '{target[:64]}' does not exist in this tenant.", "includeTarget"
        )


def _remember(v):
    _flag(v["isEnabled"], "isEnabled")
    _whole(v["days"], "days", 1, 365)


def _risk(v):
    _flag(v["blockSignInForHighRiskUsers"], "blockSignInForHighRiskUsers")


@dataclass
class Section:
    name: str
    title: str
    defaults: dict
    check: Callable[[dict], None]
    check_in_tenant: Callable[[dict, str], None] | None = None  # rules that look at the directory


SECTIONS = {
    s.name: s
    for s in [
        Section(
            "accountLockout",
            "Account lockout",
            {
                "isEnabled": True,
                "mfaDenialsBeforeLockout": 10,
                "minutesUntilCounterReset": 10,
                "minutesUntilUnlock": 10,
            },
            _lockout,
        ),
        Section(
            "fraudAlert",
            "Fraud alert",
            {"allowUsersToSubmitFraudAlerts": True, "blockUserWhenFraudReported": True, "fraudCode": "0"},
            _fraud,
        ),
        Section(
            "reportSuspiciousActivity",
            "Report suspicious activity",
            {"state": "default", "includeTarget": {"targetType": "group", "id": "all_users"}, "voiceReportingCode": 0},
            _suspicious_activity,
            _suspicious_activity_group,
        ),
        Section("notifications", "Notifications", {"recipients": []}, _notifications),
        Section("trustedIps", "Trusted IPs", {"skipMfaForTrustedIps": False, "ranges": []}, _trusted_ips),
        Section(
            "verificationMethods",
            "Verification methods",
            {"verificationCode": True, "appNotification": True, "call": True, "textMessage": True},
            _verification_methods,
        ),
        Section("phoneCallSettings", "Phone call settings", {"callerIdNumber": ""}, _phone_calls),
        Section("rememberMfa", "Remember multifactor authentication", {"isEnabled": False, "days": 90}, _remember),
        Section("riskPolicy", "User risk", {"blockSignInForHighRiskUsers": False}, _risk),
    ]
}


#: how long another process may go on applying settings as they were
CACHE_SECONDS = 5


def get(tenant_id: str, section: str) -> dict:
    """A section's values (a missing row means the defaults); every section of a tenant in one look-up, kept a
    few seconds per process."""
    stored = cache.named("mfa-settings", ttl=CACHE_SECONDS).get(tenant_id, lambda: _tenant_sections(tenant_id))
    return copy.deepcopy({**SECTIONS[section].defaults, **stored.get(section, {})})


def _tenant_sections(tenant_id: str) -> dict:
    query = select(MfaSettings).where(MfaSettings.tenant_id == tenant_id)
    return {row.section: copy.deepcopy(row.values) for row in db.session.scalars(query)}


cache.cleared_on_change("mfa-settings", MfaSettings)


def update(tenant_id: str, section: str, changes: dict) -> tuple[dict, dict]:
    """Validate and store a partial change; returns (before, after). Nothing is stored on error."""
    spec = SECTIONS[section]
    if not isinstance(changes, dict):
        raise SettingsError("The request body must be a JSON object.")
    unknown = set(changes) - set(spec.defaults) - {"@odata.type"}
    if unknown:
        raise SettingsError(f"Property '{sorted(unknown)[0]}' is not valid for {spec.title}.")
    before = get(tenant_id, section)
    after = {**before, **{k: v for k, v in changes.items() if k in spec.defaults}}
    spec.check(after)
    if spec.check_in_tenant:
        spec.check_in_tenant(after, tenant_id)
    row = db.session.get(MfaSettings, (tenant_id, section))
    if row is None:
        row = MfaSettings(tenant_id=tenant_id, section=section)
        db.session.add(row)
    row.values, row.modified_at = after, clock.now()
    db.session.flush()
    return before, after
