"""The permission policy seam of the record service, proved with a small policy: a
salesperson reaches only the customers they own, never sees `note` and `code` and
may not set `credit`. Rows outside the scope are left out in SQL (lists, counts) and answer
NotFound (get, update, delete, restore, purge); hidden fields never come back and
cannot be filtered, sorted or searched on; read-only fields cannot be written."""
from __future__ import annotations

import copy

import pytest

from engine.definition.model import AppDef
from engine.errors import NotFound, RecordValidationError
from runtime.actor import Actor
from runtime.apps import apply_app
from runtime.permissions import FULL, FormAccess, PermissionDenied
from runtime.records import Records
from tests.support.records_app import DEFINITION, install_shop

MINE, THEIRS = Actor(user_id=1), Actor(user_id=2)


class OwnCustomers:
    """Customers: own rows only, `note` and `code` hidden, `credit` read-only. Other forms: all."""

    def __init__(self, actions=frozenset({"view", "create", "edit", "delete", "history"})):
        self.actions, self.asked = actions, []

    def access(self, app, form, actor):
        self.asked.append(form.key)
        if form.key != "customers":
            return FULL
        table = app.tables.form_table(form.key)
        return FormAccess.limited(form, actions=self.actions, row_scope=table.c.owner_id == actor.user_id,
                                  visible=[k for k in form.field_keys() if k not in ("note", "code")],
                                  editable=[k for k in form.field_keys() if k != "credit"])


@pytest.fixture
def shop(db):
    """Two customers of user 1 (the older ones), three of user 2, all with a note."""
    app = install_shop(db)
    with db.begin() as conn:
        for actor, names in ((MINE, ["甲", "乙"]), (THEIRS, ["丙", "丁", "戊"])):
            Records(conn, app, actor=actor).bulk_create(
                "customers", [{"name": n, "code": n, "note": f"秘密-{n}"} for n in names])
    return db, app


def _ids(db, app, actor):
    with db.connect() as conn:
        page = Records(conn, app, actor=actor).list("customers", page_size=500)
        return {r["fields"]["name"]: r["id"] for r in page.records}


def _as(conn, app, actor=MINE, policy=None):
    return Records(conn, app, actor=actor, policy=policy or OwnCustomers())


# ---- the row scope ----------------------------------------------------------------------------

def test_lists_and_counts_leave_out_rows_outside_the_scope_in_sql(shop, count_statements):
    db, app = shop
    with db.connect() as conn, count_statements(db) as counter:
        records = _as(conn, app)
        # The newest rows are someone else's: a scope applied after LIMIT would give none.
        page = records.list("customers", page_size=2)
        assert [r["fields"]["name"] for r in page.records] == ["乙", "甲"]
        assert page.next_cursor is None
        assert page.count.value == 2 and page.count.exact
        assert records.count("customers").value == 2
        assert records.count("customers", search="丙").value == 0
    assert all("owner_id" in statement for statement in counter.statements)


def test_records_outside_the_scope_answer_not_found(shop):
    db, app = shop
    theirs = _ids(db, app, THEIRS)["丙"]
    mine = _ids(db, app, MINE)["甲"]
    with db.begin() as conn:
        records = _as(conn, app)
        assert records.get("customers", mine)["fields"]["name"] == "甲"
        with pytest.raises(NotFound, match=f"#{theirs} does not exist"):
            records.get("customers", theirs)
        with pytest.raises(NotFound):
            records.update("customers", theirs, {"name": "改"})
        with pytest.raises(NotFound):
            records.delete("customers", [mine, theirs])
        assert records.history("customers", theirs) == []
        assert [e["action"] for e in records.history("customers", mine)] == ["create"]
    with db.begin() as conn:
        Records(conn, app).delete("customers", theirs)
        with pytest.raises(NotFound):
            _as(conn, app).restore("customers", theirs)
        with pytest.raises(NotFound):
            _as(conn, app).purge("customers", theirs)
        assert _as(conn, app, actor=THEIRS).restore("customers", theirs) == 1
    with db.connect() as conn:
        assert Records(conn, app).get("customers", theirs)["fields"]["name"] == "丙"


# ---- hidden fields ------------------------------------------------------------------------------

