"""The role-based policy: what the permission sets of the app definition
(engine/definition/permissions.py, docs/permissions.md) let an actor do with a form.

    policy = policy_for(actor)                       # ROLE_POLICY for a user, FULL_ACCESS for the system
    access = policy.access(app, app.require_form("customers"), actor)
    access.can("export"); access.visible_fields(form); access.can_edit("level")

An actor gets the union of the sets its roles hold for the form, and of those that name
its account (`users`): their actions united;
their row filters ORed into one SQL condition, per action (an action reaches the rows
of the sets that allow it); a field hidden only when no set shows it, and editable
when a set that creates or edits lets it be set. Workspace administrators
(`actor.is_admin`, the system actor too) and the app's administrators (members of a
role named in the definition's `admins`) get everything; an actor with no set for a
form gets nothing.

What depends only on the definition and the roles (which sets apply, the actions, the
fields, the parsed filters) is worked out once per (compiled app, form, roles, account when a set names it) and
kept; per actor only the SQL of the filters is built, with its user id and
departments (runtime/permissions/scopes.py), without a query.
"""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from engine.compiled.app import App, AppCache
from engine.computed.filter_tree import FilterTree, parse_filter
from engine.definition.model import FormDef
from engine.definition.permissions import CREATE, EDIT, VIEW, FormPermission, Permissions
from runtime.actor import Actor
from runtime.permissions.policy import FULL, FULL_ACCESS, FormAccess, Policy
from runtime.permissions.scopes import ScopeBuilder

NOTHING = FormAccess(actions=frozenset(), row_scope=sa.false())


@dataclass(frozen=True)
class _Grant:
    """One set's entry for the form: its actions and its parsed row filter (None: all rows)."""

    actions: frozenset[str]
    tree: FilterTree | None


@dataclass(frozen=True)
class FormPlan:
    """The union of the sets a combination of roles holds for one form."""

    actions: frozenset[str]
    hidden: frozenset[str]
    read_only: frozenset[str]
    grants: tuple[_Grant, ...]

    @classmethod
    def build(cls, app: App, form: FormDef, entries: list[FormPermission]) -> "FormPlan":
        keys = set(form.field_keys())
        shown: set[str] = set()
        settable: set[str] = set()
        grants = []
        for entry in entries:
            visible = (keys if entry.visible is None else keys & set(entry.visible)) - set(entry.hidden)
            shown |= visible
            if entry.actions & {CREATE, EDIT}:
                editable = visible if entry.editable is None else visible & set(entry.editable)
                settable |= editable - set(entry.read_only)
            tree = None if entry.filter is None else parse_filter(
                entry.filter, form, app=app.definition, types=app.types, path=entry.filter_path)
            grants.append(_Grant(entry.actions, tree))
        actions = frozenset().union(*(g.actions for g in grants))
        return cls(actions, frozenset(keys - shown), frozenset(shown - settable), tuple(grants))

    def access(self, app: App, form: FormDef, actor: Actor) -> FormAccess:
        if not self.actions:
            return NOTHING
        builder = ScopeBuilder(form, app.tables.form_table(form.key), app.tables, actor)
        compiled: dict[int, sa.ColumnElement] = {}

        def scope(action: str) -> sa.ColumnElement | None:
            trees = [g.tree for g in self.grants if action in g.actions]
            if not trees:
                return sa.false()
            if any(t is None for t in trees):
                return None
            parts = []
            for tree in trees:
                if id(tree) not in compiled:
                    compiled[id(tree)] = builder.condition(tree)
                parts.append(compiled[id(tree)])
            return parts[0] if len(parts) == 1 else sa.or_(*parts)

        row_scope = scope(VIEW)
        others = {action: scope(action) for action in self.actions - {VIEW}}
        differing = {a: s for a, s in others.items() if s is not row_scope}
        return FormAccess(self.actions, row_scope, self.hidden, self.read_only, differing)


class RolePolicy:
    """The Policy of signed-in users (see the module docstring)."""

    def __init__(self, cache_size: int = 1024):
        self._plans = AppCache(cache_size)      # (id(app), form, roles, named account) -> (app, FormPlan)

    def access(self, app: App, form: FormDef, actor: Actor) -> FormAccess:
        permissions = permissions_of(app)
        if actor.is_admin or actor.roles & set(permissions.admins):
            return FULL
        roles = frozenset(actor.roles) & permissions.role_keys()
        account = actor.account if actor.account in permissions.accounts() else None
        return self.plan(app, form, roles, permissions, account).access(app, form, actor)

    def plan(self, app: App, form: FormDef, roles: frozenset[str], permissions: Permissions,
             account: str | None = None) -> FormPlan:
        key = (id(app), form.key, roles, account)
        found = self._plans.get(key)
        if found is not None and found[0] is app:
            return found[1]
        plan = FormPlan.build(app, form, [entry for _, entry in permissions.for_form(form.key, roles, account)])
        self._plans.put(key, (app, plan))
        return plan

    def is_app_admin(self, app: App, actor: Actor) -> bool:
        return actor.is_admin or bool(actor.roles & set(permissions_of(app).admins))


_PERMISSIONS = AppCache(256)      # id(app) -> (app, Permissions)


def permissions_of(app: App) -> Permissions:
    """The permission sets and admins of a compiled app, parsed once."""
    found = _PERMISSIONS.get(id(app))
    if found is not None and found[0] is app:
        return found[1]
    parsed = Permissions.parse(app.raw if isinstance(app.raw, dict) else {})
    _PERMISSIONS.put(id(app), (app, parsed))
    return parsed


ROLE_POLICY = RolePolicy()


def policy_for(actor: Actor) -> Policy:
    """The policy a unit of work of `actor` runs under: the system actor's is
    FullAccess (no statement, no work), a user's the role-based one."""
    return FULL_ACCESS if actor.is_system else ROLE_POLICY


def accessible_forms(app: App, actor: Actor, policy: Policy | None = None) -> list[FormDef]:
    """The forms of `app` the actor may open (view) or fill in (create): the home page
    lists these. A form allowing only other actions (export, say) is reached from a view."""
    policy = policy or policy_for(actor)
    return [form for form in app.forms if {VIEW, CREATE} & policy.access(app, form, actor).actions]
