"""The structured filter language, compiled to one SQL condition.

    {"and": [
        {"field": "status", "op": "in", "value": ["won", "signed"]},
        {"or": [{"field": "amount", "op": "gte", "value": 10000},
                {"field": "level", "op": "eq", "value": "vip"}]},
        {"field": "created_at", "op": "last_n_days", "value": 30},
        {"formula": "ROUND(amount * rate%, 2) > credit"}
    ]}

A condition names a field of the form (or a system column: id, created_at,
updated_at, created_by, updated_by, owner_id) and an operator the field's type
supports; the field type turns it into SQL with bound parameters. Errors carry
the path of the bad part ("filter.and[1].or[0].field"). A formula condition is a
formula of the formula language giving TRUE or FALSE (engine/query/formula_filter.py).
"""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from engine.definition.model import FieldDef, FormDef
from engine.errors import FieldError, FormworkError
from engine.fields.base import ValueContext
from engine.i18n import render
from engine.query.formula_filter import formula_condition
from engine.query.system_fields import SYSTEM_FIELD_KEYS, system_field
from engine.query.tables import AppTables
from engine.suggest import did_you_mean

MAX_DEPTH = 8
MAX_CONDITIONS = 200

class FilterError(FormworkError):
    def __init__(self, path: str, message: str):
        self.path = path
        super().__init__(f"{path}: {message}")


def resolve_field(form: FormDef, key: Any, path: str) -> FieldDef:
    if not isinstance(key, str):
        raise FilterError(path, "a condition needs \"field\": the key of a field")
    fdef = form.field(key) or system_field(key)
    if fdef is None:
        hint = did_you_mean(key, form.field_keys() + list(SYSTEM_FIELD_KEYS))
        raise FilterError(path, f"form {form.key!r} has no field {key!r}"
                          + (f"; did you mean {hint!r}?" if hint else ""))
    return fdef


def compile_filter(form: FormDef, table: sa.Table, spec: Any, ctx: ValueContext, *, tables: AppTables,
                   path: str = "filter", related: bool = True) -> sa.ColumnElement:
    """One SQL condition for a filter document (None or {} means everything), over `table`
    (the form's table or an alias of it) of the app's `tables`. With related=False, formula
    conditions read only the record's own fields (a rollup's filter)."""
    if spec is None or spec == {}:
        return sa.true()
    counter = [0]
    return _compile(form, table, spec, ctx, path, 0, counter, (tables, related))


def _compile(form, table, spec, ctx, path, depth, counter, scope) -> sa.ColumnElement:
    if depth > MAX_DEPTH:
        raise FilterError(path, f"filters nest at most {MAX_DEPTH} groups deep")
    if isinstance(spec, list):  # a bare list means "all of these"
        spec = {"and": spec}
    if not isinstance(spec, dict):
        raise FilterError(path, "expected an object: a condition or an and/or group")
    groups = [k for k in ("and", "or") if k in spec]
    if groups:
        if len(spec) != 1:
            extra = sorted(set(spec) - {groups[0]})
            raise FilterError(path, f"a group has only one key ('and' or 'or'), also found {extra}")
        key = groups[0]
        items = spec[key]
        if not isinstance(items, list):
            raise FilterError(f"{path}.{key}", "expected a list of conditions")
        parts = [_compile(form, table, item, ctx, f"{path}.{key}[{i}]", depth + 1, counter, scope)
                 for i, item in enumerate(items)]
        if not parts:
            return sa.true()
        return sa.and_(*parts) if key == "and" else sa.or_(*parts)
    if "not" in spec and len(spec) == 1:
        return sa.not_(_compile(form, table, spec["not"], ctx, f"{path}.not", depth + 1, counter, scope))
    counter[0] += 1
    if counter[0] > MAX_CONDITIONS:
        raise FilterError(path, f"at most {MAX_CONDITIONS} conditions in one filter")
    if "formula" in spec:
        return formula_condition(form, table, spec, ctx, path, FilterError, *scope)
    unknown = set(spec) - {"field", "op", "value"}
    if unknown:
        raise FilterError(path, f"unknown key(s) {sorted(unknown)}; a condition has field, op and value "
                                "(or is {\"formula\": \"...\"})")
    fdef = resolve_field(form, spec.get("field"), f"{path}.field")
    op = spec.get("op", "eq")
    ftype = scope[0].types.of(fdef)
    if not isinstance(op, str) or op not in ftype.operators:
        allowed = ", ".join(sorted(ftype.operators)) or "none"
        hint = did_you_mean(op, ftype.operators) if isinstance(op, str) else None
        raise FilterError(f"{path}.op", f"field {fdef.key!r} ({fdef.type}) does not support "
                          f"operator {op!r}; use one of: {allowed}"
                          + (f" (did you mean {hint!r}?)" if hint else ""))
    try:
        return ftype.filter_clause(table, op, spec.get("value"), ctx)
    except FieldError as exc:
        raise FilterError(f"{path}.value", render(exc.code, exc.params, "en")) from None


def source_filter(source: FormDef, spec: Any, tables: AppTables, table: sa.Table | None = None,
                  ctx: ValueContext | None = None) -> sa.ColumnElement:
    """A rollup's filter as SQL over the source table (or an alias of it); raises
    FilterError (with the path of the bad part) when the filter is wrong. Its formula
    conditions read the source records' own fields."""
    table = table if table is not None else tables.form_table(source.key)
    ctx = ctx or ValueContext(lang="en")
    return compile_filter(source, table, spec, ctx.for_form(tables, source.key), tables=tables, related=False)
