"""The permission sets of an app, laid out for people to read (the admin pages): per form,
each set that names it with its roles, actions, the fields it shows and lets be set,
and its row filter in words. Read-only: the sets live in the definition.

    for form in overview(app, "zh"):
        for entry in form.entries:
            entry.set_label, entry.roles, entry.actions, entry.visible, entry.editable, entry.filter_text
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.compiled.app import App
from engine.definition.model import FormDef
from engine.definition.permissions import ACTIONS, ME, MY_DEPARTMENTS, FormPermission
from runtime.permissions.roles import permissions_of

_OPS = {"eq": "=", "ne": "≠", "gt": ">", "gte": "≥", "lt": "<", "lte": "≤", "in": "∈", "not_in": "∉",
        "contains": "∋", "is_empty": "∅", "not_empty": "≠ ∅"}
_WORDS = {
    "zh": {ME: "当前用户", MY_DEPARTMENTS: "我的部门及下级部门", "and": " 且 ", "or": " 或 ", "not": "非 ",
           "all": "全部记录", "owner_id": "提交人", "created_by": "创建人", "updated_by": "修改人",
           "formula": "公式"},
    "en": {ME: "the current user", MY_DEPARTMENTS: "my departments and below", "and": " and ", "or": " or ",
           "not": "not ", "all": "every record", "owner_id": "Owner", "created_by": "Created by",
           "updated_by": "Updated by", "formula": "formula"},
}


@dataclass(frozen=True)
class SetEntry:
    set_key: str
    set_label: str
    roles: tuple[str, ...]
    preset: str | None
    actions: tuple[str, ...]           # in the order of ACTIONS
    visible: tuple[str, ...]           # field labels shown
    editable: tuple[str, ...]          # field labels that may be set
    hidden: tuple[str, ...]            # field labels not shown
    filter_text: str
    users: tuple[str, ...] = ()        # accounts the set names besides its roles


@dataclass(frozen=True)
class FormSets:
    form_key: str
    label: str
    entries: tuple[SetEntry, ...]


@dataclass(frozen=True)
class AppSets:
    admins: tuple[str, ...]            # role keys that administer the app
    forms: tuple[FormSets, ...]
    role_keys: frozenset[str]


def overview(app: App, lang: str) -> AppSets:
    permissions = permissions_of(app)
    forms = []
    for form in app.forms:
        entries = [_entry(form, pset, entry, lang) for pset in permissions.sets
                   for entry in [pset.form(form.key)] if entry is not None]
        forms.append(FormSets(form.key, form.label.get(lang) or form.key, tuple(entries)))
    return AppSets(permissions.admins, tuple(forms), permissions.role_keys())


def _entry(form: FormDef, pset, entry: FormPermission, lang: str) -> SetEntry:
    keys = [f.key for f in form.fields]
    visible = [k for k in (entry.visible if entry.visible is not None else keys)
               if k in keys and k not in entry.hidden]
    editable = [k for k in (entry.editable if entry.editable is not None else visible)
                if k in visible and k not in entry.read_only]
    label = _labels(form, lang)
    return SetEntry(set_key=pset.key or "", set_label=pset.label.get(lang) or pset.key or "", roles=pset.roles,
                    preset=entry.preset, actions=tuple(a for a in ACTIONS if a in entry.actions),
                    visible=tuple(label(k) for k in visible), editable=tuple(label(k) for k in editable),
                    hidden=tuple(label(k) for k in keys if k not in visible),
                    filter_text=describe_filter(entry.filter, form, lang), users=pset.users)


def _labels(form: FormDef, lang: str):
    names = {f.key: (f.label.get(lang) or f.key) for f in form.fields}
    return lambda key: names.get(key) or _WORDS[lang].get(key, key)


def describe_filter(spec: Any, form: FormDef, lang: str) -> str:
    """A row filter in words: `负责销售 = 当前用户 或 提交人 = 当前用户`."""
    if isinstance(spec, dict) and any(isinstance(spec.get(group), list) for group in ("and", "or")):
        return _describe(spec, form, lang).removeprefix("(").removesuffix(")")
    return _describe(spec, form, lang)


def _describe(spec: Any, form: FormDef, lang: str) -> str:
    words, label = _WORDS[lang], _labels(form, lang)
    if spec is None:
        return words["all"]
    if isinstance(spec, dict):
        for group in ("and", "or"):
            if isinstance(spec.get(group), list):
                parts = [_describe(s, form, lang) for s in spec[group]]
                return "(" + words[group].join(parts) + ")" if len(parts) > 1 else "".join(parts)
        if "not" in spec:
            return words["not"] + _describe(spec["not"], form, lang)
        if "formula" in spec:
            return f"{words['formula']}: {spec['formula']}"
        if "field" in spec:
            op = spec.get("op", "eq")
            value = "" if op in ("is_empty", "not_empty") else " " + _value(spec.get("value"), words)
            return f"{label(str(spec['field']))} {_OPS.get(op, op)}{value}"
    return str(spec)


def _value(value: Any, words: dict[str, str]) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_value(v, words) for v in value) + "]"
    if isinstance(value, str):
        return words.get(value, value) if value in (ME, MY_DEPARTMENTS) else f"“{value}”"
    return str(value)
