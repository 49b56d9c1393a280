"""Computed fields in migrations, and full recomputes.

When an upgrade adds a formula or rollup field to a form that has records, changes
the definition of one (its formula, result type, decimal places, source, relation,
aggregate, field or filter), or changes a field one reads (a retype), the plan gets a
step per affected computed field, after every other step and in the order fields
read each other:

    recompute contracts.unpaid for 12,408 records

`apply` runs it in batches of records by id, with progress, inside the migration's
transaction. The same routine recomputes an app's computed fields on demand
(`formwork recompute APP`), e.g. every night for the fields that read the date
(TODAY() formulas and rollups filtered by "this month"), which a write-time
computation would otherwise leave as of the day of the last write.
"""
from __future__ import annotations

import json
from typing import Callable

import sqlalchemy as sa

from engine.computed.graph import ComputedGraph, Node
from engine.definition.model import AppDef, FieldDef
from engine.fields.base import ValueContext
from engine.storage.physical import AppTables

BATCH = 2000
Progress = Callable[[str, int, int], None]     # (what, done, total)

# The settings of a computed field that change its values (labels and display do not).
_VALUE_SETTINGS = ("formula", "result", "precision", "source", "via", "aggregate", "field", "filter")


def value_signature(fdef: FieldDef, types) -> tuple:
    """What decides a computed field's values (`types`: its app's FieldTypes)."""
    # Canonical JSON: an installed definition read back from PostgreSQL (JSONB) has its
    # mappings' keys in another order.
    return tuple(json.dumps(fdef.option(key), sort_keys=True, default=str) for key in _VALUE_SETTINGS) \
        + (types.derived_of(fdef).result,)


def recompute_nodes(installed: AppDef, new: AppDef, plan,
                    subforms: set[tuple[str, str]] = frozenset()) -> list[Node]:
    """The computed fields of `new` to recompute after the plan's other steps, in order;
    `subforms`: (form, subform) whose rows' formula columns are recomputed first. Both apps
    are compiled (engine/compiled/app.py)."""
    graph = new.graph
    created = {step.form for step in plan.steps if step.kind == "add_form"}
    restored_forms = {step.form for step in plan.steps if step.kind == "restore_form"}
    start = graph.readers_of(subforms)   # the form's formulas reading those columns (SUM(items.line_total))
    for node in list(graph.formulas) + list(graph.rollups):
        if node.form in created:
            continue          # a new form has no records yet
        fdef = new.require_form(node.form).field(node.field)
        old_form = installed.form(node.form) or installed.form(plan.form_renames.get(node.form, ""))
        old = None
        if old_form is not None:
            old = old_form.field(node.field) or (old_form.field(fdef.renamed_from) if fdef.renamed_from else None)
        if node.form in restored_forms or old is None or old.type != fdef.type \
                or value_signature(old, installed.types) != value_signature(fdef, new.types):
            start.add(node)
    start |= graph.readers_of((step.form, step.field) for step in plan.steps
                              if step.kind in ("retype_field", "retype_subfield", "restore_field", "restore_subfield"))
    return [node for node in graph.dependents(start) if node.form not in created]


def add_recompute_steps(plan, installed, new) -> None:
    """Recompute steps for the plan from `installed` to `new` (compiled apps)."""
    from engine.computed.rows import recompute_subform_steps
    created = {step.form for step in plan.steps if step.kind == "add_form"}
    subforms = recompute_subform_steps(installed, new, plan, created)
    for node in recompute_nodes(installed, new, plan, subforms):
        plan.add("recompute_field", node.form, node.field,
                 f"recompute {node} for every record (in batches, with progress)")


def describe_recomputes(conn: sa.Connection, plan, installed_tables: AppTables, installed) -> None:
    """Say in each recompute step how many records it recomputes (counted now)."""
    for step in plan.steps:
        if step.kind not in ("recompute_field", "recompute_subform"):
            continue
        old_key = step.form if installed.form(step.form) else plan.form_renames.get(step.form)
        if old_key is None or old_key not in installed_tables.forms:
            continue
        if step.kind == "recompute_subform":
            _describe_rows(conn, step, installed_tables, installed.form(old_key))
            continue
        table = installed_tables.form_table(old_key)
        count = conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
        step.description = f"recompute {step.form}.{step.field} for {count:,} records"
        step.data["records"] = count


def _describe_rows(conn: sa.Connection, step, installed_tables: AppTables, old_form) -> None:
    subform = old_form.field(step.field) if old_form is not None else None
    if subform is None or (old_form.key, subform.key) not in installed_tables.children:
        return      # a new subform: no rows yet
    child = installed_tables.child_table(old_form.key, subform.key)
    count = conn.execute(sa.select(sa.func.count()).select_from(child)).scalar_one()
    names = ", ".join(f"{step.form}.{step.field}.{key}" for key in step.data["columns"])
    step.description = f"recompute {names} for {count:,} subform rows"
    step.data["rows"] = count


def recompute(conn: sa.Connection, app, nodes: list[Node], ctx: ValueContext | None = None,
              progress: Progress | None = None, batch: int = BATCH) -> dict[str, int]:
    """Recompute `nodes` (in that order) for every record of their forms, in batches of
    records by id; returns {"form.field": records whose value changed}. `app` is compiled."""
    from engine.computed.upkeep import Upkeep
    upkeep, tables = Upkeep(conn, app, ctx or ValueContext()), app.tables
    changed: dict[str, int] = {}
    for node in nodes:
        table = tables.form_table(node.form)
        total = conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
        done, last, count = 0, 0, 0
        while True:
            window = sa.select(table.c.id).where(table.c.id > last).order_by(table.c.id).limit(batch).subquery()
            high, size = conn.execute(sa.select(sa.func.max(window.c.id), sa.func.count())).one()
            if not size:
                break
            event = upkeep.recompute([node], sa.and_(table.c.id > last, table.c.id <= high))
            count += len(event.ids) if event is not None else 0
            done, last = done + size, high
            if progress:
                progress(f"recompute {node}", done, total)
        changed[str(node)] = count
    return changed


def recompute_subform(conn: sa.Connection, app, form_key: str, subform_key: str,
                      columns: list[str], ctx: ValueContext | None = None, progress: Progress | None = None,
                      batch: int = BATCH) -> dict[str, int]:
    """Recompute formula `columns` of a subform for every stored row, in batches (see
    engine/computed/rows.py); returns, per column, the rows whose value changed."""
    from engine.computed.env import evaluation_context
    from engine.computed.rows import recompute_stored
    ctx = ctx or ValueContext()
    subform = app.require_form(form_key).field(subform_key)
    return recompute_stored(conn, app.row_formulas(subform), app.tables.child_table(form_key, subform_key), columns, ctx,
                            evaluation_context(ctx), progress, f"recompute {form_key}.{subform_key}", batch)


def nodes_named(graph: ComputedGraph, names: list[str]) -> list[Node]:
    """Nodes from "form.field" names (all nodes when `names` is empty), and what reads
    them, in order. Raises KeyError naming an unknown one."""
    if not names:
        return list(graph.order)
    known = {str(n): n for n in graph.order}
    missing = [name for name in names if name not in known]
    if missing:
        raise KeyError(", ".join(missing))
    return graph.dependents({known[name] for name in names})


def volatile_nodes(graph: ComputedGraph) -> list[Node]:
    return [n for n in graph.order if n in graph.volatile]
