"""Formula conditions in the filter language, through the record service and the CLI,
on SQLite and PostgreSQL: the records listed are exactly those the formula (by the
reference evaluator) says TRUE for; bad formulas are refused with where and why."""
from __future__ import annotations

import json
from decimal import Decimal

import pytest

from engine.compiled.app import compiled
from engine.dialect import POSTGRESQL, SQLITE
from engine.formula import EvalContext, evaluate
from engine.query.filters import FilterError
from runtime.actor import Actor
from runtime.records import Records
from tests.support.records_app import install_shop
from web.cli import main

AMOUNTS = [Decimal("120.50"), None, Decimal("0"), Decimal("-35.25"), Decimal("999999.99"),
           Decimal("250"), Decimal("0.01")]
CREDITS = [Decimal("100"), Decimal("2500.00"), Decimal("0"), None]


@pytest.fixture
def shop(db):
    app = install_shop(db)
    with db.begin() as conn:
        records = Records(conn, app)
        boss = records.create("customers", {"name": "王总", "code": "BOSS", "credit": "5000"})
        customers = [records.create("customers", {
            "name": f"客户{i}", "code": f"C{i}", "credit": credit, "referrer": boss["id"] if i % 2 else None})
            for i, credit in enumerate(CREDITS)]
        orders = records.bulk_create("orders", [
            {"title": f"Order {i}" if i % 3 else f"VIP order {i}", "amount": amount,
             "customer": customers[i % len(customers)]["id"] if i != 5 else None}
            for i, amount in enumerate(AMOUNTS)])
    return db, app, customers, orders


def _inputs(order: dict, customers: dict) -> dict:
    """What a formula of `orders` reads, as the reference evaluator takes it."""
    fields = order["fields"]
    customer = customers.get(fields["customer"])
    values = {"amount": _number(fields["amount"]), "title": fields["title"],
              "customer_code": None if customer is None else customer["fields"]["code"],
              "customer": None}
    if customer is not None:
        values["customer"] = {"credit": _number(customer["fields"]["credit"]),
                              "code": customer["fields"]["code"],
                              "referrer": customer["fields"]["referrer"]}
    return values


def _number(value):
    return None if value is None else Decimal(value)


def _listed(conn, app, filter_doc) -> set[int]:
    page = Records(conn, app).list("orders", filter=filter_doc, page_size=500)
    return {record["id"] for record in page.records}


@pytest.mark.parametrize("formula", [
    "amount * 2 > 200",
    "amount = 0",                                     # an empty amount is 0 too
    "ROUND(amount * 5%, 2) >= 6.03",
    "customer.credit < amount",
    "AND(amount > 0, LEFT(title, 3) = \"vip\")",       # text compared without case
    "OR(ISBLANK(customer), amount / 0 > 1)",          # #DIV/0! never matches
    "IF(amount > 100, customer.credit, 0) >= 100",
    "customer_code = \"C1\"",                          # a lookup field
])
def test_records_listed_are_those_the_formula_is_true_for(shop, formula):
    db, app, customers, orders = shop
    by_id = {c["id"]: c for c in customers}
    ctx = EvalContext()
    expected = {o["id"] for o in orders if evaluate(formula, _inputs(o, by_id), ctx) is True}
    with db.connect() as conn:
        assert _listed(conn, app, {"formula": formula}) == expected
        count = Records(conn, app).count("orders", filter={"formula": formula})
    assert count.value == len(expected) and count.exact


def test_formula_conditions_in_groups_and_through_two_relations(shop):
    db, app, customers, orders = shop
    with db.connect() as conn:
        both = _listed(conn, app, {"and": [{"field": "amount", "op": "gt", "value": 0},
                                           {"formula": "customer.referrer.credit = 5000"}]})
        either = _listed(conn, app, {"or": [{"formula": "amount < 0"}, {"formula": "ISBLANK(amount)"}]})
        negated = _listed(conn, app, {"not": {"formula": "amount <> 250"}})
    referred = {c["id"] for c in customers if c["fields"]["referrer"]}
    assert both == {o["id"] for o in orders if o["fields"]["customer"] in referred
                    and o["fields"]["amount"] is not None and Decimal(o["fields"]["amount"]) > 0}
    assert either == {o["id"] for o in orders if o["fields"]["amount"] is None
                      or Decimal(o["fields"]["amount"]) < 0}
    assert negated == {o["id"] for o in orders if o["fields"]["amount"] == Decimal("250")}


