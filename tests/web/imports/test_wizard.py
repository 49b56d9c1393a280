"""The import wizard end to end: upload, the proposed mapping and a change to it, the dry
run listing every bad cell, the run with its progress, the reports (CSV and XLSX); the
hostile cells escaped on every page and kept as text in the report."""
from __future__ import annotations

import csv
import io
import re

from openpyxl import load_workbook

from tests.support.import_files import BASE, PHONE_COLUMN, customers, customers_csv, post, upload

RAW = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>"]


def selected(body: str, index: int) -> str:
    block = body.split(f'name="map_{index}"')[1].split("</select>")[0]
    found = re.search(r'<option value="([^"]*)" selected>', block)
    return found.group(1) if found else ""


def assert_escaped(body: str):
    for raw in RAW:
        assert raw not in body
    assert "49" not in re.sub(r"\d{3,}", "", body.split("<main")[1])


def test_the_wizard_end_to_end(admin, db, tmp_path):
    assert admin.get(BASE).status_code == 200
    answer = upload(admin, customers_csv(tmp_path))
    assert answer.status_code == 302
    run = answer.headers["Location"]
    body = admin.get(run).get_data(as_text=True)
    assert selected(body, 0) == "name" and selected(body, 2) == "level" and selected(body, 3) == "owner"
    assert selected(body, PHONE_COLUMN) == "" and selected(body, 4) == ""       # 手机 and 内部编号: no field
    assert "客户名称 *" in body                                                   # required fields marked
    assert_escaped(body)                                                        # sample cells

    checked = post(admin, f"{run}/check", {"map_0": "name", "map_1": "phone", "map_2": "level", "map_3": "owner"})
    assert checked.status_code == 302
    body = admin.get(run).get_data(as_text=True)
    assert selected(body, PHONE_COLUMN) == "phone"                               # the change is kept
    problems = body.split('class="table problems"')[1].split("</table>")[0]
    assert "“1381234”不是有效的电话号码" in problems
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in problems or "&quot;&gt;&lt;img" in problems
    assert "找不到账号或姓名为“{{7*7}}”的成员" in problems
    assert problems.count("<tr>") == 3 + 1                                       # header + 3 bad cells of row 4
    assert_escaped(body)
    assert customers(db) == []                                                   # a dry run writes nothing

    report = admin.get(f"{run}/report.csv?of=dry")
    assert report.status_code == 200 and "attachment" in report.headers["Content-Disposition"]
    lines = list(csv.reader(io.StringIO(report.get_data(as_text=True).lstrip("\ufeff"))))
    assert lines[0] == ["行号 row", "列 column", "值 value", "原因 reason"] and len(lines) == 4
    assert ["4", "客户等级", '"><img src=x onerror=alert(1)>'] == lines[2][:3]

    ran = post(admin, f"{run}/run", {"skip_bad_rows": "1"})
    assert ran.status_code == 302
    status = admin.get(f"{run}/status").get_json()
    assert status["stage"] == "done" and status["rows_read"] == 3 and status["share"] == 1.0
    assert status["result"]["rows_imported"] == 2 and status["result"]["rows_refused"] == 1
    names = sorted(r["fields"]["name"] for r in customers(db))
    assert names == ["<script>alert(1)</script>", "上海明达科技有限公司"]
    assert {r["fields"]["phone"] for r in customers(db)} == {"13812345678", "13987654321"}
    done = admin.get(run).get_data(as_text=True)
    assert "2" in done.split('id="result"')[1] and "report.xlsx" in done
    assert_escaped(done)

    book = load_workbook(io.BytesIO(admin.get(f"{run}/report.xlsx?of=run").data))
    rows = list(book.active.iter_rows(values_only=True))
    assert rows[0] == ("行号 row", "列 column", "值 value", "原因 reason") and len(rows) == 4
    cells = [c for row in book.active.iter_rows() for c in row]
    assert all(c.data_type == "s" for c in cells)                                # text cells, never formulas
    assert post(admin, f"{run}/run", {}).status_code == 409                      # no second run


def test_all_or_nothing_keeps_nothing_when_a_row_is_refused(admin, db, tmp_path):
    run = upload(admin, customers_csv(tmp_path)).headers["Location"]
    post(admin, f"{run}/check", {"map_0": "name", "map_1": "phone", "map_2": "level", "map_3": "owner"})
    post(admin, f"{run}/run", {})
    assert admin.get(f"{run}/status").get_json()["result"]["committed"] is False
    assert customers(db) == []
    page = admin.get(run, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Nothing was imported: rows were refused and the import was all or nothing." in page


def test_mapping_mistakes_are_shown_beside_the_columns(admin, tmp_path):
    run = upload(admin, customers_csv(tmp_path)).headers["Location"]
    twice = post(admin, f"{run}/check", {"map_0": "name", "map_1": "name"})
    assert twice.status_code == 422
    body = twice.get_data(as_text=True)
    assert 'data-field="map_1">列“客户名称”和“手机”都对应到字段“客户名称”' in body
    assert selected(body, 1) == "name"                                           # the choice is kept
    missing = post(admin, f"{run}/check", {"map_1": "phone"}).get_data(as_text=True)
    assert "必填字段“客户名称”没有对应的列" in missing
    unknown = post(admin, f"{run}/check", {"map_0": "name", "map_1": "no_such_field"})
    assert unknown.status_code == 422 and "no_such_field" in unknown.get_data(as_text=True)
