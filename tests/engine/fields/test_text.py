"""Text and textarea: normalising, limits, patterns, hostile content, round trips."""
import pytest

from tests.support.fields import CTX, Lab, L, make, problem_at, refused

TYPES = {"text", "textarea"}

NASTY = ["'; DROP TABLE lab__items; --", 'Robert"); DELETE FROM fw_users; --', "%_\\%", "名字🙂\u200b𠀀",
         "NULL", "<script>alert(1)</script>", "ℌ𝔢𝔩𝔩𝔬 عربى עברית"]


def test_text_is_trimmed_and_kept_on_one_line():
    text = make("text")
    assert text.clean("  张三  ", CTX) == "张三"
    assert text.clean("第一行\r\n  第二行\n", CTX) == "第一行 第二行"
    assert text.clean(12, CTX) == "12" and text.clean(1.5, CTX) == "1.5"
    assert text.is_empty("   ") and text.is_empty("") and not text.is_empty("0")


def test_textarea_keeps_lines_and_indentation():
    area = make("textarea")
    value = "  第一行\n\t缩进的第二行\r\n"
    assert area.clean(value, CTX) == value
    assert area.parse_text(value, CTX) == value


@pytest.mark.parametrize("raw", [True, ["a"], {"a": 1}])
def test_text_refuses_values_that_are_not_text(raw):
    refused(make("text"), raw, "text_expected", zh=["文字"], en=["text"])


def test_length_limits_say_how_long_it_is():
    text = make("text", max_length=5, min_length=2)
    assert text.clean("五个字符啊", CTX) == "五个字符啊"
    refused(text, "六个字符啊啊", "text_too_long", zh=["5", "6"], en=["at most 5", "got 6"])
    refused(text, "一", "text_too_short", zh=["2", "1"], en=["at least 2"])
    refused(make("text"), "x" * 201, "text_too_long", en=["at most 200"])      # the default
    refused(make("textarea"), "x" * 20001, "text_too_long", en=["at most 20000"])


def test_one_megabyte_is_the_ceiling_and_is_never_truncated():
    area = make("textarea", max_length=1_000_000)
    big = "长" * 1_000_000
    assert area.clean(big, CTX) == big
    refused(area, big + "x", "text_too_long", en=["1000000", "1000001"])


def test_pattern_message_in_both_languages():
    code = make("text", pattern=r"[A-Z]{2}\d{4}", pattern_message=L("两个大写字母加四位数字", "two capitals and four digits"))
    assert code.clean(" AB1234 ", CTX) == "AB1234"
    refused(code, "ab1234", "text_pattern", zh=["两个大写字母加四位数字"], en=["two capitals and four digits"])
    refused(code, "AB12345", "text_pattern")       # the whole value must match
    bare = make("text", pattern=r"\d+")
    refused(bare, "12a", "text_pattern", en=[r"\d+"])


@pytest.mark.parametrize("raw, code", [("a\x00b", "text_control_chars"), ("响\x1b[31m铃", "text_control_chars"),
                                       ("a\ud800b", "text_bad_unicode")])
def test_characters_no_database_can_store_are_refused(raw, code):
    for ftype in (make("text"), make("textarea")):
        refused(ftype, raw, code)
    refused(make("text"), raw, code, how="clean_operand")   # in filters too


def test_definition_errors():
    problem_at([{"key": "code", "type": "text", "label": L("编码"), "pattern": "[a-z"}],
               "forms[0].fields[0].pattern", "not a valid regular expression")
    problem_at([{"key": "code", "type": "text", "label": L("编码"), "min_length": 9, "max_length": 3}],
               "forms[0].fields[0].min_length", "greater than max_length")
    problem_at([{"key": "code", "type": "text", "label": L("编码"), "max_length": 2_000_000}],
               "forms[0].fields[0].max_length")
    unknown = problem_at([{"key": "code", "type": "text", "label": L("编码"), "maxlength": 9}],
                         "forms[0].fields[0].maxlength", "unknown key")
    assert unknown.suggestion == "max_length"
    problem_at([{"key": "note", "type": "textarea", "label": L("备注"), "unique": True}],
               "forms[0].fields[0].unique", "cannot be unique")


