"""Every kind of definition change, applied to populated tables on SQLite and PostgreSQL,
proving that no value is lost: converted values are checked one by one, and the
originals are read back from the archive exactly as they were stored."""
import copy
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from engine.definition.model import AppDef
from engine.errors import FormworkError, RecordValidationError
from engine.schema_change.apply import Migrator
from runtime.actor import Actor
from runtime.apps import apply_app, archived_fields, load_installed, plan_app, purge_archived
from runtime.records import Records
from tests.support.records_app import DEFINITION


def L(zh, en=None):
    return {"zh": zh, "en": en or zh}


def v1_doc() -> dict:
    """The shop app plus a select and a text field holding dates."""
    doc = copy.deepcopy(DEFINITION)
    form(doc, "customers")["fields"] += [
        {"key": "level", "type": "select", "label": L("等级", "Level"),
         "options": [{"value": "vip", "label": L("VIP客户", "VIP")}, {"value": "normal", "label": L("普通", "Normal")}]},
        {"key": "since", "type": "text", "label": L("开始日期", "Since")},
    ]
    return doc


def form(doc, key):
    return next(f for f in doc["forms"] if f["key"] == key)


def fld(doc, form_key, key):
    return next(f for f in form(doc, form_key)["fields"] if f["key"] == key)


def replace(definition_of_field: dict, **definition) -> None:
    """A field redefined from scratch under the same key."""
    key = definition_of_field["key"]
    definition_of_field.clear()
    definition_of_field.update(key=key, **definition)


def changed(mutate) -> AppDef:
    doc = v1_doc()
    mutate(doc)
    return AppDef.from_dict(doc)


CUSTOMERS = [
    {"name": "甲", "code": "A1", "credit": 10, "note": "12.5", "since": "2024-03-01", "level": "vip"},
    {"name": "乙", "code": "B2", "credit": "20.5", "note": "不是数字", "since": "2024/3/2", "level": "normal"},
    {"name": "丙", "code": "C3", "credit": 30, "note": None, "since": "昨天", "level": None},
    {"name": "丁", "code": "D4", "credit": 40, "note": "7", "since": None, "level": "vip"},
]


@pytest.fixture
def shop(db):
    """v1 installed and populated: relations, links, subform rows, updates (history and
    versions above 1) and a customer in the recycle bin (丁), which migrations must
    carry along like any other record."""
    app = AppDef.from_dict(v1_doc())
    apply_app(db, app)
    with db.begin() as conn:
        r = Records(conn, app, actor=Actor(user_id=1))
        ids = {c["fields"]["name"]: c["id"] for c in r.bulk_create("customers", CUSTOMERS)}
        r.update("customers", ids["乙"], {"referrer": ids["甲"]}, expected_version=1)
        r.update("customers", ids["丙"], {"referrer": ids["乙"]}, expected_version=1)
        tags = [t["id"] for t in r.bulk_create("tags", [{"name": n} for n in ("红", "绿", "蓝")])]
        r.bulk_create("orders", [
            {"title": "O1", "customer": ids["甲"], "tags": [tags[1], tags[0]], "amount": "100.5",
             "items": [{"product": "笔", "qty": 2}, {"product": "纸", "qty": 10}]},
            {"title": "O2", "customer": ids["乙"], "tags": [tags[2]], "amount": 7,
             "items": [{"product": "墨", "qty": 1}]},
            {"title": "O3"},
        ])
        r.delete("customers", ids["丁"])
    return db


# ---- reading back -------------------------------------------------------------------------
def installed(db) -> AppDef:
    with db.connect() as conn:
        return load_installed(conn, "shop")


def records(db, form_key, deleted=False) -> dict:
    """{title: fields} of every record of a form (live, or in the recycle bin)."""
    app = installed(db)
    title = app.require_form(form_key).title_key()
    with db.connect() as conn:
        page = Records(conn, app).list(form_key, page_size=500, deleted=deleted)
    return {r["fields"][title]: r["fields"] for r in page.records}


def everyone(db, form_key="customers") -> dict:
    return {**records(db, form_key), **records(db, form_key, deleted=True)}


def raw_column(db, table, column) -> list:
    with db.connect() as conn:
        return conn.execute(sa.text(f'SELECT "{column}" FROM "{table}" ORDER BY id')).scalars().all()


def archive(db, **match) -> list[dict]:
    with db.connect() as conn:
        return [a for a in archived_fields(conn, "shop") if all(a[k] == v for k, v in match.items())]


