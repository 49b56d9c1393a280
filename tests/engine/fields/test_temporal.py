"""Date and datetime: the spellings people use, calendars, time zones, shortcuts."""
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from engine.fields import ValueContext
from tests.support.fields import CTX, CTX_EN, NOW, Lab, L, make, problem_at, refused

TYPES = {"date", "datetime"}
SHANGHAI = ZoneInfo("Asia/Shanghai")
UTC = timezone.utc


@pytest.mark.parametrize("raw", [
    "2025-01-05", "2025/1/5", "2025.1.5", "2025年1月5日", "2025年01月05日", "20250105", " 2025 / 01 / 05 ",
    "２０２５年１月５日", "2025-01-05 13:45", "2025-01-05T23:59:59", date(2025, 1, 5),
    datetime(2025, 1, 4, 20, 0, tzinfo=UTC),          # 04:00 on the 5th in Shanghai
    datetime(2025, 1, 5, 9, 30), 45662, 45662.75,      # naive datetimes; Excel serial numbers
])
def test_date_spellings(raw):
    assert make("date").clean(raw, CTX) == date(2025, 1, 5)


def test_leap_days_and_days_that_do_not_exist():
    day = make("date")
    assert day.clean("2024-02-29", CTX) == date(2024, 2, 29)
    assert day.clean("2000/2/29", CTX) == date(2000, 2, 29)
    refused(day, "2023-02-29", "date_no_such_day", zh=["2023-02-29", "不存在"], en=["2023-02-29", "leap"])
    refused(day, "1900-02-29", "date_no_such_day")      # 1900 was not a leap year
    refused(day, "2025-13-01", "date_no_such_day")
    refused(day, "2025年4月31日", "date_no_such_day", zh=["2025年4月31日"])


@pytest.mark.parametrize("raw", ["明天", "2025-1", "01/05/2025", "2025-01-05 下午", "12345678901", True, [2025, 1, 5],
                                 0, 3_000_000, "9" * 100])
def test_what_is_not_a_date(raw):
    error = refused(make("date"), raw, "date_invalid", zh=["2025-01-31"], en=["write it like 2025-01-31"])
    assert len(error.params["value"]) <= 40


def test_date_bounds_and_format():
    day = make("date", min="2025-01-01", max="2025-12-31", format="%Y年%m月%d日")
    refused(day, "2024-12-31", "date_too_early", zh=["2025-01-01"], en=["before 2025-01-01"])
    refused(day, "2026-01-01", "date_too_late", en=["after 2025-12-31"])
    value = day.clean("2025-3-8", CTX)
    assert day.display(value, CTX) == "2025年03月08日"
    assert day.parse_text(day.display(value, CTX), CTX) == value       # what is shown imports back
    assert day.export_value(value, CTX) == value                        # a date cell
    assert day.to_json(value) == "2025-03-08" and day.display(None, CTX) == ""
    assert make("date").display(value, CTX) == "2025-03-08"


def test_date_definition_errors():
    problem_at([{"key": "d", "type": "date", "label": L("日期"), "min": "2025-13-01"}],
               "forms[0].fields[0].min", "not a date")
    problem_at([{"key": "d", "type": "date", "label": L("日期"), "min": "2025/01/01"}], "forms[0].fields[0].min")
    problem_at([{"key": "d", "type": "date", "label": L("日期"), "format": "YYYY-MM-DD"}],
               "forms[0].fields[0].format", "no date codes", "%Y")
    problem_at([{"key": "d", "type": "date", "label": L("日期"), "format": "%Y-%m-%d %H:%M"}],
               "forms[0].fields[0].format", "%H, %M")
    problem_at([{"key": "d", "type": "date", "label": L("日期"), "min": "2025-02-01", "max": "2025-01-01"}],
               "forms[0].fields[0].min", "after max")
    problem_at([{"key": "d", "type": "date", "label": L("日期"), "default": "2023-02-29"}],
               "forms[0].fields[0].default", "not a day of the calendar")


