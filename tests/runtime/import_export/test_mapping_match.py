"""A mapping's `match:` names the field of the related form a relation column's cells
hold. Only a field whose type can identify a record (FieldType.can_match) is accepted,
and the error lists exactly the fields that are (issue #8)."""
from __future__ import annotations

import pytest

from runtime.import_export import import_file
from runtime.import_export.mapping import MappingError
from runtime.records import Records
from tests.runtime.import_export.trial_app import install_trial, write_csv

USABLE = "name, phone, code, credit, lost_reason"   # customers' text, phone, serial, number fields


@pytest.fixture
def trial(db):
    app = install_trial(db)
    with db.begin() as conn:
        Records(conn, app).create("customers", {"name": "王芳", "phone": "13987654321", "credit": "7"})
    return db, app


def import_orders(db, tmp_path, match: str, cell: str = "13987654321"):
    path = write_csv(tmp_path / "o.csv", [["标题", "客户"], ["O1", cell]])
    mapping = {"标题": "title", "客户": {"field": "customer", "match": match}}
    return import_file(db, "trial", "orders", path, mapping=mapping, dry_run=True)


@pytest.mark.parametrize("match,type_zh,type_en", [
    ("note", "多行文本", "Textarea"), ("tags", "复选框组", "Checkboxes"), ("files", "附件", "Attachments"),
    ("name_length", "公式", "Formula"), ("stage", "单选按钮组", "Radio"), ("follow_up", "日期", "Date"),
    ("referrer", "关联数据", "Relation")])
def test_a_field_that_cannot_identify_a_record_is_refused_in_both_languages(trial, tmp_path, match,
                                                                          type_zh, type_en):
    db, app = trial
    fdef = app.require_form("customers").field(match)
    with pytest.raises(MappingError) as refused:
        import_orders(db, tmp_path, match)
    zh, en = str(refused.value).split("\n")
    assert zh == (f"列“客户”：match “{match}”（{fdef.label.zh}）是{type_zh}字段，不能用来识别表单“客户”的记录；"
                  f"请改用 {USABLE}")
    assert en == (f"column '客户': match '{match}' ({fdef.label.en}) is a field of type {type_en}, which cannot "
                  f"identify a record of form 'customers'; use one of {USABLE}")


def test_a_name_that_is_no_field_is_refused_with_a_suggestion(trial, tmp_path):
    db, _ = trial
    with pytest.raises(MappingError) as refused:
        import_orders(db, tmp_path, "phnoe")
    message = str(refused.value)
    assert "match “phnoe”不是表单“客户”（customers）的字段（是否想写“phone”？）；请改用 " + USABLE in message
    assert f"match 'phnoe' is not a field of form 'customers' (did you mean 'phone'?); use one of {USABLE}" in message


@pytest.mark.parametrize("match,cell", [("name", "王芳"), ("phone", "139 8765 4321"), ("code", "KH0001"),
                                        ("credit", "7.00"), ("lost_reason", "王芳")])
def test_every_field_the_error_offers_is_accepted(trial, tmp_path, match, cell):
    db, _ = trial
    assert match in USABLE.split(", ")
    report = import_orders(db, tmp_path, match, cell)
    if match == "lost_reason":    # accepted, and matches nothing: a row problem, not a file error
        assert report.rows_refused == 1 and "找不到关联记录“王芳”（按 流失原因 匹配）" in report.problems[0].reason
    else:
        assert report.ok and report.rows_valid == 1, report.problems
