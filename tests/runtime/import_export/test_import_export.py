import csv
from decimal import Decimal

import pytest
from openpyxl import Workbook, load_workbook

from runtime.import_export import export_records, import_file
from runtime.import_export.mapping import MappingError
from runtime.import_export.readers import ReadError
from runtime.records import Records
from tests.support.records_app import install_shop


@pytest.fixture
def shop(db):
    return db, install_shop(db)


def write_csv(path, rows, encoding="utf-8"):
    with open(path, "w", encoding=encoding, newline="") as fh:
        csv.writer(fh).writerows(rows)
    return path


def names(db, app, form="customers"):
    with db.connect() as conn:
        return sorted(r["fields"]["name"] for r in Records(conn, app).list(form, page_size=500).records)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_csv_by_label_in_every_encoding(shop, tmp_path, encoding):
    db, app = shop
    path = write_csv(tmp_path / "c.csv", [["名称", "Code", "额度"], ["张三", "Z1", "1,234.50"],
                                          ["李四", "L2", "￥88"]], encoding)
    report = import_file(db, "shop", "customers", path)
    assert report.ok and report.committed and report.rows_imported == 2
    with db.connect() as conn:
        page = Records(conn, app).list("customers", sort="name")
    assert [(r["fields"]["name"], r["fields"]["credit"]) for r in page.records] == [
        ("张三", Decimal("1234.50")), ("李四", Decimal("88.00"))]


def test_dry_run_reports_every_bad_cell_and_writes_nothing(shop, tmp_path):
    db, app = shop
    path = write_csv(tmp_path / "c.csv", [["name", "code", "credit"], ["A", "X", "abc"],
                                          ["", "Y", "-1"], ["C", "X", "5"], ["D", "Z", "7"]])
    report = import_file(db, "shop", "customers", path, dry_run=True, lang="en")
    assert not report.committed and report.rows_refused == 3 and report.rows_valid == 1
    found = {(p.row, p.column, p.value) for p in report.problems}
    assert found == {(2, "credit", "abc"), (3, "name", ""), (3, "credit", "-1"), (4, "code", "X")}
    assert any("is already used" in p.reason for p in report.problems)   # X twice in the file
    assert names(db, app) == []


def test_all_or_nothing_keeps_nothing_when_a_row_is_bad(shop, tmp_path):
    db, app = shop
    path = write_csv(tmp_path / "c.csv", [["name", "credit"], ["A", "1"], ["B", "oops"]])
    report = import_file(db, "shop", "customers", path)
    assert not report.committed and report.rows_imported == 0 and report.rows_refused == 1
    assert names(db, app) == []


def test_skip_bad_rows_keeps_the_good_ones_and_writes_a_report(shop, tmp_path):
    db, app = shop
    path = write_csv(tmp_path / "c.csv", [["name", "credit"], ["A", "1"], ["B", "oops"], ["C", "3"]])
    report = import_file(db, "shop", "customers", path, skip_bad_rows=True,
                         report_path=tmp_path / "bad.csv", batch_size=2)
    assert report.committed and report.rows_imported == 2 and report.rows_refused == 1
    assert names(db, app) == ["A", "C"]
    with open(tmp_path / "bad.csv", encoding="utf-8-sig") as fh:
        rows = list(csv.reader(fh))
    assert rows[1][:3] == ["3", "credit", "oops"]


def test_relations_matched_by_title_and_unique_field(shop, tmp_path):
    db, app = shop
    with db.begin() as conn:
        r = Records(conn, app)
        r.create("customers", {"name": "王五", "code": "W5"})
        r.create("customers", {"name": "同名", "code": "S1"})
        r.create("customers", {"name": "同名", "code": "S2"})
        r.bulk_create("tags", [{"name": "新"}, {"name": "大"}])
    path = write_csv(tmp_path / "o.csv", [["title", "customer", "tags"], ["O1", "王五", "新、大"],
                                          ["O2", "S2", ""], ["O3", "同名", "小"]])
    report = import_file(db, "shop", "orders", path, skip_bad_rows=True)
    assert report.rows_imported == 2
    reasons = sorted(p.reason for p in report.problems)
    assert any("多条" in x for x in reasons) and any("找不到" in x for x in reasons)
    with db.connect() as conn:
        orders = Records(conn, app).list("orders", sort="title").records
    assert orders[0]["fields"]["customer_code"] == "W5" and len(orders[0]["fields"]["tags"]) == 2
    assert orders[1]["fields"]["customer_code"] == "S2"


