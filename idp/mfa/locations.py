"""Trusted IPs (MFA settings) and named locations (Conditional Access): a browser sign-in from a trusted
address skips the MFA prompt. The address is the socket's, unless IDP_TRUSTED_PROXIES says how many proxies'
X-Forwarded-For entries to believe (werkzeug ProxyFix); a forged header from anyone else changes nothing."""

import ipaddress

from sqlalchemy import select

from ..errors import ServiceError
from .. import cache, clock
from ..audit.log import client_ip
from ..extensions import db
from ..inputs import RangeError, public_ip_range
from ..signin.hooks import MfaDecision
from . import settings
from .models import NamedLocation
from ..audit import reasons
from ..i18n.names import N_

SKIPPED = reasons.template(N_("MFA skipped: %(detail)s"))
FROM_TRUSTED_RANGE = reasons.template(N_("the sign-in came from the trusted IP range %(cidr)s"))
FROM_NAMED_LOCATION = reasons.template(N_("the sign-in came from the trusted named location '%(name)s'"))


class LocationError(ServiceError, ValueError):
    """A refused change; `field` is the Graph property at fault (the console shows the message next to it)."""

    def __init__(
        self, message: str, field: str | None = None, reason_id: str | None = None, values: dict | None = None
    ):
        super().__init__(message, target=field, reason_id=reason_id, values=values)


def parse_range(text) -> str:
    """A named location's range: public IPv4 or IPv6 CIDR (Entra refuses private ranges and masks wider than /8)."""
    try:
        return public_ip_range(text)
    except RangeError as error:
        raise LocationError(
            f"Property 'cidrAddress': {error}", "ipRanges", reason_id=error.reason_id, values=error.values
        ) from None


def apply(location: NamedLocation, body: dict, creating: bool) -> None:
    """Set a Graph ipNamedLocation body on `location` (PATCH semantics unless `creating`): the one
    validation of the Graph API and the console."""
    odata_type = body.get("@odata.type")
    if odata_type is not None and str(odata_type).lstrip("#") != "microsoft.graph.ipNamedLocation":
        raise LocationError("Only ipNamedLocation is supported (countryNamedLocation is not).")
    unknown = set(body) - {"@odata.type", "id", "displayName", "ipRanges", "isTrusted"}
    if unknown:
        raise LocationError(f"Property '{sorted(unknown)[0]}' is not valid for a named location.")
    if "displayName" in body or creating:
        name = body.get("displayName")
        if not isinstance(name, str) or not name.strip():
            raise LocationError("Property 'displayName' is required.", "displayName", reason_id="location.name")
        location.display_name = name.strip()[:256]
    if "ipRanges" in body or creating:
        ranges = body.get("ipRanges")
        if not isinstance(ranges, list) or not ranges or len(ranges) > 2000:
            raise LocationError(
                "Property 'ipRanges' must be a non-empty list of {\"cidrAddress\": ...}.",
                "ipRanges",
                reason_id="location.no_ranges",
            )
        location.ip_ranges = list(
            dict.fromkeys(parse_range(r.get("cidrAddress") if isinstance(r, dict) else None) for r in ranges)
        )
    if "isTrusted" in body:
        if not isinstance(body["isTrusted"], bool):
            raise LocationError("Property 'isTrusted' must be true or false.", "isTrusted")
        location.is_trusted = body["isTrusted"]
    location.modified_at = clock.now()


def create(tenant_id: str, body: dict) -> NamedLocation:
    location = NamedLocation(tenant_id=tenant_id)
    apply(location, body, creating=True)
    db.session.add(location)
    db.session.flush()
    return location


def find(tenant_id: str, location_id: str) -> NamedLocation | None:
    location = db.session.get(NamedLocation, location_id[:36])
    return location if location is not None and location.tenant_id == tenant_id else None


def named_locations(tenant_id: str) -> list[NamedLocation]:
    return list(
        db.session.scalars(
            select(NamedLocation).where(NamedLocation.tenant_id == tenant_id).order_by(NamedLocation.display_name)
        )
    )


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
                return FROM_TRUSTED_RANGE % {"cidr": cidr}
    for name, ranges in _trusted_locations(tenant_id):
        if any(ip.version == ipaddress.ip_network(c).version and ip in ipaddress.ip_network(c) for c in ranges):
            return FROM_NAMED_LOCATION % {"name": name}
    return None


def _trusted_locations(tenant_id: str) -> list[tuple[str, list[str]]]:
    """(name, IP ranges) of the tenant's trusted locations, kept a few seconds per process: every sign-in asks."""
    return cache.named("trusted-locations", ttl=settings.CACHE_SECONDS).get(
        tenant_id,
        lambda: [(loc.display_name, list(loc.ip_ranges)) for loc in named_locations(tenant_id) if loc.is_trusted],
    )


cache.cleared_on_change("trusted-locations", NamedLocation)


def trusted_location(txn) -> MfaDecision | None:
    reason = trusted_because(txn.tenant_id, client_ip())
    return MfaDecision(False, SKIPPED % {"detail": reason}) if reason else None