def test_a_formula_filter_costs_no_more_statements(shop, count_statements):
    db, app, _, _ = shop
    with db.connect() as conn:
        with count_statements(db) as plain:
            Records(conn, app).list("orders", filter={"field": "amount", "op": "gt", "value": 100})
        with count_statements(db) as formula:
            Records(conn, app).list("orders", filter={"formula": "customer.credit * 2 > amount"})
    assert formula.count == plain.count


@pytest.mark.parametrize("filter_doc, path, words", [
    ({"formula": "amount * (2 + "}, "filter.formula", "'+' has nothing after it at 1:13"),
    ({"formula": "amout > 1"}, "filter.formula", "unknown field 'amout' at 1:1, did you mean 'amount'?"),
    ({"and": [{"formula": "customer.credt > 1"}]}, "filter.and[0].formula",
     "unknown field 'credt' of 'customer'"),
    ({"formula": "SUMIF(amount, \">1\") > 2"}, "filter.formula",
     "this formula cannot run in the database: it uses SUMIF, which runs only outside the database"),
    ({"formula": "tags > 1"}, "filter.formula", "cannot compare with '>' an array (tags) at 1:1"),
    ({"formula": "COUNT(tags) > 1"}, "filter.formula", "it uses COUNT, which runs only outside the database"),
    ({"formula": "title & \"!\""}, "filter.formula",
     "the formula gives a text; a filter needs TRUE or FALSE"),
    ({"formula": "amount * 2"}, "filter.formula", "gives a number; a filter needs TRUE or FALSE"),
    ({"formula": 42}, "filter.formula",
     'expected the formula as text, e.g. {"formula": "amount * 2 > credit"}'),
    ({"formula": "amount > 1", "op": "eq"}, "filter", "a formula condition has only the key 'formula'"),
    ({"formula": "VALUE(title) > 1"}, "filter.formula", "uses VALUE"),
])
def test_bad_formula_conditions_say_where_and_why(shop, filter_doc, path, words):
    db, app, _, _ = shop
    with db.connect() as conn, pytest.raises(FilterError) as refused:
        Records(conn, app).list("orders", filter=filter_doc)
    assert refused.value.path == path
    assert words in str(refused.value), str(refused.value)


def test_the_cli_lists_with_a_formula_filter(shop, db_url, capsys):
    db, app, customers, orders = shop
    assert main(["--database-url", db_url, "records", "list", "shop", "orders", "--filter",
                 '{"formula": "amount >= 250"}']) == 0
    listed = json.loads(capsys.readouterr().out)
    assert {r["id"] for r in listed["records"]} == {
        o["id"] for o in orders
        if o["fields"]["amount"] is not None and Decimal(o["fields"]["amount"]) >= 250}
    assert main(["--database-url", db_url, "records", "list", "shop", "orders", "--filter",
                 '{"formula": "amount >"}']) != 0
    assert "filter.formula: '>' has nothing after it at 1:8" in capsys.readouterr().err


def test_formula_fields_with_errors_read_as_their_error(db):
    """A formula field holding #DIV/0! gives it back to a filter formula: it matches no
    comparison, and it is not blank; through a relation the field reads as well."""
    from tests.support.computed_app import install_sales
    app = install_sales(db)
    with db.begin() as conn:
        records = Records(conn, app)
        records.create("contracts", {"title": "零元合同", "amount": 0})          # paid_share #DIV/0!
        half = records.create("contracts", {"title": "半数", "amount": 100})
        paid = records.create("payments", {"contract": half["id"], "amount": 50})
        pending = records.create("payments", {"contract": half["id"], "amount": 1, "status": "pending"})

        def contracts(formula):
            page = records.list("contracts", filter={"formula": formula})
            return {r["fields"]["title"] for r in page.records}

        assert contracts("paid_share >= 0.5") == {"半数"}
        assert contracts("paid_share < 0.5") == set()
        assert contracts("ISBLANK(paid_share)") == set()
        assert contracts("NOT(ISBLANK(paid_share))") == {"零元合同", "半数"}
        through = records.list("payments", filter={"formula": "contract.paid_share = 0.5"}).records
        assert {r["id"] for r in through} == {paid["id"], pending["id"]}


def _positive(orders) -> set[int]:
    return {o["id"] for o in orders if o["fields"]["amount"] is not None
            and Decimal(o["fields"]["amount"]) > 0}