def test_unknown_columns_are_refused_with_a_suggestion(shop, tmp_path):
    db, _ = shop
    path = write_csv(tmp_path / "c.csv", [["名 称", "编玛"], ["A", "1"]])
    with pytest.raises(MappingError, match="did you mean '编码'"):
        import_file(db, "shop", "customers", path)
    mapping = tmp_path / "map.yaml"
    mapping.write_text("编玛: code\n", encoding="utf-8")
    assert import_file(db, "shop", "customers", path, mapping=mapping).rows_imported == 1


def test_bad_files_are_refused_clearly(shop, tmp_path):
    db, _ = shop
    (tmp_path / "x.csv").write_bytes(b"\x00\x01\x02binary")
    with pytest.raises(ReadError, match="binary"):
        import_file(db, "shop", "customers", tmp_path / "x.csv")
    (tmp_path / "e.csv").write_bytes(b"")
    with pytest.raises(ReadError, match="empty"):
        import_file(db, "shop", "customers", tmp_path / "e.csv")
    (tmp_path / "b.xlsx").write_bytes(b"not a zip")
    with pytest.raises(ReadError, match="not a readable .xlsx"):
        import_file(db, "shop", "customers", tmp_path / "b.xlsx")
    (tmp_path / "x.xls").write_bytes(b"old excel")
    with pytest.raises(ReadError, match="use a .csv or .xlsx"):
        import_file(db, "shop", "customers", tmp_path / "x.xls")
    with pytest.raises(ReadError, match="not found"):
        import_file(db, "shop", "customers", tmp_path / "missing.csv")


def test_xlsx_cells_keep_types(shop, tmp_path):
    db, app = shop
    book = Workbook()
    sheet = book.active
    sheet.append(["名称", "额度", "编码"])
    sheet.append(["甲", 12.5, 42])
    sheet.append(["乙", None, "K2"])
    book.save(tmp_path / "c.xlsx")
    assert import_file(db, "shop", "customers", tmp_path / "c.xlsx").rows_imported == 2
    with db.connect() as conn:
        rec = {r["fields"]["name"]: r["fields"] for r in Records(conn, app).list("customers").records}
    assert rec["甲"]["credit"] == Decimal("12.50") and rec["甲"]["code"] == "42"
    assert rec["乙"]["credit"] == Decimal("100.00")    # empty cell: the default


INJECTION = ["=1+1", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\tx"]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_neutralises_formulas_and_round_trips(shop, tmp_path, fmt, db_url):
    db, app = shop
    with db.begin() as conn:
        r = Records(conn, app)
        c1 = r.create("customers", {"name": "王五", "code": "W5", "credit": "1234.5"})
        r.bulk_create("customers", [{"name": v, "note": v} for v in INJECTION])
        tag = r.create("tags", {"name": "新"})
        r.create("orders", {"title": "订单一", "customer": c1["id"], "tags": [tag["id"]], "amount": "9.9",
                            "items": [{"product": "笔", "qty": 2}, {"product": "纸", "qty": 3}]})
    out = tmp_path / f"customers.{fmt}"
    assert export_records(db, "shop", "customers", out, filter=None) == 1 + len(INJECTION)
    if fmt == "csv":
        text = out.read_text(encoding="utf-8-sig")
        assert "'=1+1" in text and "\n=1+1" not in text
    else:
        sheet = load_workbook(out).active
        kinds = {c.value: c.data_type for row in sheet.iter_rows(min_row=2) for c in row if c.value}
        assert kinds["=1+1"] == "s" and kinds["@SUM(A1)"] == "s"   # text cells, not formulas
        assert kinds[1234.5] == "n"
    orders_out = tmp_path / f"orders.{fmt}"
    assert export_records(db, "shop", "orders", orders_out) == 1
    # Re-import into an empty install of the same app.
    from engine.storage.db import make_engine
    from engine.storage.system_upgrade import upgrade_system
    fresh_url = f"sqlite:///{tmp_path / 'fresh.db'}"
    fresh = make_engine(fresh_url)
    upgrade_system(fresh)
    fresh_app = install_shop(fresh)
    assert import_file(fresh, "shop", "customers", out).rows_imported == 1 + len(INJECTION)
    with fresh.begin() as conn:
        Records(conn, fresh_app).create("tags", {"name": "新"})
    assert import_file(fresh, "shop", "orders", orders_out).rows_imported == 1
    with db.connect() as a, fresh.connect() as b:
        before = Records(a, app).list("customers", sort="name", page_size=100).records
        after = Records(b, fresh_app).list("customers", sort="name", page_size=100).records
        orders = [Records(c, a_).list("orders").records[0]["fields"] for c, a_ in ((a, app), (b, fresh_app))]
    strip = lambda recs: [{k: v for k, v in r["fields"].items() if k != "referrer"} for r in recs]
    assert strip(before) == strip(after)
    items = [[(i["product"], i["qty"]) for i in o["items"]] for o in orders]
    assert items[0] == items[1] == [("笔", Decimal(2)), ("纸", Decimal(3))]
    assert orders[1]["customer_code"] == "W5" and orders[1]["amount"] == Decimal("9.90")
    fresh.dispose()


def read_csv(path):
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.reader(fh))


