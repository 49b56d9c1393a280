"""Option fields (radio, select, checkbox, multiselect), switch and rating."""
import pytest

from tests.support.fields import CTX, CTX_EN, Lab, L, make, problem_at, refused

TYPES = {"radio", "select", "checkbox", "multiselect", "switch", "rating"}

OPTIONS = [{"value": "vip", "label": L("重要客户", "VIP")}, {"value": "normal", "label": L("普通客户", "Regular")},
           "潜在客户", {"value": "o'brien; --", "label": L("引号%_", "Quote%_")}]


@pytest.mark.parametrize("type_name", ["radio", "select"])
def test_single_choice_accepts_value_or_label(type_name):
    level = make(type_name, options=OPTIONS)
    for raw in ["vip", "VIP", " 重要客户 ", "vIp"]:
        assert level.clean(raw, CTX) == "vip"
    assert level.clean("潜在客户", CTX) == "潜在客户"
    assert level.clean("Quote%_", CTX) == "o'brien; --"
    assert level.display("vip", CTX) == "重要客户" and level.display("vip", CTX_EN) == "VIP"
    assert level.export_value("normal", CTX) == "普通客户"
    assert level.parse_text("普通客户", CTX) == "normal"        # an export imports back
    assert level.display("retired", CTX) == "retired"         # a value whose option was removed


@pytest.mark.parametrize("type_name", ["radio", "select", "checkbox", "multiselect"])
def test_unknown_options_list_the_allowed_ones(type_name):
    level = make(type_name, options=OPTIONS)
    refused(level, "金牌", "option_unknown", zh=["金牌", "vip, normal"], en=["'金牌' is not one of", "vip"])
    refused(level, [["vip"]] if type_name in ("checkbox", "multiselect") else ["vip"], "option_expected",
            zh=["选项"], en=["option"])
    refused(level, True, "option_expected")


def test_a_thousand_options_are_listed_briefly():
    many = make("select", options=[f"选项{i}" for i in range(1000)])
    error = refused(many, "没有", "option_unknown")
    assert error.params["allowed"].endswith("...") and len(error.params["allowed"]) < 300


@pytest.mark.parametrize("type_name", ["checkbox", "multiselect"])
def test_multiple_choice_spellings(type_name):
    tags = make(type_name, options=OPTIONS)
    assert tags.clean(["潜在客户", "vip"], CTX) == ["vip", "潜在客户"]          # the definition's order
    assert tags.clean("重要客户、潜在客户", CTX) == ["vip", "潜在客户"]
    assert tags.clean("normal; vip，vip", CTX) == ["vip", "normal"]           # duplicates dropped
    assert tags.parse_text("VIP|Regular", CTX) == ["vip", "normal"]
    assert tags.display(["vip", "normal"], CTX) == "重要客户、普通客户"
    assert tags.display(["vip", "normal"], CTX_EN) == "VIP、Regular"
    assert tags.parse_text(tags.export_value(["vip", "normal"], CTX), CTX) == ["vip", "normal"]
    assert tags.is_empty([]) and tags.is_empty(None)


def test_multiple_choice_counts():
    tags = make("checkbox", options=OPTIONS, min_selected=2, max_selected=3)
    refused(tags, ["vip"], "options_too_few", zh=["至少选择 2 项"], en=["at least 2"])
    refused(tags, ["vip", "normal", "潜在客户", "Quote%_"], "options_too_many", zh=["最多选择 3 项"], en=["at most 3"])
    assert tags.clean("vip,normal", CTX) == ["vip", "normal"]


def test_definition_errors():
    problem_at([{"key": "level", "type": "select", "label": L("级别"), "options": ["甲", "乙", "甲"]}],
               "forms[0].fields[0].options[2]", "appears twice")
    problem_at([{"key": "level", "type": "radio", "label": L("级别")}], "forms[0].fields[0]", "options")
    problem_at([{"key": "level", "type": "radio", "label": L("级别"), "options": []}],
               "forms[0].fields[0].options")
    problem_at([{"key": "tags", "type": "checkbox", "label": L("标签"), "options": ["甲", "乙"],
                 "min_selected": 2, "max_selected": 1}], "forms[0].fields[0].min_selected", "greater than")
    problem_at([{"key": "tags", "type": "multiselect", "label": L("标签"), "options": ["甲", "乙"],
                 "min_selected": 3}], "forms[0].fields[0].min_selected", "more than the 2 options")
    problem_at([{"key": "level", "type": "select", "label": L("级别"), "options": ["甲"], "default": "丙"}],
               "forms[0].fields[0].default", "not one of the options")


@pytest.mark.parametrize("raw, expected", [
    (True, True), (False, False), (1, True), (0, False), ("是", True), ("否", False), ("YES", True),
    (" no ", False), ("true", True), ("√", True), ("×", False), ("开", True), ("关", False), ("on", True)])
def test_switch_spellings(raw, expected):
    assert make("switch").clean(raw, CTX) is expected


@pytest.mark.parametrize("raw", ["maybe", 2, -1, "是的吧", [True]])
def test_switch_refuses_other_values(raw):
    refused(make("switch"), raw, "switch_invalid", zh=["是/否"], en=["yes or no"])


def test_switch_display_and_export():
    switch = make("switch")
    assert switch.display(True, CTX) == "是" and switch.display(False, CTX_EN) == "No"
    assert switch.export_value(True, CTX) == "是" and switch.export_value(None, CTX) is None
    assert switch.parse_text(switch.export_value(False, CTX), CTX) is False
    assert switch.parse_cell(True, CTX) is True


