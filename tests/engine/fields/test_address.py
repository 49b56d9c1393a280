"""Address (checked against the GB/T 2260 division list) and location."""
from decimal import Decimal

import pytest

from engine.query.filters import FilterError
from tests.support.fields import CTX, CTX_EN, Lab, L, make, problem_at, refused

TYPES = {"address", "location"}
NANSHAN = {"province": "广东省", "city": "深圳市", "district": "南山区"}


@pytest.mark.parametrize("raw", [
    "广东省/深圳市/南山区", "广东省深圳市南山区", "广东 深圳 南山", "广东，深圳，南山", " 广东省 / 深圳市 / 南山区 ",
    {"province": "广东省", "city": "深圳市", "district": "南山区"}, {"province": "广东", "city": "深圳", "district": "南山"},
    {"province": "440000", "city": "440300", "district": "440305"},
])
def test_real_divisions_are_accepted_and_named_officially(raw):
    assert make("address").clean(raw, CTX) == {**NANSHAN, "detail": None}


@pytest.mark.parametrize("raw, expected", [
    ("广东省深圳市南山区科技园科苑路15号", {**NANSHAN, "detail": "科技园科苑路15号"}),
    ("北京市朝阳区建国路1号", {"province": "北京市", "city": "北京市", "district": "朝阳区", "detail": "建国路1号"}),
    ("北京 北京 朝阳", {"province": "北京市", "city": "北京市", "district": "朝阳区", "detail": None}),
    ("上海市浦东新区", {"province": "上海市", "city": "上海市", "district": "浦东新区", "detail": None}),
    ("新疆维吾尔自治区乌鲁木齐市天山区", {"province": "新疆维吾尔自治区", "city": "乌鲁木齐市", "district": "天山区",
                                         "detail": None}),
    ("湖北省仙桃市沔阳大道", {"province": "湖北省", "city": "仙桃市", "district": None, "detail": "沔阳大道"}),
    ("香港特别行政区中环皇后大道中1号", {"province": "香港特别行政区", "city": None, "district": None,
                                       "detail": "中环皇后大道中1号"}),
])
def test_text_is_split_into_its_parts(raw, expected):
    assert make("address").parse_text(raw, CTX) == expected


def test_a_city_in_another_province_says_where_it_is():
    address = make("address")
    refused(address, "广东省/杭州市/西湖区", "address_elsewhere", zh=["杭州市", "广东省", "浙江省"],
            en=["'杭州市' is not in 广东省", "it is in 浙江省"])
    refused(address, {"province": "广东", "city": "杭州", "district": "西湖"}, "address_elsewhere",
            zh=["浙江省"])
    refused(address, "浙江省杭州市南山区", "address_elsewhere", zh=["南山区", "浙江省杭州市", "广东省深圳市"])
    refused(address, "火星省某市", "address_unknown_province", zh=["找不到省份", "火星省"], en=["no province"])
    refused(address, "广东省火星市", "address_unknown_city", zh=["广东省没有城市", "火星市"],
            en=["广东省 has no city '火星市'"])
    refused(address, {"province": "广东省", "city": "深圳市", "district": "火星区"}, "address_unknown_district",
            zh=["广东省深圳市没有区县", "火星区"], en=["has no district"])
    refused(address, {"province": "广东省", "city": "深圳市"}, "address_missing_district",
            zh=["区县"], en=["district is missing"])
    refused(address, {"city": "深圳市"}, "address_missing_province", en=["province is missing"])
    refused(address, 440305, "address_invalid", zh=["广东省深圳市南山区科技园1号"], en=["province, city"])


def test_levels_and_street_address():
    city_level = make("address", level="city")
    assert city_level.parse_text("广东省深圳市南山区科技园", CTX) == {
        "province": "广东省", "city": "深圳市", "district": None, "detail": "南山区科技园"}
    assert make("address", level="province").clean({"province": "浙江"}, CTX)["province"] == "浙江省"
    no_detail = make("address", detail=False)
    assert no_detail.parse_text("广东省深圳市南山区科技园", CTX)["detail"] is None
    address = make("address")
    refused(address, {**NANSHAN, "detail": "路" * 501}, "address_detail_too_long", zh=["500", "501"],
            en=["at most 500"])
    refused(address, {**NANSHAN, "detail": "a\x00b"}, "text_control_chars")
    assert address.clean({**NANSHAN, "detail": "  "}, CTX)["detail"] is None
    problem_at([{"key": "addr", "type": "address", "label": L("地址"), "level": "street"}],
               "forms[0].fields[0].level")


