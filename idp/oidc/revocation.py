"""The revocation state of stateless access tokens.

Access tokens are signed JWTs that are not stored. What revokes them is a small table of "not before" times,
one per revoked session, grant (a refresh-token family, named by the token's `rh` claim), single token (`jti`),
client or user: a token covered by an entry and issued at or before its time is void. Each process keeps the
table in memory and polls the database for entries recorded since its last look at most every
`IDP_REVOCATION_SYNC_SECONDS` (0.5 s), when it next checks a token: a revocation made in one process is
seen at once by that process and within that interval (plus one indexed query) by every other one.
Entries live only as long as a token they cover could (the access-token lifetime), so the table stays small.
"""

import threading
import time
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, event, select

from .. import clock
from ..directory.models import User
from ..extensions import db
from .models import TokenRevocation

SESSION, GRANT, TOKEN, CLIENT, USER = "session", "grant", "token", "client", "user"
#: not a revocation: "this client's registration changed" (secret, certificate, deletion), which tokens ignore and
#: every process's client cache obeys (`changed_at`), so a rotated secret stops working everywhere within a poll
CLIENT_CHANGED = "client-changed"
#: writers' commits and clocks may lag the poll by this much: each poll reads back this far (merging is idempotent)
OVERLAP = timedelta(seconds=30)


class _State:
    """One process's copy of the table: subject -> (not before, expires), and when it last polled."""

    def __init__(self):
        self.entries: dict[str, tuple[int, datetime]] = {}
        self.lock = threading.Lock()
        self.polled_at: float | None = None  # time.monotonic() of the last poll
        self.polled_since: datetime | None = None  # the clock's time of the last poll

    def merge(self, subject: str, not_before: datetime, expires_at: datetime) -> None:
        epoch = clock.to_epoch(not_before)
        known = self.entries.get(subject)
        if known is None or known[0] < epoch:
            self.entries[subject] = (epoch, expires_at)


def _state() -> _State:
    return current_app.extensions.setdefault("idp_revocations", _State())


def subjects(claims: dict) -> list[str]:
    """The entries that may cover a token with these claims."""
    found = [f"{TOKEN}:{claims.get('jti')}", f"{CLIENT}:{claims.get('azp')}"]
    if claims.get("idtyp") == "user":
        found += [f"{USER}:{claims.get('oid')}", f"{SESSION}:{claims.get('sid')}"]
        if claims.get("rh"):
            found.append(f"{GRANT}:{claims['rh']}")
    return found


def is_revoked(claims: dict) -> bool:
    state = _state()
    _poll(state)
    issued = claims.get("iat")
    if not isinstance(issued, int):
        return True
    for subject in subjects(claims):
        entry = state.entries.get(subject)
        if entry is not None and issued <= entry[0]:
            return True
    return False


def changed_at(kind: str, id_: str) -> int | None:
    """When the newest entry for `kind:id_` was recorded as changed (epoch seconds), as this process has polled it."""
    state = _state()
    _poll(state)
    entry = state.entries.get(f"{kind}:{id_}")
    return entry[0] if entry is not None else None


def _poll(state: _State) -> None:
    interval = current_app.config["IDP_REVOCATION_SYNC_SECONDS"]
    if state.polled_at is not None and time.monotonic() - state.polled_at < interval:
        return
    with state.lock:
        if state.polled_at is not None and time.monotonic() - state.polled_at < interval:
            return  # another thread polled while this one waited
        started, now = time.monotonic(), clock.now()
        query = select(TokenRevocation.subject, TokenRevocation.not_before, TokenRevocation.expires_at)
        if state.polled_since is None:
            query = query.where(TokenRevocation.expires_at > now)
        else:
            query = query.where(TokenRevocation.recorded_at >= state.polled_since - OVERLAP)
        for subject, not_before, expires_at in db.session.execute(query):
            state.merge(subject, not_before, expires_at)
        for subject in [s for s, (_, expires) in state.entries.items() if expires <= now]:
            del state.entries[subject]
        state.polled_at, state.polled_since = started, now


def revoke(kind: str, ids, *, at: datetime | None = None, until: datetime | None = None) -> None:
    """Void every access token of these sessions / grants / tokens / clients / users issued until now (or `at`).
    Written into the caller's transaction (the caller commits) and applied in this process at once."""
    ids = sorted({i for i in ids if i})
    if not ids:
        return
    now = clock.now()
    not_before = at or now
    expires_at = until or now + timedelta(seconds=current_app.config["IDP_ACCESS_TOKEN_LIFETIME"] + 300)
    rows = [
        {"subject": f"{kind}:{i}", "not_before": not_before, "recorded_at": now, "expires_at": expires_at} for i in ids
    ]
    db.session.execute(_upsert(db.session.get_bind().dialect.name, rows))
    db.session.execute(delete(TokenRevocation).where(TokenRevocation.expires_at <= now))
    state = _state()
    for row in rows:
        state.merge(row["subject"], not_before, expires_at)


def revoke_on(connection, kind: str, ids) -> None:
    """The same, inside a flush (ORM events): on the flush's own connection."""
    now = clock.now()
    rows = [
        {
            "subject": f"{kind}:{i}",
            "not_before": now,
            "recorded_at": now,
            "expires_at": now + timedelta(seconds=current_app.config["IDP_ACCESS_TOKEN_LIFETIME"] + 300),
        }
        for i in ids
        if i
    ]
    if rows:
        connection.execute(_upsert(connection.dialect.name, rows))
        state = _state()
        for row in rows:
            state.merge(row["subject"], row["not_before"], row["expires_at"])


def _upsert(dialect: str, rows: list[dict]):
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = insert(TokenRevocation).values(rows)
    return statement.on_conflict_do_update(
        index_elements=[TokenRevocation.subject],
        set_={
            "not_before": statement.excluded.not_before,
            "recorded_at": statement.excluded.recorded_at,
            "expires_at": statement.excluded.expires_at,
        },
    )


@event.listens_for(User, "after_delete")
def _revoke_tokens_of_deleted_user(mapper, connection, user):
    revoke_on(connection, USER, [user.id])
