"""Bulk actions: set one field on many records all or nothing (refusals listed by record
id), delete many to the recycle bin, the recycle bin with who deleted and when, restore;
a selection of 5,000 ids in the same statements as one of 10."""
from __future__ import annotations

import json

import pytest

from engine.errors import NotFound
from runtime.permissions import FULL_ACCESS, FormAccess, PermissionDenied
from runtime.records.bulk import BulkActions, BulkEditError, BulkError
from tests.support.record_pages_app import Salesperson, install_crm


@pytest.fixture
def crm(db):
    return install_crm(db)


def _customers(crm, actor, count, **values):
    with crm.engine.begin() as conn:
        made = crm.records(conn, actor, FULL_ACCESS).bulk_create(
            "customers", [{"name": f"客户{i:04d}", **values} for i in range(count)])
    return [r["id"] for r in made]


def test_set_one_field_on_many(crm):
    ids = _customers(crm, crm.li, 3)
    with crm.engine.begin() as conn:
        bulk = BulkActions(crm.records(conn))
        assert bulk.set_field("customers", ids, "credit", 500) == {"updated": 3, "ids": ids}
        assert {r["fields"]["credit"] for r in crm.records(conn).list("customers").records} == {500}


def test_a_refused_value_changes_nothing_and_names_each_record(crm):
    ids = _customers(crm, crm.li, 3)
    with crm.engine.begin() as conn:
        bulk = BulkActions(crm.records(conn))
        with pytest.raises(BulkEditError) as refused:
            bulk.set_field("customers", ids, "credit", -5)
        assert sorted(refused.value.by_id) == ids
        shown = refused.value.as_dict("en")
        assert [r["id"] for r in shown["records"]] == ids and shown["records"][0]["issues"][0]["field"] == "credit"
        assert "none was changed" in refused.value.message("en") and "均未修改" in refused.value.message("zh")
        with pytest.raises(BulkEditError):
            bulk.set_field("customers", ids, "name", "")          # required
        assert {r["fields"]["credit"] for r in crm.records(conn).list("customers").records} == {None}


@pytest.mark.parametrize("ids, field, code", [
    ([], "credit", "bulk_empty_selection"),
    (list(range(1, 10_002)), "credit", "bulk_too_many"),
    (["x"], "credit", "bulk_bad_id"),
    (None, "credit", "bulk_bad_id"),
    ([1], "credti", "bulk_unknown_field"),
])
def test_bad_selections_and_fields_are_refused_in_words(crm, ids, field, code):
    with crm.engine.begin() as conn:
        with pytest.raises(BulkError) as refused:
            BulkActions(crm.records(conn)).set_field("customers", ids, field, 1)
        assert refused.value.code == code
        assert refused.value.message("zh") != refused.value.message("en")
    if code == "bulk_unknown_field":
        assert "did you mean 'credit'" in refused.value.message("en")


def test_hidden_and_read_only_fields_cannot_be_set_and_the_scope_holds(crm):
    mine = _customers(crm, crm.li, 2)
    theirs = _customers(crm, crm.han, 1)
    with crm.engine.begin() as conn:
        bulk = BulkActions(crm.records(conn, crm.li, Salesperson()))
        with pytest.raises(BulkError) as refused:
            bulk.set_field("customers", mine, "note", "x")
        assert refused.value.code == "bulk_unknown_field"
        with pytest.raises(BulkError) as refused:
            bulk.set_field("customers", mine, "notee", "x")
        assert "'note'" not in refused.value.message("en")      # never suggested: it is hidden
        with pytest.raises(BulkError) as refused:
            bulk.set_field("customers", mine, "level", "vip")
        assert refused.value.code == "bulk_field_not_editable"
        with pytest.raises(NotFound):
            bulk.set_field("customers", mine + theirs, "credit", 1)
        with pytest.raises(NotFound):
            bulk.delete("customers", theirs)


def test_delete_many_the_recycle_bin_and_restore(crm):
    ids = _customers(crm, crm.li, 5)
    with crm.engine.begin() as conn:
        bulk = BulkActions(crm.records(conn, crm.li, Salesperson()))
        assert bulk.delete("customers", ids[:3]) == {"deleted": 3}
        first = bulk.recycle_bin("customers", limit=2)
        assert [r["id"] for r in first["rows"]] == [ids[2], ids[1]]
        assert first["rows"][0]["deleted_by"] == {"id": crm.li.user_id, "name": "李雷"}
        assert first["rows"][0]["title"] == "客户0002" and first["rows"][0]["deleted_at"]
        assert first["count"]["value"] == 3
        rest = bulk.recycle_bin("customers", cursor=first["next_cursor"], limit=2)
        assert [r["id"] for r in rest["rows"]] == [ids[0]] and rest["next_cursor"] is None
        assert bulk.restore("customers", ids[:2]) == {"restored": 2}
        assert [r["id"] for r in bulk.recycle_bin("customers")["rows"]] == [ids[2]]
    with crm.engine.begin() as conn:
        # Another salesperson's bin does not hold 李雷's records.
        assert BulkActions(crm.records(conn, crm.han, Salesperson())).recycle_bin("customers")["rows"] == []


def test_the_recycle_bin_needs_the_delete_action_and_hides_hidden_titles(crm):
    ids = _customers(crm, crm.li, 1, note="秘密")
    with crm.engine.begin() as conn:
        crm.records(conn).delete("customers", ids)

    class NoDelete:
        def access(self, app, form, actor):
            return FormAccess.limited(form, actions={"view", "edit"})

    class HideName:
        def access(self, app, form, actor):
            return FormAccess.limited(form, visible=["level"])
    with crm.engine.connect() as conn:
        with pytest.raises(PermissionDenied):
            BulkActions(crm.records(conn, crm.li, NoDelete())).recycle_bin("customers")
        page = BulkActions(crm.records(conn, crm.li, HideName())).recycle_bin("customers")
        assert page["rows"][0]["title"] is None and "客户" not in json.dumps(page, ensure_ascii=False)


def test_a_selection_of_5000_is_one_set_of_statements(crm, count_statements):
    ids = _customers(crm, crm.li, 5_000)
    used = {}
    for size in (10, 5_000):
        with crm.engine.begin() as conn:
            bulk = BulkActions(crm.records(conn))
            with count_statements(crm.engine) as counter:
                bulk.set_field("customers", ids[:size], "credit", size)
                bulk.delete("customers", ids[:size])
                bulk.restore("customers", ids[:size])
            used[size] = counter.count
    assert used[10] == used[5_000], used
