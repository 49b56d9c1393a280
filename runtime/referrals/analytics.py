"""Referral analytics in SQL (docs/referrals.md, "Analytics"): the referral tree below any
customer and every referrer's chain (friends by level, converted friends, the value they
brought), each one recursive statement over the customers' referrer self-relation,
whatever the depth, on SQLite and PostgreSQL alike.

Both count only what the reader may see: the customers outside their row scope (a
salesperson's own customers, say) take no part in a figure, and a tree whose root they
may not see is not found. The walks are bounded by MAX_DEPTH, so corrupted data (a cycle
written around the validation) ends instead of looping.

    ReferralAnalytics(records).tree(customer_id)     [TreeNode], depth-first
    ReferralAnalytics(records).referrers(top=20)     [ChainValue], highest chain value first
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import sqlalchemy as sa

from engine.errors import NotFound
from engine.definition.permissions import VIEW
from runtime.referrals.compiled import field_column, require_programme

MAX_DEPTH = 50
MAX_TOP = 500


@dataclass(frozen=True)
class TreeNode:
    id: int
    parent_id: int | None
    depth: int               # 0 the customer asked for, 1 their friends, ...
    path: str                # ids from the root, "12/40/41"
    name: str | None
    value: Decimal | None
    first_deal: date | None

    def as_json(self) -> dict:
        return {"id": self.id, "parent_id": self.parent_id, "depth": self.depth, "path": self.path,
                "name": self.name, "value": _text(self.value),
                "first_deal": self.first_deal.isoformat() if self.first_deal else None}


@dataclass(frozen=True)
class ChainValue:
    referrer_id: int
    name: str | None
    direct: int              # friends they referred themselves
    indirect: int            # friends of friends, at any depth
    converted: int           # friends (any level) with a first deal
    value: Decimal           # what the whole chain brought in

    def as_json(self) -> dict:
        return {"referrer_id": self.referrer_id, "name": self.name, "direct": self.direct,
                "indirect": self.indirect, "converted": self.converted, "value": _text(self.value)}


class ReferralAnalytics:
    def __init__(self, records):
        self.records, self.conn, self.app = records, records.conn, records.app
        self.programme = require_programme(self.app)
        customers = self.programme.customers
        self.form = self.app.require_form(customers.form)
        self.table = self.app.tables.form_table(customers.form)
        self.referrer = field_column(self.app, customers, "referrer")
        self.name = field_column(self.app, customers, "name")
        self.value = field_column(self.app, customers, "value") if customers["value"] else None
        self.first_deal = field_column(self.app, customers, "first_deal") if customers["first_deal"] else None
        self._trees: dict[int, sa.Select] = {}

    def _scope(self) -> sa.ColumnElement | None:
        return self.records.access(self.form, VIEW).scope(VIEW)

    def tree(self, customer_id: int, *, max_depth: int = MAX_DEPTH) -> list[TreeNode]:
        rows = self.conn.execute(self._tree_statement(max_depth), {"root": customer_id}).all()
        if not rows or not rows[0].seen:
            raise NotFound(f"{self.form.key} record #{customer_id} does not exist")
        return [TreeNode(r[0], r[1], r[2], r[3], r[5], _decimal(r[6]), _day(r[7])) for r in rows if r.seen]

    def _tree_statement(self, max_depth: int) -> sa.Select:
        """The tree's statement, built once per depth (a page may ask for many trees)."""
        found = self._trees.get(max_depth)
        if found is not None:
            return found
        t, live, root = self.table, self.table.c.deleted_at.is_(None), sa.bindparam("root", type_=sa.Integer)
        walk = (sa.select(t.c.id, self.referrer.label("parent_id"), sa.literal(0).label("depth"),
                          sa.cast(t.c.id, sa.Text).label("path"))
                .where(t.c.id == root, live).cte("fw_referral_tree", recursive=True))
        child = t.alias("fw_friend")
        child_referrer = child.c[self.referrer.name]
        walk = walk.union_all(
            sa.select(child.c.id, child_referrer, walk.c.depth + 1, walk.c.path + "/" + sa.cast(child.c.id, sa.Text))
            .where(child_referrer == walk.c.id, child.c.deleted_at.is_(None), child.c.id != root,
                   walk.c.depth < max_depth))
        scope = self._scope()
        seen = sa.true() if scope is None else scope
        columns = [walk.c.id, walk.c.parent_id, walk.c.depth, walk.c.path, seen.label("seen"), self.name,
                   self.value if self.value is not None else sa.null(),
                   self.first_deal if self.first_deal is not None else sa.null()]
        made = self._trees[max_depth] = (sa.select(*columns).select_from(walk.join(t, t.c.id == walk.c.id))
                                         .order_by(walk.c.path))
        return made

    def referrers(self, *, top: int = 20, max_depth: int = MAX_DEPTH) -> list[ChainValue]:
        """The referrers whose chains brought in the most: each with friends by level,
        converted friends and the chain's value, the top `top`. The chains are grouped
        first and only the top few are named, so the name join costs `top` rows."""
        t, head, friend, member = (self.table, self.table.alias("fw_referrer"), self.table.alias("fw_friend"),
                                   self.table.alias("fw_member"))
        referrer = self.referrer.name
        chains = (sa.select(t.c[referrer].label("ancestor"), t.c.id, sa.literal(1).label("depth"))
                  .select_from(t.join(head, head.c.id == t.c[referrer]))
                  .where(t.c.deleted_at.is_(None), head.c.deleted_at.is_(None)).cte("fw_chains", recursive=True))
        chains = chains.union_all(
            sa.select(chains.c.ancestor, friend.c.id, chains.c.depth + 1)
            .where(friend.c[referrer] == chains.c.id, friend.c.deleted_at.is_(None), friend.c.id != chains.c.ancestor,
                   chains.c.depth < max_depth))
        value = sa.func.coalesce(sa.func.sum(member.c[self.value.name] if self.value is not None else 0), 0)
        converted = sa.func.count(member.c[self.first_deal.name]) if self.first_deal is not None else sa.literal(0)
        grouped = (sa.select(chains.c.ancestor, sa.func.sum(sa.case((chains.c.depth == 1, 1), else_=0)).label("direct"),
                             sa.func.sum(sa.case((chains.c.depth > 1, 1), else_=0)).label("indirect"),
                             converted.label("converted"), value.label("value"))
                   .select_from(chains.join(member, member.c.id == chains.c.id))
                   .group_by(chains.c.ancestor).order_by(value.desc(), chains.c.ancestor).limit(top))
        scope = self._scope()
        if scope is not None:
            visible = sa.select(t.c.id).where(scope)
            grouped = grouped.where(chains.c.ancestor.in_(visible), chains.c.id.in_(visible))
        best = grouped.subquery("fw_best")
        query = (sa.select(best.c.ancestor, head.c[self.name.name], best.c.direct, best.c.indirect, best.c.converted,
                           best.c.value)
                 .select_from(best.join(head, head.c.id == best.c.ancestor))
                 .order_by(best.c.value.desc(), best.c.ancestor))
        return [ChainValue(r[0], r[1], int(r[2]), int(r[3]), int(r[4]), _decimal(r[5]) or Decimal(0))
                for r in self.conn.execute(query)]


def _decimal(value) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _text(value: Decimal | None) -> str | None:
    """Money as the API writes it: a string with its fen, never a float."""
    return None if value is None else str(value.quantize(Decimal("0.01")))


def _day(value) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])