def test_a_repeated_formula_filter_is_translated_once_and_compiled_once(shop, monkeypatch):
    """The second page with the same filter neither translates the formula again nor
    compiles its statement again (SQLAlchemy's cache), and formulas of the same shape
    with other constants share the compiled statement but not their answers."""
    import sqlalchemy as sa

    from engine.query import formula_filter
    db, app, _, orders = shop
    translations = []
    real_translate = formula_filter.translate
    monkeypatch.setattr(formula_filter, "translate",
                        lambda *args, **kw: translations.append(args[2]) or real_translate(*args, **kw))
    hits = []
    listener = lambda conn, cursor, statement, params, context, many: hits.append(context.cache_hit)
    sa.event.listen(db, "after_cursor_execute", listener)
    try:
        with db.connect() as conn:
            records = Records(conn, app)
            first = records.list("orders", filter={"formula": "amount * 2 > 200"}).records
            hits.clear()
            again = records.list("orders", filter={"formula": "amount * 2 > 200"}, with_count=False)
            assert hits and all(hit == conn.dialect.CACHE_HIT for hit in hits)
            assert [r["id"] for r in again.records] == [r["id"] for r in first]
            assert translations == [POSTGRESQL, SQLITE]
            hits.clear()
            other = _listed(conn, app, {"formula": "amount * 2 > 500"})
            assert hits[0] == conn.dialect.CACHE_HIT
    finally:
        sa.event.remove(db, "after_cursor_execute", listener)
    amounts = {o["id"]: o["fields"]["amount"] for o in orders}
    assert {r["id"] for r in first} == {i for i, a in amounts.items() if a is not None and Decimal(a) * 2 > 200}
    assert other == {i for i, a in amounts.items() if a is not None and Decimal(a) * 2 > 500}


@pytest.mark.parametrize("formula", ['title < "p"', 'UPPER(title) >= "ORDER 3"', "amount * 2 > 200"])
def test_formula_filters_of_every_kind_are_compiled_once(shop, formula):
    """Case folding on PostgreSQL (a character map) is part of the cached statement too:
    the second page is a cache hit, with the reference's answer; so is a formula of the
    same shape with another constant, with its own answer."""
    import sqlalchemy as sa
    db, app, customers, orders = shop
    by_id = {c["id"]: c for c in customers}
    other = formula.replace('"p"', '"w"').replace("ORDER 3", "ORDER 5").replace("200", "500")
    hits = []
    listener = lambda conn, cursor, statement, params, context, many: (
        hits.append(context.cache_hit) if not statement.startswith("BEGIN") else None)
    sa.event.listen(db, "after_cursor_execute", listener)
    try:
        with db.connect() as conn:
            for run, text in enumerate((formula, formula, other)):
                hits.clear()
                expected = {o["id"] for o in orders if evaluate(text, _inputs(o, by_id), EvalContext()) is True}
                assert _listed(conn, app, {"formula": text}) == expected, text
                if run:       # the first compiles the page and the count
                    assert hits and set(hits) == {conn.dialect.CACHE_HIT}, (text, hits)
    finally:
        sa.event.remove(db, "after_cursor_execute", listener)


def test_a_kept_translation_follows_the_clock_the_user_and_the_time_zone(shop):
    """TODAY(), NOW() and CURRENTUSER() become constants when a formula is translated:
    a translation kept for the next page serves only the same clock, user and zone."""
    from datetime import datetime, timezone
    from zoneinfo import ZoneInfo
    db, app, _, orders = shop
    in_2020 = datetime(2020, 1, 1, 20, 0, tzinfo=timezone.utc)      # 2 January in Shanghai
    in_2021 = datetime(2021, 1, 1, 20, 0, tzinfo=timezone.utc)
    with db.connect() as conn:
        def listed(formula, **context):
            page = Records(conn, app, **context).list("orders", filter={"formula": formula}, page_size=500)
            return {r["id"] for r in page.records}
        this_year = "AND(amount > 0, YEAR(TODAY()) = 2020)"
        assert listed(this_year, now=in_2020) == _positive(orders)
        assert listed(this_year, now=in_2021) == set()
        assert listed(this_year, now=in_2020) == _positive(orders)
        mine = "AND(amount > 0, CURRENTUSER() = 7)"
        assert listed(mine, actor=Actor(user_id=7)) == _positive(orders)
        assert listed(mine, actor=Actor(user_id=8)) == set()
        assert listed(mine) == set()
        first_day = "AND(amount > 0, DAY(NOW()) = 1)"
        assert listed(first_day, now=in_2020) == set()
        assert listed(first_day, now=in_2020, tz=ZoneInfo("UTC")) == _positive(orders)