def snapshot(db) -> dict:
    """Everything a migration may touch: every table of the app (columns, rows, indexes)
    and the system tables that describe it."""
    state = {}
    with db.connect() as conn:
        inspector = sa.inspect(conn)
        for table in sorted(inspector.get_table_names()):
            if not table.startswith(("shop__", "archived__", "fw_app", "fw_archived", "fw_record_history")):
                continue
            rows = conn.execute(sa.text(f'SELECT * FROM "{table}"')).all()
            state[table] = {"columns": sorted(c["name"] for c in inspector.get_columns(table)),
                            "rows": sorted(map(repr, rows)),
                            "indexes": sorted(i["name"] for i in inspector.get_indexes(table))}
    return state


def steps(db, app) -> list[str]:
    return [s.kind for s in plan_app(db, app).plan.steps]


# ---- adding and renaming ------------------------------------------------------------------
def test_add_fields_to_a_populated_form_keeps_every_value(shop):
    before = everyone(shop)

    def mutate(doc):
        form(doc, "customers")["fields"] += [
            {"key": "grade", "type": "number", "label": L("等级分"), "precision": 0, "default": 3},
            {"key": "phone", "type": "text", "label": L("电话")}]
    new = changed(mutate)
    assert steps(shop, new) == ["add_field", "add_field"]
    apply_app(shop, new)
    after = everyone(shop)
    for name, fields in before.items():
        assert {k: after[name][k] for k in fields} == fields
        assert after[name]["grade"] == Decimal(3) and after[name]["phone"] is None


def test_rename_field_keeps_values_index_and_unique_rule(shop):
    before = everyone(shop)

    def mutate(doc):
        fld(doc, "customers", "code").update(key="customer_no", renamed_from="code")
        fld(doc, "orders", "customer_code")["field"] = "customer_no"
    new = changed(mutate)
    assert steps(shop, new) == ["rename_field", "change_field"]   # the lookup names the new key
    apply_app(shop, new)
    after = everyone(shop)
    assert {n: f["customer_no"] for n, f in after.items()} == {n: f["code"] for n, f in before.items()}
    assert records(shop, "orders")["O1"]["customer_code"] == "A1"
    indexes = {i["name"] for i in sa.inspect(shop).get_indexes("shop__customers")}
    assert "uq__shop__customers__customer_no" in indexes and "uq__shop__customers__code" not in indexes
    with shop.begin() as conn, pytest.raises(RecordValidationError):
        Records(conn, new).create("customers", {"name": "戊", "customer_no": "A1"})
    assert apply_app(shop, new)["changed"] is False   # the same file again: nothing to do


def test_rename_form_moves_tables_relations_history_and_frees_the_old_key(shop):
    app = installed(shop)
    with shop.connect() as conn:
        jia = next(r for r in Records(conn, app).list("customers").records if r["fields"]["name"] == "甲")
        history = Records(conn, app).history("customers", jia["id"])

    def rename(doc):
        form(doc, "customers").update(key="clients", renamed_from="customers")
        fld(doc, "clients", "referrer")["target"] = "clients"
        fld(doc, "orders", "customer")["target"] = "clients"
    new = changed(rename)
    assert steps(shop, new) == ["rename_form"]
    apply_app(shop, new)
    tables = set(sa.inspect(shop).get_table_names())
    assert "shop__clients" in tables and "shop__customers" not in tables
    clients = everyone(shop, "clients")
    assert clients["乙"]["referrer"] == jia["id"] and clients["丁"]["code"] == "D4"
    o1 = records(shop, "orders")["O1"]
    assert o1["customer"] == jia["id"] and o1["customer_code"] == "A1"
    with shop.connect() as conn:   # the entries moved with the form
        assert Records(conn, new).history("clients", jia["id"]) == [dict(e, form_key="clients") for e in history]
    indexes = {i["name"] for i in sa.inspect(shop).get_indexes("shop__clients")}
    assert "uq__shop__clients__code" in indexes

    def and_a_new_customers_form(doc):
        rename(doc)
        doc["forms"].append({"key": "customers", "label": L("新客户"), "fields": [
            {"key": "code", "type": "text", "label": L("编码"), "unique": True}]})
    third = changed(and_a_new_customers_form)
    assert steps(shop, third) == ["add_form"]
    apply_app(shop, third)
    with shop.begin() as conn:
        Records(conn, third).create("customers", {"code": "A1"})   # its own unique index
    assert everyone(shop, "clients")["甲"]["code"] == "A1"


