"""Cron schedules kept in fw_job_schedules: each fires its job kind at every occurrence
of its cron expression (croniter, in the schedule's time zone).

    define_schedule(uow.conn, "crm.repurchase_reminders", "0 9 * * *", "send_reminders",
                    {"app": "crm"})
    remove_schedule(uow.conn, "crm.repurchase_reminders")

An occurrence is claimed by moving next_run_at on with a compare-and-set (UPDATE ...
WHERE next_run_at = the time seen), in the same transaction as the job it enqueues, whose
key names the schedule and the occurrence: two schedulers fire each occurrence once.
Occurrences missed while no scheduler ran are not made up: the next tick fires once and
moves on to the next occurrence after now.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from croniter import croniter

from engine.dialect import Dialect
from engine.errors import CodedError
from engine.i18n import register_messages
from engine.storage import system
from engine.workspace import workspace_timezone

_s = system.job_schedules

register_messages({
    "bad_cron": {
        "zh": "计划“{name}”的 cron 表达式“{cron}”无效；应为五段：分 时 日 月 周，例如 “0 9 * * 1” 表示每周一 9:00",
        "en": "schedule '{name}': '{cron}' is not a cron expression; give five fields, minute hour day "
              "month weekday, such as '0 9 * * 1' for 9:00 every Monday"},
})


class BadCron(CodedError):
    def __init__(self, name: str, cron: str):
        super().__init__("bad_cron", name=name, cron=cron)


@dataclass(frozen=True)
class ScheduleRow:
    id: int
    name: str
    cron: str
    timezone: str
    kind: str
    payload: Any
    enabled: bool
    next_run_at: datetime
    last_run_at: datetime | None


def next_occurrence(cron: str, tz: str, after: datetime) -> datetime:
    """The first occurrence of `cron` in time zone `tz` strictly after `after` (UTC)."""
    local = after.astimezone(ZoneInfo(tz))
    return croniter(cron, local).get_next(datetime).astimezone(timezone.utc)


def define_schedule(conn: sa.Connection, name: str, cron: str, kind: str, payload: Any = None, *,
                    tz: str | None = None, now: datetime | None = None) -> None:
    """Create schedule `name`, or change its cron, kind, payload and time zone (its next
    occurrence is worked out again from now). BadCron for an invalid expression."""
    tz = tz or workspace_timezone().key
    _check_cron(name, cron)
    now = now or datetime.now(timezone.utc)
    values = dict(cron=cron, timezone=tz, kind=kind, payload=payload,
                  next_run_at=next_occurrence(cron, tz, now))
    statement = Dialect.of(conn).insert(_s).values(name=name, created_at=now, **values)
    conn.execute(statement.on_conflict_do_update(index_elements=["name"], set_=values))


def add_missing_schedule(conn: sa.Connection, name: str, cron: str, kind: str, payload: Any, *,
                         now: datetime) -> None:
    """Create schedule `name` unless it exists (a built-in one an admin may have changed)."""
    _check_cron(name, cron)
    tz = workspace_timezone().key
    conn.execute(Dialect.of(conn).insert(_s).values(
        name=name, cron=cron, timezone=tz, kind=kind, payload=payload, created_at=now,
        next_run_at=next_occurrence(cron, tz, now)).on_conflict_do_nothing(index_elements=["name"]))


def remove_schedule(conn: sa.Connection, name: str) -> bool:
    return conn.execute(_s.delete().where(_s.c.name == name)).rowcount == 1


def enable_schedule(conn: sa.Connection, name: str, enabled: bool = True) -> bool:
    return conn.execute(_s.update().where(_s.c.name == name).values(enabled=enabled)).rowcount == 1


def due_schedules(conn: sa.Connection, now: datetime) -> list[ScheduleRow]:
    rows = conn.execute(sa.select(*(_s.c[f] for f in ScheduleRow.__dataclass_fields__))
                        .where(_s.c.enabled, _s.c.next_run_at <= now).order_by(_s.c.next_run_at))
    return [ScheduleRow(**row._mapping) for row in rows]


def all_schedules(conn: sa.Connection) -> list[ScheduleRow]:
    rows = conn.execute(sa.select(*(_s.c[f] for f in ScheduleRow.__dataclass_fields__)).order_by(_s.c.name))
    return [ScheduleRow(**row._mapping) for row in rows]


def claim_occurrence(conn: sa.Connection, schedule: ScheduleRow, now: datetime) -> datetime | None:
    """Move `schedule` past the occurrence it was seen due at; that occurrence's time,
    or None when another scheduler moved it first."""
    following = next_occurrence(schedule.cron, schedule.timezone, now)
    moved = conn.execute(_s.update().where(_s.c.id == schedule.id, _s.c.next_run_at == schedule.next_run_at)
                         .values(next_run_at=following, last_run_at=schedule.next_run_at))
    return schedule.next_run_at if moved.rowcount == 1 else None


def _check_cron(name: str, cron: str) -> None:
    if not isinstance(cron, str) or len(cron.split()) != 5 or not croniter.is_valid(cron):
        raise BadCron(name, str(cron))
