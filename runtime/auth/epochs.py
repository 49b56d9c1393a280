"""Session epochs: a number per user that every signed-in session carries. Raising it
ends every session signed in before (deactivation, a password change, "sign out
everywhere"): the web compares the epoch in the cookie with this one on each request."""
from __future__ import annotations

from typing import Iterable

import sqlalchemy as sa

from engine.storage import system

_e = system.session_epochs


def epoch_of(conn: sa.Connection, user_id: int) -> int:
    """The user's current epoch (0 until it was first raised)."""
    found = conn.execute(sa.select(_e.c.epoch).where(_e.c.user_id == user_id)).scalar()
    return int(found or 0)


def bump_epochs(conn: sa.Connection, user_ids: Iterable[int]) -> None:
    """Raise the epoch of each user: their existing sessions stop working. Two statements
    whatever the number of users (one update, one insert of the missing rows)."""
    ids = sorted(set(user_ids))
    if not ids:
        return
    conn.execute(sa.update(_e).where(_e.c.user_id.in_(ids)).values(epoch=_e.c.epoch + 1))
    present = set(conn.execute(sa.select(_e.c.user_id).where(_e.c.user_id.in_(ids))).scalars())
    missing = [{"user_id": i, "epoch": 1} for i in ids if i not in present]
    if missing:
        conn.execute(_e.insert(), missing)