def test_rename_and_retype_in_one_change(shop):
    def mutate(doc):
        f = fld(doc, "customers", "note")
        f.clear()
        f.update(key="score", renamed_from="note", type="number", label=L("分数"), precision=1)
    new = changed(mutate)
    assert steps(shop, new) == ["rename_field", "retype_field"]
    report = plan_app(shop, new)
    assert (report.previews[1]["convert"], report.previews[1]["cannot"]) == (2, 1)
    apply_app(shop, new)
    assert {n: f["score"] for n, f in everyone(shop).items()} == \
        {"甲": Decimal("12.5"), "乙": None, "丙": None, "丁": Decimal("7.0")}
    (kept,) = archive(shop, field_key="score")
    assert raw_column(shop, "shop__customers", kept["physical_name"]) == ["12.5", "不是数字", None, "7"]


# ---- retyping between types -----------------------------------------------------------------
RETYPES = {
    "textarea -> number": ("note", {"type": "number", "precision": 1},
                           {"甲": Decimal("12.5"), "乙": None, "丙": None, "丁": Decimal("7.0")}, 1),
    "number -> text": ("credit", {"type": "text"}, {"甲": "10.00", "乙": "20.50", "丙": "30.00", "丁": "40.00"}, 0),
    "number precision 2 -> 0": ("credit", {"type": "number", "precision": 0},
                                {"甲": Decimal(10), "乙": Decimal(21), "丙": Decimal(30), "丁": Decimal(40)}, 0),
    "text -> date": ("since", {"type": "date"},
                     {"甲": date(2024, 3, 1), "乙": date(2024, 3, 2), "丙": None, "丁": None}, 1),
    "select -> text (the option's label)": ("level", {"type": "text"},
                                            {"甲": "VIP客户", "乙": "普通", "丙": None, "丁": "VIP客户"}, 0),
    "select -> multiselect": ("level", {"type": "multiselect", "options": ["vip", "normal"]},
                              {"甲": ["vip"], "乙": ["normal"], "丙": None, "丁": ["vip"]}, 0),
    "text -> select": ("code", {"type": "select", "options": ["A1", {"value": "b2", "label": L("B2")}]},
                       {"甲": "A1", "乙": "b2", "丙": None, "丁": None}, 2),
    "textarea -> shorter text (never truncated)": ("note", {"type": "text", "max_length": 3},
                                                   {"甲": None, "乙": None, "丙": None, "丁": "7"}, 2),
}


@pytest.mark.parametrize("case", list(RETYPES))
def test_retype_converts_what_it_can_and_archives_every_original(shop, case):
    key, spec, expected, cannot = RETYPES[case]
    original = raw_column(shop, "shop__customers", key)

    def mutate(doc):
        f = fld(doc, "customers", key)
        f.clear()
        f.update(key=key, label=L(key), **spec)
    new = changed(mutate)
    report = plan_app(shop, new)
    assert [s.kind for s in report.plan.steps] == ["retype_field"] and not report.blocking
    preview = report.previews[0]
    assert preview["cannot"] == cannot and preview["values"] == sum(v is not None for v in original)
    result = apply_app(shop, new)["results"][0]
    assert (result["rows"], result["not_converted"]) == (4, cannot)
    assert {n: f[key] for n, f in everyone(shop).items()} == expected
    (kept,) = archive(shop, field_key=key, kind="column")
    assert raw_column(shop, "shop__customers", kept["physical_name"]) == original


def test_single_relation_becomes_multiple_keeping_each_value(shop):
    before = records(shop, "orders")

    def mutate(doc):
        fld(doc, "orders", "customer").update(multiple=True, on_delete="set_null")
        form(doc, "orders")["fields"].remove(fld(doc, "orders", "customer_code"))   # lookups need single
    new = changed(mutate)
    report = plan_app(shop, new)
    assert [s.kind for s in report.plan.steps] == ["retype_field", "archive_field"]
    assert report.previews[0] == {"kind": "links", "values": 2}
    calls = []
    apply_app(shop, new, batch=2, progress=lambda what, done, total: calls.append((done, total)))
    assert calls == [(2, 3), (3, 3)]
    after = records(shop, "orders")
    assert {t: f["customer"] for t, f in after.items()} == \
        {t: [f["customer"]] if f["customer"] else [] for t, f in before.items()}
    (kept,) = archive(shop, field_key="customer")
    originals = [before[title]["customer"] for title in ("O1", "O2", "O3")]
    assert raw_column(shop, "shop__orders", kept["physical_name"]) == originals


