"""Checks of meaning of an app's permission sets (engine/definition/permissions.py):
set keys unique, forms and fields that exist, one way of naming the visible and the
editable fields, actions given, and row filters that parse, compile and use `$me` and
`$my_departments` on fields that can hold a user or a department.

The JSON Schema has already checked the shape (preset names, action names, lists of
keys); these read the model defensively, as the other semantic checks do.
"""
from __future__ import annotations

import re
from typing import Any, Iterable

from engine.computed.filter_tree import FieldTest, FormulaTest, parse_filter
from engine.definition.model import AppDef, FormDef
from engine.definition.permissions import ME, MY_DEPARTMENTS, TOKENS, FormPermission, Permissions
from engine.errors import FieldError, FormworkError, Problem
from engine.fields.base import ValueContext
from engine.i18n import render
from engine.query.formula_filter import formula_sql
from engine.suggest import did_you_mean
from engine.validation.checks import AppFacts

# Field types a token may be compared with: $me a user, $my_departments a department
# (or a user, meaning a member of those departments).
ME_TYPES = frozenset({"member", "members"})
DEPARTMENT_TOKEN_TYPES = frozenset({"department", "member"})
DEPARTMENT_TOKEN_OPS = frozenset({"eq", "in", "ne", "not_in"})
_HINT = re.compile(r"did you mean '([^']+)'\?")
_FIELD_LISTS = (("visible", "hidden"), ("editable", "read_only"))


def check_permissions(facts: AppFacts, app: AppDef) -> list[Problem]:
    permissions = Permissions.parse(app.raw if isinstance(app.raw, dict) else {})
    problems = list(_duplicate_keys(permissions))
    forms = [f.key for f in app.forms]
    for pset in permissions.sets:
        raw_forms = _raw_forms(app.raw, pset.path)
        for entry in pset.forms:
            form = app.form(entry.form)
            if form is None:
                problems.append(Problem(entry.path, f"permission set {pset.key!r} names form {entry.form!r}, "
                                        "which this app does not have; name one of its forms",
                                        code="unknown_form", suggestion=did_you_mean(entry.form, forms)))
                continue
            problems.extend(_check_entry(facts, form, entry, raw_forms.get(entry.form)))
    return problems


def _raw_forms(raw: Any, set_path: str) -> dict:
    index = int(set_path[set_path.index("[") + 1:-1])
    sets = raw.get("permissions") if isinstance(raw, dict) else None
    found = sets[index].get("forms") if isinstance(sets, list) and isinstance(sets[index], dict) else None
    return found if isinstance(found, dict) else {}


def _duplicate_keys(permissions: Permissions) -> Iterable[Problem]:
    seen: dict[str, str] = {}
    for pset in permissions.sets:
        if pset.key in seen:
            yield Problem(f"{pset.path}.key", f"permission set key {pset.key!r} is used twice (also at "
                          f"{seen[pset.key]}); keys must be unique: rename one of them", code="duplicate_key")
        elif pset.key is not None:
            seen[pset.key] = pset.path


def _check_entry(facts: AppFacts, form: FormDef, entry: FormPermission, raw: Any) -> Iterable[Problem]:
    if isinstance(raw, dict):
        if "preset" not in raw and "actions" not in raw:
            yield Problem(entry.path, f"the permissions on form {form.key!r} give neither a preset nor "
                          "actions; add `preset: manage_own` (or submit_only, view_all, manage_all) or "
                          "`actions: [view, ...]`", code="no_actions")
        yield from _check_field_lists(form, entry, raw)
    if entry.filter is not None:
        yield from _check_filter(facts, form, entry)


def _check_field_lists(form: FormDef, entry: FormPermission, raw: dict) -> Iterable[Problem]:
    keys = form.field_keys()
    for shown, unshown in _FIELD_LISTS:
        if shown in raw and unshown in raw:
            yield Problem(f"{entry.path}.{unshown}", f"give either `{shown}` or `{unshown}`, not both: one "
                          "list says it all", code="both_field_lists")
    for name in ("visible", "hidden", "editable", "read_only"):
        for i, key in enumerate(raw.get(name) if isinstance(raw.get(name), list) else []):
            if isinstance(key, str) and form.field(key) is None:
                yield Problem(f"{entry.path}.{name}[{i}]", f"form {form.key!r} has no field {key!r}; "
                              f"name one of its fields in `{name}`", code="unknown_field",
                              suggestion=did_you_mean(key, keys))
    hidden = set(entry.hidden) | (set(keys) - set(entry.visible) if entry.visible is not None else set())
    for i, key in enumerate(entry.editable or ()):
        if key in hidden and form.field(key) is not None:
            yield Problem(f"{entry.path}.editable[{i}]", f"field {key!r} is editable but not visible; a "
                          "field one cannot see cannot be set: show it, or leave it out of `editable`",
                          code="editable_hidden")


def _check_filter(facts: AppFacts, form: FormDef, entry: FormPermission) -> Iterable[Problem]:
    tree = parse_filter(entry.filter, form, app=facts.app, types=facts.types, path=entry.filter_path)
    for error in tree.errors:
        hint = _HINT.search(error.message)
        yield Problem(error.path, f"{error.message} (a permission filter: docs/permissions.md)",
                      code="bad_filter", suggestion=hint.group(1) if hint else None)
    for test in tree.tests():
        if isinstance(test, FieldTest):
            yield from _check_test(facts, form, test)
        elif isinstance(test, FormulaTest):
            try:
                formula_sql(test, form, facts.tables.form_table(form.key), ValueContext(lang="en"),
                            facts.tables, True)
            except FormworkError as exc:
                yield Problem(f"{test.path}.formula", f"{exc} (a permission filter)", code="bad_filter")


def _check_test(facts: AppFacts, form: FormDef, test: FieldTest) -> Iterable[Problem]:
    values = test.value if isinstance(test.value, list) else [test.value]
    tokens = [v for v in values if isinstance(v, str) and v in TOKENS]
    where, fdef = f"{test.path}.value", test.field
    if MY_DEPARTMENTS in tokens:
        if test.value != MY_DEPARTMENTS:
            yield Problem(where, f"{MY_DEPARTMENTS} stands for a set of departments: give it alone, as the "
                          f"value itself, not in a list", code="bad_filter")
        elif fdef.type not in DEPARTMENT_TOKEN_TYPES:
            yield Problem(where, f"{MY_DEPARTMENTS} compares a department field (one department) or a member "
                          f"field (one member, in those departments); field {fdef.key!r} is {fdef.type}",
                          code="bad_filter")
        elif test.op not in DEPARTMENT_TOKEN_OPS:
            yield Problem(f"{test.path}.op", f"{MY_DEPARTMENTS} goes with the operators "
                          f"{', '.join(sorted(DEPARTMENT_TOKEN_OPS))}, not {test.op!r}", code="bad_filter")
        return
    if ME in tokens and fdef.type not in ME_TYPES:
        yield Problem(where, f"{ME} is the current user: compare it with a member field (owner_id, "
                      f"created_by or a member field of the form); field {fdef.key!r} is {fdef.type}",
                      code="bad_filter")
        return
    sample = [1 if v == ME else v for v in values] if isinstance(test.value, list) else \
        (1 if test.value == ME else test.value)
    try:
        facts.types.of(fdef).filter_clause(facts.tables.form_table(form.key), test.op, sample,
                                           ValueContext(lang="en"))
    except FieldError as exc:
        yield Problem(where, f"{render(exc.code, exc.params, 'en')} (a permission filter on field "
                      f"{fdef.key!r})", code="bad_filter")