def test_display_export_and_back():
    address = make("address")
    value = address.clean("广东深圳南山 科技园1号", CTX)
    assert address.display(value, CTX) == "广东省深圳市南山区 科技园1号"
    assert address.export_value(value, CTX) == "广东省深圳市南山区 科技园1号"
    assert address.parse_text(address.display(value, CTX), CTX) == value
    beijing = address.clean("北京市朝阳区", CTX)
    assert address.display(beijing, CTX) == "北京市朝阳区"                # the municipality once
    assert address.parse_text(address.display(beijing, CTX), CTX) == beijing
    assert address.is_empty({"province": None, "detail": " "}) and address.display(None, CTX) == ""


@pytest.mark.parametrize("raw, expected", [
    ({"lng": 116.397128, "lat": 39.916527, "name": "故宫"}, ("116.397128", "39.916527", "故宫")),
    ({"lng": "-180", "lat": "90"}, ("-180.000000", "90.000000", None)),
    ("116.3971284,39.9165275 天安门", ("116.397128", "39.916528", "天安门")),
    ("121.5，31.2", ("121.500000", "31.200000", None)),
])
def test_location_spellings(raw, expected):
    value = make("location").clean(raw, CTX)
    assert (str(value["lng"]), str(value["lat"]), value["name"]) == expected


@pytest.mark.parametrize("raw", [{"lng": 181, "lat": 0}, {"lng": 0, "lat": -90.1}, {"lng": "NaN", "lat": 1},
                                 {"lng": "Infinity", "lat": 1}, {"lng": None, "lat": 1}, {"lng": True, "lat": 1},
                                 "北京", "116.39", [116, 39], 116])
def test_location_refused(raw):
    refused(make("location"), raw, "location_invalid", zh=["经度", "纬度"], en=["longitude", "latitude"])


def test_location_name_and_output():
    location = make("location")
    refused(location, {"lng": 1, "lat": 1, "name": "名" * 201}, "location_name_too_long", zh=["200"])
    value = location.clean({"lng": "113.9", "lat": "22.5", "name": "深圳湾"}, CTX)
    assert location.to_json(value) == {"lng": "113.900000", "lat": "22.500000", "name": "深圳湾"}
    assert location.display(value, CTX_EN) == "113.900000,22.500000 深圳湾"
    assert location.parse_text(location.export_value(value, CTX), CTX) == value


FIELDS = [
    {"key": "addr", "type": "address", "label": L("地址", "Address")},
    {"key": "spot", "type": "location", "label": L("定位", "Location")},
]


def test_round_trip_filters_and_sort(db):
    lab = Lab(db, FIELDS)
    nanshan = lab.create(addr="广东省深圳市南山区科技园", spot="113.9,22.5 科技园")["id"]
    futian = lab.create(addr={"province": "广东", "city": "深圳", "district": "福田", "detail": "'; DROP --"})["id"]
    hangzhou = lab.create(addr="浙江省杭州市西湖区", spot={"lng": 120.1, "lat": 30.2})["id"]
    beijing = lab.create(addr="北京朝阳区")["id"]
    none = lab.create()["id"]
    assert lab.get(nanshan)["fields"] == {"addr": {**NANSHAN, "detail": "科技园"},
                                          "spot": {"lng": Decimal("113.9"), "lat": Decimal("22.5"), "name": "科技园"}}
    assert lab.value(futian, "addr")["detail"] == "'; DROP --"
    assert lab.get(none)["fields"] == {"addr": None, "spot": None}
    lab.check_filters("addr", [
        ("eq", "广东省", [nanshan, futian]), ("eq", "广东深圳", [nanshan, futian]),
        ("eq", {"province": "广东", "city": "深圳", "district": "南山"}, [nanshan]),
        ("eq", "北京市北京市朝阳区", [beijing]),
        ("ne", "广东省", [hangzhou, beijing, none]),
        ("in", ["浙江省", {"province": "北京"}], [hangzhou, beijing]),
        ("contains", "科技", [nanshan]), ("contains", "drop", [futian]),
        ("empty", None, [none]), ("not_empty", None, [nanshan, futian, hangzhou, beijing]),
    ])
    lab.check_filters("spot", [("empty", None, [futian, beijing, none]), ("not_empty", None, [nanshan, hangzhou])])
    assert [i for i in lab.ids(sort="addr") if i != none][-1] == hangzhou    # by province name
    with pytest.raises(FilterError, match="is not in 广东省; it is in 浙江省"):
        lab.ids({"field": "addr", "op": "eq", "value": "广东杭州"})
    with pytest.raises(FilterError, match="give a list"):
        lab.ids({"field": "addr", "op": "in", "value": "广东"})
    assert lab.refused({"addr": "广东省杭州市"}) == {"addr": "address_elsewhere"}
    moved = lab.update(nanshan, addr="广东省广州市天河区", spot=None)
    assert moved["fields"]["addr"]["city"] == "广州市" and moved["fields"]["spot"] is None