def by_name(db, app, form="customers"):
    with db.connect() as conn:
        return {r["fields"].get("name") or r["fields"].get("title"): r
                for r in Records(conn, app).list(form, page_size=500).records}


def test_a_referral_chain_in_one_file_whatever_its_order(shop, tmp_path):
    db, app = shop
    path = write_csv(tmp_path / "c.csv", [["名称", "编码", "推荐人"], ["丙", "C3", "乙"], ["乙", "C2", "甲"],
                                          ["甲", "C1", ""]])
    assert import_file(db, "shop", "customers", path, dry_run=True).ok
    assert names(db, app) == []
    report = import_file(db, "shop", "customers", path, batch_size=1)
    assert report.ok and report.rows_imported == 3
    rec = by_name(db, app)
    assert rec["丙"]["fields"]["referrer"] == rec["乙"]["id"]
    assert rec["乙"]["fields"]["referrer"] == rec["甲"]["id"] and rec["甲"]["fields"]["referrer"] is None
    with db.connect() as conn:   # the reference was set by a second, recorded change
        history = Records(conn, app).history("customers", rec["丙"]["id"])
    assert [h["action"] for h in history] == ["create", "update"]
    assert history[1]["changes"]["referrer"]["to"] == rec["乙"]["id"]


def test_unknown_referrers_refuse_the_rows_that_depend_on_them(shop, tmp_path):
    db, app = shop
    rows = [["名称", "编码", "推荐人"], ["甲", "C1", ""], ["乙", "C2", "无名氏"], ["丙", "C3", "乙"],
            ["丁", "C4", "甲"]]
    path = write_csv(tmp_path / "c.csv", rows)
    report = import_file(db, "shop", "customers", path)
    assert not report.committed and report.rows_refused == 1 and names(db, app) == []
    assert [(p.row, p.column, p.value) for p in report.problems] == [(3, "推荐人", "无名氏")]
    report = import_file(db, "shop", "customers", path, skip_bad_rows=True, report_path=tmp_path / "r.csv")
    assert report.committed and report.passes == 2 and report.rows_imported == 2 and report.rows_refused == 2
    assert names(db, app) == ["丁", "甲"]
    found = {(p.row, p.value): p.reason for p in report.problems}
    assert "找不到关联记录“无名氏”" in found[(3, "无名氏")] and "第 3 行" in found[(4, "乙")]
    assert [r[0] for r in read_csv(tmp_path / "r.csv")[1:]] == ["3", "4"]
    rec = by_name(db, app)
    assert rec["丁"]["fields"]["referrer"] == rec["甲"]["id"]


def test_subform_rows_on_the_lines_below_their_record(shop, tmp_path):
    db, app = shop
    with db.begin() as conn:
        Records(conn, app).create("customers", {"name": "王五", "code": "W5"})
    path = write_csv(tmp_path / "o.csv", [
        ["标题", "客户", "明细.产品", "明细.数量"],
        ["O1", "王五", "笔", "2"], ["", "", "纸", "3"],
        ["O2", "W5", "墨", "x"], ["", "", "砚", "0"],
        ["O3", "", "", ""]])
    report = import_file(db, "shop", "orders", path, skip_bad_rows=True, lang="en")
    assert report.rows_read == 3 and report.rows_imported == 2 and report.rows_refused == 1
    assert {(p.row, p.column, p.value) for p in report.problems} == {(4, "明细.数量", "x"), (5, "明细.数量", "0")}
    assert any("at least 1" in p.reason for p in report.problems)
    orders = by_name(db, app, "orders")
    assert [(i["product"], i["qty"]) for i in orders["O1"]["fields"]["items"]] == [("笔", 2), ("纸", 3)]
    assert orders["O3"]["fields"]["items"] == []


def test_subform_sheets_of_a_workbook(shop, tmp_path):
    db, app = shop
    book = Workbook()
    main = book.active
    main.title = "订单"
    main.append(["标题", "金额"])
    main.append(["O1", 9.5])
    main.append(["O2", 3])
    items = book.create_sheet("明细")
    items.append(["主表行号", "产品", "数量"])
    items.append([2, "笔", 2])
    items.append([3, "纸", 1])
    items.append([3, "墨", 4])
    items.append([9, "砚", 1])     # no record on main row 9
    book.save(tmp_path / "o.xlsx")
    report = import_file(db, "shop", "orders", tmp_path / "o.xlsx", report_path=tmp_path / "r.csv")
    assert not report.committed and report.orphan_rows == 1 and report.rows_refused == 0
    assert read_csv(tmp_path / "r.csv")[1][:3] == ["明细", "5", ""]
    report = import_file(db, "shop", "orders", tmp_path / "o.xlsx", skip_bad_rows=True)
    assert report.committed and report.rows_imported == 2
    orders = by_name(db, app, "orders")
    assert [(i["product"], i["qty"]) for i in orders["O2"]["fields"]["items"]] == [("纸", 1), ("墨", 4)]


