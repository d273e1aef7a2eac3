"""Exactly-once claims: one conditional UPDATE that the database decides.

A one-time thing (an authorization code, a refresh token's rotation, a challenge, an email code, a TOTP time
step, a hardware token's assignment) is claimed by an UPDATE whose WHERE clause holds only while it is
unclaimed. Of concurrent callers exactly one sees its row change; the others see none, with no read-then-write
gap between them.
"""

from typing import Any

from sqlalchemy import CursorResult, update

from .extensions import db


def claim_once(model: Any, *conditions: Any, synchronize: bool = True, **values: Any) -> bool:
    """Set `values` on the one row of `model` matching `conditions`; True only for the caller that changed it.

    `synchronize=False` skips updating objects already loaded in the session (the caller sets what it needs).
    """
    statement = update(model).where(*conditions).values(**values)
    if not synchronize:
        statement = statement.execution_options(synchronize_session=False)
    result: CursorResult[Any] = db.session.execute(statement)  # type: ignore[assignment]
    return result.rowcount == 1


def claimed(statement: Any, parameters: dict[str, Any]) -> bool:
    """`claim_once` for a conditional Core UPDATE built once (a hot path's): True only for the caller that changed
    it. Straight on the session's connection, in its transaction: the ORM's execution layer has nothing to add."""
    result: CursorResult[Any] = db.session.connection().execute(statement, parameters)
    return result.rowcount == 1


def insert_unless_present(model: Any, key_columns: list[str], **values: Any) -> None:
    """Create a row unless one with the same key exists: one INSERT that yields to a row already there or
    created by a concurrent request (no savepoint, no read before)."""
    from sqlalchemy.dialects import postgresql, sqlite

    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(model).values(**values).on_conflict_do_nothing(index_elements=key_columns)
    db.session.execute(statement)
