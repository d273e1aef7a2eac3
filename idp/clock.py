"""The one source of "now". Expiry, drift and lockout read time here, so tests move it instead of sleeping."""

import time
from datetime import datetime, timedelta, timezone

_offset = timedelta(0)
_frozen: datetime | None = None


def now() -> datetime:
    """Current UTC time as a naive datetime (the database stores naive UTC)."""
    base = _frozen if _frozen is not None else datetime.now(timezone.utc).replace(tzinfo=None)
    return base + _offset


EPOCH = datetime(1970, 1, 1)
SECOND = timedelta(seconds=1)


def timestamp() -> int:
    if _frozen is None:  # the common case, without building a datetime (every token request asks)
        return int(time.time() + _offset.total_seconds())
    return to_epoch(now())


def advance(delta: timedelta) -> None:
    global _offset
    _offset += delta


def freeze(at: datetime | None = None) -> None:
    global _frozen
    _frozen = at or datetime.now(timezone.utc).replace(tzinfo=None)


def reset() -> None:
    global _offset, _frozen
    _offset, _frozen = timedelta(0), None


def to_epoch(moment: datetime) -> int:
    """Whole seconds since 1970 of a naive UTC datetime (a token's iat, nbf, exp)."""
    return (moment.replace(tzinfo=None) - EPOCH) // SECOND


def iso(moment: datetime | None) -> str | None:
    """Graph's timestamp shape: 2024-01-01T10:00:00Z."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None
