"""Dates and times: DATE DATEVALUE TODAY NOW YEAR MONTH DAY HOUR MINUTE SECOND WEEKDAY
WEEKNUM ISOWEEKNUM DATEDIF DAYS DAYS360 EDATE EOMONTH NETWORKDAYS WORKDAY DATEDELTA.

Dates are `datetime.date`; datetimes are aware, in the workspace time zone. A date
argument may be a date, a datetime (its day), date text ("2025-01-15", "2025/1/15",
"2025年1月15日") or an Excel serial number. An empty date gives an empty result (Excel
would read it as 1900-01-00, which no business user means). TODAY() and NOW() read the
evaluation context's clock in the workspace time zone, never the machine's.
"""
from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from engine.formula import operators
from engine.formula.functions.args import (
    bool_arg, date_arg, datetime_arg, first_failure, int_arg, number_arg, values_of,
)
from engine.formula.functions.registry import function
from engine.formula.values import (
    NUM, VALUE, EvalContext, ErrorValue, parse_date_text, to_date,
)

_OMITTED: Any = object()   # an optional argument left out


def make_date(year: int, month: int, day: int) -> date | ErrorValue:
    """DATE's arithmetic: months past 12 roll into years, days past the month roll on,
    zero and negative values roll back; years 0-1899 mean 1900-3799 as in Excel."""
    if 0 <= year < 1900:
        year += 1900
    months = year * 12 + (month - 1)
    year, month = divmod(months, 12)
    try:
        return date(year, month + 1, 1) + timedelta(days=day - 1)
    except (ValueError, OverflowError):
        return NUM


def add_months(day: date, months: int) -> date | ErrorValue:
    """The same day `months` later, kept inside the month (Jan 31 + 1 month = Feb 28/29)."""
    total = day.year * 12 + day.month - 1 + months
    year, month = divmod(total, 12)
    if not 1 <= year <= 9999:
        return NUM
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def _month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def _empty_or_error(*values: Any) -> Any:
    """The first error among the arguments, else None if any of them is empty, else False."""
    failure = first_failure(*values)
    if failure is not None:
        return failure
    return None if any(value is None for value in values) else False


# ---- making dates ----------------------------------------------------------------------

@function("DATE(year, month, day)", result="date", args=("number", "number", "number"),
          summary="The date of year, month and day; months and days beyond their range roll over "
                  "(DATE(2025, 14, 1) = 2026-02-01).",
          zh="由年、月、日组成日期；超出范围的月和日会顺延（DATE(2025, 14, 1) = 2026-02-01）。",
          example="DATE(2025, 14, 1)")
def DATE(ctx: EvalContext, year: Any, month: Any, day: Any) -> Any:
    y, m, d = int_arg(year), int_arg(month), int_arg(day)
    failure = first_failure(y, m, d)
    if failure is not None:
        return failure
    if not 0 <= y <= 9999 or abs(m) > 120_000 or abs(d) > 3_700_000:
        return NUM
    return make_date(y, m, d)


@function("DATEVALUE(text)", result="date", args=("text",),
          summary='The date written in the text ("2025-09-11", "2025/9/11", "2025年9月11日").',
          zh='把文本转为日期，支持 "2025-09-11"、"2025/9/11"、"2025年9月11日"。',
          example='DATEVALUE("2025年9月11日")')
def DATEVALUE(ctx: EvalContext, text: Any) -> Any:
    kind = type(text)
    if kind is date or kind is datetime:
        return to_date(text)
    if kind is not str:
        return VALUE
    moment = parse_date_text(text, ctx.tz)
    if moment is None:
        return VALUE
    return moment.date() if type(moment) is datetime else moment


@function("TODAY()", result="date", volatile=True,
          summary="Today's date in the workspace time zone.", zh="今天的日期（按工作区时区）。",
          example="TODAY()")
def TODAY(ctx: EvalContext) -> date:
    return ctx.today


@function("NOW()", result="datetime", volatile=True,
          summary="The current date and time in the workspace time zone.", zh="当前日期和时间（按工作区时区）。",
          example="NOW()")
def NOW(ctx: EvalContext) -> datetime:
    return ctx.now


@function("DATEDELTA(date, days)", result="date", args=("date", "number"),
          summary="The date moved by a number of days, forward or back (Jiandaoyun).",
          zh="将日期加上（或减去）指定天数（简道云函数）。", example="DATEDELTA(DATE(2025, 11, 20), 90)")
def DATEDELTA(ctx: EvalContext, start: Any, days: Any) -> Any:
    if type(start) is str:
        start = date_arg(ctx, start)
    elif type(start) not in (date, datetime):
        start = VALUE if start is not None and type(start) is not ErrorValue else start
    delta = number_arg(days)
    state = _empty_or_error(start, delta)
    if state is not False:
        return state
    return operators.add(start, delta)


