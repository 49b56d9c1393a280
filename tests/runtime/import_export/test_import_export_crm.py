"""The flagship app through spreadsheets, on SQLite and PostgreSQL: members and
departments by name, account or path; relations by phone and serial number; and
every form of a seeded CRM exported and imported into an empty install giving back
the same records."""
from __future__ import annotations

import csv
import json

import pytest

from engine.compiled.app import compiled
from engine.validation import load_definition
from runtime.apps import apply_app
from runtime.import_export import export_records, import_file
from runtime.import_export.directory import Directory
from runtime.org import Org
from runtime.records import Records
from runtime.seed import seed_app
from tests.support.databases import second_db  # noqa: F401  (a fixture)
from tests.support.paths import FLAGSHIP_APP as APP_FILE

# Forms in an order where every relation points at a form imported before it
# (or at its own form: customers referred by customers).
FORM_ORDER = ["referral_campaigns", "customers", "contacts", "referrals", "leads", "opportunities", "contracts",
              "payments", "followups", "tickets", "orders", "reward_ledger"]


def install(engine):
    app = load_definition(APP_FILE)
    apply_app(engine, app)
    return app


@pytest.fixture
def crm(db):
    return db, install(db)


def write_csv(path, rows):
    with open(path, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)
    return path


def make_org(engine):
    with engine.begin() as conn:
        org = Org(conn)
        org.users.add_many([{"account": "li.lei", "name": "李雷"}, {"account": "wang.qiang1", "name": "王强"},
                            {"account": "wang.qiang2", "name": "王强"}])
        hq = org.departments.create("总部")
        for parent in ("销售部", "市场部"):
            org.departments.create("华东组", org.departments.create(parent, hq).id)


def test_members_and_departments_by_name_account_or_path(crm, tmp_path):
    db, app = crm
    make_org(db)
    path = write_csv(tmp_path / "c.csv", [
        ["客户名称", "电话", "负责销售", "所属部门"],
        ["甲", "13800138000", "李雷", "总部/销售部/华东组"],
        ["乙", "13900139000", "王强", "华东组"],
        ["丙", "13700137000", "王强 (wang.qiang2)", "总部/市场部/华东组"],
        ["丁", "13600136000", "LI.LEI", "销售部"],
        ["戊", "13500135000", "韩梅梅", "研发部"]])
    report = import_file(db, "crm_referral", "customers", path, skip_bad_rows=True)
    assert report.rows_imported == 3 and report.rows_refused == 2
    reasons = {(p.row, p.column): p.reason for p in report.problems}
    assert "王强" in reasons[(3, "负责销售")] and "wang.qiang1、wang.qiang2" in reasons[(3, "负责销售")]
    assert "总部/市场部/华东组" in reasons[(3, "所属部门")] and "完整路径" in reasons[(3, "所属部门")]
    assert "韩梅梅" in reasons[(6, "负责销售")] and "研发部" in reasons[(6, "所属部门")]
    out = tmp_path / "out.csv"
    export_records(db, "crm_referral", "customers", out, sort="phone")
    with open(out, encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["客户名称"], r["负责销售"], r["所属部门"]) for r in rows] == [
        ("丁", "李雷", "销售部"), ("丙", "王强 (wang.qiang2)", "总部/市场部/华东组"),
        ("甲", "李雷", "总部/销售部/华东组")]


def test_relations_by_phone_and_serial_number_and_file_columns_left_out(crm, tmp_path):
    db, app = crm
    with db.begin() as conn:
        r = Records(conn, app)
        a = r.create("customers", {"name": "同名", "phone": "13800138000"})
        r.create("customers", {"name": "同名", "phone": "13900139000"})
        contract = r.create("contracts", {"title": "年度服务", "customer": a["id"], "amount": "1000",
                                          "signed_on": "2026-01-05", "items": [{"product": "服务", "quantity": 1,
                                                                               "unit_price": "1000"}]})
    number = contract["fields"]["contract_no"]
    path = write_csv(tmp_path / "p.csv", [["合同", "客户", "回款金额", "回款日期", "回单"],
                                          [number, "138 0013 8000", "500", "2026/2/1", "回单.jpg"],
                                          [number, "同名", "500", "2026/3/1", ""]])
    report = import_file(db, "crm_referral", "payments", path, skip_bad_rows=True)
    assert report.rows_imported == 1 and report.notes == [
        "column '回单' (receipt) holds files, which are uploaded, not imported from a spreadsheet"]
    assert "匹配到多条" in report.problems[0].reason and report.problems[0].row == 3
    with db.connect() as conn:
        payment = Records(conn, app).list("payments").records[0]
    assert payment["fields"]["contract"] == contract["id"] and payment["fields"]["customer"] == a["id"]
    # Exported, the shared name carries the phone, so it can be imported again; here the
    # payment number it keeps is taken already.
    out = tmp_path / "out.csv"
    export_records(db, "crm_referral", "payments", out)
    assert "同名 (13800138000)" in out.read_text(encoding="utf-8-sig")
    report = import_file(db, "crm_referral", "payments", out, dry_run=True)
    assert [(p.column, p.reason) for p in report.problems] == [
        ("回款编号", f"该值“{payment['fields']['payment_no']}”已存在，必须唯一")]


