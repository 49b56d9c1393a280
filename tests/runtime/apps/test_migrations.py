"""Changing an installed app's definition on populated tables: nothing is lost."""
import copy
from decimal import Decimal

import pytest
import sqlalchemy as sa

from engine.definition.model import AppDef
from engine.errors import FormworkError
from engine.schema_change.plan import PlanError
from runtime.apps import apply_app, archived_fields, load_installed, plan_app, purge_archived
from runtime.records import Records
from tests.support.records_app import DEFINITION, install_shop


def changed(mutate) -> AppDef:
    doc = copy.deepcopy(DEFINITION)
    mutate(doc)
    return AppDef.from_dict(doc)


def form(doc, key):
    return next(f for f in doc["forms"] if f["key"] == key)


def fld(doc, form_key, key):
    return next(f for f in form(doc, form_key)["fields"] if f["key"] == key)


@pytest.fixture
def shop(db):
    app = install_shop(db)
    with db.begin() as conn:
        r = Records(conn, app)
        r.bulk_create("customers", [{"name": "甲", "code": "A1", "credit": 10, "note": "12.5"},
                                    {"name": "乙", "code": "B2", "credit": 20, "note": "不是数字"},
                                    {"name": "丙", "code": "C3", "credit": 30, "note": None}])
        r.create("orders", {"title": "O1", "items": [{"product": "笔", "qty": 2}]})
    return db


def installed(db):
    with db.connect() as conn:
        return load_installed(conn, "shop")


def archive_of(db):
    with db.connect() as conn:
        return archived_fields(conn, "shop")


def customers(db, app):
    with db.connect() as conn:
        return {r["fields"]["name"]: r["fields"] for r in Records(conn, app).list("customers").records}


def test_applying_the_same_definition_twice_changes_nothing(shop):
    app = installed(shop)
    assert apply_app(shop, app)["changed"] is False
    assert plan_app(shop, app).unchanged


def test_rename_keeps_data(shop):
    def mutate(doc):
        f = fld(doc, "customers", "credit")
        f["key"], f["renamed_from"] = "credit_limit", "credit"
    new = changed(mutate)
    report = plan_app(shop, new)
    assert [s.kind for s in report.plan.steps] == ["rename_field"]
    assert apply_app(shop, new)["version"] == 2
    assert customers(shop, new)["甲"]["credit_limit"] == Decimal("10.00")


def test_retype_converts_and_archives_the_originals(shop):
    def mutate(doc):
        f = fld(doc, "customers", "note")
        f.clear()
        f.update({"key": "note", "type": "number", "label": {"zh": "备注", "en": "Note"}, "precision": 1})
    new = changed(mutate)
    report = plan_app(shop, new)
    preview = report.previews[0]
    assert (preview["values"], preview["convert"], preview["cannot"]) == (2, 1, 1)
    assert preview["failures"][0][0] == "不是数字"
    result = apply_app(shop, new)
    assert result["results"][0]["not_converted"] == 1
    data = customers(shop, new)
    assert data["甲"]["note"] == Decimal("12.5") and data["乙"]["note"] is None
    archive = archive_of(shop)
    assert [(a["field_key"], a["kind"]) for a in archive] == [("note", "column")]
    with shop.connect() as conn:
        kept = conn.execute(sa.text(f'SELECT "{archive[0]["physical_name"]}" FROM shop__customers '
                                    "ORDER BY id")).scalars().all()
    assert kept == ["12.5", "不是数字", None]


def test_removed_field_is_archived_and_comes_back(shop):
    removed = changed(lambda doc: form(doc, "customers")["fields"].remove(fld(doc, "customers", "code")))
    report = plan_app(shop, removed)
    assert report.plan.steps[0].kind == "archive_field" and report.previews[0] == {"kind": "archive", "values": 3}
    apply_app(shop, removed)
    assert "code" not in customers(shop, removed)["甲"]
    back = changed(lambda doc: None)
    assert [s.kind for s in plan_app(shop, back).plan.steps] == ["restore_field"]
    apply_app(shop, back)
    assert customers(shop, back)["乙"]["code"] == "B2"
    with shop.begin() as conn, pytest.raises(FormworkError):   # the unique index came back too
        Records(conn, back).create("customers", {"name": "丁", "code": "B2"})


def test_removed_form_is_archived_and_comes_back(shop):
    without = changed(lambda doc: doc["forms"].remove(form(doc, "tags")) or
                      form(doc, "orders")["fields"].remove(fld(doc, "orders", "tags")))
    apply_app(shop, without)
    assert "shop__tags" not in sa.inspect(shop).get_table_names()
    apply_app(shop, changed(lambda doc: None))
    assert "shop__tags" in sa.inspect(shop).get_table_names()


def test_unique_on_duplicated_values_is_refused_and_changes_nothing(shop):
    with shop.begin() as conn:
        Records(conn, load_installed(conn, "shop")).create("customers", {"name": "甲"})
    new = changed(lambda doc: fld(doc, "customers", "name").update(unique=True))
    assert plan_app(shop, new).blocking
    with pytest.raises(FormworkError, match="cannot become unique"):
        apply_app(shop, new)
    assert installed(shop).require_form("customers").field("name").unique is False


def test_new_field_with_default_fills_existing_records(shop):
    new = changed(lambda doc: form(doc, "customers")["fields"].append(
        {"key": "grade", "type": "number", "label": {"zh": "等级", "en": "Grade"}, "precision": 0, "default": 3}))
    apply_app(shop, new)
    assert {v["grade"] for v in customers(shop, new).values()} == {Decimal(3)}


def test_subform_columns_added_renamed_and_archived(shop):
    def mutate(doc):
        items = fld(doc, "orders", "items")["fields"]
        items[0]["key"], items[0]["renamed_from"] = "product_name", "product"
        items.remove(items[1])
        items.append({"key": "memo", "type": "text", "label": {"zh": "说明", "en": "Memo"}})
    new = changed(mutate)
    kinds = sorted(s.kind for s in plan_app(shop, new).plan.steps)
    assert kinds == ["add_subfield", "archive_subfield", "rename_subfield"]
    apply_app(shop, new)
    with shop.connect() as conn:
        order = Records(conn, new).list("orders").records[0]
    assert order["fields"]["items"][0]["product_name"] == "笔" and order["fields"]["items"][0]["memo"] is None


def test_rename_from_a_missing_field_is_refused(shop):
    new = changed(lambda doc: fld(doc, "customers", "code").update(key="code2", renamed_from="nope"))
    with pytest.raises(PlanError, match="renamed_from 'nope'"):
        plan_app(shop, new)


def test_purge_only_by_explicit_call(shop):
    removed = changed(lambda doc: form(doc, "customers")["fields"].remove(fld(doc, "customers", "note")))
    apply_app(shop, removed)
    archive = archive_of(shop)[0]
    purge_archived(shop, "shop", archive["id"])
    assert archive_of(shop) == []
    assert [s.kind for s in plan_app(shop, changed(lambda d: None)).plan.steps] == ["add_field"]


def test_retype_in_batches_reports_progress(db):
    app = install_shop(db)
    with db.begin() as conn:
        Records(conn, app).bulk_create("tags", [{"name": str(i)} for i in range(2500)])

    def mutate(doc):
        f = fld(doc, "tags", "name")
        f.update(type="number", precision=0)
        f.pop("required", None)
    calls = []
    result = apply_app(db, changed(mutate), progress=lambda what, done, total: calls.append((done, total)),
                       batch=1000)
    assert calls == [(1000, 2500), (2000, 2500), (2500, 2500)]
    assert result["results"][0]["converted"] == 2500