def test_hidden_fields_are_never_returned(shop):
    db, app = shop
    mine = _ids(db, app, MINE)["甲"]
    with db.begin() as conn:
        records = _as(conn, app)
        shown = records.get("customers", mine)["fields"]
        assert "note" not in shown and "code" not in shown and shown["name"] == "甲"
        assert all("note" not in r["fields"] for r in records.list("customers").records)
        assert "note" not in records.update("customers", mine, {"name": "甲2"})["fields"]
        created = records.create("customers", {"name": "己"})
        assert "note" not in created["fields"] and created["fields"]["name"] == "己"
        Records(conn, app).update("customers", mine, {"note": "新的秘密"})
        changes = [e["changes"] for e in records.history("customers", mine)]
        assert changes[0]["name"] == {"from": None, "to": "甲"} and all("note" not in c for c in changes)
        # The system (full access) still sees everything.
        assert Records(conn, app).get("customers", mine)["fields"]["note"] == "新的秘密"


@pytest.mark.parametrize("filter, where", [
    ({"field": "note", "op": "contains", "value": "秘"}, "filter.field"),
    ({"and": [{"field": "name", "op": "eq", "value": "甲"},
              {"or": [{"field": "note", "op": "is_empty"}]}]}, "filter.and[1].or[0].field"),
    ({"not": {"formula": "LEN(note) > 0"}}, "filter.not.formula"),
    # Wrong as well as hidden: refused for the hidden field, before an error about the
    # operator or the formula's types would name it and its type.
    ({"field": "note", "op": "no_such_op"}, "filter.field"),
    ({"formula": 'note + 1 > "x"'}, "filter.formula"),
])
def test_filtering_on_a_hidden_field_is_refused_naming_it(shop, filter, where):
    db, app = shop
    with db.connect() as conn:
        records = _as(conn, app)
        for call in (lambda: records.list("customers", filter=filter),
                     lambda: records.count("customers", filter=filter)):
            with pytest.raises(PermissionDenied) as refused:
                call()
            assert refused.value.code == "permission_hidden_filter"
            assert refused.value.params == {"field": "note", "form": "customers", "path": where}
            assert refused.value.message("en") == (
                f"Cannot filter by the field 'note' ({where}): you may not see this field of form "
                "'customers'; leave it out of the filter")
            assert refused.value.message("zh").startswith("不能按字段“note”筛选")


def test_a_path_through_a_relation_to_a_hidden_field_is_refused(shop):
    db, app = shop
    with db.connect() as conn:
        records = _as(conn, app)
        assert records.list("orders", filter={"formula": 'customer.name = "甲"'}).records == []
        with pytest.raises(PermissionDenied) as refused:
            records.list("orders", filter={"formula": 'customer.note = "x"'})
        assert refused.value.params == {"field": "note", "form": "customers", "path": "filter.formula"}


def test_sorting_or_selecting_a_hidden_field_is_refused(shop):
    db, app = shop
    with db.connect() as conn:
        records = _as(conn, app)
        with pytest.raises(PermissionDenied) as sorted_by:
            records.list("customers", sort="name,-code")
        assert (sorted_by.value.code, sorted_by.value.params["path"]) == ("permission_hidden_sort", "sort[1]")
        assert sorted_by.value.message("en") == (
            "Cannot sort by the field 'code' (sort[1]): you may not see this field of form 'customers'; "
            "sort by another field")
        assert "不能按字段“code”排序" in sorted_by.value.message("zh")
        with pytest.raises(PermissionDenied) as selected:
            records.list("customers", fields=["name", "note"])
        assert (selected.value.code, selected.value.params["path"]) == ("permission_hidden_fields", "fields[1]")
        assert [r["fields"] for r in records.list("customers", fields=["name"], sort="name").records] == \
            [{"name": "乙"}, {"name": "甲"}]


def test_search_does_not_look_into_hidden_fields(shop):
    db, app = shop
    with db.connect() as conn:
        assert Records(conn, app).count("customers", search="秘密-甲").value == 1
        assert _as(conn, app).count("customers", search="秘密-甲").value == 0
        assert _as(conn, app).count("customers", search="甲").value == 1


