"""The row filter of a permission set as one SQL condition for one actor.

A permission filter is the filter language (engine/computed/filter_tree.py), parsed once
per compiled app; only its tokens depend on who asks, so this walk is the SQL of
engine/query/filters.py with them filled in:

- `$me` (alone or in a list) is the actor's user id, on member fields and the system
  member columns (owner_id, created_by, updated_by);
- `$my_departments` is the actor's departments and every department below them, as a
  subselect (runtime.org.subtree_ids_select: a recursive CTE), never a list read
  first: on a department field the record's department is among them, on a member
  field the member belongs to one of them. An actor with no department has none.
"""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from engine.computed.filter_tree import FieldTest, FilterNode, FilterTree, FormulaTest, Group, Not
from engine.definition.model import FormDef
from engine.definition.permissions import ME, MY_DEPARTMENTS
from engine.fields.base import ValueContext
from engine.query.formula_filter import formula_sql
from engine.query.tables import AppTables
from engine.storage import system
from runtime.actor import Actor
from runtime.org.tree import subtree_ids_select

_dm = system.department_members


@dataclass
class ScopeBuilder:
    """Builds the conditions of one actor over one form's table. The department subtree
    is one CTE shared by every condition that names it, so a statement holds it once."""

    form: FormDef
    table: sa.Table
    tables: AppTables
    actor: Actor
    _subtree: sa.Select | None = None

    def __post_init__(self) -> None:
        self.ctx = ValueContext(lang=self.actor.lang, user_id=self.actor.user_id).for_form(
            self.tables, self.form.key)

    def condition(self, tree: FilterTree) -> sa.ColumnElement:
        return sa.true() if tree.root is None else self._sql(tree.root)

    def _sql(self, node: FilterNode) -> sa.ColumnElement:
        if isinstance(node, Group):
            parts = [self._sql(item) for item in node.items]
            if not parts:
                return sa.true()
            return sa.and_(*parts) if node.kind == "and" else sa.or_(*parts)
        if isinstance(node, Not):
            return sa.not_(self._sql(node.item))
        if isinstance(node, FieldTest):
            return self._field(node)
        if isinstance(node, FormulaTest):
            return formula_sql(node, self.form, self.table, self.ctx, self.tables, True)
        raise node.error()     # a definition that passed validation has none

    def _field(self, test: FieldTest) -> sa.ColumnElement:
        ftype = self.tables.types.of(test.field)
        if test.value == MY_DEPARTMENTS:
            return self._in_my_departments(test, self.table.c[ftype.column_name])
        value = test.value
        if value == ME or (isinstance(value, list) and ME in value):
            if self.actor.user_id is None:      # nobody in particular is nobody's "me"
                return sa.false() if test.op not in ("ne", "not_in") else sa.true()
            value = self.actor.user_id if value == ME else [self.actor.user_id if v == ME else v for v in value]
        return ftype.filter_clause(self.table, test.op, value, self.ctx)

    def _in_my_departments(self, test: FieldTest, column) -> sa.ColumnElement:
        if not self.actor.department_ids:
            inside = sa.false()
        else:
            if self._subtree is None:
                self._subtree = subtree_ids_select(self.actor.department_ids)
            inside = column.in_(self._subtree) if test.field.type == "department" else column.in_(
                sa.select(_dm.c.user_id).where(_dm.c.department_id.in_(self._subtree)))
        if test.op in ("eq", "in"):
            return inside
        return sa.or_(column.is_(None), sa.not_(inside))