def test_multiple_relation_becomes_single_keeping_the_first_and_archiving_all_links(shop):
    before = records(shop, "orders")
    new = changed(lambda doc: fld(doc, "orders", "tags").update(multiple=False))
    report = plan_app(shop, new)
    assert report.previews[0] == {"kind": "links", "records": 2, "several": 1}
    apply_app(shop, new)
    after = records(shop, "orders")
    assert {t: f["tags"] for t, f in after.items()} == \
        {"O1": before["O1"]["tags"][0], "O2": before["O2"]["tags"][0], "O3": None}
    (kept,) = archive(shop, field_key="tags", kind="table")
    with shop.connect() as conn:
        links = conn.execute(sa.text(f'SELECT source_id, target_id FROM "{kept["physical_name"]}" '
                                     "ORDER BY source_id, position")).all()
    ids = {t: f for t, f in before.items()}
    assert len(links) == 3 and [t for _, t in links] == ids["O1"]["tags"] + ids["O2"]["tags"]


@pytest.mark.parametrize("mutate, message", [
    (lambda doc: fld(doc, "orders", "amount").update(type="subform", fields=[
        {"key": "x", "type": "text", "label": L("x")}]), "cannot change a number field into a subform"),
    (lambda doc: fld(doc, "customers", "referrer").update(target="tags"), "cannot change its target form"),
], ids=["number -> subform", "relation target"])
def test_unsupported_changes_are_refused_in_the_plan_and_change_nothing(shop, mutate, message):
    new = changed(mutate)
    report = plan_app(shop, new)
    assert any(message in problem and "new key" in problem for problem in report.blocking)
    before = snapshot(shop)
    with pytest.raises(FormworkError, match=message):
        apply_app(shop, new)
    assert snapshot(shop) == before


# ---- settings that stored values may no longer meet -------------------------------------------
def test_removing_an_option_or_requiring_a_field_keeps_values_and_says_how_many(shop):
    def mutate(doc):
        fld(doc, "customers", "level")["options"] = [{"value": "vip", "label": L("VIP客户", "VIP")}]
        fld(doc, "customers", "since")["required"] = True
    new = changed(mutate)
    report = plan_app(shop, new)
    assert [s.kind for s in report.plan.steps] == ["change_field", "change_field"]
    level, since = report.previews[0], report.previews[1]
    assert (level["values"], level["invalid"]) == (3, 1) and level["failures"][0][0] == "普通"
    assert since["empty"] == 1
    apply_app(shop, new)
    assert everyone(shop)["乙"]["level"] == "normal"   # kept as it was
    with shop.begin() as conn:   # and the record can still be edited
        r = Records(conn, new)
        yi = next(x for x in r.list("customers").records if x["fields"]["name"] == "乙")
        assert r.update("customers", yi["id"], {"credit": 1})["fields"]["level"] == "normal"


# ---- archive, restore, purge --------------------------------------------------------------------
def test_removed_field_is_restored_by_re_adding_it_and_purged_only_on_request(shop):
    original = raw_column(shop, "shop__customers", "since")
    without = changed(lambda doc: form(doc, "customers")["fields"].remove(fld(doc, "customers", "since")))
    apply_app(shop, without)
    assert "since" not in everyone(shop)["甲"]
    back = changed(lambda doc: None)
    assert steps(shop, back) == ["restore_field"]
    apply_app(shop, back)
    assert raw_column(shop, "shop__customers", "since") == original
    apply_app(shop, without)   # archived again; nothing is ever dropped by apply
    (kept,) = archive(shop, field_key="since")
    assert raw_column(shop, "shop__customers", kept["physical_name"]) == original
    purge_archived(shop, "shop", kept["id"])
    assert kept["physical_name"] not in {c["name"] for c in sa.inspect(shop).get_columns("shop__customers")}
    assert steps(shop, back) == ["add_field"]   # after a purge the field comes back empty
    apply_app(shop, back)
    assert {f["since"] for f in everyone(shop).values()} == {None}


def test_re_adding_a_field_with_another_type_starts_empty_and_keeps_the_archive(shop):
    without = changed(lambda doc: form(doc, "customers")["fields"].remove(fld(doc, "customers", "note")))
    apply_app(shop, without)
    as_number = changed(lambda doc: fld(doc, "customers", "note").update(type="number"))
    assert steps(shop, as_number) == ["add_field"]
    apply_app(shop, as_number)
    assert {f["note"] for f in everyone(shop).values()} == {None}
    assert len(archive(shop, field_key="note")) == 1


