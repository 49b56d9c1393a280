"""Which columns a file must have: only a field required for every row makes a missing
column a file-level error; a field required under a condition (`visible_if`) or filled
by a default formula is checked row by row (issue #8)."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from runtime.import_export import import_file
from runtime.import_export.mapping import MappingError
from runtime.records import Records
from tests.runtime.import_export.trial_app import install_trial, read_csv, write_csv


@pytest.fixture
def trial(db):
    return db, install_trial(db)


def customers(db, app):
    with db.connect() as conn:
        return {r["fields"]["name"]: r["fields"]
                for r in Records(conn, app).list("customers", page_size=100).records}


def test_a_field_required_only_when_visible_needs_no_column(trial, tmp_path):
    db, app = trial
    path = write_csv(tmp_path / "c.csv", [["名称", "阶段"], ["甲", "跟进中"], ["乙", ""]])
    report = import_file(db, "trial", "customers", path)
    assert report.ok and report.committed and report.rows_imported == 2
    assert {name: f["lost_reason"] for name, f in customers(db, app).items()} == {"甲": None, "乙": None}


def test_without_the_column_the_condition_is_still_checked_per_row(trial, tmp_path):
    db, app = trial
    path = write_csv(tmp_path / "c.csv", [["名称", "阶段"], ["甲", "跟进中"], ["乙", "已流失"], ["丙", "open"]])
    report = import_file(db, "trial", "customers", path, skip_bad_rows=True, lang="en",
                         report_path=tmp_path / "r.csv")
    assert report.committed and report.rows_imported == 2 and report.rows_refused == 1
    assert [(p.row, p.column, p.reason) for p in report.problems] == [(3, "lost_reason", "This field is required")]
    assert sorted(customers(db, app)) == ["丙", "甲"]
    assert read_csv(tmp_path / "r.csv")[1] == ["3", "lost_reason", "", "This field is required"]


def test_with_the_column_an_empty_cell_of_a_visible_field_is_refused_as_before(trial, tmp_path):
    db, app = trial
    path = write_csv(tmp_path / "c.csv", [["名称", "阶段", "流失原因"], ["甲", "已流失", "太贵"], ["乙", "已流失", ""],
                                          ["丙", "跟进中", ""]])
    report = import_file(db, "trial", "customers", path, dry_run=True)
    assert report.rows_valid == 2 and report.rows_refused == 1
    assert [(p.row, p.column, p.reason) for p in report.problems] == [(3, "流失原因", "此项为必填项")]


def test_a_required_field_a_default_formula_fills_needs_no_column(trial, tmp_path):
    db, app = trial
    path = write_csv(tmp_path / "c.csv", [["名称", "回访日期"], ["甲", "2026-03-01"], ["乙", ""]])
    assert import_file(db, "trial", "customers", path).rows_imported == 2
    path = write_csv(tmp_path / "d.csv", [["名称"], ["丙"]])
    report = import_file(db, "trial", "customers", path)
    assert report.ok and report.rows_imported == 1
    found = customers(db, app)
    assert found["甲"]["follow_up"] == date(2026, 3, 1)
    # The default formula is TODAY() + 7: a week after the day the import ran (checked
    # against the two days around it, so a run at midnight cannot fail).
    assert found["乙"]["follow_up"] == found["丙"]["follow_up"]
    assert found["丙"]["follow_up"] - timedelta(days=7) in {date.today(), date.today() - timedelta(days=1),
                                                          date.today() + timedelta(days=1)}


def test_a_field_required_for_every_row_still_needs_its_column(trial, tmp_path):
    db, _ = trial
    path = write_csv(tmp_path / "c.csv", [["阶段", "流失原因"], ["已流失", "太贵"]])
    with pytest.raises(MappingError) as refused:
        import_file(db, "trial", "customers", path)
    message = str(refused.value)
    assert "no column for the required field 'name' ('名称')" in message
    assert "lost_reason" not in message and "follow_up" not in message
