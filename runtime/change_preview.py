"""What a migration plan would do to the data already stored, computed before anything
changes: how many values convert and how many cannot (with examples), how many move
to the archive, how many stored values the new settings of a field would refuse.

Each preview streams the table in batches by id (constant memory) or counts in SQL.
`preview_lines` turns a preview into the text the CLI (and later the web) shows.
"""
from __future__ import annotations

from typing import Any, Iterator

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from engine.definition.model import AppDef
from engine.errors import FieldError
from engine.fields.base import FieldType
from engine.fields.registry import TypesOfApps
from engine.formula.sql import NotTranslatable
from engine.query.formula_filter import rule_refusal
from engine.query.tables import AppTables
from engine.schema_change.apply import CONVERSION_CONTEXT
from engine.schema_change.plan import Step

PREVIEW_EXAMPLES = 5
PREVIEW_BATCH = 5000


def step_preview(conn: Connection, installed, new, step: Step) -> dict[str, Any] | None:
    """The preview of one step of a plan against the installed app, or None (both apps
    compiled: each field is typed by the app holding it)."""
    tables, types = installed.tables, TypesOfApps(new.types, installed.types)
    old_form = installed.form(step.form) or (
        installed.form(new.require_form(step.form).renamed_from or "") if new.form(step.form) else None)
    if old_form is None:
        return None
    if step.kind == "archive_form":
        return {"kind": "archive", "records": _count(conn, tables.form_table(old_form.key))}
    if step.kind in ("archive_field", "retype_field", "change_field"):
        new_field = new.form(step.form).field(step.field) if new.form(step.form) else None
        old = old_form.field(step.field) or (old_form.field(new_field.renamed_from or "") if new_field else None)
        if old is None:
            return None
        table = tables.form_table(old_form.key)
        if step.kind == "archive_field":
            return _archive_preview(conn, types, tables, old_form.key, old, table)
        if step.kind == "change_field":
            return settings_preview(conn, types, table, old, new_field) if step.data.get("check_values") else None
        return _retype_preview(conn, types, tables, old_form.key, old, new_field, table, step.data["mode"])
    if step.kind in ("archive_subfield", "retype_subfield", "change_subfield"):
        return _subfield_preview(conn, types, tables, old_form, new, step)
    if step.kind in ("add_rule", "change_rule") and "formula" in step.data:
        return rule_preview(conn, installed, old_form, step)
    return None


def rule_preview(conn: Connection, installed, old_form, step: Step) -> dict[str, Any]:
    """How many records (not in the recycle bin) a new or changed rule refuses, counted
    by one query with the rule translated to SQL over the stored values; or, when it
    cannot be, why ("records" None): each record is then judged on its next write."""
    changed = step.data.get("changed_reads") or []
    if changed:
        return {"kind": "rule", "records": None,
                "reason": f"it reads {', '.join(changed)}, which this upgrade adds or changes"}
    table = installed.tables.form_table(old_form.key)
    try:
        refused = rule_refusal(old_form, table, step.data["formula"], CONVERSION_CONTEXT, installed.tables,
                               conn.dialect.name)
    except NotTranslatable as refusal:
        return {"kind": "rule", "records": None, "reason": f"it {refusal.reason}"}
    total, broken = conn.execute(sa.select(sa.func.count(), sa.func.count().filter(refused))
                                 .select_from(table).where(table.c.deleted_at.is_(None))).one()
    return {"kind": "rule", "records": total, "broken": broken}


def _retype_preview(conn, types, tables, form_key, old, new, table, mode: str) -> dict[str, Any] | None:
    if mode == "convert":
        return conversion_preview(conn, types, table, old, new)
    if mode == "archive":
        return _archive_preview(conn, types, tables, form_key, old, table)
    if mode == "to_links":
        return {"kind": "links", "values": _count(conn, table, table.c[types.of(old).column_name].is_not(None))}
    if mode == "from_links":
        link = tables.link_table(form_key, old.key)
        per_record = sa.select(link.c.source_id, sa.func.count().label("n")).group_by(link.c.source_id).subquery()
        records, several = conn.execute(sa.select(
            sa.func.count(), sa.func.count().filter(per_record.c.n > 1))).one()
        return {"kind": "links", "records": records, "several": several}
    return None


def _subfield_preview(conn, types, tables, old_form, new: AppDef, step: Step) -> dict[str, Any] | None:
    new_sub = new.require_form(step.form).field(step.field)
    old_sub = old_form.field(step.field) or old_form.field(new_sub.renamed_from or "")
    if old_sub is None:
        return None
    child = tables.child_table(old_form.key, old_sub.key)
    new_column = new_sub.subfield(step.data["sub"])
    old_column = old_sub.subfield(step.data["sub"]) or (
        old_sub.subfield(new_column.renamed_from or "") if new_column else None)
    if old_column is None:
        return None
    if step.kind == "archive_subfield":
        column = child.c[types.of(old_column).columns()[0].name]
        return {"kind": "archive", "values": _count(conn, child, column.is_not(None))}
    if step.kind == "retype_subfield":
        return conversion_preview(conn, types, child, old_column, new_column)
    return settings_preview(conn, types, child, old_column, new_column)


