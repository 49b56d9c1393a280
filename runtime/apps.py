"""Installed apps: install, plan and apply upgrades, read back, archive and purge.

The definition of every installed version is stored in fw_app_versions; the
runtime always works from the installed definition, never from a file. Applying
the same definition twice changes nothing and records no new version.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from engine.definition.model import AppDef
from engine.errors import FieldError, FormworkError, NotFound
from engine.fields.base import ValueContext
from engine.fields.registry import field_type
from engine.storage import system
from engine.storage.apply import Migrator, Progress, duplicate_groups
from engine.storage.physical import AppTables
from engine.storage.plan import Plan, make_plan
from engine.storage.types import utcnow

PREVIEW_EXAMPLES = 5
PREVIEW_BATCH = 5000


def checksum(app: AppDef) -> str:
    canonical = json.dumps(app.raw, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def load_installed(conn: Connection, app_key: str) -> AppDef | None:
    """The installed definition of an app, or None when it is not installed."""
    row = conn.execute(
        sa.select(system.app_versions.c.definition)
        .join(system.apps, system.apps.c.id == system.app_versions.c.app_id)
        .where(system.apps.c.key == app_key,
               system.app_versions.c.version == system.apps.c.current_version)
    ).first()
    return AppDef.from_dict(row.definition) if row else None


def installed_apps(conn: Connection) -> list[dict[str, Any]]:
    rows = conn.execute(sa.select(system.apps.c.key, system.apps.c.label, system.apps.c.current_version,
                                  system.apps.c.updated_at).order_by(system.apps.c.key)).mappings()
    return [dict(r) for r in rows]


def archived_fields(conn: Connection, app_key: str, include_done: bool = False) -> list[dict[str, Any]]:
    a = system.archived_fields
    query = sa.select(a).where(a.c.app_key == app_key).order_by(a.c.id)
    if not include_done:
        query = query.where(a.c.purged_at.is_(None), a.c.restored_at.is_(None))
    return [dict(r) for r in conn.execute(query).mappings()]


@dataclass
class PlanReport:
    plan: Plan
    previews: dict[int, dict[str, Any]] = field(default_factory=dict)   # step index -> preview
    blocking: list[str] = field(default_factory=list)
    unchanged: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"app": self.plan.app_key, "installing": self.plan.installing, "unchanged": self.unchanged,
                "blocking": self.blocking,
                "steps": [dict(s.as_dict(), preview=self.previews.get(i)) for i, s in enumerate(self.plan.steps)]}


def plan_app(engine: Engine, app: AppDef) -> PlanReport:
    with engine.connect() as conn:
        return _plan(conn, app)


def _plan(conn: Connection, app: AppDef) -> PlanReport:
    installed = load_installed(conn, app.key)
    if installed is not None and checksum(installed) == checksum(app):
        return PlanReport(Plan(app.key), unchanged=True)
    plan = make_plan(installed, app, archived_fields(conn, app.key) if installed else [])
    report = PlanReport(plan)
    if installed is None:
        return report
    tables = AppTables.build(installed)
    for index, step in enumerate(plan.steps):
        if step.kind == "retype_field" and step.data.get("convertible"):
            old_form = installed.form(step.form) or installed.require_form(app.require_form(step.form).renamed_from)
            old = old_form.field(step.field)
            if old is not None:
                report.previews[index] = conversion_preview(conn, tables.form_table(old_form.key), old,
                                                            app.require_form(step.form).field(step.field))
        elif step.kind == "add_unique" and installed.form(step.form):
            fdef = installed.require_form(step.form).field(step.field)
            column = field_type(fdef).columns()[0].name
            dupes = duplicate_groups(conn, tables.form_table(step.form), column, PREVIEW_EXAMPLES)
            if dupes:
                report.blocking.append(f"{step.form}.{step.field} cannot become unique: values used more than "
                                       "once, e.g. " + ", ".join(f"{v!r} x{n}" for v, n in dupes))
        elif step.kind in ("archive_field", "archive_form") and installed.form(step.form):
            report.previews[index] = _archive_preview(conn, tables, installed, step)
    return report


def conversion_preview(conn: Connection, table: sa.Table, old, new) -> dict[str, Any]:
    """How many stored values convert to the new type and how many cannot, with
    examples, streaming the column in batches (constant memory)."""
    old_type, new_type = field_type(old), field_type(new)
    ctx = ValueContext(lang="en")
    columns = [table.c[c.name] for c in old_type.columns()]
    result = {"values": 0, "convert": 0, "cannot": 0, "examples": [], "failures": []}
    last = 0
    while True:
        rows = conn.execute(sa.select(table.c.id, *columns).where(table.c.id > last)
                            .order_by(table.c.id).limit(PREVIEW_BATCH)).mappings().all()
        if not rows:
            return result
        for row in rows:
            value = old_type.from_row(row)
            if value is None:
                continue
            result["values"] += 1
            try:
                converted = new_type.convert_from(old_type, value, ctx)
                result["convert"] += 1
                if len(result["examples"]) < PREVIEW_EXAMPLES:
                    result["examples"].append([old_type.display(value, ctx), new_type.display(converted, ctx)])
            except FieldError as exc:
                result["cannot"] += 1
                if len(result["failures"]) < PREVIEW_EXAMPLES:
                    result["failures"].append([old_type.display(value, ctx), str(exc)])
        last = rows[-1]["id"]


def _archive_preview(conn, tables: AppTables, installed: AppDef, step) -> dict[str, Any]:
    table = tables.form_table(step.form)
    if step.kind == "archive_form":
        return {"records": conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()}
    ftype = field_type(installed.require_form(step.form).field(step.field))
    if ftype.storage != "column":
        return {}
    column = table.c[ftype.columns()[0].name]
    return {"values": conn.execute(sa.select(sa.func.count()).select_from(table)
                                   .where(column.is_not(None))).scalar_one()}


def apply_app(engine: Engine, app: AppDef, source: str | None = None, user_id: int | None = None,
              progress: Progress | None = None, batch: int | None = None) -> dict[str, Any]:
    """Install or upgrade an app in one transaction. Refuses, changing nothing, when the
    plan is blocked (e.g. a new unique field whose values are not unique)."""
    with engine.begin() as conn:
        installed = load_installed(conn, app.key)
        report = _plan(conn, app)
        if report.unchanged:
            return {"app": app.key, "changed": False, "version": _current_version(conn, app.key), "steps": []}
        if report.blocking:
            raise FormworkError("the change cannot be applied:\n  " + "\n  ".join(report.blocking))
        migrator = Migrator(conn, installed, app, progress, **({"batch": batch} if batch else {}))
        results = migrator.run(report.plan)
        version = _record_version(conn, app, source, user_id, report)
    return {"app": app.key, "changed": True, "version": version, "installed": installed is None,
            "steps": [s.as_dict() for s in report.plan.steps], "results": results}


def _current_version(conn, key: str) -> int:
    return conn.execute(sa.select(system.apps.c.current_version).where(system.apps.c.key == key)).scalar() or 0


def _record_version(conn, app: AppDef, source, user_id, report: PlanReport) -> int:
    now = utcnow()
    row = conn.execute(sa.select(system.apps.c.id, system.apps.c.current_version)
                       .where(system.apps.c.key == app.key)).first()
    if row is None:
        app_id = conn.execute(system.apps.insert().values(
            key=app.key, label=app.label.as_dict(), current_version=1, created_at=now, updated_at=now
        ).returning(system.apps.c.id)).scalar_one()
        version = 1
    else:
        app_id, version = row.id, row.current_version + 1
        conn.execute(system.apps.update().where(system.apps.c.id == app_id).values(
            current_version=version, label=app.label.as_dict(), updated_at=now))
    conn.execute(system.app_versions.insert().values(
        app_id=app_id, version=version, definition=app.raw, source=source, checksum=checksum(app),
        plan=report.as_dict(), installed_by=user_id, installed_at=now))
    return version


def purge_archived(engine: Engine, app_key: str, archive_id: int) -> dict[str, Any]:
    """Delete archived data for good (only ever by this explicit call)."""
    a = system.archived_fields
    with engine.begin() as conn:
        row = conn.execute(sa.select(a).where(a.c.id == archive_id, a.c.app_key == app_key)).mappings().first()
        if row is None or row["purged_at"] or row["restored_at"]:
            raise NotFound(f"no archived item #{archive_id} of app {app_key!r} to purge "
                           "(see `formwork archived APP`)")
        installed = load_installed(conn, app_key)
        quote = conn.dialect.identifier_preparer.quote
        if row["kind"] == "column":
            form = installed.form(row["form_key"]) if installed else None
            table = AppTables.build(installed).form_table(form.key).name if form else None
            if table is None:
                raise FormworkError("the form of this archived column is itself archived; purge the form")
            conn.exec_driver_sql(f"ALTER TABLE {quote(table)} DROP COLUMN {quote(row['physical_name'])}")
        else:
            conn.exec_driver_sql(f"DROP TABLE {quote(row['physical_name'])}")
        conn.execute(a.update().where(a.c.id == archive_id).values(purged_at=utcnow()))
    return dict(row)
