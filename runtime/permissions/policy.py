"""The permission policy seam: what an actor may do with the records of one form.

The record service (runtime/records/service.py) asks its policy once per form, in one
place (`Records._access`), and enforces the answer itself, the same way for every
caller (pages, API, imports, exports, jobs):

- `actions`: which of view, create, edit, delete, import, export, history the actor
  may do at all; another is refused with PermissionDenied (restore and purge count as
  delete; an import also needs create, an export view: runtime/import_export);
- `row_scope`: an SQL condition over the form's table (`app.tables.form_table(key)`)
  that the rows the actor may reach satisfy. It is ANDed into the WHERE of every list,
  count and get, and of the locking reads of update, delete, restore and purge, so rows
  outside it are never read: they answer NotFound (as if they did not exist) and lists
  and counts leave them out in SQL. None means every row, and costs nothing.
  `action_scopes` may narrow (or widen) it for one action (edit, delete, history): a
  role that views every customer but edits only its own (`scope(action)`);
- `hidden_fields`: keys of fields the actor may not see. They are never in a record the
  service returns (get, list, the record a write gives back, history changes); a
  filter, sort or field selection naming one is refused (PermissionDenied naming the
  field, zh and en), also through a relation (`customer.level` when customers hide
  level); a text search does not look into them;
- `read_only_fields`: keys of fields the actor sees but may not set; a create or update
  giving a value for one (or for a hidden field) is refused with the field issue
  `permission_read_only`, next to the other issues of the record.

`FullAccess` answers "everything" without reading anything: today's behaviour, with no
extra SQL statement.

A `Policy` is any object with `access(app, form, actor) -> FormAccess`. FullAccess
(below) is the system actor's; the role-based one, built from the permission sets of
the app definition, is runtime/permissions/roles.py (RolePolicy, ROLE_POLICY), and
docs/permissions.md says what it answers. `access` is called once per form per
Records instance; its answer needs no query (the actor carries roles and departments).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Mapping, Protocol

import sqlalchemy as sa

from engine.compiled.app import App
from engine.definition.model import FormDef
from engine.definition.permissions import ACTIONS as ACTION_ORDER
from engine.definition.permissions import CREATE, DELETE, EDIT, EXPORT, HISTORY, IMPORT, VIEW  # noqa: F401
from runtime.actor import Actor

ACTIONS = frozenset(ACTION_ORDER)


@dataclass(frozen=True)
class FormAccess:
    """What one actor may do with the records of one form (see the module docstring)."""

    actions: frozenset[str] = ACTIONS
    row_scope: sa.ColumnElement | None = None
    hidden_fields: frozenset[str] = frozenset()
    read_only_fields: frozenset[str] = frozenset()
    action_scopes: Mapping[str, sa.ColumnElement | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        unknown = (set(self.actions) | set(self.action_scopes)) - ACTIONS
        if unknown:
            raise ValueError(f"unknown actions {sorted(unknown)}; the actions are {sorted(ACTIONS)}")

    def scope(self, action: str) -> sa.ColumnElement | None:
        """The rows `action` may reach: its own scope, else the row scope."""
        return self.action_scopes.get(action, self.row_scope)

    @classmethod
    def limited(cls, form: FormDef, *, actions: Iterable[str] = ACTIONS, row_scope=None,
                visible: Iterable[str] | None = None, editable: Iterable[str] | None = None) -> "FormAccess":
        """An access given by what is allowed: `visible` fields (None: all), `editable`
        fields (None: all visible ones)."""
        keys = set(form.field_keys())
        shown = keys if visible is None else keys & set(visible)
        changeable = shown if editable is None else shown & set(editable)
        return cls(frozenset(actions), row_scope, frozenset(keys - shown), frozenset(shown - changeable))

    def can(self, action: str) -> bool:
        return action in self.actions

    def can_see(self, key: str) -> bool:
        return key not in self.hidden_fields

    def can_edit(self, key: str) -> bool:
        return key not in self.hidden_fields and key not in self.read_only_fields

    def visible_fields(self, form: FormDef) -> list[str] | None:
        """The keys of the fields it shows, or None when it shows them all."""
        if not self.hidden_fields:
            return None
        return [key for key in form.field_keys() if key not in self.hidden_fields]

    @property
    def limits_writes(self) -> bool:
        return bool(self.hidden_fields or self.read_only_fields)


FULL = FormAccess()


class Policy(Protocol):
    def access(self, app: App, form: FormDef, actor: Actor) -> FormAccess:
        """What `actor` may do with the records of `form` in `app`."""


class FullAccess:
    """Everything for everyone: the policy until permission sets exist (issue #9), and
    the one of the system actor."""

    def access(self, app: App, form: FormDef, actor: Actor) -> FormAccess:
        return FULL


FULL_ACCESS = FullAccess()
