"""The permission policy seam: what an actor may do with the records of one form.

The record service (runtime/records/service.py) asks its policy once per form, in one
place (`Records._access`), and enforces the answer itself, the same way for every
caller (pages, API, imports, exports, jobs):

- `actions`: which of view, create, edit, delete the actor may do at all; another is
  refused with PermissionDenied (restore and purge count as delete);
- `row_scope`: an SQL condition over the form's table (`app.tables.form_table(key)`)
  that the rows the actor may reach satisfy. It is ANDed into the WHERE of every list,
  count and get, and of the locking reads of update, delete, restore and purge, so rows
  outside it are never read: they answer NotFound (as if they did not exist) and lists
  and counts leave them out in SQL. None means every row, and costs nothing;
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

How role-based permission sets (issue #9) plug in: a `Policy` is any object with
`access(app, form, actor) -> FormAccess`. The one for #9 reads the permission sets of
the compiled app (by role key), picks those of `actor.roles` for `form`, and answers:
the union of their actions; the OR of their data filters as `row_scope`, each compiled
with engine.query.filters.compile_filter over the form table (`owner_id = actor`, "my
department and below" through runtime.org.subtree_ids_select over
`actor.department_ids`, so a scope stays one SQL condition); the fields none of them
shows as `hidden_fields`, those none lets edit as `read_only_fields`. Admins and the
system actor get FULL. It is handed to `Records(..., policy=...)` or
`Session(engine, actor, policy=...)`; the service needs no change. `access` is called
once per form per Records instance, so it may do work (its answer should not need
queries: the actor already carries roles and departments).

Left to #9 as well: whether related records outside the actor's scope may be linked to
and show their titles, and whether a visible formula or lookup field may show values
computed from hidden ones: the service shows what the definition computes.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Protocol

import sqlalchemy as sa

from engine.compiled.app import App
from engine.definition.model import FormDef
from runtime.actor import Actor

VIEW, CREATE, EDIT, DELETE = "view", "create", "edit", "delete"
ACTIONS = frozenset({VIEW, CREATE, EDIT, DELETE})


@dataclass(frozen=True)
class FormAccess:
    """What one actor may do with the records of one form (see the module docstring)."""

    actions: frozenset[str] = ACTIONS
    row_scope: sa.ColumnElement | None = None
    hidden_fields: frozenset[str] = frozenset()
    read_only_fields: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        unknown = set(self.actions) - ACTIONS
        if unknown:
            raise ValueError(f"unknown actions {sorted(unknown)}; the actions are {sorted(ACTIONS)}")

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