def test_removed_form_with_subform_and_links_comes_back_then_purges_whole(shop):
    before = records(shop, "orders")
    without = changed(lambda doc: doc["forms"].remove(form(doc, "orders")))
    apply_app(shop, without)
    parts = archive(shop, form_key="orders")
    assert sorted(a["kind"] for a in parts) == ["table", "table_part", "table_part"]
    apply_app(shop, changed(lambda doc: None))
    assert records(shop, "orders") == before
    apply_app(shop, without)
    table_part = next(a for a in archive(shop, form_key="orders") if a["kind"] == "table_part")
    with pytest.raises(FormworkError, match="purge the form's own item"):
        purge_archived(shop, "shop", table_part["id"])
    whole = next(a for a in archive(shop, form_key="orders") if a["kind"] == "table")
    purge_archived(shop, "shop", whole["id"])
    assert archive(shop, form_key="orders") == []
    assert not [t for t in sa.inspect(shop).get_table_names() if "orders" in t]


# ---- subforms ----------------------------------------------------------------------------------
def items(db) -> dict:
    return {t: [{k: v for k, v in row.items() if k != "id"} for row in f["items"]]
            for t, f in records(db, "orders").items()}


def test_subform_column_renamed_retyped_removed_restored_and_purged(shop):
    def retyped(doc):
        columns = fld(doc, "orders", "items")["fields"]
        columns[0].update(key="name", renamed_from="product")
        columns[1].clear()
        columns[1].update(key="qty", type="text", label=L("数量"))
    new = changed(retyped)
    assert steps(shop, new) == ["rename_subfield", "retype_subfield"]
    apply_app(shop, new)
    assert items(shop)["O1"] == [{"name": "笔", "qty": "2"}, {"name": "纸", "qty": "10"}]
    (qty,) = archive(shop, field_key="items.qty")
    assert raw_column(shop, "shop__orders__items", qty["physical_name"]) == [2, 10, 1]

    def removed(doc):
        retyped(doc)
        fld(doc, "orders", "items")["fields"].pop(0)
    apply_app(shop, changed(removed))
    assert items(shop)["O2"] == [{"qty": "1"}]
    back = changed(retyped)
    assert steps(shop, back) == ["restore_subfield"]
    apply_app(shop, back)
    assert items(shop)["O1"] == [{"name": "笔", "qty": "2"}, {"name": "纸", "qty": "10"}]
    purge_archived(shop, "shop", qty["id"])
    columns = {c["name"] for c in sa.inspect(shop).get_columns("shop__orders__items")}
    assert qty["physical_name"] not in columns and "qty" in columns


def test_removed_subform_comes_back_and_a_different_one_gets_a_fresh_table(shop):
    before = items(shop)
    without = changed(lambda doc: form(doc, "orders")["fields"].remove(fld(doc, "orders", "items")))
    apply_app(shop, without)
    assert steps(shop, changed(lambda doc: None)) == ["restore_field"]
    apply_app(shop, changed(lambda doc: None))
    assert items(shop) == before
    apply_app(shop, without)
    other = changed(lambda doc: fld(doc, "orders", "items").update(fields=[
        {"key": "sku", "type": "text", "label": L("SKU")}]))
    assert steps(shop, other) == ["add_field"]
    apply_app(shop, other)   # no clash with the archived table's index names
    with shop.begin() as conn:
        r = Records(conn, other)
        o3 = next(x for x in r.list("orders").records if x["fields"]["title"] == "O3")
        assert r.update("orders", o3["id"], {"items": [{"sku": "X"}]})["fields"]["items"][0]["sku"] == "X"
    assert len(archive(shop, field_key="items")) == 1


# ---- failures, history, versions ----------------------------------------------------------------
def test_a_crash_in_the_middle_of_apply_leaves_the_database_as_it_was(shop, monkeypatch):
    def mutate(doc):
        form(doc, "customers")["fields"].append({"key": "grade", "type": "number", "label": L("等级分")})
        fld(doc, "customers", "credit").update(key="limit", renamed_from="credit")
        form(doc, "customers")["fields"].remove(fld(doc, "customers", "since"))
        f = fld(doc, "customers", "note")
        f.clear()
        f.update(key="note", type="number", label=L("备注"))
    new = changed(mutate)
    assert sorted(steps(shop, new)) == ["add_field", "archive_field", "rename_field", "retype_field"]
    before = snapshot(shop)
    written = []

    def crash_on_second_batch(self, writer, columns, batch):
        written.append(len(batch))
        if len(written) == 2:
            raise RuntimeError("power cut")
        return real_write(self, writer, columns, batch)
    real_write = Migrator._write_batch
    monkeypatch.setattr(Migrator, "_write_batch", crash_on_second_batch)
    with pytest.raises(RuntimeError, match="power cut"):
        apply_app(shop, new, batch=2)
    assert written == [2, 2]
    assert snapshot(shop) == before
    monkeypatch.undo()
    apply_app(shop, new, batch=2)   # and the same change then applies cleanly
    assert everyone(shop)["甲"]["limit"] == Decimal("10.00")


