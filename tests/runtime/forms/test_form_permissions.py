"""The form page's services under a permission policy: hidden fields are never in what
they return (values, visibility, issues, hints, widgets), read-only fields are refused
as a save refuses them, and related records show only within the actor's row scope."""
from __future__ import annotations

import json

import pytest

from engine.errors import RecordValidationError
from runtime.actor import Actor
from runtime.forms import evaluate_draft
from runtime.forms.widgets import describe_form
from runtime.permissions import FULL, FormAccess
from runtime.session import Session
from tests.support.forms_app import install_desk

CLERK, BOSS = Actor(user_id=7, lang="en"), Actor(user_id=8, lang="en")
HIDDEN_ORDER_FIELDS = ("internal", "amount")


class ClerkPolicy:
    """Orders: `internal` and `amount` hidden, `price` read-only. Customers: only their
    own, `level` and `secret` hidden. Everyone else: everything."""

    def access(self, app, form, actor):
        if actor.user_id != CLERK.user_id:
            return FULL
        keys = form.field_keys()
        if form.key == "orders":
            return FormAccess.limited(form, visible=[k for k in keys if k not in HIDDEN_ORDER_FIELDS],
                                      editable=[k for k in keys if k != "price"])
        if form.key == "customers":
            table = app.tables.form_table(form.key)
            return FormAccess.limited(form, row_scope=table.c.owner_id == actor.user_id,
                                      visible=[k for k in keys if k not in ("level", "secret")])
        return FULL


@pytest.fixture
def desk(db):
    install_desk(db)
    policy = ClerkPolicy()
    boss = Session(db, BOSS, policy=policy)
    clerk = Session(db, CLERK, policy=policy)
    theirs = boss.write(lambda uow: uow.records("desk").create(
        "customers", {"name": "别人的客户", "level": "vip", "credit": "900"}))
    mine = clerk.write(lambda uow: uow.records("desk").create("customers", {"name": "我的客户", "credit": "100"}))
    boss.write(lambda uow: uow.records("desk").update("customers", mine["id"], {"level": "vip"}))
    return clerk, boss, mine, theirs


def _draft(session, values, **options):
    with session.read() as uow:
        return evaluate_draft(uow, "desk", "orders", values, **options)


def _keys_in(data) -> set[str]:
    found = set()
    if isinstance(data, dict):
        for key, value in data.items():
            found.add(str(key))
            found |= _keys_in(value)
    elif isinstance(data, list):
        for item in data:
            found |= _keys_in(item)
    return found


def test_hidden_fields_are_never_in_a_draft(desk):
    clerk, _boss, mine, _theirs = desk
    values = {"title": "甲", "qty": "30", "customer": mine["id"],
              "items": [{"product": "纸", "quantity": "2", "unit_price": "3"}]}
    out = _draft(clerk, values).as_dict("en")
    text = json.dumps(out, ensure_ascii=False)
    for key in HIDDEN_ORDER_FIELDS:
        assert key not in _keys_in(out)
        assert f'"{key}"' not in text
    assert "60.00" not in text                    # amount's value (qty * price at the default 10.00)...
    assert out["values"]["credit_left"] == "-200.00"   # ...while a visible formula shows what a save stores


def test_a_hidden_key_typed_in_is_like_a_key_that_does_not_exist(desk):
    clerk, _boss, _mine, _theirs = desk
    hidden = _draft(clerk, {"title": "甲", "internal": "x"}).as_dict("en")["issues"]
    absent = _draft(clerk, {"title": "甲", "nothing": "x"}).as_dict("en")["issues"]
    assert [i["code"] for i in hidden["internal"]] == [i["code"] for i in absent["nothing"]] == ["unknown_field"]
    typo = _draft(clerk, {"title": "甲", "internl": "x"}).as_dict("en")["issues"]["internl"][0]
    assert "internal" not in typo["message"] and typo["params"]["hint"] == {"zh": "", "en": ""}


def test_read_only_fields_are_refused_as_a_save_refuses_them(desk):
    clerk, _boss, _mine, _theirs = desk
    values = {"title": "甲", "price": "99"}
    drafted = _draft(clerk, values).issues
    with pytest.raises(RecordValidationError) as saved:
        clerk.write(lambda uow: uow.records("desk").create("orders", values))
    assert [(i.field, i.code) for i in drafted] == [(i.field, i.code) for i in saved.value.issues] == \
        [("price", "permission_read_only")]


def test_related_records_show_only_within_the_actors_scope(desk):
    clerk, boss, mine, theirs = desk
    own = _draft(clerk, {"title": "甲", "customer": mine["id"]}).as_dict("en")
    assert own["titles"] == {"customer": {str(mine["id"]): "我的客户"}}
    assert own["values"]["customer_level"] is None          # customers.level is hidden from the clerk
    other = _draft(clerk, {"title": "甲", "customer": theirs["id"]}).as_dict("en")
    assert other["titles"] == {} and other["values"]["customer_level"] is None
    assert other["valid"]                                   # it exists: a save takes it too
    assert "别人的客户" not in json.dumps(other, ensure_ascii=False)
    seen_by_boss = _draft(boss, {"title": "甲", "customer": theirs["id"]}).as_dict("en")
    assert seen_by_boss["values"]["customer_level"] == "vip"
    assert seen_by_boss["titles"] == {"customer": {str(theirs["id"]): "别人的客户"}}


def test_hidden_fields_are_never_described(desk):
    clerk, boss, _mine, _theirs = desk
    with clerk.read() as uow:
        described = describe_form(uow, "desk", "orders")
    keys = [w["key"] for w in described["fields"]]
    assert not set(HIDDEN_ORDER_FIELDS) & set(keys)
    text = json.dumps(described, ensure_ascii=False)
    assert all(f'"{key}"' not in text for key in HIDDEN_ORDER_FIELDS)
    price = next(w for w in described["fields"] if w["key"] == "price")
    assert price["read_only"] is True and price["required"] is False
    with boss.read() as uow:
        assert {"internal", "amount"} <= {w["key"] for w in describe_form(uow, "desk", "orders")["fields"]}
