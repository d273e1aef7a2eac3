"""Trusted IPs (MFA settings) and named locations (Conditional Access): a browser sign-in from a trusted
address skips the MFA prompt. The address is the socket's, unless IDP_TRUSTED_PROXIES says how many proxies'
X-Forwarded-For entries to believe (werkzeug ProxyFix); a forged header from anyone else changes nothing."""
import ipaddress

from sqlalchemy import select

from ..audit.log import client_ip
from ..extensions import db
from ..signin.flow import MfaDecision, mfa_rule
from . import settings
from .models import NamedLocation


class LocationError(ValueError):
    pass


def parse_range(text) -> str:
    """A named location's range: IPv4 or IPv6 CIDR."""
    if not isinstance(text, str):
        raise LocationError("Each 'cidrAddress' must be a string in CIDR notation.")
    try:
        return str(ipaddress.ip_network(text.strip(), strict=False))
    except ValueError:
        raise LocationError(f"'{text[:64]}' is not an IP range in CIDR notation.") from None


def named_locations(tenant_id: str) -> list[NamedLocation]:
    return list(db.session.scalars(select(NamedLocation).where(NamedLocation.tenant_id == tenant_id)
                                   .order_by(NamedLocation.display_name)))


def trusted_because(tenant_id: str, address: str | None) -> str | None:
    """Why this address is trusted (for the sign-in log), or None."""
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return None
    config = settings.get(tenant_id, "trustedIps")
    if config["skipMfaForTrustedIps"]:
        for cidr in config["ranges"]:
            if ip in ipaddress.ip_network(cidr):
                return f"the sign-in came from the trusted IP range {cidr}"
    for location in named_locations(tenant_id):
        if location.is_trusted and any(ip.version == ipaddress.ip_network(c).version and ip in ipaddress.ip_network(c)
                                       for c in location.ip_ranges):
            return f"the sign-in came from the trusted named location '{location.display_name}'"
    return None


@mfa_rule(500)
def trusted_location(txn) -> MfaDecision | None:
    reason = trusted_because(txn.tenant_id, client_ip())
    return MfaDecision(False, f"MFA skipped: {reason}") if reason else None