def _archive_preview(conn, types, tables: AppTables, form_key: str, old, table: sa.Table) -> dict[str, Any]:
    ftype = types.of(old)
    if ftype.storage == "column":
        column = table.c[ftype.columns()[0].name]
        return {"kind": "archive", "values": _count(conn, table, column.is_not(None))}
    if ftype.storage == "link_table":
        return {"kind": "archive", "links": _count(conn, tables.link_table(form_key, old.key))}
    if ftype.storage == "child_table":
        return {"kind": "archive", "rows": _count(conn, tables.child_table(form_key, old.key))}
    return {"kind": "archive"}


def _count(conn, table: sa.Table, where=None) -> int:
    query = sa.select(sa.func.count()).select_from(table)
    return conn.execute(query if where is None else query.where(where)).scalar_one()


def _stored_values(conn, table: sa.Table, ftype: FieldType) -> Iterator[Any]:
    """Every non-empty stored value of a field, read in batches by id."""
    columns = [table.c[c.name] for c in ftype.columns()]
    last = 0
    while True:
        rows = conn.execute(sa.select(table.c.id, *columns).where(table.c.id > last)
                            .order_by(table.c.id).limit(PREVIEW_BATCH)).mappings().all()
        if not rows:
            return
        for row in rows:
            value = ftype.from_row(row)
            if value is not None:
                yield value
        last = rows[-1]["id"]


def conversion_preview(conn: Connection, types, table: sa.Table, old, new) -> dict[str, Any]:
    """How many stored values convert to the new type and how many cannot, with examples."""
    old_type, new_type = types.of(old), types.of(new)
    ctx = CONVERSION_CONTEXT
    result = {"kind": "conversion", "values": 0, "convert": 0, "cannot": 0, "examples": [], "failures": []}
    for value in _stored_values(conn, table, old_type):
        result["values"] += 1
        try:
            converted = new_type.convert_from(old_type, value, ctx)
            result["convert"] += 1
            _example(result["examples"], old_type.display(value, ctx), new_type.display(converted, ctx))
        except FieldError as exc:
            result["cannot"] += 1
            _example(result["failures"], old_type.display(value, ctx), str(exc))
    return result


def _example(examples: list[list], shown: str, outcome: str) -> None:
    """Up to PREVIEW_EXAMPLES distinct values, each as [value, outcome, how many times]."""
    for example in examples:
        if example[0] == shown:
            example[2] += 1
            return
    if len(examples) < PREVIEW_EXAMPLES:
        examples.append([shown, outcome, 1])


def settings_preview(conn: Connection, types, table: sa.Table, old, new) -> dict[str, Any]:
    """Stored values the new settings of a field would refuse (a removed option, a lower
    limit, a shorter length) and, for a newly required field, the records without a value.
    Nothing is changed: they keep their values until someone edits them."""
    old_type, new_type = types.of(old), types.of(new)
    ctx = CONVERSION_CONTEXT
    result = {"kind": "settings", "values": 0, "invalid": 0, "failures": [], "empty": None}
    for value in _stored_values(conn, table, old_type):
        result["values"] += 1
        try:
            new_type.clean(old_type.to_json(value), ctx)
        except FieldError as exc:
            result["invalid"] += 1
            _example(result["failures"], old_type.display(value, ctx), str(exc))
    if new.required and not old.required:
        result["empty"] = _count(conn, table) - result["values"]
    return result


def preview_lines(preview: dict[str, Any] | None) -> list[str]:
    """The preview of a step as lines of text for people."""
    if not preview:
        return []
    kind = preview["kind"]
    if kind == "conversion":
        lines = [f"{preview['values']:,} value(s): {preview['convert']:,} convert, {preview['cannot']:,} cannot "
                 "(those become empty; every original is archived)"]
        lines += [f"  {before!r}{_times(n)} -> {after!r}" for before, after, n in preview["examples"]]
        lines += [f"  {before!r}{_times(n)} cannot: {reason}" for before, reason, n in preview["failures"]]
        return lines
    if kind == "settings":
        lines = []
        if preview["invalid"]:
            lines.append(f"{preview['invalid']:,} of {preview['values']:,} stored value(s) do not fit the new "
                         "settings; they are kept as they are until someone edits the record")
            lines += [f"  {value!r}{_times(n)}: {reason}" for value, reason, n in preview["failures"]]
        if preview["empty"]:
            lines.append(f"{preview['empty']:,} record(s) have no value for this now required field; they "
                         "keep it empty until someone edits them")
        return lines
    if kind == "rule":
        return _rule_lines(preview)
    if kind == "links":
        if "several" in preview:
            return [f"{preview['records']:,} record(s) have related records; {preview['several']:,} of them have "
                    "more than one and keep only the first (all links stay in the archive)"]
        return [f"{preview['values']:,} value(s) become the first related record of their list"]
    for key, what in (("records", "record(s)"), ("values", "non-empty value(s)"), ("links", "link(s)"),
                      ("rows", "subform row(s)")):
        if key in preview:
            return [f"{preview[key]:,} {what} move to the archive"]
    return []


def _rule_lines(preview: dict[str, Any]) -> list[str]:
    if preview["records"] is None:
        return [f"the records that break it cannot be counted now: {preview['reason']}; every record is "
                "kept, and each is checked on its next write (refused until it is fixed)"]
    if not preview["broken"]:
        return [f"none of the {preview['records']:,} record(s) breaks it"]
    return [f"{preview['broken']:,} of {preview['records']:,} record(s) break it; they are kept as they are, "
            "and each is refused on its next edit until it is fixed"]


def _times(count: int) -> str:
    return f" ({count:,} records)" if count > 1 else ""
