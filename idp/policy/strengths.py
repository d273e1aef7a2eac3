"""Authentication strengths: which combinations of methods satisfy a requirement.

Built-in strengths carry Entra's well-known ids; custom ones are per tenant. A combination is a set of
factors ("password,softwareOath"); a sign-in meets a strength when the factors it proved contain one of the
allowed combinations, and a FIDO2 combination may be limited to some authenticator models (AAGUIDs).
"""

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from .. import clock
from ..directory.models import new_id
from ..extensions import db

FACTORS = {
    "password",
    "voice",
    "hardwareOath",
    "softwareOath",
    "sms",
    "fido2",
    "windowsHelloForBusiness",
    "microsoftAuthenticatorPush",
    "deviceBasedPush",
    "temporaryAccessPassOneTime",
    "temporaryAccessPassMultiUse",
    "email",
    "x509CertificateSingleFactor",
    "x509CertificateMultiFactor",
    "federatedSingleFactor",
    "federatedMultiFactor",
    "qrCodePin",
}
#: how the sign-in pages name a factor when explaining what would satisfy a strength
FACTOR_LABELS = {
    "password": "password",
    "softwareOath": "authenticator app code",
    "hardwareOath": "hardware token code",
    "fido2": "passkey (FIDO2 security key)",
    "temporaryAccessPassOneTime": "one-time Temporary Access Pass",
    "temporaryAccessPassMultiUse": "Temporary Access Pass",
    "email": "email code",
    "windowsHelloForBusiness": "Windows Hello for Business",
    "x509CertificateMultiFactor": "certificate",
    "microsoftAuthenticatorPush": "Authenticator app notification",
    "deviceBasedPush": "Authenticator passwordless",
    "federatedMultiFactor": "your home organization's MFA",
    "federatedSingleFactor": "your home organization's sign-in",
    "sms": "text message",
    "voice": "phone call",
}

MFA = "00000000-0000-0000-0000-000000000002"
PASSWORDLESS = "00000000-0000-0000-0000-000000000003"
PHISHING_RESISTANT = "00000000-0000-0000-0000-000000000004"
_PHISHING_RESISTANT = ["windowsHelloForBusiness", "fido2", "x509CertificateMultiFactor"]
_PASSWORDLESS = _PHISHING_RESISTANT + ["deviceBasedPush"]
_MFA = _PASSWORDLESS + [
    "temporaryAccessPassOneTime",
    "temporaryAccessPassMultiUse",
    "password,microsoftAuthenticatorPush",
    "password,softwareOath",
    "password,hardwareOath",
    "password,sms",
    "password,voice",
    "federatedMultiFactor",
    "microsoftAuthenticatorPush,federatedSingleFactor",
    "softwareOath,federatedSingleFactor",
    "hardwareOath,federatedSingleFactor",
    "sms,federatedSingleFactor",
    "voice,federatedSingleFactor",
]


class AuthenticationStrength(db.Model):
    """A tenant's custom strength."""

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"), index=True)
    display_name: Mapped[str] = mapped_column(String(256))
    description: Mapped[str | None] = mapped_column(Text)
    allowed_combinations: Mapped[list] = mapped_column(JSON, default=list)
    combination_configurations: Mapped[list] = mapped_column(JSON, default=list)  # fido2 AAGUID limits
    created_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
    modified_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)


@dataclass
class Strength:
    id: str
    display_name: str
    description: str
    allowed_combinations: list
    combination_configurations: list = field(default_factory=list)
    built_in: bool = False
    created_at: datetime | None = None
    modified_at: datetime | None = None

    def meets(self, factors, aaguid: str | None = None) -> bool:
        proved = set(factors or [])
        return any(set(c.split(",")) <= proved and self._aaguid_ok(c, aaguid) for c in self.allowed_combinations)

    def _aaguid_ok(self, combination: str, aaguid: str | None) -> bool:
        for config in self.combination_configurations:
            if combination in config.get("appliesToCombinations", []) and config.get("allowedAAGUIDs"):
                return (aaguid or "").lower() in [a.lower() for a in config["allowedAAGUIDs"]]
        return True

    def useful(self, proved, offered: set[str], reachable: set[str]) -> bool:
        """Whether a step that proves one of `offered` factors can lead to this strength, given what was
        proved and what the user could still prove (`reachable`)."""
        proved = set(proved or [])
        for combination in self.allowed_combinations:
            needed = set(combination.split(","))
            if needed & offered - proved and needed <= proved | offered | reachable:
                return True
        return False

    def explain(self) -> list[str]:
        return [
            " + ".join(FACTOR_LABELS.get(f, f) for f in c.split(","))
            for c in self.allowed_combinations
            if all(f in FACTOR_LABELS for f in c.split(","))
        ]


BUILT_IN = {
    MFA: Strength(
        MFA,
        "Multifactor authentication",
        "Combinations of methods that satisfy strong authentication, such as a password and a code.",
        _MFA,
        built_in=True,
    ),
    PASSWORDLESS: Strength(
        PASSWORDLESS,
        "Passwordless MFA",
        "Passwordless methods that satisfy strong authentication.",
        _PASSWORDLESS,
        built_in=True,
    ),
    PHISHING_RESISTANT: Strength(
        PHISHING_RESISTANT,
        "Phishing-resistant MFA",
        "Phishing-resistant, passwordless methods for the strongest authentication.",
        _PHISHING_RESISTANT,
        built_in=True,
    ),
}


def _from_row(row: AuthenticationStrength) -> Strength:
    return Strength(
        row.id,
        row.display_name,
        row.description or "",
        list(row.allowed_combinations),
        list(row.combination_configurations or []),
        created_at=row.created_at,
        modified_at=row.modified_at,
    )


def find(tenant_id: str, strength_id: str | None) -> Strength | None:
    if not strength_id:
        return None
    if strength_id in BUILT_IN:
        return BUILT_IN[strength_id]
    row = db.session.get(AuthenticationStrength, strength_id[:36])
    return _from_row(row) if row is not None and row.tenant_id == tenant_id else None


def all_for(tenant_id: str) -> list[Strength]:
    rows = db.session.scalars(
        select(AuthenticationStrength)
        .where(AuthenticationStrength.tenant_id == tenant_id)
        .order_by(AuthenticationStrength.created_at)
    )
    return list(BUILT_IN.values()) + [_from_row(r) for r in rows]


def check_combinations(value) -> list[str] | str:
    """The normalised list, or an error message naming the bad entry."""
    if not isinstance(value, list) or not value or len(value) > 50:
        return "Property 'allowedCombinations' must be a non-empty list of method combinations."
    found = []
    for item in value:
        parts = item.split(",") if isinstance(item, str) else None
        if not parts or any(p not in FACTORS for p in parts) or len(set(parts)) != len(parts):
            return f"'{str(item)[:80]}' is not a valid authentication method combination."
        found.append(",".join(parts))
    return list(dict.fromkeys(found))
