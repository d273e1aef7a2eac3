from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ... import clock
from ...directory.models import User, new_id
from ...extensions import db


class Passkey(db.Model):
    """A registered FIDO2 credential. It is bound to the user id (the WebAuthn user handle), not the UPN,
    so renaming the user keeps it working."""

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    credential_id: Mapped[str] = mapped_column(String(1400), unique=True)  # base64url, as the browser sends it
    public_key: Mapped[bytes] = mapped_column(LargeBinary)  # COSE key
    sign_count: Mapped[int] = mapped_column(Integer, default=0)
    aaguid: Mapped[str] = mapped_column(String(36))
    model: Mapped[str | None] = mapped_column(String(256))
    display_name: Mapped[str] = mapped_column(String(256))
    attestation_format: Mapped[str] = mapped_column(String(32))
    attestation_level: Mapped[str] = mapped_column(String(16))  # attested | notAttested
    attestation_certificates: Mapped[list] = mapped_column(JSON, default=list)  # subject names of the chain
    transports: Mapped[list] = mapped_column(JSON, default=list)
    backed_up: Mapped[bool] = mapped_column(Boolean, default=False)
    upn_at_registration: Mapped[str] = mapped_column(String(320))  # what the authenticator shows as the name
    created_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime)

    user: Mapped[User] = relationship()


class PasskeyChallenge(db.Model):
    """An issued registration challenge (self-service or admin provisioning): single use, with an expiry."""

    challenge: Mapped[str] = mapped_column(String(128), primary_key=True)  # base64url
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(16))  # self | provision
    created_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    used_at: Mapped[datetime | None] = mapped_column(DateTime)


class MetadataBlob(db.Model):
    """The FIDO Metadata Service (MDS3) BLOB an administrator provided, verified and reduced to what
    attestation enforcement needs: per AAGUID, the model name and its attestation root certificates."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    serial: Mapped[int] = mapped_column(Integer)  # the BLOB's "no"
    next_update: Mapped[str | None] = mapped_column(String(32))
    entries: Mapped[dict] = mapped_column(JSON)  # aaguid -> {"description", "roots": [base64 DER], "status"}
    loaded_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
    source: Mapped[str | None] = mapped_column(Text)
