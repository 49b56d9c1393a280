"""Checks of meaning: unique keys, reserved names, renames, references between
forms, defaults, and each field type's own checks.

They run even when the JSON Schema found problems, so that every problem is
reported at once. Each check therefore reads the model defensively (the model
leaves out forms and fields without a text key, and a type, target or name may be
None when it was not text), and a field listed in `malformed` (one whose own keys
broke the schema: a bad option, an unknown type...) takes part only in the checks
of names (duplicates, reserved words, renames, references to it); its type's own
checks wait until its shape is right, since they would read a config they cannot
trust.
"""
from __future__ import annotations

import re
from typing import Iterable

from engine.definition.identifiers import KEY_PATTERN, key_problem
from engine.definition.model import AppDef, FieldDef, FormDef
from engine.errors import FieldError, Problem
from engine.fields.base import DefinitionContext, ValueContext
from engine.fields.registry import get_type, type_names
from engine.i18n import render
from engine.suggest import did_you_mean
from engine.validation.automation_checks import check_automations
from engine.validation.dashboard_checks import check_dashboards
from engine.validation.checks import AppFacts, check_computed_field, check_field_formulas, check_form_rules
from engine.validation.permissions import check_permissions
from engine.validation.referral_checks import check_referrals
from engine.validation.reward_checks import check_rewards, reward_warnings
from engine.validation.row_checks import check_row_formula
from engine.workflow.checks import check_form_workflows

# Columns every form table has, which default_sort may name besides the fields.
SORTABLE_SYSTEM_COLUMNS = ("id", "created_at", "updated_at")


def check_app(app: AppDef, malformed: frozenset[str] = frozenset()) -> list[Problem]:
    """Every semantic problem of `app`. `malformed` holds the paths of fields whose
    shape the JSON Schema refused."""
    problems: list[Problem] = list(_reserved(app.key, "app", "app.key"))
    problems.extend(_check_keys([(form.key, form.renamed_from, form.path) for form in app.forms],
                                what="form", where=f"app {app.key!r}" if app.key else "this app"))
    facts = AppFacts.of(app)
    for form in app.forms:
        problems.extend(_check_form(facts, form, malformed))
    problems.extend(check_permissions(facts, app))
    problems.extend(check_automations(facts))
    problems.extend(check_rewards(facts))
    problems.extend(check_referrals(facts))
    problems.extend(check_dashboards(facts))
    return problems


def warnings_of(app: AppDef) -> list[Problem]:
    """What a valid definition allows but should make its author think twice (severity
    "warning"): an indirect reward level."""
    return list(reward_warnings(AppFacts.of(app)))


def _reserved(key: str | None, what: str, path: str) -> Iterable[Problem]:
    # Keys of the wrong shape are reported by the JSON Schema already.
    if isinstance(key, str) and re.fullmatch(KEY_PATTERN, key):
        found = key_problem(key, what)
        if found:
            yield Problem(path, found[0], code=found[1])


def _check_keys(entries: list[tuple[str, str | None, str]], what: str, where: str
                ) -> Iterable[Problem]:
    """Keys and renamed_from of sibling forms (or of the fields of one form or subform):
    keys unique, not reserved, and each rename naming an old key no sibling still has
    and no other sibling also claims."""
    keys: dict[str, str] = {}
    renames: dict[str, str] = {}
    for key, renamed_from, path in entries:
        if key in keys:
            yield Problem(f"{path}.key", f"{what} key {key!r} is used twice in {where} (also at {keys[key]}); "
                          f"keys must be unique: rename one of them", code="duplicate_key")
            continue
        keys[key] = path
        yield from _reserved(key, what, f"{path}.key")
    for key, renamed_from, path in entries:
        if renamed_from is None or keys.get(key) != path:
            continue
        rename_path = f"{path}.renamed_from"
        if renamed_from == key:
            yield Problem(rename_path, f"{what} {key!r} says it is renamed from itself; remove renamed_from, "
                          "or set it to the key the data was stored under before", code="bad_rename")
        elif renamed_from in keys:
            yield Problem(rename_path, f"renamed_from {renamed_from!r} is still a {what} key in {where} "
                          f"(at {keys[renamed_from]}); a renamed {what} takes over the old key's data, so "
                          "remove renamed_from or rename the other one", code="bad_rename")
        elif renamed_from in renames:
            yield Problem(rename_path, f"renamed_from {renamed_from!r} is claimed twice (also at "
                          f"{renames[renamed_from]}); only one {what} can take over the old key's data",
                          code="bad_rename")
        renames.setdefault(renamed_from, path)


