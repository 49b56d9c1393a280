"""The value model of the formula language: what a formula computes with.

Every back end (reference, compiled, SQL) uses these Python-native values:

    empty     None                 a blank cell
    number    decimal.Decimal      exact; ints become Decimal; never float
    text      str
    boolean   bool
    date      datetime.date
    datetime  datetime.datetime    timezone-aware, in the workspace time zone
    array     list                 a subform column or a multiple relation's values
    error     ErrorValue           "#DIV/0!", "#VALUE!"... values, never exceptions

This module holds the coercions between them (Excel semantics), the JSON shape
used by the oracle vectors and `formwork eval`, the per-evaluation context and
its limits.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from decimal import (
    Context, Decimal, DivisionByZero, InvalidOperation, Overflow, ROUND_FLOOR, ROUND_HALF_EVEN,
    ROUND_HALF_UP,
)
from typing import Any, ClassVar, Iterable, Iterator
from zoneinfo import ZoneInfo

from engine.workspace import WORKSPACE_TZ

# ---- numbers ---------------------------------------------------------------------------

# Every arithmetic step runs in this context: 34 significant digits (IEEE decimal128),
# banker's rounding for internal steps (ROUND and friends round half up, as Excel does),
# and the magnitude range of Excel's doubles: a result of 1E+309 or more is #NUM!.
MAX_EXPONENT = 308
FORMULA_CONTEXT = Context(
    prec=34, rounding=ROUND_HALF_EVEN, Emax=MAX_EXPONENT, Emin=-MAX_EXPONENT,
    traps=[InvalidOperation, DivisionByZero, Overflow], flags=[],
)
ZERO = Decimal(0)
ONE = Decimal(1)

# Excel shows at most 15 significant digits when it turns a number into text.
TEXT_DIGITS = 15

# The workspace time zone (FORMWORK_TIMEZONE, default Asia/Shanghai): engine/workspace.py.
DEFAULT_TZ = WORKSPACE_TZ


# ---- errors ----------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class ErrorValue:
    """A spreadsheet error value. Errors are values: they flow through a formula."""

    code: str

    # The seven codes, set below once the class exists: ErrorValue.DIV0, .VALUE...
    DIV0: ClassVar[ErrorValue]
    VALUE: ClassVar[ErrorValue]
    NA: ClassVar[ErrorValue]
    NUM: ClassVar[ErrorValue]
    NAME: ClassVar[ErrorValue]
    REF: ClassVar[ErrorValue]
    NULL: ClassVar[ErrorValue]

    def __str__(self) -> str:
        return self.code


ERROR_CODES = ("#DIV/0!", "#VALUE!", "#N/A", "#NUM!", "#NAME?", "#REF!", "#NULL!")
ErrorValue.DIV0 = ErrorValue("#DIV/0!")
ErrorValue.VALUE = ErrorValue("#VALUE!")
ErrorValue.NA = ErrorValue("#N/A")
ErrorValue.NUM = ErrorValue("#NUM!")
ErrorValue.NAME = ErrorValue("#NAME?")
ErrorValue.REF = ErrorValue("#REF!")
ErrorValue.NULL = ErrorValue("#NULL!")

DIV0 = ErrorValue.DIV0
VALUE = ErrorValue.VALUE
NA = ErrorValue.NA
NUM = ErrorValue.NUM
NAME = ErrorValue.NAME
REF = ErrorValue.REF
NULL = ErrorValue.NULL


def is_error(value: Any) -> bool:
    return type(value) is ErrorValue


def first_error(values: Iterable[Any]) -> ErrorValue | None:
    """The leftmost error among `values` (not looking inside arrays), or None."""
    for value in values:
        if type(value) is ErrorValue:
            return value
    return None


# ---- limits and the evaluation context --------------------------------------------------

class LimitExceeded(Exception):
    """Internal: one evaluation spent its step budget. Evaluators turn it into #NUM!."""


@dataclass(frozen=True)
class Limits:
    """What one evaluation may build. Going over gives an error value, never a hang."""

    max_text_length: int = 1_000_000     # characters in one text value
    max_array_length: int = 100_000      # elements in one array
    max_exponent: int = MAX_EXPONENT     # |number| < 1E+309, as Excel's doubles
    max_power_exponent: int = 100_000    # |y| in x^y (beyond, the result is #NUM!)
    max_steps: int = 1_000_000           # evaluation steps (nodes, array elements) per evaluation


