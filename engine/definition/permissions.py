"""Permission sets of an app definition (docs/permissions.md): who may do what with the
records of each form, by role key, portable with the app.

    admins: [crm_admin]                 # roles that administer the app: everything
    permissions:
      - key: sales
        label: {zh: 销售, en: Sales}
        roles: [sales]
        users: [zhang.wei]              # accounts that hold the set too, whatever their roles
        forms:
          customers:
            preset: manage_own
            filter: {or: [{field: owner, value: $me}, {field: owner_id, value: $me}]}
            hidden: [lifetime_value]
          contacts: view_all            # a preset name alone

A form's entry starts from its `preset` (PRESETS: actions and a row filter) and each
key given replaces the preset's: `actions`, `filter` (the filter language, where
`$me` is the current user and `$my_departments` their departments and every
department below them), the visible fields (`visible` or `hidden`) and the editable
ones (`editable` or `read_only`). Without a preset, `actions` is required.

This module is the model only (parsed from a document the JSON Schema and
engine/validation/permissions.py check); runtime/permissions turns it into a policy.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

from engine.definition.model import Label

VIEW, CREATE, EDIT, DELETE = "view", "create", "edit", "delete"
IMPORT, EXPORT, HISTORY = "import", "export", "history"
ACTIONS = (VIEW, CREATE, EDIT, DELETE, IMPORT, EXPORT, HISTORY)

ME = "$me"                          # the current user (member fields, owner_id, created_by...)
MY_DEPARTMENTS = "$my_departments"  # the current user's departments and all below them
TOKENS = (ME, MY_DEPARTMENTS)

# The records the current user owns (owner_id is set to the creating user).
OWN_ROWS = {"field": "owner_id", "op": "eq", "value": ME}


@dataclass(frozen=True)
class Preset:
    actions: frozenset[str]
    filter: Any                     # None: every record


PRESETS = {
    # submit, and (with `actions: [create, view]`) see one's own submissions
    "submit_only": Preset(frozenset({CREATE}), OWN_ROWS),
    "manage_own": Preset(frozenset({VIEW, CREATE, EDIT, DELETE, HISTORY}), OWN_ROWS),
    "view_all": Preset(frozenset({VIEW, HISTORY}), None),
    "manage_all": Preset(frozenset(ACTIONS), None),
}


@dataclass(frozen=True)
class FormPermission:
    """What one permission set allows on one form (the preset's answers filled in)."""

    form: str
    path: str
    preset: str | None
    actions: frozenset[str]
    filter: Any
    visible: tuple[str, ...] | None = None     # None: every field (less `hidden`)
    hidden: tuple[str, ...] = ()
    editable: tuple[str, ...] | None = None    # None: every visible field (less `read_only`)
    read_only: tuple[str, ...] = ()

    @classmethod
    def parse(cls, form_key: str, raw: Any, path: str) -> "FormPermission":
        spec = {"preset": raw} if isinstance(raw, str) else raw if isinstance(raw, dict) else {}
        preset = PRESETS.get(spec.get("preset")) if isinstance(spec.get("preset"), str) else None
        actions = spec.get("actions")
        if isinstance(actions, list):
            chosen = frozenset(a for a in actions if isinstance(a, str))
        else:
            chosen = preset.actions if preset else frozenset()
        return cls(
            form=form_key, path=path, preset=spec.get("preset") if isinstance(spec.get("preset"), str) else None,
            actions=chosen, filter=spec["filter"] if "filter" in spec else (preset.filter if preset else None),
            visible=_keys(spec.get("visible")), hidden=_keys(spec.get("hidden")) or (),
            editable=_keys(spec.get("editable")), read_only=_keys(spec.get("read_only")) or ())

    @property
    def filter_path(self) -> str:
        return f"{self.path}.filter"


def _keys(raw: Any) -> tuple[str, ...] | None:
    return tuple(k for k in raw if isinstance(k, str)) if isinstance(raw, list) else None


@dataclass(frozen=True)
class PermissionSet:
    key: str | None
    label: Label
    roles: tuple[str, ...]
    forms: tuple[FormPermission, ...]
    path: str
    users: tuple[str, ...] = ()         # accounts holding the set whatever their roles

    def form(self, form_key: str) -> FormPermission | None:
        return next((f for f in self.forms if f.form == form_key), None)

    @classmethod
    def parse(cls, raw: dict, path: str) -> "PermissionSet":
        forms = raw.get("forms") if isinstance(raw.get("forms"), dict) else {}
        roles = raw.get("roles") if isinstance(raw.get("roles"), list) else []
        users = raw.get("users") if isinstance(raw.get("users"), list) else []
        return cls(key=raw.get("key") if isinstance(raw.get("key"), str) else None,
                   users=tuple(u for u in users if isinstance(u, str)),
                   label=Label.parse(raw.get("label")), roles=tuple(r for r in roles if isinstance(r, str)),
                   forms=tuple(FormPermission.parse(k, v, f"{path}.forms.{k}") for k, v in forms.items()
                               if isinstance(k, str)),
                   path=path)


@dataclass(frozen=True)
class Permissions:
    """The `admins` and `permissions` of an app definition."""

    admins: tuple[str, ...] = ()
    sets: tuple[PermissionSet, ...] = ()

    @classmethod
    def parse(cls, raw: dict) -> "Permissions":
        admins = raw.get("admins") if isinstance(raw.get("admins"), list) else []
        sets = raw.get("permissions") if isinstance(raw.get("permissions"), list) else []
        return cls(tuple(a for a in admins if isinstance(a, str)),
                   tuple(PermissionSet.parse(s, f"permissions[{i}]") for i, s in enumerate(sets)
                         if isinstance(s, dict)))

    def for_form(self, form_key: str, roles: frozenset[str],
                 account: str | None = None) -> Iterator[tuple[PermissionSet, FormPermission]]:
        """The entries for `form_key` of the sets any of `roles` holds, or that name
        the user `account`."""
        for pset in self.sets:
            entry = pset.form(form_key)
            if entry is not None and (roles.intersection(pset.roles) or (account is not None and account in pset.users)):
                yield pset, entry

    def accounts(self) -> frozenset[str]:
        """The accounts some set names (`users`)."""
        return frozenset().union(*(s.users for s in self.sets))

    def role_keys(self) -> frozenset[str]:
        return frozenset(self.admins).union(*(s.roles for s in self.sets))
