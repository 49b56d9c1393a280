"""Draft evaluation (runtime/forms/draft.py): every computed kind live as the user types,
edits, malformed and huge input, statement counts. Nothing is ever written."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from engine.errors import NotFound
from runtime.forms import evaluate_draft
from runtime.session import Session
from tests.support.forms_app import install_desk

NOW = datetime(2026, 3, 1, 4, 0, tzinfo=timezone.utc)     # 12:00 in Asia/Shanghai


@pytest.fixture
def desk(db):
    install_desk(db)
    session = Session(db, now=NOW)
    customer = session.write(lambda uow: uow.records("desk").create(
        "customers", {"name": "明达科技", "level": "vip", "credit": "500", "secret": "s"}))
    return db, session, customer


def draft(session, form, values, **options):
    with session.read() as uow:
        return evaluate_draft(uow, "desk", form, values, **options).as_dict("en")


def table_counts(db) -> dict[str, int]:
    with db.connect() as conn:
        return {name: conn.execute(sa.text(f'SELECT COUNT(*) FROM "{name}"')).scalar_one()
                for name in sa.inspect(conn).get_table_names()}


# ---- each computed kind, live -------------------------------------------------------------------
def test_defaults_and_default_formula_fill_untouched_fields(desk):
    _db, session, _ = desk
    out = draft(session, "orders", {"title": "甲"})
    assert out["values"]["price"] == "10.00"                        # a fixed default
    assert out["values"]["due"] == (date(2026, 3, 1) + timedelta(days=30)).isoformat()
    typed = draft(session, "orders", {"title": "甲", "price": "3", "due": "2026-05-01"})
    assert "price" not in typed["values"] and "due" not in typed["values"]   # what the user typed stays


def test_touched_decides_which_fields_get_their_default(desk):
    _db, session, _ = desk
    whole_form = {"title": "甲", "price": "", "due": ""}
    out = draft(session, "orders", whole_form, touched=["title"])
    assert out["values"]["price"] == "10.00" and out["values"]["due"] == "2026-03-31"
    cleared = draft(session, "orders", whole_form, touched=["title", "price"])
    assert "price" not in cleared["values"]                    # the user emptied it: no default again


def test_a_formula_field_follows_what_is_typed(desk):
    _db, session, _ = desk
    assert draft(session, "orders", {"title": "甲", "qty": "3", "price": "2.5"})["values"]["amount"] == "7.50"
    assert draft(session, "orders", {"title": "甲", "qty": "4", "price": "2.5"})["values"]["amount"] == "10.00"


def test_visibility_condition_toggles_and_waives_required(desk):
    _db, session, _ = desk
    small = draft(session, "orders", {"title": "甲", "qty": "5"})
    assert small["visible"] == {"bulk_note": False}
    assert "bulk_note" not in small["issues"]                       # hidden: never required
    big = draft(session, "orders", {"title": "甲", "qty": "11"})
    assert big["visible"] == {"bulk_note": True}
    assert [i["code"] for i in big["issues"]["bulk_note"]] == ["required"]
    filled = draft(session, "orders", {"title": "甲", "qty": "11", "bulk_note": "分批发货"})
    assert filled["valid"] and filled["issues"] == {}


def test_choosing_a_relation_shows_its_lookup_title_and_formulas_reading_it(desk):
    _db, session, customer = desk
    before = draft(session, "orders", {"title": "甲", "qty": "2", "price": "100"})
    assert before["values"]["customer_level"] is None and before["titles"] == {}
    chosen = draft(session, "orders", {"title": "甲", "qty": "2", "price": "100", "customer": str(customer["id"])},
                   changed="customer")
    assert chosen["changed"] == "customer"
    assert chosen["values"]["customer_level"] == "vip"
    assert chosen["titles"] == {"customer": {str(customer["id"]): "明达科技"}}
    assert chosen["values"]["credit_left"] == "300.00"               # customer.credit - amount


def test_a_multiple_relation_shows_every_title_and_feeds_its_formulas(desk, count_statements):
    db, session, _ = desk
    first, second = session.write(lambda uow: uow.records("desk").bulk_create("orders", [
        {"title": "一号", "qty": "2", "price": "5"}, {"title": "二号", "qty": "1", "price": "7"}]))
    with session.read() as uow:
        uow.records("desk")
        with count_statements(db) as counted:
            out = evaluate_draft(uow, "desk", "payments", {"covers": [first["id"], str(second["id"]), 99_999]})
    out = out.as_dict("en")
    assert out["titles"] == {"covers": {str(first["id"]): "一号", str(second["id"]): "二号"}}
    assert out["values"]["covered"] == "17.00"
    assert [(i["code"], i["params"]["id"]) for i in out["issues"]["covers"]] == [("relation_missing", 99_999)]
    assert counted.count == 1
    payment = session.write(lambda uow: uow.records("desk").create("payments", {"covers": [first["id"]]}))
    with session.read() as uow:
        edited = evaluate_draft(uow, "desk", "payments", {"paid": "1"}, record_id=payment["id"]).as_dict()
    assert edited["values"]["covered"] == "10.00"          # the stored links, read for the formula


def test_subform_row_formulas_and_the_aggregate_over_them(desk):
    _db, session, _ = desk
    rows = [{"product": "纸", "quantity": "2", "unit_price": "3.5"},
            {"product": "笔", "quantity": "10", "unit_price": "1.2"}]
    out = draft(session, "orders", {"title": "甲", "items": rows})
    assert out["values"]["items"] == [{"line_total": "7.00"}, {"line_total": "12.00"}]
    assert out["values"]["items_total"] == "19.00"
    rows.append({"product": "本", "quantity": "1", "unit_price": "0.5"})
    assert draft(session, "orders", {"title": "甲", "items": rows})["values"]["items_total"] == "19.50"


def test_a_rule_is_judged_as_a_save_judges_it(desk):
    _db, session, _ = desk
    out = draft(session, "orders", {"title": "甲", "qty": "2000", "bulk_note": "x"})
    assert [i["code"] for i in out["issues"]["qty"]] == ["rule_failed"]
    assert out["issues"]["qty"][0]["message"] == "At most 1000"


def test_nothing_is_written(desk):
    db, session, customer = desk
    before = table_counts(db)
    draft(session, "orders", {"title": "甲", "qty": "3", "customer": customer["id"],
                              "items": [{"product": "p", "quantity": "1", "unit_price": "1"}]})
    assert table_counts(db) == before


# ---- editing ------------------------------------------------------------------------------------
def test_an_edit_reads_the_stored_record_and_checks_the_version(desk):
    _db, session, customer = desk
    order = session.write(lambda uow: uow.records("desk").create("orders", {
        "title": "旧", "qty": "2", "price": "5", "customer": customer["id"],
        "items": [{"product": "p", "quantity": "3", "unit_price": "2"}]}))
    out = draft(session, "orders", {"qty": "4"}, record_id=order["id"], version=order["version"])
    assert out["record_id"] == order["id"]
    assert out["values"]["amount"] == "20.00"               # the stored price, the typed qty
    assert out["values"]["items_total"] == "6.00"           # the stored rows
    assert out["values"]["customer_level"] == "vip"
    assert "due" not in out["values"]                       # no defaults when editing
    stale = draft(session, "orders", {"qty": "4"}, record_id=order["id"], version=order["version"] + 1)
    assert [i["code"] for i in stale["issues"]["*"]] == ["draft_version_conflict"]
    with pytest.raises(NotFound):
        draft(session, "orders", {}, record_id=order["id"] + 100)


# ---- malformed, hostile and huge input ------------------------------------------------------------
@pytest.mark.parametrize("values", [None, [], "text", 12, {"title": {"nested": 1}}, {"qty": [1, 2]},
                                    {"items": "rows"}, {"items": [1, 2]}, {"items": [{"nope": 1}]},
                                    {"customer": "#x"}, {"customer": -3}, {"due": "2026-02-30"},
                                    {1: "key not text"}, {"title": "\x00"}, {"handler": True}])
def test_malformed_input_gives_issues_never_an_exception(desk, values):
    _db, session, _ = desk
    out = draft(session, "orders", values)
    assert out["valid"] is False
    for issues in out["issues"].values():
        assert all(i["code"] and i["message"] for i in issues)


def test_unknown_keys_are_named_with_a_did_you_mean(desk):
    _db, session, _ = desk
    out = draft(session, "orders", {"title": "甲", "titel": "x"})
    assert [i["code"] for i in out["issues"]["titel"]] == ["unknown_field"]
    assert "title" in out["issues"]["titel"][0]["message"]


def test_bad_record_ids_and_versions_are_issues(desk):
    _db, session, _ = desk
    assert [i["code"] for i in draft(session, "orders", {}, record_id="abc")["issues"]["*"]] == \
        ["draft_record_invalid"]
    order = session.write(lambda uow: uow.records("desk").create("orders", {"title": "t"}))
    out = draft(session, "orders", {}, record_id=order["id"], version="v2")
    assert [i["code"] for i in out["issues"]["*"]] == ["draft_version_invalid"]


def test_unicode_and_huge_values(desk):
    _db, session, _ = desk
    emoji = "订单🚀👩‍👩‍👧‍👦 ñ"
    ok = draft(session, "orders", {"title": emoji, "qty": "１２", "bulk_note": "长" * 19000})
    assert ok["valid"], ok["issues"]
    huge = draft(session, "orders", {"title": "字" * 2_000_000, "qty": "9" * 5000,
                                     "items": [{"product": "p"}] * 25})
    assert {i["code"] for key in ("title", "qty", "items") for i in huge["issues"][key]} == \
        {"text_too_long", "number_invalid", "subform_too_many"}


# ---- statements ---------------------------------------------------------------------------------
def test_statement_counts(desk, count_statements):
    db, session, customer = desk
    order = session.write(lambda uow: uow.records("desk").create("orders", {"title": "t", "customer": customer["id"]}))
    with session.read() as uow:
        uow.records("desk")          # the unit of work's app (load_installed), before counting
        with count_statements(db) as plain:
            evaluate_draft(uow, "desk", "orders", {"title": "甲", "qty": "2", "price": "3",
                                                   "items": [{"product": "p", "quantity": "1"}] * 10})
        with count_statements(db) as related:
            evaluate_draft(uow, "desk", "orders", {"title": "甲", "customer": customer["id"]})
        with count_statements(db) as editing:
            evaluate_draft(uow, "desk", "orders", {"title": "乙"}, record_id=order["id"])
        with count_statements(db) as editing_rows:
            evaluate_draft(uow, "desk", "orders", {"title": "乙", "items": []}, record_id=order["id"])
        with count_statements(db) as other_form:
            evaluate_draft(uow, "desk", "payments", {"for_order": order["id"], "paid": "3"})
    assert plain.count == 0            # nothing to read: defaults, formulas, rows, rules in Python
    assert related.count == 1          # the chosen customer: existence, title, lookup, credit at once
    assert editing.count == 3          # the stored record, its customer, its rows (items_total reads them)
    assert editing_rows.count == 2     # the rows typed: not read
    assert other_form.count == 1