# ---- parts of dates --------------------------------------------------------------------

def _date_part(name: str, part, summary: str, zh: str, example: str):
    @function(f"{name}(date)", result="number", args=("date",), summary=summary, zh=zh, example=example)
    def impl(ctx: EvalContext, value: Any) -> Any:
        day = date_arg(ctx, value)
        if day is None or type(day) is ErrorValue:
            return day
        return Decimal(part(day))
    impl.__name__ = name
    return impl


YEAR = _date_part("YEAR", lambda day: day.year, "The year of a date.", "日期的年份。",
                  'YEAR("2024-02-29")')
MONTH = _date_part("MONTH", lambda day: day.month, "The month of a date, 1 to 12.", "日期的月份（1～12）。",
                   'MONTH("2024-02-29")')
DAY = _date_part("DAY", lambda day: day.day, "The day of the month, 1 to 31.", "日期是当月的第几天（1～31）。",
                 'DAY("2024-02-29")')
ISOWEEKNUM = _date_part("ISOWEEKNUM", lambda day: day.isocalendar()[1],
                        "The ISO 8601 week number (weeks start on Monday; week 1 holds the first Thursday).",
                        "ISO 8601 周数（周一为一周开始，包含第一个星期四的那周为第 1 周）。",
                        'ISOWEEKNUM("2025-01-01")')


def _time_part(name: str, part, summary: str, zh: str, example: str):
    @function(f"{name}(datetime)", result="number", args=("datetime",), summary=summary, zh=zh,
              example=example)
    def impl(ctx: EvalContext, value: Any) -> Any:
        moment = datetime_arg(ctx, value)
        if moment is None or type(moment) is ErrorValue:
            return moment
        return Decimal(part(moment))
    impl.__name__ = name
    return impl


HOUR = _time_part("HOUR", lambda moment: moment.hour, "The hour, 0 to 23 (in the workspace time zone).",
                  "小时（0～23，按工作区时区）。", 'HOUR("2025-01-15 14:30:15")')
MINUTE = _time_part("MINUTE", lambda moment: moment.minute, "The minute, 0 to 59.", "分钟（0～59）。",
                    'MINUTE("2025-01-15 14:30:15")')
SECOND = _time_part("SECOND", lambda moment: moment.second, "The second, 0 to 59.", "秒（0～59）。",
                    'SECOND("2025-01-15 14:30:15")')

# WEEKDAY return types: the weekday (Monday = 0) numbered 1 and which day counts as 1.
_WEEKDAY_FIRST = {1: 6, 2: 0, 11: 0, 12: 1, 13: 2, 14: 3, 15: 4, 16: 5, 17: 6}


@function("WEEKDAY(date, [return_type])", result="number", args=("date", "number"),
          summary="The day of the week: type 1 (default) Sunday=1..Saturday=7; type 2 Monday=1.."
                  "Sunday=7; type 3 Monday=0..Sunday=6; types 11-17 start on Monday..Sunday.",
          zh="星期几：类型 1（默认）周日=1…周六=7；类型 2 周一=1…周日=7；类型 3 周一=0…周日=6；"
             "类型 11～17 分别以周一～周日为 1。",
          example='WEEKDAY("2025-09-14", 2)')
def WEEKDAY(ctx: EvalContext, value: Any, return_type: Any = Decimal(1)) -> Any:
    day, kind = date_arg(ctx, value), int_arg(return_type)
    state = _empty_or_error(day, kind)
    if state is not False:
        return state
    if kind == 3:
        return Decimal(day.weekday())
    first = _WEEKDAY_FIRST.get(kind)
    if first is None:
        return NUM
    return Decimal((day.weekday() - first) % 7 + 1)


# WEEKNUM return types: the weekday (Monday = 0) each week starts on.
_WEEK_STARTS = {1: 6, 17: 6, 2: 0, 11: 0, 12: 1, 13: 2, 14: 3, 15: 4, 16: 5}


@function("WEEKNUM(date, [return_type])", result="number", args=("date", "number"),
          summary="The week of the year; week 1 holds January 1st. Weeks start on Sunday (type 1, "
                  "default) or Monday (type 2); 11-17 start on Monday..Sunday; 21 is the ISO week.",
          zh="一年中的第几周，1 月 1 日所在周为第 1 周。类型 1（默认）周日开始，类型 2 周一开始；"
             "11～17 分别以周一～周日开始；21 为 ISO 周数。",
          example='WEEKNUM("2025-01-05", 2)')
