"""The recompute steps of an upgrade plan.

When an upgrade adds a formula or rollup field to a form that has records, changes
the definition of one (its formula, result type, decimal places, source, relation,
aggregate, field or filter), or changes a field one reads (a retype), the plan gets a
step per affected computed field, after every other step and in the order fields
read each other:

    recompute contracts.unpaid for 12,408 records

and a step per subform whose formula columns must be computed again. `apply` runs
them with engine/upkeep/recompute.py, in batches of records by id, with progress,
inside the upgrade's transaction.
"""
from __future__ import annotations

import json

import sqlalchemy as sa

from engine.computed.graph import Node
from engine.computed.row_formulas import subforms_with_formulas, with_readers
from engine.definition.model import AppDef, FieldDef
from engine.fields.computed import value_settings
from engine.query.tables import AppTables

def value_signature(fdef: FieldDef, types) -> tuple:
    """What decides a computed field's values (`types`: its app's FieldTypes)."""
    # Canonical JSON: an installed definition read back from PostgreSQL (JSONB) has its
    # mappings' keys in another order.
    return tuple(json.dumps(setting, sort_keys=True, default=str) for setting in value_settings(fdef)) \
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


def recompute_subform_steps(installed: AppDef, new, plan, created: set[str]) -> set[tuple[str, str]]:
    """Add a `recompute_subform` step for each subform whose formula columns must be
    computed again (a formula added or changed, or a column they read retyped or
    restored); returns the (form, subform) pairs, whose readers need recomputing too."""
    touched = {(s.form, s.field) for s in plan.steps
               if s.kind in ("retype_subfield", "restore_subfield", "restore_field", "retype_field")}
    done: set[tuple[str, str]] = set()
    for form in new.forms:
        if form.key in created:
            continue
        old_form = installed.form(form.key) or installed.form(plan.form_renames.get(form.key, ""))
        for subform in subforms_with_formulas(form):
            old_sub = old_form.field(subform.key) or (old_form.field(subform.renamed_from)
                                                      if subform.renamed_from else None) if old_form else None
            columns = [key for key in new.row_formulas(subform).keys
                       if (form.key, subform.key) in touched or old_sub is None
                       or _changed(old_sub, subform.subfield(key),
                                   value_signature, installed.types, new.types)]
            if not columns:
                continue
            columns = with_readers(new.row_formulas(subform), columns)
            done.add((form.key, subform.key))
            names = ", ".join(f"{form.key}.{subform.key}.{key}" for key in columns)
            plan.add("recompute_subform", form.key, subform.key,
                     f"recompute {names} for every subform row (in batches, with progress)", columns=columns)
    return done


def _changed(old_sub: FieldDef, column: FieldDef, signature, old_types, new_types) -> bool:
    old = old_sub.subfield(column.key) or (old_sub.subfield(column.renamed_from) if column.renamed_from else None)
    return old is None or old.type != column.type or signature(old, old_types) != signature(column, new_types)
