"""A hidden field is in no answer of the record-page services: not as a value, a display
text, a column, a history change, a warning, a conflict message or a recycle-bin title;
and the rows outside the reader's scope are in no list or count."""
from __future__ import annotations

import json

import pytest

from runtime.comments import Comments
from runtime.permissions import FULL, FULL_ACCESS, FormAccess
from runtime.record_page import EditConflict, RecordPage
from runtime.records.bulk import BulkActions
from runtime.views import DataTable, SavedViews
from tests.support.record_pages_app import install_crm

SECRET = "绝密-7431"


class HideNoteAndName:
    """Customers: `note` and `credit` hidden, own rows only; orders: all."""

    def access(self, app, form, actor):
        if form.key != "customers":
            return FULL
        table = app.tables.form_table("customers")
        return FormAccess.limited(form, row_scope=table.c.owner_id == actor.user_id,
                                  visible=["name", "level", "owner", "dept"])


@pytest.fixture
def crm(db):
    return install_crm(db)


def test_no_answer_holds_a_hidden_field_or_a_row_outside_the_scope(crm):
    with crm.engine.begin() as conn:
        full_li = crm.records(conn, crm.li, FULL_ACCESS)
        mine = full_li.create("customers", {"name": "明达", "note": SECRET, "credit": 7431})
        theirs = crm.records(conn, crm.han, FULL_ACCESS).create("customers", {"name": "韩的客户", "note": SECRET})
        full_li.create("orders", {"title": "订单", "customer": mine["id"]})
        full_li.create("orders", {"title": "韩的订单", "customer": theirs["id"]})
        view = SavedViews(full_li).create("customers", "全部列", columns=["name", "note", "credit"],
                                          filter={"field": "note", "op": "contains", "value": "绝密"})
        full_li.update("customers", mine["id"], {"note": SECRET + "改", "credit": 1})
        crm.records(conn, crm.li, FULL_ACCESS).delete("customers", [mine["id"]])
        crm.records(conn, crm.li, FULL_ACCESS).restore("customers", [mine["id"]])
    answers = []
    with crm.engine.begin() as conn:
        records = crm.records(conn, crm.li, HideNoteAndName())
        table, page = DataTable(records), RecordPage(records)
        answers.append(table.page("customers"))
        answers.append(table.page("customers", view=view["id"]))
        answers.append(table.page("customers", search="7431"))
        answers.append(page.view("customers", mine["id"]))
        answers.append(page.history("customers", mine["id"]))
        answers.append(table.page("orders"))
        answers.append(Comments(records).add("customers", mine["id"], "看过了"))
        try:
            page.edit("customers", mine["id"], {"name": "新名"}, version=1)
        except EditConflict as conflict:
            answers += [conflict.as_dict("zh"), conflict.as_dict("en"), str(conflict)]
        BulkActions(records).delete("customers", [mine["id"]])
        answers.append(BulkActions(records).recycle_bin("customers"))
    text = json.dumps(answers, ensure_ascii=False)
    for leaked in (SECRET, "7431", '"note"', '"credit"', "备注", "额度", "Note", "Credit"):
        assert leaked not in text, leaked
    assert "韩的客户" not in json.dumps(answers[:5], ensure_ascii=False)
    customers, from_view, searched = answers[0], answers[1], answers[2]
    assert [r["id"] for r in customers["rows"]] == [mine["id"]] and customers["count"]["value"] == 1
    assert from_view["filter"] is None and [c["key"] for c in from_view["columns"]] == ["name"]
    assert len(from_view["warnings"]) == 3 and searched["rows"] == []
    # Orders are not limited: 韩's order is listed, its customer's title with it (left to #9).
    assert len(answers[5]["rows"]) == 2