@pytest.mark.parametrize("raw, utc", [
    ("2025-01-05 13:45", "2025-01-05T05:45:00"), ("2025/1/5 13:45:30", "2025-01-05T05:45:30"),
    ("2025-01-05T13:45:30+08:00", "2025-01-05T05:45:30"), ("2025-01-05T05:45:30Z", "2025-01-05T05:45:30"),
    ("2025-01-05T00:15:00-0500", "2025-01-05T05:15:00"), ("2025年1月5日 13时45分", "2025-01-05T05:45:00"),
    ("2025年1月5日 13点45分30秒", "2025-01-05T05:45:30"), ("2025-01-05", "2025-01-04T16:00:00"),
    ("2025-01-05 13:45:30.999", "2025-01-05T05:45:30"), (datetime(2025, 1, 5, 13, 45), "2025-01-05T05:45:00"),
    (datetime(2025, 1, 5, 5, 45, tzinfo=UTC), "2025-01-05T05:45:00"), (date(2025, 1, 5), "2025-01-04T16:00:00"),
    (45662.5, "2025-01-05T04:00:00"),
])
def test_datetime_spellings_are_read_in_the_workspace_zone(raw, utc):
    value = make("datetime").clean(raw, CTX)
    assert value.tzinfo is not None and value.utcoffset() == timedelta(0)
    assert value.replace(tzinfo=None).isoformat() == utc


def test_datetime_errors():
    moment = make("datetime")
    refused(moment, "2025-01-05 25:00", "time_invalid", zh=["小时 0-23"], en=["hours 0-23"])
    refused(moment, "2025-01-05 10:60", "time_invalid")
    refused(moment, "2025-02-30 10:00", "date_no_such_day")
    refused(moment, "下午三点", "datetime_invalid", zh=["2025-01-31 13:45"], en=["2025-01-31 13:45"])
    refused(moment, "0001-01-01 00:00", "datetime_invalid")       # before year 1 in UTC
    refused(moment, False, "datetime_invalid")
    bounded = make("datetime", min="2025-01-01")
    refused(bounded, "2024-12-31 23:59", "date_too_early")
    assert bounded.clean("2024-12-31T16:00:00Z", CTX).day == 31      # 2025-01-01 00:00 in Shanghai


def test_datetime_output_in_the_workspace_zone():
    moment = make("datetime")
    value = moment.clean("2025-01-05 08:05", CTX)
    assert moment.display(value, CTX) == "2025-01-05 08:05"
    assert moment.display(value, ValueContext(tz=ZoneInfo("UTC"))) == "2025-01-05 00:05"
    assert moment.export_value(value, CTX) == datetime(2025, 1, 5, 8, 5)    # a naive local cell
    assert moment.parse_cell(moment.export_value(value, CTX), CTX) == value
    assert moment.parse_text(moment.display(value, CTX), CTX) == value
    assert moment.to_json(value) == "2025-01-05T00:05:00+00:00"
    assert make("datetime", format="%m/%d %H:%M:%S").display(value, CTX_EN) == "01/05 08:05:00"
    problem_at([{"key": "t", "type": "datetime", "label": L("时间"), "format": "%Y-%m-%d %I:%M %p"}],
               "forms[0].fields[0].format", "%I, %p")


FIELDS = [
    {"key": "day", "type": "date", "label": L("日期", "Day")},
    {"key": "at", "type": "datetime", "label": L("时间", "At")},
]


