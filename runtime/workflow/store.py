"""The SQL of the workflow tables (engine/storage/system.py): instances, tasks, log.

Every statement works on sets (the tasks of a node, the pending tasks of an instance),
so an action costs the same number of statements whatever the instance's history.

The statements an action runs every time are built once, here, with bound parameters:
building a SQLAlchemy statement costs more than running a short one (about 110 of
150 microseconds for a three-column select on SQLite); their compiled forms are cached
by SQLAlchemy per set of parameter names.
"""
from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace
from typing import Any, Iterable

import sqlalchemy as sa

from engine.storage import system

_i, _t, _l = system.workflow_instances, system.workflow_tasks, system.workflow_log

OPEN = ("pending", "waiting")          # task statuses that still wait for someone
RUNNING = "running"

_INSERT_INSTANCE = _i.insert().returning(*_i.c)
_LOCK = (sa.update(_i).where(_i.c.id == sa.bindparam("b_instance"), _i.c.status == RUNNING)
         .values(version=_i.c.version + 1).returning(*_i.c))
_LOCK_OF_TASK = (sa.update(_i).where(
    _i.c.id == sa.select(_t.c.instance_id).where(_t.c.id == sa.bindparam("b_task")).scalar_subquery(),
    _i.c.status == RUNNING).values(version=_i.c.version + 1).returning(*_i.c))
_SAVE = sa.update(_i).where(_i.c.id == sa.bindparam("b_instance"))
_INSTANCE = sa.select(_i).where(_i.c.id == sa.bindparam("b_instance"))
_TASK_WITH_INSTANCE = (sa.select(_t, *[c.label(f"i_{c.name}") for c in _i.c])
                       .join(_i, _i.c.id == _t.c.instance_id).where(_t.c.id == sa.bindparam("b_task")))
_acted = _t.alias("acted")
_ROUND_OF_TASK = (sa.select(_t).join(_acted, sa.and_(_acted.c.instance_id == _t.c.instance_id,
                                                     _acted.c.node_key == _t.c.node_key,
                                                     _acted.c.round == _t.c.round))
                  .where(_acted.c.id == sa.bindparam("b_task")).order_by(_t.c.slot, _t.c.id))
_INSERT_TASKS = _t.insert()
_CLAIM = (sa.update(_t).where(_t.c.id == sa.bindparam("b_task"), _t.c.status == "pending",
                              _t.c.version == sa.bindparam("b_version")).values(version=_t.c.version + 1))
_CANCEL = (sa.update(_t).where(_t.c.instance_id == sa.bindparam("b_instance"), _t.c.status.in_(OPEN))
           .values(status="cancelled", due_at=None, version=_t.c.version + 1))
_CANCEL_AT = _CANCEL.where(_t.c.node_key.in_(sa.bindparam("b_nodes", expanding=True)))
_INSERT_LOG = _l.insert()


def insert_instance(conn: sa.Connection, **values: Any):
    """Insert an instance; its row as the database has it (one statement)."""
    return conn.execute(_INSERT_INSTANCE, values).one()


def lock_instance(conn: sa.Connection, instance_id: int):
    """Bump the instance's version, only while it runs: the row lock it takes (PostgreSQL)
    makes two actions on one instance run one after the other. The row after the lock
    (read in the same statement), or None when it is not running."""
    return conn.execute(_LOCK, {"b_instance": instance_id}).first()


def lock_instance_of_task(conn: sa.Connection, task_id: int):
    """`lock_instance` for the instance of a task, found in the same statement: the
    instance's row, or None when the task does not exist or its instance is not running."""
    return conn.execute(_LOCK_OF_TASK, {"b_task": task_id}).first()


def save_instance(conn: sa.Connection, instance_id: int, **values: Any) -> None:
    conn.execute(_SAVE, {"b_instance": instance_id, **values})


def instance(conn: sa.Connection, instance_id: int):
    return conn.execute(_INSTANCE, {"b_instance": instance_id}).first()


def task_with_instance(conn: sa.Connection, task_id: int):
    """The task's row with its instance's columns (prefixed i_): one query."""
    return conn.execute(_TASK_WITH_INSTANCE, {"b_task": task_id}).first()


def instance_of(task) -> SimpleNamespace:
    """The instance's row out of a `task_with_instance` row (no query)."""
    return SimpleNamespace(**{c.name: task._mapping[f"i_{c.name}"] for c in _i.c})


def round_of_task(conn: sa.Connection, task_id: int) -> list:
    """The tasks of a task's node in the task's round (the task among them), by slot."""
    return conn.execute(_ROUND_OF_TASK, {"b_task": task_id}).all()


def insert_tasks(conn: sa.Connection, rows: list[dict]) -> None:
    """Insert tasks in one statement (an INSERT ... RETURNING of many rows in their order
    is one statement per row on SQLite: the ids are not needed)."""
    if rows:
        conn.execute(_INSERT_TASKS, rows)


def claim_task(conn: sa.Connection, task_id: int, version: int, **values: Any) -> bool:
    """Mark a pending task handled, only if nobody did since it was read (its status and
    version): the one of two simultaneous actions that loses gets False."""
    done = conn.execute(_CLAIM, {"b_task": task_id, "b_version": version, **values})
    return done.rowcount == 1


def set_task_status(conn: sa.Connection, ids: Iterable[int], status: str, now: datetime,
                    due: dict[int, datetime | None] | None = None) -> None:
    ids = list(ids)
    if not ids:
        return
    values: dict[str, Any] = {"status": status, "version": _t.c.version + 1}
    if due is not None and any(due.values()):
        values["due_at"] = sa.case({k: v for k, v in due.items()}, value=_t.c.id, else_=_t.c.due_at)
    conn.execute(sa.update(_t).where(_t.c.id.in_(ids)).values(**values))


def cancel_open_tasks(conn: sa.Connection, instance_id: int, now: datetime, nodes: Iterable[str] | None = None) -> None:
    """Cancel the tasks still waiting for someone, of some nodes or of the whole instance."""
    if nodes is None:
        conn.execute(_CANCEL, {"b_instance": instance_id})
        return
    nodes = list(nodes)
    if nodes:
        conn.execute(_CANCEL_AT, {"b_instance": instance_id, "b_nodes": nodes})


def insert_log(conn: sa.Connection, rows: list[dict]) -> None:
    if rows:
        conn.execute(_INSERT_LOG, rows)


def acted_by_others(conn: sa.Connection, instance_id: int, user_id: int | None) -> int | None:
    """Someone other than `user_id` who has handled a task of the instance (not a CC)."""
    return conn.execute(sa.select(_t.c.acted_by).where(
        _t.c.instance_id == instance_id, _t.c.status.in_(("done", "transferred")), _t.c.kind != "cc",
        _t.c.acted_by.is_not(None), _t.c.acted_by != user_id if user_id is not None else sa.true()).limit(1)).scalar()


def urge(conn: sa.Connection, instance_id: int, now: datetime) -> list[int]:
    """Record a reminder on the instance's pending tasks; their assignees."""
    return list(conn.execute(sa.update(_t).where(_t.c.instance_id == instance_id, _t.c.status == "pending")
                             .values(reminded_at=now, remind_count=_t.c.remind_count + 1)
                             .returning(_t.c.assignee_id)).scalars())


def admin_ids(conn: sa.Connection) -> list[int]:
    u = system.users
    return list(conn.execute(sa.select(u.c.id).where(u.c.is_admin == sa.true(), u.c.is_active == sa.true())
                             .order_by(u.c.id)).scalars())