DEFAULT_LIMITS = Limits()


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class EvalContext:
    """What an evaluation may know besides its inputs: time zone, clock, user, limits.

    `now` is read once when the context is made (or given, in tests and replays), so
    TODAY() and NOW() are the same in every row of one batch and no function reads the
    machine clock itself.
    """

    tz: ZoneInfo = DEFAULT_TZ
    now: datetime = field(default_factory=_utc_now)
    user: dict | None = None             # {"id": ..., "name": ..., "account": ...}
    limits: Limits = DEFAULT_LIMITS
    steps: int = 0                       # spent in the current evaluation

    def __post_init__(self) -> None:
        if self.now.tzinfo is None:
            self.now = self.now.replace(tzinfo=self.tz)
        self.now = self.now.astimezone(self.tz)

    @property
    def today(self) -> date:
        return self.now.date()

    def begin(self) -> None:
        """Start a new evaluation: the step budget is per evaluation, not per context."""
        self.steps = 0

    def tick(self, n: int = 1) -> None:
        """Spend `n` steps; raise LimitExceeded once the budget is gone."""
        self.steps += n
        if self.steps > self.limits.max_steps:
            raise LimitExceeded(f"more than {self.limits.max_steps} evaluation steps")

    def text_fits(self, length: int) -> bool:
        return length <= self.limits.max_text_length

    def array_fits(self, length: int) -> bool:
        return length <= self.limits.max_array_length


# ---- type names -------------------------------------------------------------------------

def type_name(value: Any) -> str:
    """The formula type of a value: empty number text boolean date datetime array error."""
    kind = type(value)
    if value is None:
        return "empty"
    if kind is bool:
        return "boolean"
    if kind is Decimal or kind is int or kind is float:
        return "number"
    if kind is str:
        return "text"
    if kind is datetime:
        return "datetime"
    if kind is date:
        return "date"
    if kind is list or kind is tuple:
        return "array"
    if kind is ErrorValue:
        return "error"
    raise TypeError(f"not a formula value: {value!r}")


# ---- numbers: coercion -----------------------------------------------------------------

_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d{1,4})?")
EXCEL_EPOCH = date(1899, 12, 30)   # serial 0; Excel's serials count days from here


def number(value: int | float | str | Decimal) -> Decimal:
    """A Decimal from a Python number; floats through their shortest repr (0.1 -> 0.1)."""
    if type(value) is Decimal:
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(value)


def parse_number_text(text: str) -> Decimal | None:
    """A number written plainly ("12.5", " -3 ", "1e3"), or None. No separators or signs."""
    stripped = text.strip()
    if len(stripped) > 400 or not _PLAIN_NUMBER.fullmatch(stripped):
        return None
    value = Decimal(stripped)
    if value and value.adjusted() > MAX_EXPONENT:
        return None
    return value


_FULLWIDTH = str.maketrans("０１２３４５６７８９．，－＋％（）￥", "0123456789.,-+%()¥")
_GROUPED = re.compile(r"\d{1,3}(,\d{3})+(\.\d*)?")
_CURRENCY = "¥$€£"


def parse_formatted_number(text: str) -> Decimal | None:
    """A number as people write it (Excel's VALUE): "1,234.5", "50%", "¥12", "(12)" is -12,
    full-width digits. None when the text is not a number.

    (The number field parses its input on its own rules; this is the spreadsheet's reading.)
    """
    body = text.strip().translate(_FULLWIDTH).replace("\u00a0", "").replace(" ", "")
    negative = body.startswith("(") and body.endswith(")")
    if negative:
        body = body[1:-1]
    sign = ""
    if body[:1] in "+-" and body:
        sign, body = body[0], body[1:]
    if body[:1] and body[0] in _CURRENCY:
        body = body[1:]
        if not sign and body[:1] in ("-", "+"):
            sign, body = body[0], body[1:]
    percent = body.endswith("%")
    if percent:
        body = body[:-1]
    if _GROUPED.fullmatch(body):
        body = body.replace(",", "")
    if body[:1] in ("+", "-") or (negative and sign):
        return None
    value = parse_number_text(sign + body)
    if value is None:
        return None
    if percent:
        value = FORMULA_CONTEXT.divide(value, Decimal(100))
    return FORMULA_CONTEXT.minus(value) if negative else value


