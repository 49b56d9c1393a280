"""Date functions: month ends, leap days, week numbering, 360-day years, working days."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal as D
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings, strategies as st

from engine.formula.values import DIV0, NA, NUM, VALUE
from tests.support.formula_functions import NOW, SH, call, ctx, same

d = date


@pytest.mark.parametrize("args, expected", [
    ((2025, 1, 15), d(2025, 1, 15)), ((2025, 14, 1), d(2026, 2, 1)), ((2025, 1, 32), d(2025, 2, 1)),
    ((2025, 3, 0), d(2025, 2, 28)), ((2024, 3, 0), d(2024, 2, 29)), ((2025, 0, 1), d(2024, 12, 1)),
    ((2025, -1, 1), d(2024, 11, 1)), ((2025, 1, -1), d(2024, 12, 30)), ((25, 1, 1), d(1925, 1, 1)),
    ((2025.9, 1.9, 1.9), d(2025, 1, 1)), ((10000, 1, 1), NUM), ((-1, 1, 1), NUM), ((9999, 12, 32), NUM),
    (("2025", "2", "3"), d(2025, 2, 3)), (("x", 1, 1), VALUE), ((2025, 10 ** 9, 1), NUM),
])
def test_date(args, expected):
    assert same(call("DATE", *args), expected)


@pytest.mark.parametrize("name, args, expected", [
    ("DATEVALUE", ("2025-09-11",), d(2025, 9, 11)), ("DATEVALUE", ("2025/9/11",), d(2025, 9, 11)),
    ("DATEVALUE", ("2025年9月11日",), d(2025, 9, 11)), ("DATEVALUE", ("2025-09-11 10:00",), d(2025, 9, 11)),
    ("DATEVALUE", ("2025-02-29",), VALUE), ("DATEVALUE", ("soon",), VALUE), ("DATEVALUE", (45672,), VALUE),
    ("DATEVALUE", (d(2025, 1, 1),), d(2025, 1, 1)),
    ("DATEDELTA", (d(2025, 11, 20), 90), d(2026, 2, 18)), ("DATEDELTA", (d(2024, 3, 1), -1), d(2024, 2, 29)),
    ("DATEDELTA", ("2025-01-01", 1), d(2025, 1, 2)), ("DATEDELTA", (None, 1), None),
    ("DATEDELTA", (5, 1), VALUE), ("DATEDELTA", (d(2025, 1, 1), "x"), VALUE),
    ("DATEDELTA", (datetime(2025, 1, 1, 9, tzinfo=SH), 1), datetime(2025, 1, 2, 9, tzinfo=SH)),
])
def test_making_dates(name, args, expected):
    assert same(call(name, *args), expected)


def test_today_and_now_come_from_the_context_in_its_zone():
    assert call("TODAY") == d(2025, 9, 15)
    assert call("NOW") == NOW
    late = datetime(2025, 9, 15, 17, 0, tzinfo=ZoneInfo("UTC"))       # 01:00 on the 16th in Shanghai
    assert call("TODAY", context=ctx(now=late)) == d(2025, 9, 16)
    assert call("TODAY", context=ctx(now=late, tz=ZoneInfo("UTC"))) == d(2025, 9, 15)
    assert call("HOUR", call("NOW", context=ctx(now=late)), context=ctx(now=late)) == 1


@pytest.mark.parametrize("name, arg, expected", [
    ("YEAR", d(2024, 2, 29), 2024), ("MONTH", d(2024, 2, 29), 2), ("DAY", d(2024, 2, 29), 29),
    ("YEAR", "2025/1/5", 2025), ("DAY", datetime(2025, 1, 5, 23, 59, tzinfo=SH), 5), ("YEAR", 45672, 2025),
    ("YEAR", None, None), ("YEAR", "x", VALUE), ("MONTH", [d(2025, 1, 1)], VALUE), ("YEAR", True, VALUE),
    ("HOUR", datetime(2025, 1, 15, 14, 30, 15, tzinfo=SH), 14), ("MINUTE", "2025-01-15 14:30:15", 30),
    ("SECOND", "2025-01-15 14:30:15", 15), ("HOUR", "9:45", 9), ("HOUR", d(2025, 1, 1), 0),
    ("HOUR", D("45672.75"), 18), ("HOUR", None, None), ("MINUTE", "x", VALUE),
    ("HOUR", datetime(2025, 1, 15, 1, 0, tzinfo=ZoneInfo("UTC")), 9),     # read in the workspace zone
    ("ISOWEEKNUM", d(2025, 1, 1), 1), ("ISOWEEKNUM", d(2021, 1, 3), 53), ("ISOWEEKNUM", d(2024, 12, 30), 1),
    ("ISOWEEKNUM", d(2026, 12, 31), 53),
])
def test_parts(name, arg, expected):
    assert same(call(name, arg), expected)


@pytest.mark.parametrize("day, kind, expected", [
    (d(2025, 9, 14), 1, 1), (d(2025, 9, 14), 2, 7), (d(2025, 9, 14), 3, 6), (d(2025, 9, 15), 1, 2),
    (d(2025, 9, 15), 2, 1), (d(2025, 9, 15), 3, 0), (d(2025, 9, 20), 1, 7), (d(2025, 9, 15), 11, 1),
    (d(2025, 9, 16), 12, 1), (d(2025, 9, 17), 13, 1), (d(2025, 9, 18), 14, 1), (d(2025, 9, 19), 15, 1),
    (d(2025, 9, 20), 16, 1), (d(2025, 9, 21), 17, 1), (d(2025, 9, 15), 17, 2), (d(2025, 9, 15), 4, NUM),
    (d(2025, 9, 15), 0, NUM), (None, 1, None),
])
def test_weekday(day, kind, expected):
    assert same(call("WEEKDAY", day, kind), expected)


def test_weekday_defaults_to_sunday_first():
    assert call("WEEKDAY", d(2025, 9, 14)) == 1


@pytest.mark.parametrize("day, kind, expected", [
    (d(2025, 1, 5), 2, 1), (d(2025, 1, 5), 1, 2), (d(2025, 1, 1), 1, 1), (d(2025, 1, 4), 1, 1),
    (d(2025, 1, 6), 2, 2), (d(2025, 12, 31), 1, 53), (d(2025, 12, 31), 2, 53), (d(2023, 1, 1), 2, 1),
    (d(2023, 1, 2), 2, 2), (d(2023, 1, 2), 1, 1), (d(2025, 1, 1), 21, 1), (d(2021, 1, 1), 21, 53),
    (d(2025, 1, 7), 12, 2), (d(2025, 1, 6), 12, 1), (d(2025, 1, 1), 13, 1), (d(2025, 1, 8), 13, 2),
    (d(2025, 1, 5), 17, 2), (d(2025, 1, 5), 11, 1), (d(2025, 1, 1), 3, NUM), (d(2024, 12, 31), 1, 53),
])
def test_weeknum(day, kind, expected):
    assert same(call("WEEKNUM", day, kind), expected)


@pytest.mark.parametrize("start, end, unit, expected", [
    (d(2025, 1, 15), d(2025, 3, 1), "d", 45), (d(2020, 2, 29), d(2025, 2, 28), "y", 4),
    (d(2020, 2, 29), d(2024, 2, 29), "Y", 4), (d(2024, 11, 15), d(2025, 2, 14), "yd", 91),
    (d(2025, 3, 1), d(2025, 1, 15), "d", NUM), (d(2025, 1, 31), d(2025, 2, 28), "m", 0),
    (d(2025, 1, 31), d(2025, 3, 31), "M", 2), (d(2025, 1, 15), d(2026, 4, 14), "ym", 2),
    (d(2025, 1, 15), d(2026, 4, 15), "YM", 3), (d(2025, 1, 15), d(2025, 4, 10), "md", 26),
    (d(2025, 1, 10), d(2025, 4, 15), "MD", 5), (d(2024, 3, 1), d(2025, 2, 28), "yd", 364),
    (d(2025, 1, 1), d(2025, 1, 1), "d", 0), (d(2025, 1, 1), d(2025, 12, 31), "y", 0),
    (d(2025, 1, 1), d(2026, 1, 1), "y", 1), (d(2025, 1, 1), d(2025, 2, 1), "x", NUM),
    (None, d(2025, 1, 1), "d", None), ("2025-01-01", "2025-01-31", "d", 30),
    (d(2025, 1, 1), d(2025, 2, 1), 1, NUM),
])
def test_datedif(start, end, unit, expected):
    assert same(call("DATEDIF", start, end, unit), expected)


@pytest.mark.parametrize("name, args, expected", [
    ("DAYS", (d(2025, 3, 1), d(2025, 1, 15)), 45), ("DAYS", (d(2025, 1, 15), d(2025, 3, 1)), -45),
    ("DAYS", (d(2024, 3, 1), d(2024, 2, 28)), 2), ("DAYS", (None, d(2024, 2, 28)), None),
    ("DAYS360", (d(2025, 1, 31), d(2025, 3, 31)), 60), ("DAYS360", (d(2025, 1, 15), d(2025, 3, 31)), 76),
    ("DAYS360", (d(2025, 1, 30), d(2025, 3, 31)), 60), ("DAYS360", (d(2025, 2, 28), d(2025, 3, 31)), 30),
    ("DAYS360", (d(2025, 1, 15), d(2025, 2, 28)), 43), ("DAYS360", (d(2025, 1, 31), d(2025, 3, 31), True), 60),
    ("DAYS360", (d(2025, 1, 15), d(2025, 3, 31), True), 75), ("DAYS360", (d(2025, 3, 31), d(2025, 1, 31)), -60),
    ("DAYS360", (d(2024, 2, 29), d(2025, 2, 28)), 358), ("DAYS360", (d(2024, 2, 29), d(2025, 2, 28), True), 359),
    ("EDATE", (d(2024, 1, 31), 1), d(2024, 2, 29)), ("EDATE", (d(2024, 2, 29), -12), d(2023, 2, 28)),
    ("EDATE", (d(2025, 5, 31), 3), d(2025, 8, 31)), ("EDATE", (d(2025, 1, 31), 1), d(2025, 2, 28)),
    ("EDATE", (d(2025, 3, 31), -1), d(2025, 2, 28)), ("EDATE", (d(2025, 1, 15), 1.9), d(2025, 2, 15)),
    ("EDATE", (d(2025, 1, 15), 0), d(2025, 1, 15)), ("EDATE", (d(2025, 1, 15), 10 ** 6), NUM),
    ("EOMONTH", (d(2025, 11, 20), 3), d(2026, 2, 28)), ("EOMONTH", (d(2024, 1, 31), 1), d(2024, 2, 29)),
    ("EOMONTH", (d(2025, 1, 15), 0), d(2025, 1, 31)), ("EOMONTH", (d(2025, 1, 15), -1), d(2024, 12, 31)),
    ("EOMONTH", ("2025-04-10", 0), d(2025, 4, 30)), ("EOMONTH", (None, 0), None),
])
def test_differences_and_months(name, args, expected):
    assert same(call(name, *args), expected)


@pytest.mark.parametrize("name, args, expected", [
    ("NETWORKDAYS", (d(2025, 9, 1), d(2025, 9, 30)), 22), ("NETWORKDAYS", (d(2025, 9, 30), d(2025, 9, 1)), -22),
    ("NETWORKDAYS", (d(2025, 9, 13), d(2025, 9, 14)), 0), ("NETWORKDAYS", (d(2025, 9, 15), d(2025, 9, 15)), 1),
    ("NETWORKDAYS", (d(2025, 9, 1), d(2025, 9, 30), [d(2025, 9, 10), d(2025, 9, 13), None]), 21),
    ("NETWORKDAYS", (d(2025, 9, 1), d(2025, 9, 30), d(2025, 9, 10)), 21),
    ("NETWORKDAYS", (d(2025, 9, 1), d(2025, 9, 30), [d(2025, 9, 10), d(2025, 9, 10)]), 21),
    ("NETWORKDAYS", (d(2025, 9, 1), d(2025, 9, 30), ["x"]), VALUE),
    ("NETWORKDAYS", (d(2025, 9, 1), d(2025, 9, 30), [NA]), NA),
    ("NETWORKDAYS", (d(2025, 10, 1), d(2025, 10, 8), ["2025-10-01", "2025-10-02", "2025-10-03",
                                                       "2025-10-06", "2025-10-07", "2025-10-08"]), 0),
    ("WORKDAY", (d(2025, 9, 15), -3), d(2025, 9, 10)), ("WORKDAY", (d(2025, 9, 12), 1), d(2025, 9, 15)),
    ("WORKDAY", (d(2025, 9, 13), 1), d(2025, 9, 15)), ("WORKDAY", (d(2025, 9, 13), -1), d(2025, 9, 12)),
    ("WORKDAY", (d(2025, 9, 15), 0), d(2025, 9, 15)), ("WORKDAY", (d(2025, 9, 15), 10), d(2025, 9, 29)),
    ("WORKDAY", (d(2025, 9, 15), 1, [d(2025, 9, 16), d(2025, 9, 17)]), d(2025, 9, 18)),
    ("WORKDAY", (d(2025, 9, 30), 1, [d(2025, 10, i) for i in range(1, 9)]), d(2025, 10, 9)),
    ("WORKDAY", (d(2025, 9, 18), -1, [d(2025, 9, 16), d(2025, 9, 17)]), d(2025, 9, 15)),
    ("WORKDAY", (d(2025, 9, 15), 10 ** 9), NUM), ("WORKDAY", (None, 1), None),
])
def test_working_days(name, args, expected):
    assert same(call(name, *args), expected)


def _brute_networkdays(start: date, end: date, holidays: set[date]) -> int:
    sign, (low, high) = (1, (start, end)) if start <= end else (-1, (end, start))
    days = (low + timedelta(n) for n in range((high - low).days + 1))
    return sign * sum(1 for day in days if day.weekday() < 5 and day not in holidays)


def _brute_workday(start: date, count: int, holidays: set[date]) -> date:
    day, step = start, (1 if count > 0 else -1)
    while count:
        day += timedelta(step)
        if day.weekday() < 5 and day not in holidays:
            count -= step
    return day


dates = st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31))


@settings(max_examples=300, deadline=None)
@given(dates, dates, st.lists(dates, max_size=8))
def test_networkdays_agrees_with_counting_day_by_day(start, end, holidays):
    assert call("NETWORKDAYS", start, end, holidays) == _brute_networkdays(start, end, set(holidays))


@settings(max_examples=300, deadline=None)
@given(dates, st.integers(min_value=-400, max_value=400),
       st.lists(st.dates(min_value=date(2019, 6, 1), max_value=date(2031, 6, 1)), max_size=20))
def test_workday_agrees_with_stepping_day_by_day(start, count, holidays):
    assert call("WORKDAY", start, count, holidays) == _brute_workday(start, count, set(holidays))