def copy_org(source, target):
    with source.connect() as conn:
        users = [{"account": u.account, "name": u.name} for u in Org(conn).users.list(active=None, limit=1000).users]
        index = Org(conn).departments.index()
        paths = [index.path(d.id) for d in sorted(index.by_id.values(), key=lambda d: index.depth(d.id))]
    with target.begin() as conn:
        org = Org(conn)
        org.users.add_many(users)
        for path in paths:
            parent, _, name = path.rpartition("/")
            org.departments.create(name, parent or None)


def snapshot(engine, app, form_key) -> list[str]:
    """The records of a form as comparable text: relations by title, members and
    departments by name, subform rows without their ids, no system columns."""
    types = {f.key: compiled(app).types.of(f) for f in app.require_form(form_key).fields}
    # Fields computed with the clock (days since the last follow-up) differ when the import
    # runs on another day than the seed; every other computed field must come out equal.
    clocked = {node.field for node in compiled(app).graph.volatile if node.form == form_key}
    rows = []
    with engine.connect() as conn:
        records, directory = Records(conn, app), Directory(conn)
        cursor = None
        while True:
            page = records.list(form_key, page_size=500, cursor=cursor, with_count=False)
            for record in page.records:
                values = {}
                for key, value in record["fields"].items():
                    if key in clocked:
                        continue
                    ref = types[key].references(value) if value not in (None, []) else None
                    if key in record["titles"]:
                        ids = value if isinstance(value, list) else [value]
                        value = [record["titles"][key][i]["title"] for i in ids]
                    elif ref is not None and ref.kind in ("users", "departments", "files"):
                        names = directory.names({ref.kind: set(ref.ids)})[ref.kind]
                        value = [names[i] for i in ref.ids]
                    elif isinstance(value, list) and value and isinstance(value[0], dict):
                        value = [{k: v for k, v in row.items() if k != "id"} for row in value]
                    values[key] = value
                rows.append(json.dumps(values, ensure_ascii=False, sort_keys=True, default=str))
            cursor = page.next_cursor
            if not cursor:
                break
    return sorted(rows)


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_a_seeded_crm_survives_export_and_import_into_an_empty_install(crm, second_db, tmp_path, fmt):
    db, app = crm
    counts = seed_app(db, "crm_referral", 40, seed=7)
    install(second_db)
    copy_org(db, second_db)
    for form_key in FORM_ORDER:
        out = tmp_path / f"{form_key}.{fmt}"
        assert export_records(db, "crm_referral", form_key, out) == counts[form_key]
        report = import_file(second_db, "crm_referral", form_key, out)
        assert report.ok and report.rows_imported == counts[form_key], (form_key, report.problems[:3])
    for form_key in FORM_ORDER:
        assert snapshot(db, app, form_key) == snapshot(second_db, app, form_key), form_key
    with second_db.begin() as conn:   # imported serial numbers are never handed out again
        r = Records(conn, app)
        customer = r.list("customers", page_size=1).records[0]["id"]
        new = r.create("contracts", {"title": "新合同", "customer": customer, "amount": "1", "signed_on": "2026-06-30",
                                     "items": [{"product": "服务", "quantity": 1, "unit_price": "1"}]})
        numbers = {c["fields"]["contract_no"] for c in r.list("contracts", page_size=500).records}
    assert len(numbers) == counts["contracts"] + 1 and new["fields"]["contract_no"] in numbers


def test_xlsx_exports_keep_dates_numbers_and_chinese(crm, tmp_path):
    from datetime import datetime
    from decimal import Decimal

    from openpyxl import load_workbook
    db, app = crm
    with db.begin() as conn:
        r = Records(conn, app)
        customer = r.create("customers", {"name": "上海明达科技", "phone": "13800138000"})
        r.create("contracts", {"title": "年度服务（二期）", "customer": customer["id"], "amount": "1234567.89",
                               "signed_on": "2026-01-05", "items": [{"product": "实施服务", "quantity": 3,
                                                                     "unit_price": "2500"}]})
    out = tmp_path / "contracts.xlsx"
    assert export_records(db, "crm_referral", "contracts", out) == 1
    book = load_workbook(out)
    main, items = book["合同"], book["产品明细"]
    header = [c.value for c in main[1]]
    row = dict(zip(header, (c for c in main[2])))
    assert row["合同名称"].value == "年度服务（二期）" and row["客户"].value == "上海明达科技"
    assert row["签订日期"].value == datetime(2026, 1, 5) and row["签订日期"].number_format == "yyyy-mm-dd"
    assert row["合同金额"].data_type == "n" and Decimal(str(row["合同金额"].value)) == Decimal("1234567.89")
    assert row["合同金额"].number_format == "0.00"
    assert [c.value for c in items[1]] == ["主表行号", "产品", "数量", "单价", "小计"]
    assert [c.value for c in items[2]] == [2, "实施服务", 3, 2500, 7500]     # 小计: a formula column
    assert main.freeze_panes == "A2" and main["A1"].font.bold