def to_number(value: Any) -> Decimal | ErrorValue:
    """A value as a number for arithmetic (Excel): text "12.5" -> 12.5, TRUE -> 1, empty -> 0.

    Text must be a plain number ("1,234" is not: use VALUE for formatted text). Dates
    stay dates (date arithmetic is done by the operators), so a date here is #VALUE!.
    """
    kind = type(value)
    if kind is Decimal:
        return value
    if value is None:
        return ZERO
    if kind is bool:
        return ONE if value else ZERO
    if kind is int or kind is float:
        return number(value)
    if kind is str:
        parsed = parse_number_text(value)
        return VALUE if parsed is None else parsed
    if kind is ErrorValue:
        return value
    return VALUE


def to_int(value: Any) -> int | ErrorValue:
    """A number argument that counts something (positions, lengths): truncated to an int."""
    num = to_number(value)
    if type(num) is ErrorValue:
        return num
    if abs(num) >= 10 ** 15:
        return NUM
    return int(num)


def format_number(value: Decimal) -> str:
    """A number as Excel's General format prints it in text: 2.50 -> "2.5", 1E+21.

    At most 15 significant digits (rounded half up); plain notation from 1E-9 up to
    below 1E+21, scientific ("1.5E+21", "1E-10") outside that range.
    """
    if not value:
        return "0"
    rounded = value.quantize(Decimal(1).scaleb(value.adjusted() - TEXT_DIGITS + 1),
                             rounding=ROUND_HALF_UP, context=_WIDE)
    rounded = rounded.normalize(_WIDE)
    exponent = rounded.adjusted()
    if -10 < exponent < 21:
        text = format(rounded, "f")
    else:
        digits = rounded.as_tuple().digits
        mantissa = str(digits[0])
        if len(digits) > 1:
            mantissa += "." + "".join(map(str, digits[1:]))
        sign = "-" if rounded < 0 else ""
        text = f"{sign}{mantissa}E{'+' if exponent > 0 else '-'}{abs(exponent):02d}"
    return text


# Wide enough never to trap while formatting or converting stored numbers.
_WIDE = Context(prec=60, Emax=999_999, Emin=-999_999, traps=[InvalidOperation])


# ---- text ------------------------------------------------------------------------------

def to_text(value: Any) -> str | ErrorValue:
    """A value as text (Excel): empty -> "", TRUE -> "TRUE", 2.50 -> "2.5", dates ISO."""
    kind = type(value)
    if kind is str:
        return value
    if value is None:
        return ""
    if kind is Decimal or kind is int or kind is float:
        return format_number(number(value))
    if kind is bool:
        return "TRUE" if value else "FALSE"
    if kind is date:
        return value.isoformat()
    if kind is datetime:
        return format_datetime(value)
    if kind is ErrorValue:
        return value
    return VALUE


def format_datetime(value: datetime) -> str:
    """ "2025-01-15 09:30:00" (wall time in its own time zone; seconds kept)."""
    return value.strftime("%Y-%m-%d %H:%M:%S")


# ---- booleans --------------------------------------------------------------------------

def to_bool(value: Any) -> bool | ErrorValue:
    """A value as a condition (Excel): 0 and empty are FALSE; "TRUE"/"FALSE" text reads."""
    kind = type(value)
    if kind is bool:
        return value
    if value is None:
        return False
    if kind is Decimal or kind is int or kind is float:
        return value != 0
    if kind is str:
        upper = value.strip().upper()
        if upper == "TRUE":
            return True
        if upper == "FALSE":
            return False
        return VALUE
    if kind is date or kind is datetime:
        return True
    if kind is ErrorValue:
        return value
    return VALUE


# ---- dates -----------------------------------------------------------------------------

_DATE_TEXT = re.compile(
    r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2})?")
_TIME_TEXT = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?")
_MAX_DATE_TEXT = 100     # characters: "2025 年 1 月 15 日 09:30:00.123456 +08:00" is 38


def date_to_serial(value: date | datetime) -> Decimal:
    """Excel's serial number of a date (days since 1899-12-30); datetimes add the time."""
    if type(value) is datetime:
        days = (value.date() - EXCEL_EPOCH).days
        seconds = value.hour * 3600 + value.minute * 60 + value.second
        micro = Decimal(seconds * 1_000_000 + value.microsecond)
        return FORMULA_CONTEXT.add(Decimal(days),
                                   FORMULA_CONTEXT.divide(micro, Decimal(86_400_000_000)))
    return Decimal((value - EXCEL_EPOCH).days)


