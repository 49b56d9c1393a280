"""The in-app notifications of a user and their preferences.

    list_notifications(conn, user_id, unread_only=False, limit=50) -> {"items": [...], "unread": n}
    mark_read(conn, user_id, [ids]) -> how many were unread; mark_all_read(conn, user_id)
    badge_counts(conn, user_id) -> {"tasks": n, "unread": n}   # the top bar, one statement
    set_preference(conn, user_id, kind, ["in_app"])     # kind "*": every kind without its own

A preference names the channels a user wants for a kind of notification; a send goes to
the channels it asks for that the user's preference (the kind's, else "*") keeps. No
preference: every channel asked for.
"""
from __future__ import annotations

from typing import Any, Iterable

import sqlalchemy as sa

from engine.errors import FormworkError
from engine.storage import system
from runtime.jobs.outbox import utcnow

CHANNELS = ("in_app", "email")
ANY_KIND = "*"

_n = system.notifications
_p = system.notification_preferences


def list_notifications(conn: sa.Connection, user_id: int, *, unread_only: bool = False,
                       limit: int = 50) -> dict[str, Any]:
    query = sa.select(_n).where(_n.c.user_id == user_id)
    if unread_only:
        query = query.where(_n.c.read_at.is_(None))
    rows = conn.execute(query.order_by(_n.c.id.desc()).limit(limit)).mappings().all()
    items = [{"id": r["id"], "kind": r["kind"], "title": r["title"], "body": r["body"], "link": r["link"],
              "created_at": r["created_at"], "read_at": r["read_at"]} for r in rows]
    return {"items": items, "unread": unread_count(conn, user_id)}


def unread_count(conn: sa.Connection, user_id: int) -> int:
    return conn.execute(sa.select(sa.func.count()).select_from(_n)
                        .where(_n.c.user_id == user_id, _n.c.read_at.is_(None))).scalar()


def badge_counts(conn: sa.Connection, user_id: int) -> dict[str, int]:
    """The top bar's figures for a user, in ONE statement: {"tasks": pending workflow
    tasks, "unread": unread notifications}."""
    t = system.workflow_tasks
    tasks = sa.select(sa.func.count()).select_from(t).where(t.c.assignee_id == user_id, t.c.status == "pending")
    unread = sa.select(sa.func.count()).select_from(_n).where(_n.c.user_id == user_id, _n.c.read_at.is_(None))
    row = conn.execute(sa.select(tasks.scalar_subquery().label("tasks"),
                                 unread.scalar_subquery().label("unread"))).one()
    return {"tasks": int(row.tasks), "unread": int(row.unread)}


def mark_read(conn: sa.Connection, user_id: int, ids: Iterable[int]) -> int:
    ids = [int(i) for i in ids]
    if not ids:
        return 0
    return conn.execute(_n.update().where(_n.c.user_id == user_id, _n.c.id.in_(ids), _n.c.read_at.is_(None))
                        .values(read_at=utcnow())).rowcount


def mark_all_read(conn: sa.Connection, user_id: int) -> int:
    return conn.execute(_n.update().where(_n.c.user_id == user_id, _n.c.read_at.is_(None))
                        .values(read_at=utcnow())).rowcount


def set_preference(conn: sa.Connection, user_id: int, kind: str, channels: list[str]) -> None:
    bad = [c for c in channels if c not in CHANNELS]
    if bad:
        raise FormworkError(f"unknown notification channel(s) {', '.join(bad)}; the channels are "
                            f"{', '.join(CHANNELS)}")
    conn.execute(_p.delete().where(_p.c.user_id == user_id, _p.c.kind == kind))
    conn.execute(_p.insert().values(user_id=user_id, kind=kind, channels=list(dict.fromkeys(channels))))


def preferences_of(conn: sa.Connection, user_ids: list[int], kind: str) -> dict[int, list[str]]:
    """The channels each user keeps for `kind` (their kind's row, else their "*" row); users
    without either are left out. One query for any number of users."""
    if not user_ids:
        return {}
    rows = conn.execute(sa.select(_p.c.user_id, _p.c.kind, _p.c.channels).where(
        _p.c.user_id.in_(user_ids), _p.c.kind.in_([kind, ANY_KIND]))).all()
    found: dict[int, list[str]] = {}
    for user_id, row_kind, channels in sorted(rows, key=lambda r: r.kind != ANY_KIND):
        found[user_id] = list(channels)         # the kind's own row comes last and wins
    return found


def insert_notification(conn: sa.Connection, *, user_id: int, kind: str, title: str, body: str | None,
                        link: str | None, key: str) -> bool:
    """One in-app notification, once per key (a retried job writes it once)."""
    exists = conn.execute(sa.select(_n.c.id).where(_n.c.key == key)).first()
    if exists:
        return False
    conn.execute(_n.insert().values(user_id=user_id, kind=kind, title=title[:200], body=body, link=link,
                                    key=key, created_at=utcnow()))
    return True
