"""Checks of meaning, after the shape is right: unique keys, reserved names,
references between forms, defaults, and each field type's own checks."""
from __future__ import annotations

from typing import Iterable

from engine.definition.model import AppDef, FieldDef, FormDef
from engine.definition.suggest import did_you_mean
from engine.errors import FieldError, Problem
from engine.fields.base import DefinitionContext, ValueContext
from engine.fields.registry import RESERVED_TYPES, field_type, get_type, type_names
from engine.i18n import render

RESERVED_FIELD_KEYS = frozenset({"id", "created_at", "updated_at", "created_by", "updated_by",
                                 "owner_id", "version", "deleted_at", "parent_id", "position"})


def check_app(app: AppDef) -> list[Problem]:
    problems: list[Problem] = []
    seen_forms: dict[str, str] = {}
    for form in app.forms:
        if form.key in seen_forms:
            problems.append(Problem(f"{form.path}.key", f"form key {form.key!r} is used twice "
                                    f"(also at {seen_forms[form.key]}); keys must be unique",
                                    code="duplicate_key"))
        seen_forms.setdefault(form.key, form.path)
        if form.renamed_from and app.form(form.renamed_from) is not None:
            problems.append(Problem(f"{form.path}.renamed_from", f"renamed_from {form.renamed_from!r} "
                                    "is still a form of this app; remove one of the two", code="bad_rename"))
        problems.extend(_check_form(app, form))
    return problems


def _check_form(app: AppDef, form: FormDef) -> Iterable[Problem]:
    yield from _check_fields(app, form, form.fields, parent=None)
    keys = form.field_keys()
    if form.title_field and form.field(form.title_field) is None:
        yield Problem(f"{form.path}.title_field", f"title_field {form.title_field!r} is not a field of "
                      f"form {form.key!r}", code="unknown_field", suggestion=did_you_mean(form.title_field, keys))
    for i, sort in enumerate(form.default_sort):
        key = sort.get("field") if isinstance(sort, dict) else None
        if key not in keys and key not in ("id", "created_at", "updated_at"):
            yield Problem(f"{form.path}.default_sort[{i}].field", f"default_sort names {key!r}, which is not "
                          f"a field of form {form.key!r}", code="unknown_field",
                          suggestion=did_you_mean(str(key), keys + ["created_at", "updated_at"]))
        elif form.field(key) is not None and not field_type(form.field(key)).sortable:
            yield Problem(f"{form.path}.default_sort[{i}].field", f"field {key!r} cannot be sorted",
                          code="not_sortable")


def _check_fields(app: AppDef, form: FormDef, fields: list[FieldDef], parent: FieldDef | None
                  ) -> Iterable[Problem]:
    seen: dict[str, str] = {}
    for fdef in fields:
        if fdef.key in seen:
            yield Problem(f"{fdef.path}.key", f"field key {fdef.key!r} is used twice in "
                          f"{'subform ' + parent.key if parent else 'form ' + form.key} (also at "
                          f"{seen[fdef.key]}); keys must be unique", code="duplicate_key")
            continue
        seen[fdef.key] = fdef.path
        if fdef.key in RESERVED_FIELD_KEYS:
            yield Problem(f"{fdef.path}.key", f"{fdef.key!r} is reserved for a system column; choose another "
                          f"key (e.g. {fdef.key + '_value'!r})", code="reserved_key")
        cls = get_type(fdef.type)
        if cls is None:
            if fdef.type in RESERVED_TYPES:
                yield Problem(f"{fdef.path}.type", f"field type {fdef.type!r} is not available yet: "
                              f"{RESERVED_TYPES[fdef.type]}", code="unavailable_type")
            else:
                yield Problem(f"{fdef.path}.type", f"unknown field type {fdef.type!r}",
                              code="unknown_type", suggestion=did_you_mean(str(fdef.type), type_names()))
            continue
        ftype = field_type(fdef)
        if parent is not None and not cls.allowed_in_subform:
            yield Problem(f"{fdef.path}.type", f"a {fdef.type} field cannot be a column of a subform",
                          code="not_in_subform")
        if fdef.unique and not cls.can_be_unique:
            yield Problem(f"{fdef.path}.unique", f"a {fdef.type} field cannot be unique; remove `unique: true`",
                          code="not_unique")
        if fdef.renamed_from and any(f.key == fdef.renamed_from for f in fields):
            yield Problem(f"{fdef.path}.renamed_from", f"renamed_from {fdef.renamed_from!r} is still a field "
                          "here; remove one of the two", code="bad_rename")
        if fdef.default is not None:
            yield from _check_default(fdef, ftype)
        for problem in ftype.check_definition(DefinitionContext(app, form, parent)):
            yield problem
        if fdef.fields:
            yield from _check_fields(app, form, fdef.fields, parent=fdef)


def _check_default(fdef: FieldDef, ftype) -> Iterable[Problem]:
    if not ftype.can_have_default or ftype.system_assigned:
        yield Problem(f"{fdef.path}.default", f"a {fdef.type} field cannot have a default", code="bad_default")
        return
    try:
        ftype.clean(fdef.default, ValueContext(lang="en"))
    except FieldError as exc:
        yield Problem(f"{fdef.path}.default", f"default {fdef.default!r} is not a valid value: "
                      f"{render(exc.code, exc.params, 'en')}", code="bad_default")
