"""convert_from: a retype converts each stored value to the new type, or says why
it cannot; the migration counts and shows those (see docs/migrations.md)."""
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from engine.definition.model import AppDef
from engine.errors import FieldError
from engine.fields import ValueContext
from runtime.apps import apply_app, plan_app
from tests.support.fields import Lab, L, document, make

TYPES: set[str] = set()     # conversions between the types of the other modules
EN = ValueContext(lang="en")  # the context migrations convert in
OPTIONS = [{"value": "vip", "label": L("重要客户", "VIP")}, {"value": "normal", "label": L("普通客户", "Regular")}]
UTC = timezone.utc


@pytest.mark.parametrize("old, new, value, expected", [
    (("text", {}), ("number", {"precision": 2}), "1,234.5", Decimal("1234.50")),
    (("number", {"precision": 2, "unit": "元", "thousands": True}), ("text", {}), Decimal("1234.5"), "1,234.5 元"),
    (("number", {"precision": 2, "unit": "元", "thousands": True}), ("number", {"precision": 0}),
     Decimal("1234.50"), Decimal("1235")),
    (("number", {"precision": 3, "percent": True}), ("number", {"precision": 4}), Decimal("0.125"), Decimal("0.1250")),
    (("rating", {}), ("number", {"precision": 1}), 4, Decimal("4.0")),
    (("number", {"precision": 2}), ("rating", {}), Decimal("3.00"), 3),
    (("text", {}), ("date", {}), "2025年1月5日", date(2025, 1, 5)),
    (("date", {"format": "%d/%m/%Y"}), ("datetime", {}), date(2025, 1, 5), datetime(2025, 1, 4, 16, 0, tzinfo=UTC)),
    (("datetime", {"format": "%H:%M"}), ("date", {}), datetime(2025, 1, 4, 17, 0, tzinfo=UTC), date(2025, 1, 5)),
    (("datetime", {}), ("text", {}), datetime(2025, 1, 4, 17, 0, tzinfo=UTC), "2025-01-05 01:00"),
    (("radio", {"options": OPTIONS}), ("select", {"options": OPTIONS}), "vip", "vip"),
    (("select", {"options": OPTIONS}), ("checkbox", {"options": OPTIONS}), "normal", ["normal"]),
    (("checkbox", {"options": OPTIONS}), ("select", {"options": OPTIONS}), ["vip"], "vip"),
    (("text", {}), ("select", {"options": OPTIONS}), "重要客户", "vip"),
    (("select", {"options": OPTIONS}), ("text", {}), "vip", "VIP"),
    (("switch", {}), ("text", {}), True, "Yes"),
    (("text", {}), ("switch", {}), "是", True),
    (("text", {}), ("phone", {}), "+86 138 1234 5678", "13812345678"),
    (("phone", {}), ("text", {}), "010-12345678", "010-12345678"),
    (("text", {}), ("email", {}), " Li@Example.com ", "li@example.com"),
    (("text", {}), ("address", {}), "广东深圳南山 科技园", {"province": "广东省", "city": "深圳市",
                                                    "district": "南山区", "detail": "科技园"}),
    (("address", {}), ("text", {}), {"province": "北京市", "city": "北京市", "district": "朝阳区", "detail": None},
     "北京市朝阳区"),
    (("member", {}), ("members", {}), 5, [5]),
    (("members", {}), ("member", {}), [5], 5),
    (("department", {}), ("departments", {}), 7, [7]),
    (("textarea", {}), ("text", {}), "第一行\n第二行", "第一行 第二行"),
    (("serial", {"pattern": "HT{counter:4}"}), ("text", {}), "HT0001", "HT0001"),
])
def test_conversions(old, new, value, expected):
    old_type, new_type = make(old[0], **old[1]), make(new[0], **new[1])
    assert new_type.convert_from(old_type, value, EN) == expected
    assert new_type.convert_from(old_type, None, EN) is None


@pytest.mark.parametrize("old, new, value, code", [
    (("text", {}), ("number", {}), "大约一百", "number_invalid"),
    (("checkbox", {"options": OPTIONS}), ("select", {"options": OPTIONS}), ["vip", "normal"], "option_unknown"),
    (("members", {}), ("member", {}), [5, 6], "member_too_many"),
    (("text", {}), ("phone", {}), "找前台", "phone_invalid"),
    (("number", {"precision": 2}), ("rating", {}), Decimal("7.00"), "rating_invalid"),
    (("textarea", {}), ("text", {"max_length": 5}), "很长很长的一段话", "text_too_long"),
    (("text", {}), ("date", {}), "2023-02-29", "date_no_such_day"),
])
def test_values_that_cannot_convert_say_why(old, new, value, code):
    with pytest.raises(FieldError) as caught:
        make(new[0], **new[1]).convert_from(make(old[0], **old[1]), value, EN)
    assert caught.value.code == code


def test_a_retype_converts_stored_values_on_the_database(db):
    before = [
        {"key": "stars", "type": "rating", "label": L("评分")},
        {"key": "level", "type": "select", "label": L("级别"), "options": OPTIONS},
        {"key": "on_day", "type": "date", "label": L("日期")},
        {"key": "contact", "type": "text", "label": L("联系方式")},
    ]
    lab = Lab(db, before)
    ids = [lab.create(stars=4, level="vip", on_day="2025-01-05", contact="+86 138 1234 5678")["id"],
           lab.create(stars=1, contact="找前台")["id"]]
    after = [
        {"key": "stars", "type": "number", "label": L("评分"), "precision": 1},
        {"key": "level", "type": "checkbox", "label": L("级别"), "options": OPTIONS},
        {"key": "on_day", "type": "datetime", "label": L("日期")},
        {"key": "contact", "type": "phone", "label": L("联系方式")},
    ]
    retyped = AppDef.from_dict(document(after))
    report = plan_app(db, retyped)
    previews = {step.field: report.previews[i] for i, step in enumerate(report.plan.steps) if i in report.previews}
    assert previews["contact"]["cannot"] == 1 and previews["contact"]["convert"] == 1
    stars = previews["stars"]
    assert (stars["values"], stars["convert"], stars["cannot"]) == (2, 2, 0)
    assert [example[:2] for example in stars["examples"]] == [["★★★★☆", "4.0"], ["★☆☆☆☆", "1.0"]]
    assert previews["contact"]["failures"][0][0] == "找前台"
    apply_app(db, retyped)
    lab.app = retyped
    assert lab.get(ids[0])["fields"] == {"stars": Decimal("4.0"), "level": ["vip"],
                                         "on_day": datetime(2025, 1, 4, 16, 0, tzinfo=UTC), "contact": "13812345678"}
    assert lab.get(ids[1])["fields"]["contact"] is None          # archived with the old column, not lost
