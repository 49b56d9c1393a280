"""Date and datetime fields.

A date is a calendar day. A datetime is an instant, stored in UTC and shown in the
workspace time zone (Asia/Shanghai by default); text without a zone is read as
workspace time. Accepted spellings: 2025-01-05, 2025/1/5, 2025.1.5, 2025年1月5日,
20250105, with an optional time 13:45 or 13:45:30; spreadsheet cells holding
dates or Excel serial numbers.
"""
from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, ClassVar, Iterable

import sqlalchemy as sa

from engine.definition.model import Label
from engine.errors import FieldError, Problem
from engine.fields.base import (
    DATE_OPS,
    DefinitionContext,
    FieldType,
    SchemaContext,
    ValueContext,
    WidgetContext,
    preview,
)
from engine.fields.registry import register
from engine.i18n import register_messages
from engine.storage.types import UTCDateTime

register_messages({
    "date_invalid": {"zh": "“{value}”不是有效的日期，请写成 2025-01-31 这样的格式",
                     "en": "'{value}' is not a valid date; write it like 2025-01-31"},
    "datetime_invalid": {"zh": "“{value}”不是有效的日期时间，请写成 2025-01-31 13:45 这样的格式",
                         "en": "'{value}' is not a valid date and time; write it like 2025-01-31 13:45"},
    "date_no_such_day": {"zh": "“{value}”这一天不存在，请检查月份和日期（如 2 月只有 28 或 29 天）",
                         "en": "'{value}' is not a day of the calendar; check the month and day "
                               "(February has 28 days, 29 in leap years)"},
    "time_invalid": {"zh": "“{value}”中的时间不存在（小时 0-23，分钟和秒 0-59）",
                     "en": "The time in '{value}' does not exist (hours 0-23, minutes and seconds 0-59)"},
    "date_too_early": {"zh": "不能早于 {min}", "en": "Must not be before {min}"},
    "date_too_late": {"zh": "不能晚于 {max}", "en": "Must not be after {max}"},
    # A min/max option of a definition that is not a day written YYYY-MM-DD.
    "date_option_format": {
        "zh": "{option}“{value}”不是 YYYY-MM-DD 格式的日期：请写四位年份、两位月份和两位日期，用“-”连接，"
              "例如“{example}”（见 {docs}）",
        "en": "{option} '{value}' is not a date in YYYY-MM-DD: write a 4-digit year, a 2-digit month and a "
              "2-digit day joined by '-', like '{example}' (see {docs})"},
    "date_option_no_such_day": {
        "zh": "{option}“{value}”不是日期：这一天不存在，请检查月份和日期（如 2 月只有 28 或 29 天），"
              "写成 YYYY-MM-DD 格式，例如“{example}”（见 {docs}）",
        "en": "{option} '{value}' is not a date: that day is not in the calendar; check the month and day "
              "(February has 28 days, 29 in leap years) and write it in YYYY-MM-DD, like '{example}' "
              "(see {docs})"},
})

_DATE = re.compile(r"^\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?\s*"
                   r"(?:[T\s]\s*(\d{1,2})\s*[:：时点]\s*(\d{1,2})\s*"
                   r"(?:(?:[:：]|分)\s*(\d{1,2})(?:\.\d+)?\s*秒?)?\s*分?\s*"
                   r"(Z|[+-]\d{2}:?\d{2})?)?\s*$")
_COMPACT = re.compile(r"^\s*(\d{4})(\d{2})(\d{2})\s*$")
EXCEL_EPOCH = date(1899, 12, 30)
DATE_SCHEMA = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"}
OPTION_EXAMPLE = "2025-01-05"


def date_option_problem(path: str, option: str, value: str, docs: str) -> Problem | None:
    """The problem of a min/max option that is not a day written YYYY-MM-DD, in English
    and Chinese; the day it names, read as a date field reads input ('2000/01/01'), is
    offered as the suggestion. None for a valid option."""
    shaped = re.fullmatch(DATE_SCHEMA["pattern"], value) is not None
    try:
        day = _calendar_day(value, _parts(value), "date_invalid")
    except FieldError as refused:
        day = None
        message = "date_option_no_such_day" if refused.code == "date_no_such_day" else "date_option_format"
    else:
        if shaped:
            return None
        message = "date_option_format"
    params = {"option": option, "value": preview(value, 40), "example": OPTION_EXAMPLE, "docs": docs}
    return Problem.coded(path, message, params, code="bad_date", suggestion=day.isoformat() if day else None)


