"""Encryption-key rotation: re-seal every sealed value under the first key of IDP_ENCRYPTION_KEYS.

Rotate by putting a new key first (`k2:new,k1:old`), restarting, running `flask idp reseal`, and then dropping
the old key. Keyed hashes (TAP and email codes) name their key and expire within hours; they need no re-keying.
"""

from sqlalchemy import select

from . import crypto
from .extensions import db


def _targets():
    from .methods.oath.models import HardwareOathDevice, OathMethod
    from .methods.oath.service import SEALING_CONTEXT
    from .oidc.models import SigningKey

    return [
        (HardwareOathDevice, "secret", SEALING_CONTEXT),
        (OathMethod, "secret", SEALING_CONTEXT),
        (SigningKey, "private_jwk", "signing-key"),
    ]


def reseal_all(batch: int = 500) -> dict[str, int]:
    """Returns how many values of each table were re-sealed (already current ones are left alone)."""
    current = next(iter(crypto._keys()))
    counts = {}
    for model, column, context in _targets():
        done = 0
        for row in db.session.scalars(select(model).where(getattr(model, column).is_not(None))).yield_per(batch):
            sealed = getattr(row, column)
            if sealed.split(".", 2)[1] == current:
                continue
            setattr(row, column, crypto.seal(crypto.unseal(sealed, context), context))
            done += 1
            if done % batch == 0:
                db.session.flush()
        counts[model.__tablename__] = done
    db.session.commit()
    return counts