@pytest.mark.parametrize("raw, expected", [(3, 3), ("3", 3), (3.0, 3), ("★★★", 3), ("★★★☆☆", 3), ("***", 3),
                                           ("★", 1), (" 5 ", 5)])
def test_rating_spellings(raw, expected):
    assert make("rating").clean(raw, CTX) == expected


@pytest.mark.parametrize("raw", [0, 6, 2.5, "☆☆☆☆☆", "★★★★★★", "abc", True, "nan", "inf"])
def test_rating_refuses_other_values(raw):
    refused(make("rating"), raw, "rating_invalid", zh=["1 到 5"], en=["from 1 to 5"])


def test_rating_scale_display_and_definition():
    ten = make("rating", max=10)
    assert ten.clean(10, CTX) == 10
    assert ten.display(7, CTX) == "★" * 7 + "☆" * 3
    assert ten.parse_text(ten.display(7, CTX), CTX) == 7
    assert ten.export_value(7, CTX) == 7
    problem_at([{"key": "stars", "type": "rating", "label": L("评分"), "max": 11}], "forms[0].fields[0].max")


FIELDS = [
    {"key": "level", "type": "select", "label": L("级别", "Level"), "options": OPTIONS},
    {"key": "source", "type": "radio", "label": L("来源", "Source"), "options": ["线上", "线下"]},
    {"key": "tags", "type": "checkbox", "label": L("标签", "Tags"), "options": OPTIONS},
    {"key": "active", "type": "switch", "label": L("启用", "Active")},
    {"key": "stars", "type": "rating", "label": L("评分", "Stars")},
]


def test_round_trip_filters_and_sort(db):
    lab = Lab(db, FIELDS)
    a = lab.create(level="VIP", source="线上", tags="重要客户、潜在客户", active="是", stars="★★★★☆")["id"]
    b = lab.create(level="normal", source="线下", tags=["normal"], active=False, stars=2)["id"]
    c = lab.create(level="Quote%_", tags=["vip", "normal", "潜在客户"], active=True, stars=5)["id"]
    d = lab.create()["id"]
    assert lab.get(a)["fields"] == {"level": "vip", "source": "线上", "tags": ["vip", "潜在客户"],
                                    "active": True, "stars": 4}
    assert lab.get(c)["fields"]["level"] == "o'brien; --"
    assert lab.get(d)["fields"] == {"level": None, "source": None, "tags": None, "active": None, "stars": None}
    everyone = {a, b, c, d}
    lab.check_filters("level", [
        ("eq", "重要客户", [a]), ("eq", "o'brien; --", [c]), ("ne", "vip", [b, c, d]),
        ("in", ["vip", "普通客户"], [a, b]), ("not_in", ["vip"], [b, c, d]),
        ("empty", None, [d]), ("not_empty", None, [a, b, c])])
    lab.check_filters("tags", [
        ("contains", "vip", [a, c]), ("contains", ["潜在客户", "normal"], [a, b, c]),
        ("in", ["normal"], [b, c]),
        ("eq", ["潜在客户", "vip"], [a]),            # exactly these, in any order
        ("eq", "normal", [b]),
        ("ne", "vip", [b, d]), ("not_in", ["vip", "normal"], [d]),
        ("empty", None, [d]), ("not_empty", None, [a, b, c])])
    lab.check_filters("active", [("eq", "是", [a, c]), ("eq", False, [b]), ("ne", True, [b, d]),
                                 ("empty", None, [d]), ("not_empty", None, [a, b, c])])
    lab.check_filters("stars", [("eq", "★★★★", [a]), ("ne", 4, [b, c, d]), ("gt", 2, [a, c]), ("gte", "★★", [a, b, c]),
                                ("lt", 5, [a, b]), ("lte", 4, [a, b]), ("between", [3, 4], [a]), ("in", [2, 5], [b, c]),
                                ("not_in", [2, 5], [a, d]), ("empty", None, [d]), ("not_empty", None, everyone - {d})])
    lab.check_filters("source", [("eq", "线上", [a]), ("in", ["线下"], [b]), ("not_in", ["线上"], [b, c, d]),
                                 ("empty", None, [c, d])])
    assert [i for i in lab.ids(sort="stars") if i != d] == [b, a, c]
    assert [i for i in lab.ids(sort="-level") if i != d] == [a, c, b]     # by stored value
    assert [i for i in lab.ids(sort="active") if i != d][0] == b

    updated = lab.update(a, tags=[], stars=None, level="普通客户")
    assert updated["fields"]["tags"] is None and updated["fields"]["stars"] is None
    assert lab.ids({"field": "tags", "op": "empty"}) == [a, d]
    assert lab.refused({"level": "金牌", "tags": ["x"], "active": "maybe", "stars": 9}) == {
        "level": "option_unknown", "tags": "option_unknown", "active": "switch_invalid", "stars": "rating_invalid"}


def test_a_stored_json_null_counts_as_empty(db):
    """Rows written before None was stored as SQL NULL hold a JSON null; filters cope."""
    import sqlalchemy as sa
    lab = Lab(db, FIELDS)
    legacy, tagged = lab.create()["id"], lab.create(tags=["vip"])["id"]
    null = "'null'::jsonb" if db.dialect.name == "postgresql" else "'null'"
    with db.begin() as conn:
        conn.execute(sa.text(f"UPDATE lab__items SET tags = {null} WHERE id = :id"), {"id": legacy})
    lab.check_filters("tags", [("empty", None, [legacy]), ("not_empty", None, [tagged]),
                               ("eq", ["vip"], [tagged]), ("ne", "vip", [legacy])])
    assert lab.value(legacy, "tags") is None
