"""A small app for the reward tests: customers with a referrer chain, and deals they pay
and refund; the rules are the test's."""
from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import sqlalchemy as sa

from engine.compiled import compiled
from engine.storage import system
from engine.storage.db import read_connection
from engine.validation import check_definition_warnings
from runtime.apps import apply_app
from runtime.session import Session


def L(zh, en=None):
    return {"zh": zh, "en": en or zh}


FORMS = [
    {"key": "customers", "label": L("客户", "Customers"), "title_field": "name", "fields": [
        {"key": "name", "type": "text", "label": L("名称", "Name"), "required": True},
        {"key": "referrer", "type": "relation", "target": "customers", "label": L("推荐人", "Referrer")}]},
    {"key": "deals", "label": L("成交", "Deals"), "fields": [
        {"key": "customer", "type": "relation", "target": "customers", "label": L("客户", "Customer")},
        {"key": "amount", "type": "number", "precision": 2, "label": L("金额", "Amount")},
        {"key": "paid", "type": "switch", "label": L("已付", "Paid")},
        {"key": "refunded", "type": "switch", "label": L("已退款", "Refunded")},
        {"key": "paid_on", "type": "date", "label": L("付款日", "Paid on")},
        {"key": "campaign", "type": "text", "label": L("活动", "Campaign")}]},
]

BASE = {"source": "deals", "customer": "customer", "when": "paid", "refunded": "refunded", "date": "paid_on",
        "beneficiary": "referrer", "amount": "ROUND(amount * 0.1, 2)", "approval": False}


def rule(key: str, **options) -> dict:
    return {"key": key, "label": L(f"规则{key}", f"Rule {key}"), **BASE, **options}


def install(engine, *rules):
    text = json.dumps({"format_version": 1, "app": {"key": "ref", "label": L("推荐", "Referrals")},
                       "forms": FORMS, "rewards": list(rules)})
    app, problems, _ = check_definition_warnings(text, "ref.json")
    assert not problems, [p.format() for p in problems]
    apply_app(engine, app)
    return app


def customers(engine, *chain: str) -> list[int]:
    """Customers each referred by the one before: ids in order (the first refers the second...)."""
    ids: list[int] = []

    def make(uow):
        for name in chain:
            ids.append(uow.records("ref").create("customers", {"name": name, "referrer": ids[-1] if ids else None})["id"])
    Session(engine).write(make)
    return ids


def deal(engine, customer: int, amount, *, paid=True, on=date(2026, 3, 2), campaign=None) -> int:
    return Session(engine).write(lambda uow: uow.records("ref").create("deals", {
        "customer": customer, "amount": Decimal(str(amount)), "paid": paid, "paid_on": on,
        "campaign": campaign})["id"])


def update(engine, deal_id: int, **values) -> None:
    Session(engine).write(lambda uow: uow.records("ref").update("deals", deal_id, values))


def ledger(engine, **where) -> list[dict]:
    table = system.reward_entries
    query = sa.select(table).order_by(table.c.id)
    for key, value in where.items():
        query = query.where(table.c[key] == value)
    with read_connection(engine) as conn:
        return [{**dict(r), "amount": Decimal(r["amount_cents"]) / 100} for r in conn.execute(query).mappings()]


def pay_silently(engine, app, deal_ids: list[int]) -> None:
    """Mark deals paid behind the record service's back: no event, so no settle job; only
    what the test settles itself runs."""
    capp = compiled(app)
    table = capp.tables.form_table("deals")
    paid = table.c[capp.types.of(capp.require_form("deals").field("paid")).columns()[0].name]
    with engine.begin() as conn:
        conn.execute(sa.update(table).where(table.c.id.in_(deal_ids)).values({paid: True}))