def _check_form(facts: AppFacts, form: FormDef, malformed: frozenset[str]) -> Iterable[Problem]:
    yield from _check_fields(facts, form, form.fields, None, malformed)
    yield from check_form_rules(facts, form)
    yield from check_form_workflows(facts.app, form, facts.types)
    keys = form.field_keys()
    if form.title_field is not None:
        yield from _check_title_field(facts, form, keys, malformed)
    for i, sort in enumerate(form.default_sort):
        key = sort.get("field") if isinstance(sort, dict) else None
        if not isinstance(key, str):
            continue   # the JSON Schema reports it
        sorted_field = form.field(key)
        if sorted_field is None and key not in SORTABLE_SYSTEM_COLUMNS:
            yield Problem(f"{form.path}.default_sort[{i}].field", f"default_sort names {key!r}, which is not "
                          f"a field of form {form.key!r}; name one of its fields or created_at/updated_at",
                          code="unknown_field",
                          suggestion=did_you_mean(key, keys + list(SORTABLE_SYSTEM_COLUMNS)))
        elif sorted_field is not None and sorted_field.path not in malformed \
                and get_type(sorted_field.type) is not None and not facts.types.of(sorted_field).sortable:
            yield Problem(f"{form.path}.default_sort[{i}].field", f"field {key!r} ({sorted_field.type}) cannot "
                          "be sorted; sort by a text, number, date or choice field", code="not_sortable")


def _check_title_field(facts: AppFacts, form: FormDef, keys: list[str], malformed: frozenset[str]) -> Iterable[Problem]:
    path = f"{form.path}.title_field"
    title = form.field(form.title_field)
    if title is None:
        yield Problem(path, f"title_field {form.title_field!r} is not a field of form {form.key!r}; name the "
                      "field that identifies a record (like its name or number)", code="unknown_field",
                      suggestion=did_you_mean(form.title_field, keys))
    elif title.path not in malformed and get_type(title.type) is not None \
            and facts.types.of(title).storage != "column":
        yield Problem(path, f"title_field {title.key!r} is a {title.type} field, which has no single value to "
                      "show; name a text, number or serial field", code="bad_title_field")


def _check_fields(facts: AppFacts, form: FormDef, fields: list[FieldDef], parent: FieldDef | None,
                  malformed: frozenset[str]) -> Iterable[Problem]:
    where = f"subform {parent.key!r}" if parent else f"form {form.key!r}"
    yield from _check_keys([(f.key, f.renamed_from, f.path) for f in fields], what="field", where=where)
    for fdef in fields:
        cls = get_type(fdef.type)
        if fdef.path not in malformed:
            yield from (_check_field(facts, form, fdef, parent) if cls else [_unknown_type(fdef)])
        if cls is not None and "fields" in cls.config_schema:   # a subform: check its columns
            yield from _check_fields(facts, form, fdef.fields, fdef, malformed)


def _unknown_type(fdef: FieldDef) -> Problem:
    return Problem(f"{fdef.path}.type", f"unknown field type {fdef.type!r}; see docs/field-types.md for the "
                   "types", code="unknown_type", suggestion=did_you_mean(str(fdef.type), type_names()))


def _check_field(facts: AppFacts, form: FormDef, fdef: FieldDef, parent: FieldDef | None) -> Iterable[Problem]:
    cls = get_type(fdef.type)
    ftype = facts.types.of(fdef)
    if parent is not None and not cls.allowed_in_subform:
        yield Problem(f"{fdef.path}.type", f"a {fdef.type} field cannot be a column of a subform; put it on "
                      f"form {form.key!r} itself", code="not_in_subform")
    if fdef.unique and not cls.can_be_unique:
        yield Problem(f"{fdef.path}.unique", f"a {fdef.type} field cannot be unique; remove `unique: true`",
                      code="not_unique")
    if fdef.default is not None:
        yield from _check_default(fdef, ftype)
    yield from check_field_formulas(facts, form, fdef, ftype, parent)
    ctx = DefinitionContext(facts.app, form, parent, facts)
    yield from ftype.check_definition(ctx)
    yield from _check_computed(ftype, ctx)


def _check_computed(ftype, ctx: DefinitionContext) -> Iterable[Problem]:
    """Formulas and rollups need the whole app (other forms' fields, the graph), so
    they are checked here rather than by their field types."""
    if ftype.computed_kind is None:
        return ()
    if ctx.parent is None:
        return check_computed_field(ftype, ctx)
    # A formula column of a subform; a rollup there is refused by `allowed_in_subform`.
    return check_row_formula(ftype, ctx) if ftype.computed_kind == "formula" else ()


def _check_default(fdef: FieldDef, ftype) -> Iterable[Problem]:
    if not ftype.can_have_default or ftype.system_assigned:
        yield Problem(f"{fdef.path}.default", f"a {fdef.type} field cannot have a default; remove `default`",
                      code="bad_default")
        return
    try:
        ftype.clean(fdef.default, ValueContext(lang="en"))
    except FieldError as exc:
        yield Problem(f"{fdef.path}.default", f"default {fdef.default!r} is not a valid value: "
                      f"{render(exc.code, exc.params, 'en')}", code="bad_default")
