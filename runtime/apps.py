"""Installed apps: install, plan and apply upgrades, read back, archive and purge.

The definition of every installed version is stored in fw_app_versions; the
runtime always works from the installed definition, never from a file. Applying
the same definition twice changes nothing and records no new version.

`load_installed` gives the compiled app (engine/compiled/app.py) of the installed
version. Compiled apps are kept per process by (key, version, checksum): a warm
process reads one short row (the version and checksum, never the definition) and
parses nothing. The checksum makes the key safe across databases and re-installs.

A web request reads that row inside the statement that says who is asking (its fixed
cost, runtime/auth/requester.py, with `installed_stamp_columns`), and its units of work
take the compiled app from `installed_as_seen` without a statement of their own; a
version this process has not compiled yet is loaded by `load_installed` as before.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from engine.compiled.app import App, AppCache, compile_app, compiled
from engine.definition.model import AppDef
from engine.errors import FormworkError, NotFound
from engine.schema_change.apply import Migrator, Progress, duplicate_groups
from engine.schema_change.plan import Plan, make_plan
from engine.schema_change.recompute_steps import describe_recomputes
from engine.storage import system
from engine.storage.db import read_connection
from engine.storage.types import utcnow
from runtime.change_preview import PREVIEW_EXAMPLES, step_preview


def checksum(app: AppDef | App) -> str:
    canonical = json.dumps(app.raw, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


# Compiled installed apps by (key, version, checksum): a process serves a few apps, each
# at one version at a time.
_COMPILED = AppCache(32)


# Built once (every request and job runs it): the installed version of an app.
_CURRENT = (sa.select(system.app_versions.c.version, system.app_versions.c.checksum)
            .join(system.apps, system.apps.c.id == system.app_versions.c.app_id)
            .where(system.apps.c.key == sa.bindparam("b_app"),
                   system.app_versions.c.version == system.apps.c.current_version))


@dataclass(frozen=True)
class InstalledStamp:
    """What says which version of an app is installed: its number and checksum."""
    version: int
    checksum: str


def installed_stamp_columns(app_key: str | sa.BindParameter) -> tuple[sa.ColumnElement, sa.ColumnElement]:
    """(version, checksum) of the installed version of `app_key` (a key, or a bind
    parameter standing for one) as two scalar subqueries (NULL when it is not installed),
    for a statement that reads something else (who is asking) to give them too, as
    columns labelled app_version and app_checksum."""
    apps, versions = system.apps, system.app_versions
    current = sa.select(apps.c.current_version).where(apps.c.key == app_key).scalar_subquery()
    checksum_ = (sa.select(versions.c.checksum).join(apps, apps.c.id == versions.c.app_id)
                 .where(apps.c.key == app_key, versions.c.version == apps.c.current_version)
                 .scalar_subquery())
    return current.label("app_version"), checksum_.label("app_checksum")


def stamp_of(version, checksum_) -> InstalledStamp | None:
    """The stamp read by `installed_stamp_columns`, None for an app not installed."""
    if version is None or checksum_ is None:
        return None
    return InstalledStamp(int(version), checksum_)


def installed_as_seen(conn: Connection, app_key: str, stamp: InstalledStamp | None) -> App | None:
    """The compiled app of the version `stamp` says is installed (read earlier in the same
    request, by who is asking): no statement when this process has compiled it; None when
    the app was not installed; else loaded by `load_installed` on `conn`."""
    if stamp is None:
        return None
    found = _COMPILED.get((app_key, stamp.version, stamp.checksum))
    return found if found is not None else load_installed(conn, app_key)


def load_installed(conn: Connection, app_key: str) -> App | None:
    """The compiled app of the installed version, or None when it is not installed: one
    short query when this process has compiled that version already."""
    row = conn.execute(_CURRENT, {"b_app": app_key}).first()
    if row is None:
        return None
    cache_key = (app_key, row.version, row.checksum)
    found = _COMPILED.get(cache_key)
    if found is None:
        definition = conn.execute(
            sa.select(system.app_versions.c.definition)
            .join(system.apps, system.apps.c.id == system.app_versions.c.app_id)
            .where(system.apps.c.key == app_key, system.app_versions.c.version == row.version)).scalar_one()
        found = compile_app(AppDef.from_dict(definition), row.version)
        _COMPILED.put(cache_key, found)
    return found


def load_version(conn: Connection, app_key: str, version: int) -> App | None:
    """The compiled app of one installed version (a workflow instance runs on the version
    it started on): one short query when this process has compiled that version already."""
    versions = system.app_versions
    row = conn.execute(sa.select(versions.c.checksum).join(system.apps, system.apps.c.id == versions.c.app_id)
                       .where(system.apps.c.key == app_key, versions.c.version == version)).first()
    if row is None:
        return None
    cache_key = (app_key, version, row.checksum)
    found = _COMPILED.get(cache_key)
    if found is None:
        definition = conn.execute(
            sa.select(versions.c.definition).join(system.apps, system.apps.c.id == versions.c.app_id)
            .where(system.apps.c.key == app_key, versions.c.version == version)).scalar_one()
        found = compile_app(AppDef.from_dict(definition), version)
        _COMPILED.put(cache_key, found)
    return found


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
    with read_connection(engine) as conn:
        return _plan(conn, app)


def _plan(conn: Connection, app: AppDef | App, previews: bool = True) -> PlanReport:
    """The plan against what is installed; with `previews`, what it would do to the stored
    data (apply skips them: it converts the values itself and reports the counts)."""
    installed = load_installed(conn, app.key)
    if installed is not None and checksum(installed) == checksum(app):
        return PlanReport(Plan(app.key), unchanged=True)
    plan = make_plan(installed, compiled(app), archived_fields(conn, app.key) if installed else [])
    report = PlanReport(plan, blocking=list(plan.refused))
    if installed is None:
        return report
    tables = installed.tables
    describe_recomputes(conn, plan, tables, installed)
    for index, step in enumerate(plan.steps):
        if step.kind == "add_unique" and installed.form(step.form):
            fdef = installed.require_form(step.form).field(step.field)
            column = installed.types.of(fdef).columns()[0].name
            dupes = duplicate_groups(conn, tables.form_table(step.form), column, PREVIEW_EXAMPLES)
            if dupes:
                report.blocking.append(f"{step.form}.{step.field} cannot become unique: values used more than "
                                       "once, e.g. " + ", ".join(f"{v!r} x{n}" for v, n in dupes)
                                       + "; change the duplicates first (or leave the field not unique)")
        elif previews:
            preview = step_preview(conn, installed, compiled(app), step)
            if preview:
                report.previews[index] = preview
    return report


def apply_app(engine: Engine, app: AppDef, source: str | None = None, user_id: int | None = None,
              progress: Progress | None = None, batch: int | None = None) -> dict[str, Any]:
    """Install or upgrade an app in one transaction. Refuses, changing nothing, when the
    plan is blocked (e.g. a new unique field whose values are not unique)."""
    with engine.begin() as conn:
        installed = load_installed(conn, app.key)
        report = _plan(conn, app, previews=False)
        if report.unchanged:
            return {"app": app.key, "changed": False, "version": _current_version(conn, app.key), "steps": []}
        if report.blocking:
            raise FormworkError("the change cannot be applied:\n  " + "\n  ".join(report.blocking))
        migrator = Migrator(conn, installed, compiled(app), progress, **({"batch": batch} if batch else {}))
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
    """Delete archived data for good (only ever by this explicit call). Purging an
    archived form also purges the tables of its subforms and multiple relations."""
    a = system.archived_fields
    with engine.begin() as conn:
        row = conn.execute(sa.select(a).where(a.c.id == archive_id, a.c.app_key == app_key)).mappings().first()
        if row is None or row["purged_at"] or row["restored_at"]:
            raise NotFound(f"no archived item #{archive_id} of app {app_key!r} to purge "
                           "(see `formwork archived APP`)")
        if row["kind"] == "table_part":
            raise FormworkError(f"#{archive_id} is a table of archived form {row['form_key']!r}: purge the "
                                "form's own item (kind 'table') and its tables go with it")
        quote = conn.dialect.identifier_preparer.quote
        purged = [row["id"]]
        if row["kind"] == "column":
            table = _table_of_archived_column(conn, app_key, row)
            conn.exec_driver_sql(f"ALTER TABLE {quote(table)} DROP COLUMN {quote(row['physical_name'])}")
        else:
            if row["field_key"] is None:   # a whole form: its child and link tables first
                for part in conn.execute(sa.select(a).where(
                        a.c.app_key == app_key, a.c.form_key == row["form_key"], a.c.kind == "table_part",
                        a.c.purged_at.is_(None), a.c.restored_at.is_(None))).mappings().all():
                    conn.exec_driver_sql(f"DROP TABLE {quote(part['physical_name'])}")
                    purged.append(part["id"])
            conn.exec_driver_sql(f"DROP TABLE {quote(row['physical_name'])}")
        conn.execute(a.update().where(a.c.id.in_(purged)).values(purged_at=utcnow()))
    return dict(row)


def _table_of_archived_column(conn: Connection, app_key: str, row) -> str:
    """The table holding an archived column: its form's table, or the child table of its
    subform for a subform column ("items.product")."""
    installed = load_installed(conn, app_key)
    form = installed.form(row["form_key"]) if installed else None
    if form is None:
        raise FormworkError(f"form {row['form_key']!r} of this archived column is itself archived; purge the "
                            "form instead (see `formwork archived APP`)")
    tables = installed.tables
    subform_key, dot, _ = (row["field_key"] or "").partition(".")
    if not dot:
        return tables.form_table(form.key).name
    subform = form.field(subform_key)
    if subform is None or (form.key, subform_key) not in tables.children:
        raise FormworkError(f"subform {form.key}.{subform_key} holding this archived column is itself archived; "
                            "purge the subform instead (see `formwork archived APP`)")
    return tables.child_table(form.key, subform_key).name
