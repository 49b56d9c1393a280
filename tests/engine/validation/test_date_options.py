"""A date or datetime field's min/max that is not a day written YYYY-MM-DD: the problem says
what is wrong, shows the value, gives the format with an example and the section of
docs/field-types.md on the field's type, in English and in Chinese, at its line:column."""
import json

from engine.validation import check_definition_text
from web.cli import main

DEFINITION = """\
format_version: 1
app: {key: shop, label: {zh: 商店, en: Shop}}
forms:
  - key: customers
    label: {zh: 客户, en: Customers}
    fields:
      - {key: born_on, type: date, label: {zh: 生日, en: Born on}, min: '2000/01/01'}
      - {key: met_at, type: datetime, label: {zh: 见面, en: Met}, max: '2000-02-30'}
"""


def problems():
    app, found = check_definition_text(DEFINITION, "app.yaml")
    assert app is None
    return found


def test_a_date_bound_in_another_spelling_is_explained_not_matched_against_a_pattern():
    bound = problems()[0]
    assert (bound.line, bound.column, bound.path, bound.code) == (7, 71, "forms[0].fields[0].min", "bad_date")
    assert bound.message == (
        "min '2000/01/01' is not a date in YYYY-MM-DD: write a 4-digit year, a 2-digit month and a 2-digit "
        "day joined by '-', like '2025-01-05' (see docs/field-types.md#date-日期--date)")
    assert bound.message_zh == (
        "min“2000/01/01”不是 YYYY-MM-DD 格式的日期：请写四位年份、两位月份和两位日期，用“-”连接，"
        "例如“2025-01-05”（见 docs/field-types.md#date-日期--date）")
    assert bound.suggestion == "2000-01-01"      # the day it names, read as a date field reads input
    assert "\\d" not in bound.message and "definitions.md" not in bound.message


def test_a_day_that_does_not_exist_points_at_the_section_of_its_type():
    bound = problems()[1]
    assert (bound.line, bound.path) == (8, "forms[0].fields[1].max")
    assert bound.message.startswith("max '2000-02-30' is not a date: that day is not in the calendar")
    assert bound.message.endswith("(see docs/field-types.md#datetime-日期时间--date-and-time)")
    assert bound.message_zh.startswith("max“2000-02-30”不是日期：这一天不存在")
    assert bound.suggestion is None


def test_validate_prints_either_language_and_json_carries_both(tmp_path, capsys):
    path = tmp_path / "app.yaml"
    path.write_text(DEFINITION, encoding="utf-8")
    assert main(["validate", "--lang", "zh", str(path)]) == 1
    first = capsys.readouterr().out.splitlines()[0]
    assert first == (f"{path}:7:71: forms[0].fields[0].min: min“2000/01/01”不是 YYYY-MM-DD 格式的日期："
                     "请写四位年份、两位月份和两位日期，用“-”连接，例如“2025-01-05”"
                     "（见 docs/field-types.md#date-日期--date）（是不是“2000-01-01”？）")
    assert main(["validate", str(path)]) == 1
    assert capsys.readouterr().out.splitlines()[0].endswith("(did you mean '2000-01-01'?)")
    assert main(["validate", "--json", str(path)]) == 1
    [shown, _] = json.loads(capsys.readouterr().out)["problems"]
    assert shown["message"].startswith("min '2000/01/01' is not a date in YYYY-MM-DD")
    assert shown["message_zh"].startswith("min“2000/01/01”不是 YYYY-MM-DD 格式的日期")
