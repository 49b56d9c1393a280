"""Exports write a lookup of a relation (an order's `customer.referrer`) as the title of
the record it points at, as they write the relation itself, never its id (issue #8)."""
from __future__ import annotations

import pytest
from openpyxl import load_workbook

from runtime.import_export import export_records, import_file
from runtime.records import Records
from tests.runtime.import_export.trial_app import install_trial, read_csv


@pytest.fixture
def orders(db):
    app = install_trial(db)
    with db.begin() as conn:
        r = Records(conn, app)
        jia = r.create("customers", {"name": "甲", "phone": "13800000001"})["id"]
        twin = r.create("customers", {"name": "同名", "phone": "13800000002"})["id"]
        r.create("customers", {"name": "同名", "phone": "13800000003"})
        yi = r.create("customers", {"name": "乙", "referrer": jia, "phone": "13800000004"})["id"]
        bing = r.create("customers", {"name": "丙", "referrer": twin})["id"]
        r.bulk_create("orders", [{"title": "O1", "customer": yi}, {"title": "O2", "customer": bing},
                                 {"title": "O3", "customer": jia}])
    return db, app


def test_csv_exports_name_the_referrer_like_the_relation(orders, tmp_path):
    db, _ = orders
    out = tmp_path / "o.csv"
    assert export_records(db, "trial", "orders", out, sort="title") == 3
    assert read_csv(out) == [
        ["标题", "客户", "客户的推荐人", "客户电话"],
        ["O1", "乙", "甲", "13800000004"],
        ["O2", "丙", "同名 (13800000002)", ""],    # a title several customers share, with a unique value
        ["O3", "甲", "", "13800000001"]]


def test_xlsx_exports_write_the_title_as_text(orders, tmp_path):
    db, _ = orders
    out = tmp_path / "o.xlsx"
    assert export_records(db, "trial", "orders", out, sort="title", lang="en") == 3
    sheet = load_workbook(out).active
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[0] == ["Title", "Customer", "Customer's referrer", "Customer phone"]
    assert [row[2] for row in rows[1:]] == ["甲", "同名 (13800000002)", None]


def test_the_export_imports_back_with_the_lookup_left_out(orders, tmp_path):
    db, app = orders
    out = tmp_path / "o.csv"
    export_records(db, "trial", "orders", out, sort="title")
    report = import_file(db, "trial", "orders", out)
    assert report.ok and report.rows_imported == 3
    assert "column '客户的推荐人' (customer_referrer) is read through a relation and is not imported" in report.notes
    with db.connect() as conn:
        titles = sorted(o["fields"]["title"] for o in Records(conn, app).list("orders", page_size=10).records)
    assert titles == ["O1", "O1", "O2", "O2", "O3", "O3"]