def test_a_default_sort_on_a_hidden_field_falls_back_to_the_newest_first(db):
    definition = copy.deepcopy(DEFINITION)
    definition["forms"][0]["default_sort"] = [{"field": "code", "dir": "desc"}]
    app = AppDef.from_dict(definition)
    apply_app(db, app)
    with db.begin() as conn:
        Records(conn, app, actor=MINE).bulk_create("customers", [{"name": "甲", "code": "b"},
                                                                 {"name": "乙", "code": "a"}])
        assert [r["fields"]["name"] for r in Records(conn, app).list("customers").records] == ["甲", "乙"]
        assert [r["fields"]["name"] for r in _as(conn, app).list("customers").records] == ["乙", "甲"]
        assert [r["fields"]["name"] for r in _as(conn, app).list("customers", sort="name").records] == ["乙", "甲"]
        with pytest.raises(PermissionDenied):
            _as(conn, app).list("customers", sort="code")


# ---- read-only fields ---------------------------------------------------------------------------

def test_writing_a_read_only_or_hidden_field_is_refused_with_a_field_issue(shop):
    db, app = shop
    mine = _ids(db, app, MINE)["甲"]
    with db.begin() as conn:
        records = _as(conn, app)
        with pytest.raises(RecordValidationError) as created:
            records.create("customers", {"name": "", "credit": 5, "note": "x"})
        assert [(i.field, i.code) for i in created.value.issues] == [
            ("credit", "permission_read_only"), ("note", "permission_read_only"), ("name", "required")]
        issue = created.value.as_dict("zh")["issues"][0]
        assert issue["message"] == "你没有修改这个字段的权限；请不要填写它"
        assert issue["message_en"] == "You may not set this field; leave it out"
        with pytest.raises(RecordValidationError) as updated:
            records.update("customers", mine, {"credit": 5})
        assert [(i.field, i.code) for i in updated.value.issues] == [("credit", "permission_read_only")]
        # Left out, the read-only field keeps its default, and the record is written.
        assert records.create("customers", {"name": "庚"})["fields"]["credit"] == 100
    with db.connect() as conn:
        assert Records(conn, app).get("customers", mine)["fields"]["credit"] == 100


# ---- actions, and how often the policy is asked ---------------------------------------------------

def test_an_action_the_policy_does_not_allow_is_refused(shop):
    db, app = shop
    mine = _ids(db, app, MINE)["甲"]
    view_only = OwnCustomers(actions={"view"})
    with db.begin() as conn:
        records = _as(conn, app, policy=view_only)
        assert records.get("customers", mine)["id"] == mine
        for action, call in (("create", lambda: records.create("customers", {"name": "x"})),
                             ("edit", lambda: records.update("customers", mine, {"name": "x"})),
                             ("delete", lambda: records.delete("customers", mine)),
                             ("delete", lambda: records.restore("customers", mine)),
                             ("delete", lambda: records.purge("customers", mine))):
            with pytest.raises(PermissionDenied) as refused:
                call()
            assert refused.value.code == f"permission_{action}_denied"
            assert "'customers'" in refused.value.message("en") and "“customers”" in refused.value.message("zh")
        nothing = _as(conn, app, policy=OwnCustomers(actions=set()))
        with pytest.raises(PermissionDenied, match="You may not view the records of form 'customers'"):
            nothing.list("customers")
        with pytest.raises(PermissionDenied):
            nothing.get("customers", mine)
        # A related form the actor may not view cannot be read through a relation either.
        with pytest.raises(PermissionDenied):
            nothing.list("orders", filter={"formula": 'customer.name = "甲"'})


def test_the_policy_is_asked_once_per_form(shop):
    db, app = shop
    policy = OwnCustomers()
    with db.connect() as conn:
        records = _as(conn, app, policy=policy)
        for _ in range(3):
            records.list("customers")
            records.count("customers")
        records.list("orders", filter={"formula": 'customer.name = "甲"'})
    assert sorted(policy.asked) == ["customers", "orders"]


def test_form_access_limited_derives_hidden_and_read_only_fields(shop):
    _, app = shop
    form = app.require_form("customers")
    access = FormAccess.limited(form, visible=["name", "code", "credit"], editable=["name", "note"])
    assert access.hidden_fields == {"note", "referrer"}
    assert access.read_only_fields == {"code", "credit"}
    assert access.visible_fields(form) == ["name", "code", "credit"]
    assert access.can_edit("name") and not access.can_edit("note") and not access.can_edit("code")
    assert FULL.visible_fields(form) is None and not FULL.limits_writes
    with pytest.raises(ValueError, match="unknown actions"):
        FormAccess(actions=frozenset({"view", "approve"}))