def serial_to_date(serial: Decimal) -> date | ErrorValue:
    """The date of an Excel serial number (its integral part); out of range is #NUM!."""
    try:
        whole = int(serial.to_integral_value(rounding=ROUND_FLOOR))
        return EXCEL_EPOCH + timedelta(days=whole)
    except (OverflowError, ValueError, InvalidOperation):
        return NUM


def parse_date_text(text: str, tz: ZoneInfo | None = None) -> date | datetime | None:
    """A date or datetime written as text, or None.

    Accepts "2025-01-15", "2025/1/15", "2025.1.15", "2025年1月15日", optionally followed
    by a time ("2025-01-15 09:30", "2025-01-15T09:30:00+08:00"). A time makes a datetime
    in `tz` (the workspace time zone) unless the text carries its own offset.
    """
    stripped = text.strip()
    # The longest date text is far shorter; a long text is refused before the regex,
    # whose runs of spaces (between the date, the time and the offset) make it
    # quadratic: a long text would take minutes (DATEVALUE of 100,000 spaces).
    if len(stripped) > _MAX_DATE_TEXT:
        return None
    match = _DATE_TEXT.fullmatch(stripped)
    if not match:
        return None
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    try:
        day_value = date(int(year), int(month), int(day))
        if hour is None:
            return day_value
        wall = datetime.combine(day_value, time(int(hour), int(minute), int(second or 0),
                                                int((fraction or "0").ljust(6, "0"))))
    except ValueError:
        return None
    zone = tz or DEFAULT_TZ
    if offset:
        parsed = datetime.fromisoformat(wall.isoformat() + _iso_offset(offset))
        return parsed.astimezone(zone)
    return wall.replace(tzinfo=zone)


def _iso_offset(offset: str) -> str:
    if offset == "Z":
        return "+00:00"
    return offset if ":" in offset else f"{offset[:3]}:{offset[3:]}"


def parse_time_text(text: str) -> time | None:
    """A time of day written as text ("9:30", "09:30:15"), or None."""
    match = _TIME_TEXT.fullmatch(text.strip())
    if not match:
        return None
    hour, minute, second, fraction = match.groups()
    try:
        return time(int(hour), int(minute), int(second or 0), int((fraction or "0").ljust(6, "0")))
    except ValueError:
        return None


def to_date(value: Any, tz: ZoneInfo | None = None) -> date | None | ErrorValue:
    """A value as a date: dates, the day of a datetime, date text, or an Excel serial.

    Empty stays empty (None): date functions give an empty result for an empty date
    rather than Excel's 1900-01-00.
    """
    kind = type(value)
    if kind is date:
        return value
    if kind is datetime:
        return value.date()
    if value is None:
        return None
    if kind is str:
        parsed = parse_date_text(value, tz)
        if parsed is None:
            return VALUE
        return parsed.date() if type(parsed) is datetime else parsed
    if kind is Decimal or kind is int or kind is float:
        serial = number(value)
        return NUM if serial < 0 else serial_to_date(serial)
    if kind is ErrorValue:
        return value
    return VALUE


def to_datetime(value: Any, tz: ZoneInfo | None = None) -> datetime | None | ErrorValue:
    """A value as a datetime in `tz`: a date is its midnight; serials keep their fraction."""
    zone = tz or DEFAULT_TZ
    kind = type(value)
    if kind is datetime:
        return value.astimezone(zone) if value.tzinfo is not None else value.replace(tzinfo=zone)
    if kind is date:
        return datetime.combine(value, time(), tzinfo=zone)
    if value is None:
        return None
    if kind is str:
        parsed = parse_date_text(value, zone)
        if parsed is None:
            clock = parse_time_text(value)
            if clock is None:
                return VALUE
            return datetime.combine(EXCEL_EPOCH, clock, tzinfo=zone)
        return parsed if type(parsed) is datetime else datetime.combine(parsed, time(), tzinfo=zone)
    if kind is Decimal or kind is int or kind is float:
        serial = number(value)
        day = serial_to_date(serial) if serial >= 0 else NUM
        if type(day) is ErrorValue:
            return day
        fraction = serial - serial.to_integral_value(rounding=ROUND_FLOOR)
        micro = int((fraction * 86_400_000_000).to_integral_value(rounding=ROUND_HALF_UP))
        return datetime.combine(day, time(), tzinfo=zone) + timedelta(microseconds=micro)
    if kind is ErrorValue:
        return value
    return VALUE