def _parts(raw: str):
    text = raw.strip().translate(str.maketrans("０１２３４５６７８９", "0123456789"))
    m = _DATE.match(text)
    if m:
        return m.groups()
    m = _COMPACT.match(text)
    if m:
        return m.groups() + (None, None, None, None)
    return None


def _calendar_day(raw: str, parts, invalid_code: str) -> date:
    """The day named by text already split by `_parts`; a coded error when the text is
    no date at all or names a day that does not exist (2023-02-29)."""
    if not parts:
        raise FieldError(invalid_code, value=raw.strip()[:40])
    try:
        return date(int(parts[0]), int(parts[1]), int(parts[2]))
    except ValueError:
        raise FieldError("date_no_such_day", value=raw.strip()[:40]) from None


def _zone(text: str | None):
    if not text:
        return None
    if text == "Z":
        return timezone.utc
    sign = 1 if text[0] == "+" else -1
    digits = text[1:].replace(":", "")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))


def _excel_serial(value: float) -> datetime:
    if not 1 <= value < 2958466:
        raise ValueError(value)
    return datetime.combine(EXCEL_EPOCH, time()) + timedelta(days=value)


class _Temporal(FieldType):
    operators = DATE_OPS
    config_schema = {"min": DATE_SCHEMA, "max": DATE_SCHEMA,
                     "format": {"type": "string", "maxLength": 40}}
    format_codes = "Yymd"   # strftime codes a display format may use
    docs: ClassVar[str]     # the section of docs/field-types.md on the type

    @classmethod
    def option_problem(cls, path: str, option: str, value: Any) -> Problem | None:
        if option in ("min", "max") and isinstance(value, str):
            return date_option_problem(path, option, value, cls.docs)
        return None

    def check_definition(self, ctx: DefinitionContext) -> Iterable[Problem]:
        yield from self._check_format()
        yield from self._check_bounds()

    def _check_format(self) -> Iterable[Problem]:
        fmt = self.fdef.option("format")
        if fmt is None:
            return
        codes = re.findall(r"%(.?)", fmt)
        wrong = sorted({c for c in codes if c not in self.format_codes + "%"})
        if not codes or wrong:
            allowed = " ".join(f"%{c}" for c in self.format_codes)
            yield Problem(f"{self.fdef.path}.format",
                          f"format {fmt!r} " + (f"uses {', '.join('%' + c for c in wrong)}, which "
                                                if wrong else "has no date codes; it ")
                          + f"cannot be shown; write it with {allowed} (e.g. '%Y年%m月%d日')",
                          code="bad_format")

    def _check_bounds(self) -> Iterable[Problem]:
        bounds = {}
        for key in ("min", "max"):
            text = self.fdef.option(key)
            if text is None:
                continue
            refused = date_option_problem(f"{self.fdef.path}.{key}", key, text, self.docs)
            if refused is not None:
                yield refused
            else:
                bounds[key] = date.fromisoformat(text)
        if len(bounds) == 2 and bounds["min"] > bounds["max"]:
            yield Problem(f"{self.fdef.path}.min", f"min {bounds['min']} is after max {bounds['max']}",
                          code="bad_range")

    def convert_from(self, old: FieldType, value: Any, ctx: ValueContext) -> Any:
        if isinstance(value, date):   # dates and datetimes: the moment, not its display format
            return self.clean(value, ctx)
        return super().convert_from(old, value, ctx)

    def widget_options(self, ctx: WidgetContext) -> dict[str, Any]:
        return {"min": self.fdef.option("min"), "max": self.fdef.option("max"),
                "format": self.fdef.option("format")}

    def _bounds(self, day: date) -> None:
        low, high = self.fdef.option("min"), self.fdef.option("max")
        if low and day < date.fromisoformat(low):
            raise FieldError("date_too_early", min=low)
        if high and day > date.fromisoformat(high):
            raise FieldError("date_too_late", max=high)