def WEEKNUM(ctx: EvalContext, value: Any, return_type: Any = Decimal(1)) -> Any:
    day, kind = date_arg(ctx, value), int_arg(return_type)
    state = _empty_or_error(day, kind)
    if state is not False:
        return state
    if kind == 21:
        return Decimal(day.isocalendar()[1])
    start = _WEEK_STARTS.get(kind)
    if start is None:
        return NUM
    new_year = date(day.year, 1, 1)
    lead = (new_year.weekday() - start) % 7          # days of week 1 before January 1st
    return Decimal((day - new_year).days + lead) // 7 + 1


# ---- differences -----------------------------------------------------------------------

def _datedif(start: date, end: date, unit: str) -> Decimal | ErrorValue:
    months = (end.year - start.year) * 12 + end.month - start.month - (end.day < start.day)
    if unit == "D":
        return Decimal((end - start).days)
    if unit == "M":
        return Decimal(months)
    if unit == "Y":
        return Decimal(months // 12)
    if unit == "YM":
        return Decimal(months % 12)
    if unit == "YD":
        anniversary = _in_year(start, end.year)
        if anniversary > end:
            anniversary = _in_year(start, end.year - 1)
        return Decimal((end - anniversary).days)
    if unit == "MD":
        if end.day >= start.day:
            return Decimal(end.day - start.day)
        previous_month_end = end.replace(day=1) - timedelta(days=1)
        return Decimal(previous_month_end.day - start.day + end.day if start.day <= previous_month_end.day
                       else end.day)
    return NUM


def _in_year(day: date, year: int) -> date:
    """The same month and day in another year (Feb 29 becomes Feb 28)."""
    return date(year, day.month, min(day.day, calendar.monthrange(year, day.month)[1]))


@function("DATEDIF(start_date, end_date, unit)", result="number", args=("date", "date", "text"),
          summary='Whole years "Y", months "M" or days "D" from start to end; "YM" months and "MD" '
                  'days left over, "YD" days ignoring years. #NUM! when start is after end.',
          zh='两个日期之间的整年数 "Y"、整月数 "M"、天数 "D"；"YM" 为不足一年的月数，"MD" 为不足一月的天数，'
             '"YD" 为忽略年份的天数。开始日期晚于结束日期时返回 #NUM!。',
          example='DATEDIF("2020-02-29", "2025-02-28", "Y")')
def DATEDIF(ctx: EvalContext, start: Any, end: Any, unit: Any) -> Any:
    first, last = date_arg(ctx, start), date_arg(ctx, end)
    failure = first_failure(first, last, unit)
    if failure is not None:
        return failure
    if type(unit) is not str:
        return NUM
    if first is None or last is None:
        return None
    if first > last:
        return NUM
    return _datedif(first, last, unit.strip().upper())


@function("DAYS(end_date, start_date)", result="number", args=("date", "date"),
          summary="The number of days from start_date to end_date.", zh="两个日期之间相差的天数（结束减开始）。",
          example='DAYS("2025-03-01", "2025-01-15")')
def DAYS(ctx: EvalContext, end: Any, start: Any) -> Any:
    last, first = date_arg(ctx, end), date_arg(ctx, start)
    state = _empty_or_error(last, first)
    if state is not False:
        return state
    return Decimal((last - first).days)


@function("DAYS360(start_date, end_date, [european])", result="number", args=("date", "date", "boolean"),
          summary="Days between two dates on a 360-day year (twelve 30-day months): the US (NASD) "
                  "method by default, the European one when the third argument is TRUE.",
          zh="按一年 360 天（每月 30 天）计算两个日期之间的天数：默认美国（NASD）方法，第三个参数为 TRUE 时用欧洲方法。",
          example='DAYS360("2025-01-31", "2025-03-31")')
def DAYS360(ctx: EvalContext, start: Any, end: Any, european: Any = False) -> Any:
    first, last, euro = date_arg(ctx, start), date_arg(ctx, end), bool_arg(european)
    state = _empty_or_error(first, last, euro)
    if state is not False:
        return state
    start_day, end_day = first.day, last.day
    if euro:
        start_day, end_day = min(start_day, 30), min(end_day, 30)
    else:
        if first == _month_end(first):      # the last day of a month (February's too) is the 30th
            start_day = 30
        if end_day == 31 and start_day >= 30:
            end_day = 30
    return Decimal((last.year - first.year) * 360 + (last.month - first.month) * 30
                   + end_day - start_day)


# ---- moving by months ------------------------------------------------------------------

@function("EDATE(start_date, months)", result="date", args=("date", "number"),
          summary="The same day some months later (or earlier), kept inside the month: "
                  "EDATE(2024-01-31, 1) = 2024-02-29.",
          zh="若干个月之后（或之前）的同一天，超出当月天数时取月末：EDATE(2024-01-31, 1) = 2024-02-29。",
          example='EDATE("2024-01-31", 1)')
def EDATE(ctx: EvalContext, start: Any, months: Any) -> Any:
    day, count = date_arg(ctx, start), int_arg(months)
    state = _empty_or_error(day, count)
    if state is not False:
        return state
    return add_months(day, count)


@function("EOMONTH(start_date, months)", result="date", args=("date", "number"),
          summary="The last day of the month some months later (0: this month).",
          zh="若干个月之后那个月的最后一天（0 表示当月月末）。", example='EOMONTH("2025-11-20", 3)')
def EOMONTH(ctx: EvalContext, start: Any, months: Any) -> Any:
    day, count = date_arg(ctx, start), int_arg(months)
    state = _empty_or_error(day, count)
    if state is not False:
        return state
    moved = add_months(day.replace(day=1), count)
    return moved if type(moved) is ErrorValue else _month_end(moved)


# ---- working days ----------------------------------------------------------------------

def _holidays(ctx: EvalContext, holidays: Any) -> set[date] | ErrorValue:
    """The weekday holidays (weekend ones change nothing); empties are skipped."""
    found: set[date] = set()
    if holidays is _OMITTED:
        return found
    for value in values_of(ctx, [holidays]):
        day = date_arg(ctx, value)
        if type(day) is ErrorValue:
            return day
        if day is not None and day.weekday() < 5:
            found.add(day)
    return found


def _weekdays_through(day: date) -> int:
    """Weekdays (Mon-Fri) from a fixed Monday up to and including `day`."""
    days = day.toordinal() - 1      # ordinal 1 (0001-01-01) is a Monday
    weeks, rest = divmod(days, 7)
    return weeks * 5 + min(rest + 1, 5)


def _networkdays(first: date, last: date, holidays: set[date]) -> int:
    if first > last:
        return -_networkdays(last, first, holidays)
    count = _weekdays_through(last) - _weekdays_through(first - timedelta(days=1)) \
        if first > date.min else _weekdays_through(last)
    return count - sum(1 for day in holidays if first <= day <= last)


@function("NETWORKDAYS(start_date, end_date, [holidays])", result="number",
          args=("date", "date", "array"),
          summary="Working days (Monday to Friday) from start to end, both counted, less the "
                  "holidays; negative when start is after end.",
          zh="两个日期之间（含首尾）的工作日（周一至周五）天数，扣除节假日；开始晚于结束时为负数。",
          example='NETWORKDAYS("2025-09-01", "2025-09-30")')
def NETWORKDAYS(ctx: EvalContext, start: Any, end: Any, holidays: Any = _OMITTED) -> Any:
    first, last = date_arg(ctx, start), date_arg(ctx, end)
    days_off = _holidays(ctx, holidays)
    state = _empty_or_error(first, last, days_off)
    if state is not False:
        return state
    return Decimal(_networkdays(first, last, days_off))


def _weekday_from_count(count: int) -> date:
    """The weekday whose `_weekdays_through` is `count` (the inverse on weekdays)."""
    weeks, rest = divmod(count - 1, 5)
    return date.fromordinal(weeks * 7 + rest + 1)


def _workday(start: date, days: int, holidays: set[date]) -> date:
    """`days` working days after (before, if negative) start, skipping holidays."""
    if days == 0:
        return start
    step = 1 if days > 0 else -1
    base = _weekdays_through(start)
    if step < 0 and start.weekday() >= 5:
        base += 1                   # from a weekend, the Friday before is one step back
    target = _weekday_from_count(base + days)
    # Holidays passed over push the target further, which may pass more holidays.
    passed_from = start
    while True:
        if step > 0:
            passed = sum(1 for day in holidays if passed_from < day <= target)
        else:
            passed = sum(1 for day in holidays if target <= day < passed_from)
        if not passed:
            return target
        passed_from = target
        target = _weekday_from_count(_weekdays_through(target) + step * passed)


@function("WORKDAY(start_date, days, [holidays])", result="date", args=("date", "number", "array"),
          summary="The working day that many working days after (or before, if negative) "
                  "start_date, skipping weekends and holidays.",
          zh="从开始日期起往后（负数为往前）若干个工作日的日期，跳过周末和节假日。",
          example='WORKDAY("2025-09-15", -3)')
def WORKDAY(ctx: EvalContext, start: Any, days: Any, holidays: Any = _OMITTED) -> Any:
    first, count = date_arg(ctx, start), int_arg(days)
    days_off = _holidays(ctx, holidays)
    state = _empty_or_error(first, count, days_off)
    if state is not False:
        return state
    if abs(count) > 2_500_000:
        return NUM
    try:
        return _workday(first, count, days_off)
    except (ValueError, OverflowError):
        return NUM