def test_date_round_trip_filters_and_shortcuts(db):
    # NOW is Saturday 2025-03-15 in Shanghai; its week began on Monday 03-10
    lab = Lab(db, FIELDS)
    days = ["2025-03-15", "2025-03-10", "2025-03-09", "2025-03-16", "2025-03-01", "2025-02-28", "2024-02-29"]
    ids = {d: lab.create(day=d)["id"] for d in days}
    none = lab.create()["id"]
    assert lab.value(ids["2024-02-29"], "day") == date(2024, 2, 29)
    everyone = set(ids.values()) | {none}
    lab.check_filters("day", [
        ("eq", "2025年3月15日", [ids["2025-03-15"]]),
        ("ne", "2025-03-15", everyone - {ids["2025-03-15"]}),
        ("in", ["2025/3/9", "2024-02-29"], [ids["2025-03-09"], ids["2024-02-29"]]),
        ("not_in", ["2025-03-15", "2025-03-16"], everyone - {ids["2025-03-15"], ids["2025-03-16"]}),
        ("gt", "2025-03-10", [ids["2025-03-15"], ids["2025-03-16"]]),
        ("gte", "2025-03-15", [ids["2025-03-15"], ids["2025-03-16"]]),
        ("lt", "2025-03-01", [ids["2025-02-28"], ids["2024-02-29"]]),
        ("lte", "2025-02-28", [ids["2025-02-28"], ids["2024-02-29"]]),
        ("between", ["2025-03-01", "2025-03-10"], [ids["2025-03-01"], ids["2025-03-09"], ids["2025-03-10"]]),
        ("today", None, [ids["2025-03-15"]]),
        ("this_week", None, [ids["2025-03-15"], ids["2025-03-10"], ids["2025-03-16"]]),
        ("this_month", None, [ids[d] for d in days if d.startswith("2025-03")]),
        ("last_n_days", 7, [ids["2025-03-15"], ids["2025-03-10"], ids["2025-03-09"]]),
        ("last_n_days", "1", [ids["2025-03-15"]]),
        ("empty", None, [none]),
        ("not_empty", None, ids.values()),
    ])
    ordered = [i for i in lab.ids(sort="day") if i != none]
    assert [lab.value(i, "day").isoformat() for i in ordered] == sorted(days)
    lab.update(ids["2025-03-16"], day="2025-3-17")
    assert lab.value(ids["2025-03-16"], "day") == date(2025, 3, 17)
    assert lab.refused({"day": "2023-02-29"}) == {"day": "date_no_such_day"}


def test_datetime_round_trip_and_day_boundaries_in_shanghai(db):
    lab = Lab(db, FIELDS)
    first_minute = lab.create(at="2025-03-15 00:00")["id"]              # 2025-03-14T16:00Z
    last_minute = lab.create(at="2025-03-14T23:59:59+08:00")["id"]
    late_utc = lab.create(at="2025-03-15T15:59:00Z")["id"]             # 23:59 in Shanghai: today
    tomorrow = lab.create(at="2025-03-15T16:00:00Z")["id"]             # 00:00 the 16th in Shanghai
    assert lab.value(first_minute, "at") == datetime(2025, 3, 14, 16, 0, tzinfo=UTC)
    assert lab.value(last_minute, "at").astimezone(SHANGHAI) == datetime(2025, 3, 14, 23, 59, 59,
                                                                          tzinfo=SHANGHAI)
    lab.check_filters("at", [
        ("today", None, [first_minute, late_utc]),
        ("this_week", None, [first_minute, last_minute, late_utc, tomorrow]),
        ("gte", "2025-03-15", [first_minute, late_utc, tomorrow]),        # from 00:00 Shanghai
        ("lt", "2025-03-15 00:00", [last_minute]),
        ("between", ["2025-03-14 23:59:59", "2025-03-15 00:00"], [first_minute, last_minute]),
        ("eq", "2025-03-15T15:59:00Z", [late_utc]),
        ("last_n_days", 1, [first_minute, late_utc]),
    ])
    assert lab.ids(sort="at") == [last_minute, first_minute, late_utc, tomorrow]
    assert lab.ids(sort="-at") == [tomorrow, late_utc, first_minute, last_minute]
    created = lab.get(first_minute)["created_at"]
    assert created == NOW                                                # system column, fixed clock
    assert lab.ids({"field": "created_at", "op": "today"}) == [first_minute, last_minute, late_utc, tomorrow]