@register
class DateField(_Temporal):
    name = "date"
    label = Label("日期", "Date")
    docs = "docs/field-types.md#date-日期--date"
    formula_type = "date"
    widget_kind = "date"

    def sa_type(self):
        return sa.Date()

    def clean(self, raw: Any, ctx: ValueContext) -> date:
        if isinstance(raw, datetime):
            value = (raw.astimezone(ctx.tz) if raw.tzinfo else raw).date()
        elif isinstance(raw, date):
            value = raw
        elif isinstance(raw, (int, float)) and not isinstance(raw, bool):
            try:
                value = _excel_serial(float(raw)).date()
            except (ValueError, OverflowError):
                raise FieldError("date_invalid", value=preview(raw, 40)) from None
        elif isinstance(raw, str):
            value = _calendar_day(raw, _parts(raw), "date_invalid")
        else:
            raise FieldError("date_invalid", value=preview(raw, 40))
        self._bounds(value)
        return value

    def to_json(self, value: Any) -> Any:
        return None if value is None else value.isoformat()

    def export_value(self, value: Any, ctx: ValueContext) -> Any:
        return value

    def json_schema(self, ctx: SchemaContext) -> dict:
        """YYYY-MM-DD when read; when written also 2025/3/15, 2025年3月15日 or a
        spreadsheet's day number."""
        if ctx.writing:
            return {"type": ["string", "number"], "maxLength": 40, "examples": ["2025-03-15"]}
        return {"type": "string", "format": "date"}

    def display(self, value: Any, ctx: ValueContext) -> str:
        if value is None:
            return ""
        fmt = self.fdef.option("format")
        return value.strftime(fmt) if fmt else value.isoformat()


@register
class DatetimeField(_Temporal):
    name = "datetime"
    label = Label("日期时间", "Date and time")
    docs = "docs/field-types.md#datetime-日期时间--date-and-time"
    formula_type = "datetime"
    format_codes = "YymdHMS"
    widget_kind = "datetime"

    def sa_type(self):
        return UTCDateTime()

    def clean(self, raw: Any, ctx: ValueContext) -> datetime:
        if isinstance(raw, datetime):
            value = raw if raw.tzinfo else raw.replace(tzinfo=ctx.tz)
        elif isinstance(raw, date):
            value = datetime.combine(raw, time()).replace(tzinfo=ctx.tz)
        elif isinstance(raw, (int, float)) and not isinstance(raw, bool):
            try:
                value = _excel_serial(float(raw)).replace(tzinfo=ctx.tz)
            except (ValueError, OverflowError):
                raise FieldError("datetime_invalid", value=preview(raw, 40)) from None
        elif isinstance(raw, str):
            parts = _parts(raw)
            day = _calendar_day(raw, parts, "datetime_invalid")
            hour, minute, second, zone = parts[3:]
            try:
                value = datetime.combine(day, time(int(hour or 0), int(minute or 0), int(second or 0)),
                                         tzinfo=_zone(zone) or ctx.tz)
            except ValueError:
                raise FieldError("time_invalid", value=raw.strip()[:40]) from None
        else:
            raise FieldError("datetime_invalid", value=preview(raw, 40))
        try:
            utc = value.astimezone(timezone.utc)
            self._bounds(value.astimezone(ctx.tz).date())
        except OverflowError:   # the first or last hours of year 1 or 9999 in another zone
            raise FieldError("datetime_invalid", value=preview(raw, 40)) from None
        return utc

    def range_bound(self, day: date, ctx: ValueContext) -> Any:
        return datetime.combine(day, time()).replace(tzinfo=ctx.tz)

    def to_json(self, value: Any) -> Any:
        return None if value is None else value.isoformat()

    def export_value(self, value: Any, ctx: ValueContext) -> Any:
        return None if value is None else value.astimezone(ctx.tz).replace(tzinfo=None)

    def json_schema(self, ctx: SchemaContext) -> dict:
        """ISO 8601 in UTC when read; when written a date and time as people write it, in
        the workspace's time zone unless it names one."""
        if ctx.writing:
            return {"type": ["string", "number"], "maxLength": 40, "examples": ["2025-03-15T09:30:00+08:00"]}
        return {"type": "string", "format": "date-time"}

    def display(self, value: Any, ctx: ValueContext) -> str:
        if value is None:
            return ""
        local = value.astimezone(ctx.tz)
        fmt = self.fdef.option("format")
        return local.strftime(fmt) if fmt else local.strftime("%Y-%m-%d %H:%M")
