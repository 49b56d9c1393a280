"""What an import reports (issue #8): a relation cell that names no record once, with
its row, column, value and what to write instead; the sheet of every line of an XLSX
report, the main sheet's too."""
from __future__ import annotations

import pytest
from openpyxl import Workbook

from runtime.import_export import import_file
from runtime.records import Records
from tests.runtime.import_export.trial_app import install_trial, read_csv, write_csv


@pytest.fixture
def trial(db):
    app = install_trial(db)
    with db.begin() as conn:
        Records(conn, app).create("customers", {"name": "王芳", "phone": "13987654321"})
    return db, app


@pytest.mark.parametrize("mode", [{"dry_run": True}, {}, {"skip_bad_rows": True}])
def test_a_required_relation_naming_no_record_is_reported_once(trial, tmp_path, mode):
    db, _ = trial
    path = write_csv(tmp_path / "o.csv", [["标题", "客户"], ["O1", "王芳"], ["O2", "无名氏"], ["O3", ""]])
    report = import_file(db, "trial", "orders", path, report_path=tmp_path / "r.csv", **mode)
    assert report.rows_valid == 1 and report.rows_refused == 2
    reason = ("找不到关联记录“无名氏”（按 名称、电话、编号 匹配）；请填写已有记录的名称、电话或编号，"
              "或先创建该记录")
    assert [(p.row, p.column, p.value, p.reason) for p in report.problems] == [
        (3, "客户", "无名氏", reason), (4, "客户", "", "此项为必填项")]   # an empty cell: required
    assert read_csv(tmp_path / "r.csv")[1:] == [["3", "客户", "无名氏", reason], ["4", "客户", "", "此项为必填项"]]


def test_the_not_found_reason_in_english(trial, tmp_path):
    db, _ = trial
    path = write_csv(tmp_path / "o.csv", [["Title", "Customer"], ["O1", "138 0000 0000"]])
    report = import_file(db, "trial", "orders", path, dry_run=True, lang="en")
    assert [(p.row, p.column, p.value, p.reason) for p in report.problems] == [
        (2, "Customer", "138 0000 0000", "no related record matches '138 0000 0000' (tried Name, Phone, Number); "
                                         "give the Name, Phone or Number of an existing record, or create "
                                         "that record first")]


def test_an_xlsx_report_names_the_sheet_of_every_line(trial, tmp_path):
    db, _ = trial
    book = Workbook()
    main = book.active
    main.title = "我的客户"
    main.append(["名称", "电话", "额度"])
    main.append(["甲", "13812345678", 5])
    main.append(["乙", "1381234", "很多"])
    book.save(tmp_path / "c.xlsx")
    report = import_file(db, "trial", "customers", tmp_path / "c.xlsx", dry_run=True,
                         report_path=tmp_path / "r.csv")
    assert report.rows_refused == 1
    lines = read_csv(tmp_path / "r.csv")
    assert lines[0] == ["工作表 sheet", "行号 row", "列 column", "值 value", "原因 reason"]
    assert [line[:4] for line in lines[1:]] == [["我的客户", "3", "电话", "1381234"], ["我的客户", "3", "额度", "很多"]]
    assert [p.sheet for p in report.problems] == ["", ""]   # in the report object: "" is the main sheet
