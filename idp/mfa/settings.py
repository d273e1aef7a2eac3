"""The tenant's MFA settings, section by section, with their defaults and rules.

Telephony (calls, text messages) and app notifications are out of scope: those verification methods exist in
the settings so that they can be shown, but can never be turned on.
"""
import ipaddress
import re
from dataclasses import dataclass
from typing import Callable

from flask import g, has_request_context
from sqlalchemy import select

from .. import clock
from ..extensions import db
from .models import MfaSettings

MAX_TRUSTED_RANGES = 50
EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]{1,255}")
UNAVAILABLE_METHODS = ("appNotification", "call", "textMessage")


class SettingsError(ValueError):
    """A refused change; the message names the offending property."""


def _whole(value, name, low, high):
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise SettingsError(f"Property '{name}' must be a whole number from {low} to {high}.")


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
        raise SettingsError("Property 'fraudCode' must be 1 to 8 digits.")


def _notifications(v):
    recipients = v["recipients"]
    if not isinstance(recipients, list) or len(recipients) > 50 or not all(
            isinstance(r, str) and EMAIL.fullmatch(r) for r in recipients):
        raise SettingsError("Property 'recipients' must be a list of at most 50 email addresses.")
    v["recipients"] = list(dict.fromkeys(r.lower() for r in recipients))


def trusted_ip_range(text) -> str:
    """A trusted-IPs entry: public IPv4 CIDR only (named locations take IPv6 and the rest)."""
    if not isinstance(text, str):
        raise SettingsError("Each trusted IP range must be a string in CIDR notation, such as 203.0.113.0/24.")
    try:
        network = ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        raise SettingsError(f"'{text[:64]}' is not an IP range in CIDR notation (a.b.c.d/n).") from None
    if network.version == 6:
        raise SettingsError(f"'{text[:64]}' is an IPv6 range: trusted IPs take IPv4 only. Use a named location "
                            "(Conditional Access → Named locations) for IPv6.")
    if not network.is_global:
        raise SettingsError(f"'{text[:64]}' is a private or reserved range; trusted IPs must be public addresses.")
    return str(network)


def _trusted_ips(v):
    _flag(v["skipMfaForTrustedIps"], "skipMfaForTrustedIps")
    ranges = v["ranges"]
    if not isinstance(ranges, list):
        raise SettingsError("Property 'ranges' must be a list of IPv4 ranges in CIDR notation.")
    if len(ranges) > MAX_TRUSTED_RANGES:
        raise SettingsError(f"At most {MAX_TRUSTED_RANGES} trusted IP ranges are allowed ({len(ranges)} given).")
    v["ranges"] = list(dict.fromkeys(trusted_ip_range(r) for r in ranges))


def _verification_methods(v):
    for name in ("verificationCode", *UNAVAILABLE_METHODS):
        _flag(v[name], name)
    for name in UNAVAILABLE_METHODS:
        if v[name]:
            raise SettingsError(f"Property '{name}': this verification method is not available on this server "
                                "(telephony and app notifications are out of scope).")


def _suspicious_activity(v):
    if v["state"] not in ("enabled", "disabled", "default"):
        raise SettingsError("Property 'state' must be 'enabled', 'disabled' or 'default'.")
    target = v["includeTarget"]
    if not isinstance(target, dict) or not isinstance(target.get("id"), str) or \
            target.get("targetType", "group") != "group" or len(target["id"]) > 36:
        raise SettingsError("Property 'includeTarget' must be {\"targetType\": \"group\", \"id\": \"all_users\" or a group id}.")
    v["includeTarget"] = {"targetType": "group", "id": target["id"]}
    _whole(v["voiceReportingCode"], "voiceReportingCode", 0, 9)


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


SECTIONS = {s.name: s for s in [
    Section("accountLockout", "Account lockout",
            {"isEnabled": True, "mfaDenialsBeforeLockout": 10, "minutesUntilCounterReset": 10, "minutesUntilUnlock": 10},
            _lockout),
    Section("fraudAlert", "Fraud alert",
            {"allowUsersToSubmitFraudAlerts": True, "blockUserWhenFraudReported": True, "fraudCode": "0"}, _fraud),
    Section("reportSuspiciousActivity", "Report suspicious activity",
            {"state": "default", "includeTarget": {"targetType": "group", "id": "all_users"}, "voiceReportingCode": 0},
            _suspicious_activity),
    Section("notifications", "Notifications", {"recipients": []}, _notifications),
    Section("trustedIps", "Trusted IPs", {"skipMfaForTrustedIps": False, "ranges": []}, _trusted_ips),
    Section("verificationMethods", "Verification methods",
            {"verificationCode": True, "appNotification": False, "call": False, "textMessage": False},
            _verification_methods),
    Section("rememberMfa", "Remember multifactor authentication", {"isEnabled": False, "days": 90}, _remember),
    Section("riskPolicy", "User risk", {"blockSignInForHighRiskUsers": False}, _risk),
]}


def get(tenant_id: str, section: str) -> dict:
    memo = g.setdefault("mfa_settings", {}) if has_request_context() else {}
    if tenant_id not in memo:  # every section in one look-up per request (a missing row means the defaults)
        memo[tenant_id] = {row.section: row.values for row in db.session.scalars(
            select(MfaSettings).where(MfaSettings.tenant_id == tenant_id))}
    return {**SECTIONS[section].defaults, **memo[tenant_id].get(section, {})}


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
    row = db.session.get(MfaSettings, (tenant_id, section))
    if row is None:
        row = MfaSettings(tenant_id=tenant_id, section=section)
        db.session.add(row)
    row.values, row.modified_at = after, clock.now()
    db.session.flush()
    if has_request_context():
        g.pop("mfa_settings", None)
    return before, after