def test_import_export_and_display():
    text = make("text")
    assert text.parse_text("  甲 ", CTX) == "甲"
    assert text.parse_cell(20250105, CTX) == "20250105"
    assert text.export_value("甲", CTX) == "甲"
    assert text.display("甲", CTX) == "甲" and text.display(None, CTX) == ""


FIELDS = [
    {"key": "name", "type": "text", "label": L("名称", "Name"), "unique": True},
    {"key": "note", "type": "textarea", "label": L("备注", "Note"), "max_length": 1_000_000},
]


def test_round_trip_filters_and_sort(db):
    lab = Lab(db, FIELDS)
    ids = {name: lab.create(name=name, note=f"{name}\n第二行")["id"] for name in ["苹果", "香蕉", "apple", "Apple pie"]}
    blank = lab.create(name="   ", note="")["id"]
    nasty = {v: lab.create(name=v, note=v)["id"] for v in NASTY}
    for value, rid in nasty.items():
        assert lab.get(rid)["fields"] == {"name": value.strip(), "note": value}
    assert lab.get(ids["苹果"])["fields"]["note"] == "苹果\n第二行"
    assert lab.get(blank)["fields"] == {"name": None, "note": None}   # blank text is no value

    fruit = [ids["苹果"], ids["香蕉"], ids["apple"], ids["Apple pie"]]
    everyone = set(fruit) | set(nasty.values()) | {blank}
    lab.check_filters("name", [
        ("eq", "苹果", [ids["苹果"]]),
        ("eq", "  苹果 ", []),          # filters compare what was typed
        ("ne", "苹果", everyone - {ids["苹果"]}),
        ("in", ["苹果", "香蕉", "无"], [ids["苹果"], ids["香蕉"]]),
        ("not_in", ["苹果", "香蕉"], everyone - {ids["苹果"], ids["香蕉"]}),
        ("contains", "PPLE", [ids["apple"], ids["Apple pie"]]),   # ignoring case, on both databases
        ("contains", "%_", [nasty["%_\\%"]]),            # LIKE wildcards are literal
        ("starts_with", "apple ", [ids["Apple pie"]]),
        ("starts_with", "'; DROP", [nasty["'; DROP TABLE lab__items; --"]]),
        ("empty", None, [blank]),
        ("not_empty", None, everyone - {blank}),
    ])
    lab.check_filters("note", [("contains", "第二行", fruit), ("empty", None, [blank])])

    chinese = [ids["苹果"], ids["香蕉"]]
    assert [i for i in lab.ids(sort=[{"field": "name"}]) if i in chinese] == sorted(
        chinese, key=lambda i: lab.value(i, "name"))
    assert lab.ids({"field": "name", "op": "in", "value": ["苹果", "香蕉"]},
                   sort=[{"field": "name", "dir": "desc"}]) == list(reversed(
                       lab.ids({"field": "name", "op": "in", "value": ["苹果", "香蕉"]}, sort=[{"field": "name"}])))

    updated = lab.update(ids["香蕉"], name="  香蕉（进口） ")
    assert updated["fields"]["name"] == "香蕉（进口）" and updated["version"] == 2
    assert lab.refused({"name": "苹果"}) == {"name": "unique"}
    assert lab.refused({"name": "x" * 201}) == {"name": "text_too_long"}


def test_one_megabyte_round_trip(db):
    lab = Lab(db, FIELDS)
    big = "长🙂" * 500_000
    rid = lab.create(name="大", note=big)["id"]
    assert lab.value(rid, "note") == big
    assert lab.ids({"field": "note", "op": "contains", "value": "🙂长🙂"}) == [rid]
    assert lab.refused({"name": "更大", "note": big + "x"}) == {"note": "text_too_long"}
