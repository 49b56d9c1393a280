"""The reward ledger read and moved on: entries of an app, approval before payout, payout,
and the referral chains with what each referrer's direct and indirect friends brought.

    approve(uow, app, ids)     vested -> approved (a rule with approval: false skips it)
    pay(uow, app, ids)         approved (or vested without approval) -> paid, paid_on today
    entries(conn, app, ...)    the entries, amounts as Decimal
    chain_report(uow, app, form, field)   every referrer: friends by level (any depth)
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

import sqlalchemy as sa

from engine.errors import FormworkError
from engine.storage import system
from engine.storage.types import utcnow
from runtime.rewards.compiled import rewards_for
from runtime.rewards.mirror import mirror_status
from runtime.rewards.settle import APPROVED, CANCELLED, PAID, VESTED

ENTRIES = system.reward_entries


class LedgerRefused(FormworkError):
    """A ledger move asked of entries not in the state it needs."""


def entries(conn, app_key: str, **where) -> list[dict]:
    query = sa.select(ENTRIES).where(ENTRIES.c.app_key == app_key).order_by(ENTRIES.c.id)
    for key, value in where.items():
        query = query.where(ENTRIES.c[key] == value)
    rows = []
    for row in conn.execute(query).mappings():
        found = dict(row)
        found["amount"] = Decimal(found["amount_cents"]) / 100
        rows.append(found)
    return rows


def _move(uow, app_key: str, ids: list[int], from_status: tuple[str, ...], to: str, what: str, **values) -> int:
    moved = uow.conn.execute(ENTRIES.update().where(ENTRIES.c.app_key == app_key, ENTRIES.c.id.in_(ids),
                                                    ENTRIES.c.status.in_(from_status))
                             .values(status=to, updated_at=utcnow(), **values)).rowcount
    if moved != len(set(ids)):
        raise LedgerRefused(f"only {'/'.join(from_status)} entries can be {what}; {len(set(ids)) - moved} of "
                            f"entries {sorted(set(ids))} are not: list them with their status and leave those out "
                            f"(只有状态为 {'/'.join(from_status)} 的奖励可以{what}）")
    mirror_status(uow.conn, uow.app(app_key), ids, to, values.get("paid_on") and date.fromisoformat(values["paid_on"]))
    return moved


def approve(uow, app_key: str, ids: list[int]) -> int:
    """Finance approves vested entries for payout."""
    return _move(uow, app_key, ids, (VESTED,), APPROVED, "approved")


def pay(uow, app_key: str, ids: list[int]) -> int:
    """Mark entries paid today: approved ones, or vested ones of rules without approval."""
    rules = rewards_for(uow.app(app_key)).by_key
    rows = uow.conn.execute(sa.select(ENTRIES.c.id, ENTRIES.c.rule_key, ENTRIES.c.status)
                            .where(ENTRIES.c.app_key == app_key, ENTRIES.c.id.in_(ids))).all()
    payable = [r.id for r in rows if r.status == APPROVED or
               (r.status == VESTED and r.rule_key in rules and not rules[r.rule_key].approval)]
    if len(payable) != len(set(ids)):
        raise LedgerRefused(f"entries {sorted(set(ids) - set(payable))} are not approved (or vested without "
                            "approval): approve them first (请先审批这些奖励)")
    today = (uow.session.now or utcnow()).astimezone(uow.session.tz).date().isoformat()
    return _move(uow, app_key, payable, (APPROVED, VESTED), PAID, "paid", paid_on=today)


def chain_report(uow, app_key: str, form_key: str, referrer_field: str = "referrer") -> dict[int, dict]:
    """For every customer who referred someone: the friends at each level below them
    (1: direct, 2: their friends, ...: any depth) and the rewards entered for them."""
    app = uow.app(app_key)
    form = app.require_form(form_key)
    table = app.tables.form_table(form_key)
    column = table.c[app.types.of(form.field(referrer_field)).columns()[0].name]
    parent = dict(uow.conn.execute(sa.select(table.c.id, column).where(column.isnot(None),
                                                                       table.c.deleted_at.is_(None))).all())
    report: dict[int, dict] = defaultdict(lambda: {"levels": defaultdict(int), "rewards": Decimal(0)})
    for friend in parent:
        seen, up, level = {friend}, parent.get(friend), 1
        while up is not None and up not in seen:
            report[up]["levels"][level] += 1
            seen.add(up)
            up, level = parent.get(up), level + 1
    totals = uow.conn.execute(sa.select(ENTRIES.c.beneficiary_id, sa.func.sum(ENTRIES.c.amount_cents))
                              .where(ENTRIES.c.app_key == app_key, ENTRIES.c.status != CANCELLED)
                              .group_by(ENTRIES.c.beneficiary_id)).all()
    for beneficiary, total in totals:
        if beneficiary in report:
            report[beneficiary]["rewards"] = Decimal(total or 0) / 100
    return {k: {"levels": dict(v["levels"]), "rewards": v["rewards"]} for k, v in report.items()}