def test_a_mapping_file(shop, tmp_path):
    db, app = shop
    with db.begin() as conn:
        r = Records(conn, app)
        r.create("customers", {"name": "同名", "code": "K1"})
        r.create("customers", {"name": "同名", "code": "K2"})
    path = write_csv(tmp_path / "o.csv", [["订单名称", "客户编号", "品名", "件数", "内部备注"],
                                          ["O1", "K2", "笔", "2", "不导入"]])
    mapping = tmp_path / "map.yaml"
    mapping.write_text("订单名称: title\n客户编号: {field: customer, match: code}\n品名: items.product\n"
                       "件数: 明细.数量\n内部备注: null\n不存在的列: amount\n", encoding="utf-8")
    report = import_file(db, "shop", "orders", path, mapping=mapping)
    assert report.ok and report.rows_imported == 1
    assert report.notes == ["the mapping names column '不存在的列', which the file does not have"]
    order = by_name(db, app, "orders")["O1"]["fields"]
    assert order["customer_code"] == "K2" and order["items"] == [{"id": order["items"][0]["id"], "product": "笔",
                                                                  "qty": Decimal(2)}]
    (tmp_path / "bad.json").write_text('{"订单名称": 3, "客户编号": {"field": "customer", "by": "code"}}')
    with pytest.raises(MappingError) as exc:
        import_file(db, "shop", "orders", path, mapping=tmp_path / "bad.json")
    assert "'订单名称': give a field key" in str(exc.value) and "unknown: by" in str(exc.value)
    (tmp_path / "broken.yaml").write_text("a: [b\n", encoding="utf-8")
    with pytest.raises(MappingError, match="not valid YAML or JSON at line 2"):
        import_file(db, "shop", "orders", path, mapping=tmp_path / "broken.yaml")
    (tmp_path / "nomatch.yaml").write_text(mapping.read_text(encoding="utf-8").replace("match: code", "match: credit_limit"),
                                           encoding="utf-8")
    with pytest.raises(MappingError, match="match 'credit_limit' is not a field of form 'customers'"):
        import_file(db, "shop", "orders", path, mapping=tmp_path / "nomatch.yaml")


def test_a_missing_required_column_is_refused_before_reading_rows(shop, tmp_path):
    db, _ = shop
    path = write_csv(tmp_path / "c.csv", [["编码", "额度"], ["X", "1"]])
    with pytest.raises(MappingError, match="no column for the required field 'name'"):
        import_file(db, "shop", "customers", path)
    path = write_csv(tmp_path / "o.csv", [["标题", "明细.数量"], ["O", "1"]])
    with pytest.raises(MappingError, match=r"no column for items.product"):
        import_file(db, "shop", "orders", path)


def test_progress_is_reported_per_batch_with_the_share_of_the_file(shop, tmp_path):
    db, _ = shop
    path = write_csv(tmp_path / "c.csv", [["名称"]] + [[f"客户{i}"] for i in range(2500)])
    calls = []
    import_file(db, "shop", "customers", path, batch_size=1000, dry_run=True,
                progress=lambda done, share: calls.append((done, share)))
    assert [done for done, _ in calls] == [1000, 2000, 2500]
    shares = [share for _, share in calls]
    assert shares == sorted(shares) and 0 < shares[0] < shares[1] < 1 and shares[-1] == 1.0


def test_export_of_a_multiple_relation_and_subforms_to_csv_lines(shop, tmp_path):
    db, app = shop
    with db.begin() as conn:
        r = Records(conn, app)
        c = r.create("customers", {"name": "王五", "code": "W5"})
        t1, t2 = r.bulk_create("tags", [{"name": "新"}, {"name": "大"}])
        r.create("orders", {"title": "订单一", "customer": c["id"], "tags": [t1["id"], t2["id"]], "amount": "-9.9",
                            "items": [{"product": "=笔", "qty": 2}, {"product": "纸", "qty": 3}]})
    out = tmp_path / "o.csv"
    assert export_records(db, "shop", "orders", out, lang="en") == 1
    assert read_csv(out) == [
        ["Title", "Customer", "Customer code", "Tags", "Amount", "Items.Product", "Items.Qty"],
        ["订单一", "王五", "W5", "新、大", "-9.90", "'=笔", "2"],
        ["", "", "", "", "", "纸", "3"]]
