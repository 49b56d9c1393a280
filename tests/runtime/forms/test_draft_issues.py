"""The issues of a draft are the issues of the save: for the same bad input,
evaluate_draft and Records.create (and Records.update) give the same field issues,
with the same codes, places and messages (a differential test)."""
from __future__ import annotations

import pytest

from engine.errors import RecordValidationError
from runtime.forms import evaluate_draft, issue_path
from runtime.session import Session
from tests.support.forms_app import desk_app, install_desk

EVERY_TYPE = [f.key for f in desk_app().require_form("everything").fields]
JUNK = {"nested": {"deep": [1, "二", None]}}

ROW = {"product": "纸", "quantity": "1", "unit_price": "2"}
BAD_INPUTS = [
    {},                                                             # the required title
    {"title": "x" * 51},
    {"title": "甲", "qty": "三个"},
    {"title": "甲", "qty": "-1", "price": "1e999"},
    {"title": "甲", "customer": 999_999},
    {"title": "甲", "customer": "not an id"},
    {"title": "甲", "handler": 424242},
    {"title": "甲", "amount": "5", "customer_level": "vip"},        # computed and lookup: read-only
    {"title": "甲", "titel": "typo", "qty": "2"},
    {"title": "甲", "qty": "11"},                                   # bulk_note shown, so required
    {"title": "甲", "qty": "5000", "bulk_note": "大"},              # the rule, alone
    {"title": "甲", "due": "2026-13-01"},
    {"title": "甲", "items": [ROW, {"quantity": "0"}, {"product": "笔", "quantity": "x", "colour": "red"}]},
    {"title": "甲", "items": [ROW] * 21},
    {"title": "甲", "items": {"not": "rows"}},
    {"title": "\u0007bell", "qty": True, "price": [1]},
    ["not", "a", "record"],
]


@pytest.fixture
def desk(db):
    install_desk(db)
    return db, Session(db)


def _shown(issues, lang="en"):
    return sorted((issue_path(i), i.code, i.as_dict(lang)["message"]) for i in issues)


def _save_issues(session, write):
    try:
        session.write(write)
    except RecordValidationError as exc:
        return exc.issues
    return []


@pytest.mark.parametrize("values", BAD_INPUTS, ids=range(len(BAD_INPUTS)))
def test_draft_issues_equal_the_issues_of_create(desk, values):
    _db, session = desk
    with session.read() as uow:
        drafted = evaluate_draft(uow, "desk", "orders", values).issues
    saved = _save_issues(session, lambda uow: uow.records("desk").create("orders", values))
    assert saved, "each input here is refused by a save"
    assert _shown(drafted) == _shown(saved)
    assert _shown(drafted, "zh") == _shown(saved, "zh")


@pytest.mark.parametrize("values", [v for v in BAD_INPUTS[1:] if isinstance(v, dict)], ids=str)
def test_draft_issues_of_an_edit_equal_the_issues_of_update(desk, values):
    _db, session = desk
    order = session.write(lambda uow: uow.records("desk").create("orders", {"title": "原来的"}))
    with session.read() as uow:
        drafted = evaluate_draft(uow, "desk", "orders", values, record_id=order["id"],
                                 version=order["version"]).issues
    saved = _save_issues(session, lambda uow: uow.records("desk").update(
        "orders", order["id"], values, expected_version=order["version"]))
    assert _shown(drafted) == _shown(saved)


def test_a_valid_draft_saves_without_issues(desk):
    _db, session = desk
    values = {"title": "甲", "qty": "3", "price": "2", "items": [ROW]}
    with session.read() as uow:
        assert evaluate_draft(uow, "desk", "orders", values).issues == []
    saved = session.write(lambda uow: uow.records("desk").create("orders", values))
    with session.read() as uow:
        drafted = evaluate_draft(uow, "desk", "orders", values).as_dict()
    assert drafted["values"]["amount"] == str(saved["fields"]["amount"])
    assert drafted["values"]["items_total"] == str(saved["fields"]["items_total"])


@pytest.mark.parametrize("key", EVERY_TYPE)
def test_junk_in_a_field_of_every_type_gives_the_issues_of_create(desk, key):
    _db, session = desk
    values = {key: JUNK}
    with session.read() as uow:
        drafted = evaluate_draft(uow, "desk", "everything", values).issues
    saved = _save_issues(session, lambda uow: uow.records("desk").create("everything", values))
    assert _shown(drafted) == _shown(saved)
    if key != "serial":                   # a serial number typed into a new record is ignored
        assert {issue_path(i) for i in drafted} == {key}
