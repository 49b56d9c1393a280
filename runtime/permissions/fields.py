"""Which fields a read names, and refusing the ones the actor may not see.

A filter names fields in its conditions ({"field": "level"}) and in its formulas
({"formula": "customer.level = \\"vip\\""}); a path through a relation also reads a field
of the related form, which that form's access must show. The filter is parsed once
(engine/computed/filter_tree.py) and its tree serves both this check and the SQL;
malformed parts are left to engine.query.filters.compile_filter, which says what is
wrong with them.
"""
from __future__ import annotations

import dataclasses
from typing import Callable, Iterable

from engine.computed.filter_tree import FieldTest, FilterTree, Invalid
from engine.computed.paths import field_kind
from engine.definition.model import FormDef
from runtime.permissions.errors import PermissionDenied
from runtime.permissions.policy import VIEW, FormAccess

AccessOf = Callable[[FormDef], FormAccess]


def refuse_hidden_in_filter(app, form: FormDef, tree: FilterTree, access_of: AccessOf) -> None:
    """PermissionDenied naming the first field the filter reads that the actor may not see."""
    for test in tree.tests():
        where = test.names_at if isinstance(test, Invalid) else \
            f"{test.path}.field" if isinstance(test, FieldTest) else f"{test.path}.formula"
        for path in test.reads:
            refuse_hidden_path(app, form, path, access_of, "permission_hidden_filter", where)


def refuse_hidden(app, form: FormDef, keys: Iterable[tuple[str, str]], access_of: AccessOf, code: str) -> None:
    """PermissionDenied for the first (where, field key) of `keys` the actor may not see;
    `code` says what the field was named for (permission_hidden_sort, ..._fields)."""
    for where, key in keys:
        refuse_hidden_path(app, form, (key,), access_of, code, where)


def refuse_hidden_path(app, form, path: tuple[str, ...], access_of: AccessOf, code: str, where: str) -> None:
    """PermissionDenied(`code`) when a step of `path` (field keys from `form`, through its
    relations) is a field the actor may not see or crosses into a form they may not view."""
    hidden = _hidden_step(app, form, path, access_of)
    if hidden is not None:
        holder, key = hidden
        raise PermissionDenied(code, field=key, form=holder.key, path=where)


def _hidden_step(app, form: FormDef, path: tuple[str, ...], access_of: AccessOf):
    """(form, field key) of the first step of `path` the actor may not see, or None.
    A subform's columns go with the subform; a lookup field is a field of its own."""
    current = form
    for key in path:
        fdef = current.field(key)
        if fdef is None:        # a system column, or a mistake compile_filter will name
            return None
        access = access_of(current)
        if not access.can(VIEW) or not access.can_see(key):
            return current, key
        if field_kind(fdef) != "relation":
            return None
        current = app.form(app.field_type(fdef).target)
        if current is None:
            return None
    return None


def writable_form(form: FormDef, access: FormAccess) -> FormDef:
    """`form` with only the fields `access` lets be set: what an import maps columns to,
    so a column of another field is left out like an unknown one, and no message (nor a
    "did you mean") names a field the actor may not see."""
    if not access.limits_writes:
        return form
    return dataclasses.replace(form, fields=[f for f in form.fields if access.can_edit(f.key)])