def test_history_and_record_versions_survive_a_series_of_migrations(shop):
    app = installed(shop)
    with shop.connect() as conn:
        r = Records(conn, app)
        by_name = {x["fields"]["name"]: x for x in r.list("customers").records}
        histories = {n: r.history("customers", x["id"]) for n, x in by_name.items()}
    versions = {n: x["version"] for n, x in by_name.items()}
    assert versions["乙"] == 2
    for mutate in (lambda doc: fld(doc, "customers", "credit").update(type="text"),
                   lambda doc: form(doc, "customers")["fields"].remove(fld(doc, "customers", "note")),
                   lambda doc: None):
        apply_app(shop, changed(mutate))
    final = installed(shop)
    with shop.begin() as conn:
        r = Records(conn, final)
        now = {x["fields"]["name"]: x for x in r.list("customers").records}
        assert {n: x["version"] for n, x in now.items()} == versions
        assert {n: r.history("customers", x["id"]) for n, x in now.items()} == histories
        updated = r.update("customers", now["乙"]["id"], {"credit": "21"}, expected_version=2)
        assert updated["version"] == 3 and updated["fields"]["note"] == "不是数字"
        assert r.history("customers", updated["id"])[-1]["changes"]["credit"] == {"from": "20.50", "to": "21.00"}


def test_rename_a_form_with_subform_and_links_while_renaming_and_removing_them(shop):
    before = records(shop, "orders")

    def mutate(doc):
        orders = form(doc, "orders")
        orders.update(key="sales", renamed_from="orders")
        fld(doc, "sales", "items").update(key="lines", renamed_from="items")
        orders["fields"].remove(fld(doc, "sales", "tags"))
    new = changed(mutate)
    assert steps(shop, new) == ["rename_form", "rename_field", "archive_field"]
    apply_app(shop, new)
    tables = set(sa.inspect(shop).get_table_names())
    assert {"shop__sales", "shop__sales__lines"} <= tables and not [t for t in tables if "orders" in t]
    indexes = {i["name"] for i in sa.inspect(shop).get_indexes("shop__sales__lines")}
    assert indexes == {"ix__shop__sales__lines__parent_id__position"}
    after = records(shop, "sales")
    assert {t: f["lines"] for t, f in after.items()} == {t: f["items"] for t, f in before.items()}
    (links,) = archive(shop, form_key="sales", field_key="tags")
    with shop.connect() as conn:
        kept = conn.execute(sa.text(f'SELECT count(*) FROM "{links["physical_name"]}"')).scalar_one()
    assert kept == 3


def test_a_lookup_becoming_stored_starts_empty_and_a_stored_field_becoming_a_lookup_is_archived(shop):
    def stored_code(doc):
        replace(fld(doc, "orders", "customer_code"), type="text", label=L("客户编码"))
    new = changed(stored_code)
    report = plan_app(shop, new)
    assert [(s.kind, s.data["mode"]) for s in report.plan.steps] == [("retype_field", "add")]
    apply_app(shop, new)
    assert {f["customer_code"] for f in records(shop, "orders").values()} == {None}

    def amount_as_lookup(doc):
        stored_code(doc)
        replace(fld(doc, "orders", "amount"), type="lookup", label=L("额度"), relation="customer", field="credit")
    original = raw_column(shop, "shop__orders", "amount")
    as_lookup = changed(amount_as_lookup)
    report = plan_app(shop, as_lookup)
    assert [(s.kind, s.data["mode"]) for s in report.plan.steps] == [("retype_field", "archive")]
    assert report.previews[0] == {"kind": "archive", "values": 2}
    apply_app(shop, as_lookup)
    assert records(shop, "orders")["O1"]["amount"] == Decimal("10.00")   # 甲's credit, read through
    (kept,) = archive(shop, field_key="amount")
    assert raw_column(shop, "shop__orders", kept["physical_name"]) == original