# ---- arrays ----------------------------------------------------------------------------

def flatten(args: Iterable[Any]) -> Iterator[Any]:
    """Every scalar in `args`, arrays opened (nested arrays too), in order."""
    for arg in args:
        if type(arg) is list or type(arg) is tuple:
            yield from flatten(arg)
        else:
            yield arg


# ---- JSON (the oracle vectors' shape) -----------------------------------------------------

_EXACT_INT = 2 ** 53


def number_to_json(value: Decimal) -> int | float | str:
    """A number at the JSON boundary: an int when integral (below 2**53), a float when the
    float reads back as exactly this number, else the exact decimal as a string."""
    if value == value.to_integral_value() and abs(value) < _EXACT_INT:
        return int(value)
    as_float = float(value)
    if Decimal(repr(as_float)) == value:
        return as_float
    return format(value.normalize(_WIDE), "f") if -30 < value.adjusted() < 30 else str(value)


def to_json(value: Any) -> dict:
    """A value as one JSON object: {"number": 125}, {"text": ...}, {"error": "#N/A"}..."""
    kind = type_name(value)
    if kind == "empty":
        return {"empty": True}
    if kind == "number":
        return {"number": number_to_json(number(value))}
    if kind == "text":
        return {"text": value}
    if kind == "boolean":
        return {"bool": value}
    if kind == "date":
        return {"date": value.isoformat()}
    if kind == "datetime":
        return {"datetime": value.isoformat()}
    if kind == "error":
        return {"error": value.code}
    return {"array": [to_json(item) for item in value]}


class ValueJSONError(ValueError):
    """A JSON input that is not a formula value (says which and why)."""


def from_json(obj: Any, tz: ZoneInfo | None = None) -> Any:
    """A formula value from JSON: a plain number/string/bool/null/list, or a tagged object
    ({"date": "2025-02-28"}, {"datetime": ...}, {"number": ...}, {"error": "#N/A"}...).

    Naive datetimes are read in `tz` (default Asia/Shanghai). Raises ValueJSONError.
    """
    if obj is None or type(obj) is bool or type(obj) is str:
        return obj
    if isinstance(obj, (int, float, Decimal)):
        result = number(obj)
        if not result.is_finite():
            raise ValueJSONError(f"{obj!r} is not a finite number")
        return result
    if isinstance(obj, list):
        return [from_json(item, tz) for item in obj]
    if isinstance(obj, dict):
        return _tagged_from_json(obj, tz)
    raise ValueJSONError(f"{obj!r} is not a formula value")


def _tagged_from_json(obj: dict, tz: ZoneInfo | None) -> Any:
    if len(obj) != 1:
        raise ValueJSONError(
            f"a tagged value has exactly one key (date, datetime, number, text, bool, error, "
            f"empty, array), got {sorted(obj)}")
    (tag, raw), = obj.items()
    if tag == "date":
        parsed = parse_date_text(raw, tz) if isinstance(raw, str) else None
        if parsed is None or type(parsed) is datetime:
            raise ValueJSONError(f"{{\"date\": {raw!r}}}: write the date as YYYY-MM-DD")
        return parsed
    if tag == "datetime":
        parsed = parse_date_text(raw, tz) if isinstance(raw, str) else None
        if parsed is None:
            raise ValueJSONError(f"{{\"datetime\": {raw!r}}}: write it as YYYY-MM-DDTHH:MM[:SS][+08:00]")
        return parsed if type(parsed) is datetime else datetime.combine(parsed, time(), tzinfo=tz or DEFAULT_TZ)
    if tag == "number":
        if isinstance(raw, str):
            parsed_number = parse_number_text(raw)
            if parsed_number is None:
                raise ValueJSONError(f"{{\"number\": {raw!r}}} is not a number")
            return parsed_number
        if type(raw) is bool or not isinstance(raw, (int, float, Decimal)):
            raise ValueJSONError(f"{{\"number\": {raw!r}}} is not a number")
        return from_json(raw, tz)
    if tag == "text" and isinstance(raw, str):
        return raw
    if tag == "bool" and type(raw) is bool:
        return raw
    if tag == "error" and raw in ERROR_CODES:
        return ErrorValue(raw)
    if tag == "empty" and raw is True:
        return None
    if tag == "array" and isinstance(raw, list):
        return [from_json(item, tz) for item in raw]
    raise ValueJSONError(f"{{{tag!r}: {raw!r}}} is not a formula value")