def test_a_kept_translation_of_today_serves_the_whole_day(shop, monkeypatch):
    """TODAY() alone depends on the day, NOW() on the moment: a filter of the first kind is
    translated once a day, not once per read."""
    from datetime import datetime, timezone
    from engine.query import formula_filter
    db, app, _, orders = shop
    translated = []
    real = formula_filter.translate
    monkeypatch.setattr(formula_filter, "translate", lambda *a, **k: translated.append(a[0].text) or real(*a, **k))
    morning, evening = (datetime(2020, 1, 2, hour, tzinfo=timezone.utc) for hour in (1, 9))   # one day in Shanghai
    with db.connect() as conn:
        for formula in ("AND(amount > 0, YEAR(TODAY()) = 2020)", "AND(amount > 0, YEAR(NOW()) = 2020)"):
            for now in (morning, evening):
                page = Records(conn, app, now=now).list("orders", filter={"formula": formula}, page_size=500)
                assert {r["id"] for r in page.records} == _positive(orders)
    per_text = {text: translated.count(text) for text in translated}
    assert per_text["AND(amount > 0, YEAR(TODAY()) = 2020)"] == 2          # both databases, once
    assert per_text["AND(amount > 0, YEAR(NOW()) = 2020)"] == 4            # again at the second moment


def test_kept_translations_are_bounded_per_table(shop, monkeypatch):
    """Past the bound the oldest translation goes; every filter still gives its answer."""
    from engine.query import formula_filter
    db, app, _, orders = shop
    monkeypatch.setattr(formula_filter._Translations, "SIZE", 3)
    kept = compiled(app).tables.form_table("orders").info.setdefault(formula_filter._Translations.KEY, {})
    kept.clear()
    with db.connect() as conn:
        for limit in range(0, 300, 50):
            found = _listed(conn, app, {"formula": f"amount > {limit}"})
            assert found == {o["id"] for o in orders if o["fields"]["amount"] is not None
                             and Decimal(o["fields"]["amount"]) > limit}
            assert len(kept) <= 3
    assert [text for text, _zone in kept] == ["amount > 150", "amount > 200", "amount > 250"]


DUE = """
format_version: 1
app: {key: due, label: {zh: 到期, en: Due}}
forms:
  - key: tasks
    label: {zh: 任务, en: Tasks}
    fields:
      - {key: title, type: text, label: {zh: 标题, en: Title}}
      - {key: due, type: date, label: {zh: 到期, en: Due}}
      - {key: points, type: number, precision: 0, label: {zh: 分, en: Points}}
      - {key: days_left, type: formula, label: {zh: 剩余天数, en: Days left},
         formula: 'DAYS(due, TODAY())', precision: 0}
"""


def test_a_kept_translation_over_fields_computed_when_read_follows_the_day(db, monkeypatch):
    """days_left calls TODAY(), so reads compute it with the reader's clock: a filter
    formula reading it is kept for reads of the same day only, and gives that day's answer."""
    from datetime import date, datetime, timedelta, timezone

    from engine.validation.validate import check_text
    from engine.query import formula_filter
    from runtime.apps import apply_app
    app, problems = check_text(DUE, "due.yaml")
    assert not problems
    apply_app(db, app)
    monday = datetime(2025, 9, 15, 2, 0, tzinfo=timezone.utc)
    translations = []
    real_translate = formula_filter.translate
    monkeypatch.setattr(formula_filter, "translate",
                        lambda *args, **kw: translations.append(args[2]) or real_translate(*args, **kw))
    with db.begin() as conn:
        ids = {days: Records(conn, app, now=monday).create("tasks", {
            "title": f"in {days} days", "points": days, "due": date(2025, 9, 15) + timedelta(days=days)})["id"]
            for days in (1, 4, 7)}

        def listed(formula, now):
            page = Records(conn, app, now=now).list("tasks", filter={"formula": formula})
            return {r["id"] for r in page.records}
        assert listed("days_left < 5", monday) == {ids[1], ids[4]}
        assert listed("days_left < 5", monday + timedelta(hours=1)) == {ids[1], ids[4]}
        assert len(translations) == 2                           # once, for both databases
        assert listed("days_left < 5", monday + timedelta(days=3)) == {ids[1], ids[4], ids[7]}
        assert listed("points > 3", monday) == listed("points > 3", monday) == {ids[4], ids[7]}
        assert len(translations) == 6
