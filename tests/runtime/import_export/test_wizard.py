"""runtime/import_export/wizard.py: the proposal of a file's columns, the check of a
chosen mapping, refusals of unusable files, and the report as a workbook."""
from __future__ import annotations

import pytest
from openpyxl import load_workbook

from runtime.import_export.wizard import ImportFileError, check_choice, check_file_name, propose, report_as_xlsx
from runtime.session import Session
from tests.support.import_files import PHONE_COLUMN, customers_csv
from tests.support.web import install_flagship


def test_the_proposal_matches_labels_and_marks_required_fields(db, tmp_path):
    install_flagship(db)
    with Session(db).read() as uow:
        proposal = propose(uow.records("crm_referral"), "customers", customers_csv(tmp_path))
    assert [c.target for c in proposal.columns] == ["name", None, "level", "owner", None]
    assert proposal.columns[0].samples[:1] == ["上海明达科技有限公司"]
    required = [t.key for t in proposal.targets if t.required]
    assert required == ["name"]
    assert all(t.key != "lifetime_value" for t in proposal.targets)        # computed: not importable
    assert proposal.mapping({0: "name", PHONE_COLUMN: "phone"})["手机"] == "phone"
    assert proposal.mapping({0: "name"})["内部编号"] is None


def test_checking_a_choice(db, tmp_path):
    install_flagship(db)
    with Session(db).read() as uow:
        proposal = propose(uow.records("crm_referral"), "customers", customers_csv(tmp_path))
    assert check_choice(proposal, {0: "name", 1: "phone"}, "zh") == {}
    twice = check_choice(proposal, {0: "name", 1: "name"}, "en")
    assert twice == {1: "The columns '客户名称' and '手机' both go to the field 'Name'; map one column per field"}
    assert check_choice(proposal, {1: "phone"}, "zh") == {"name": "必填字段“客户名称”没有对应的列；请把某一列对应到它"}
    assert list(check_choice(proposal, {0: "name", 2: "nope"}, "zh")) == [2]


@pytest.mark.parametrize("name, content, code", [
    ("a.pdf", b"%PDF", "import_file_type"),
    ("b.xlsx", b"not a zip", "import_file_unreadable"),
    ("c.csv", b"", "import_file_no_header"),
])
def test_unusable_files_are_refused_with_a_code(db, tmp_path, name, content, code):
    install_flagship(db)
    path = tmp_path / name
    path.write_bytes(content)
    with Session(db).read() as uow, pytest.raises(ImportFileError) as refused:
        propose(uow.records("crm_referral"), "customers", path)
    assert refused.value.code == code and name in refused.value.message("zh")


def test_a_file_name_is_checked_before_saving():
    with pytest.raises(ImportFileError) as refused:
        check_file_name("old.xls")
    assert ".xlsx" in refused.value.message("en")
    with pytest.raises(ImportFileError):
        check_file_name("")
    check_file_name("ok.XLSX")


def test_the_report_workbook_keeps_every_cell_as_text(tmp_path):
    source = tmp_path / "r.csv"
    source.write_text("行号 row,列 column,值 value,原因 reason\n3,电话,=1+1,bad\n", encoding="utf-8-sig")
    book = load_workbook(report_as_xlsx(source, tmp_path / "r.xlsx"))
    rows = list(book.active.iter_rows())
    assert [c.value for c in rows[1]] == ["3", "电话", "=1+1", "bad"]
    assert all(c.data_type == "s" for row in rows for c in row) and rows[0][0].font.bold
