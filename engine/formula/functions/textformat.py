"""Excel number and date format codes, for TEXT and FIXED.

Supported (what business users write):

    numbers   0  #  ?  .  ,  (thousands; a trailing comma divides by 1000)  %  E+00
              "literal text"  \\x  ¥ $ - + ( ) : / space and CJK text as themselves
              sections  positive;negative;zero;text   @ (the text itself)
              [Red] and other colours are ignored; [$¥-804] shows ¥
    dates     yyyy yy  m mm mmm mmmm  d dd ddd dddd  h hh  m mm (minutes after h or
              before s)  s ss  AM/PM A/P  aaa aaaa (Chinese weekday: 一, 星期一)
              "yyyy年m月d日", "yyyy-mm-dd hh:mm", "hh:mm:ss"
    General   (or G/通用格式) prints as text conversion does.

A number given to a date format is read as an Excel serial number; a date given to a
number format is its serial number (TEXT(date, "0") = "45672"). Text that reads as a
number or a date is formatted as one; other text shows through the 4th section or @.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, ROUND_HALF_UP
from typing import Any
from zoneinfo import ZoneInfo

from engine.formula.values import (
    FORMULA_CONTEXT, VALUE, ErrorValue, date_to_serial, parse_date_text, parse_number_text,
    to_datetime, to_text,
)

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
WEEKDAYS_ZH = "一二三四五六日"
MAX_FORMAT_LENGTH = 255    # Excel's limit on a format code
MAX_DIGITS_SHOWN = 400     # 0 placeholders or decimals beyond this are refused (#VALUE!)

_GENERAL = {"general", "g/通用格式", ""}
# One token of a format: quoted text, an escaped character, a bracket, or a code letter run.
_TOKEN = re.compile(
    r'"[^"]*"|\\.|\[[^\]]*\]|_.|\*.|AM/PM|am/pm|A/P|a/p|上午/下午|'
    r'[yY]+|[mM]+|[dD]+|[hH]+|[sS]+|[aA]{3,4}|[eE][+-]|[0#?]|[.,%@]|.', re.DOTALL)


def group_thousands(digits: str) -> str:
    """ "1234567" -> "1,234,567"."""
    head = len(digits) % 3 or 3
    groups = [digits[:head]] + [digits[i:i + 3] for i in range(head, len(digits), 3)]
    return ",".join(groups)


# ---- sections --------------------------------------------------------------------------

def _sections(code: str) -> list[str]:
    """The ;-separated sections of a format, quotes and escapes respected."""
    sections, current = [], []
    for token in _TOKEN.findall(code):
        if token == ";":
            sections.append("".join(current))
            current = []
        else:
            current.append(token)
    sections.append("".join(current))
    return sections


def _is_date_code(section: str) -> bool:
    for token in _TOKEN.findall(section):
        if token[0] in "yYdDhHsS" or token.upper() in ("AM/PM", "A/P", "AAA", "AAAA") \
                or token == "上午/下午":
            return True
        if token[0] in "mM" and not any(t in "0#?" for t in section):
            return True
    return False


def format_value(value: Any, code: str, tz: ZoneInfo) -> str | ErrorValue:
    """TEXT(value, code)."""
    if len(code) > MAX_FORMAT_LENGTH:
        return VALUE
    if code.strip().lower() in _GENERAL:
        return to_text(value)
    sections = _sections(code)
    if len(sections) > 4:
        return VALUE
    if value is None:
        value = Decimal(0)
    if type(value) is str:      # text that reads as a number or a date is formatted as one
        value = _number_or_date(value, tz)
        if type(value) is str:
            return _format_text(value, sections)
    if type(value) is bool:
        return "TRUE" if value else "FALSE"
    if type(value) is date or type(value) is datetime:
        serial = date_to_serial(value)
    elif type(value) is Decimal:
        serial = value
    else:
        return VALUE
    section, signed = _pick_section(serial, sections)
    if _is_date_code(section):
        moment = to_datetime(value if type(value) is not Decimal else serial, tz)
        if type(moment) is ErrorValue:
            return moment
        return _format_date(moment, section)
    return _format_number(serial if signed else abs(serial), section)


def _number_or_date(text: str, tz: ZoneInfo) -> Any:
    number = parse_number_text(text)
    if number is not None:
        return number
    moment = parse_date_text(text, tz)
    return text if moment is None else moment


def _pick_section(number: Decimal, sections: list[str]) -> tuple[str, bool]:
    """The section for this number, and whether it shows its own minus sign."""
    if len(sections) >= 3 and number == 0:
        return sections[2], True
    if len(sections) >= 2 and number < 0:
        return sections[1], False
    return sections[0], True


def _format_text(text: str, sections: list[str]) -> str:
    """Text through a format: the 4th section (or a lone section with @) shows it."""
    section = sections[3] if len(sections) >= 4 else sections[0]
    if "@" not in section:
        return text
    out = []
    for token in _TOKEN.findall(section):
        out.append(text if token == "@" else _literal(token))
    return "".join(out)


def _literal(token: str) -> str:
    """What a non-code token shows."""
    if token.startswith('"'):
        return token[1:-1]
    if token.startswith("\\") or token.startswith("_") or token.startswith("*"):
        return " " if token.startswith("_") else ("" if token.startswith("*") else token[1:])
    if token.startswith("["):
        match = re.fullmatch(r"\[\$([^-\]]*)(?:-[0-9A-Fa-f]+)?\]", token)
        return match.group(1) if match else ""
    return token


# ---- numbers ---------------------------------------------------------------------------

_SLOTS = ("0", "#", "?")


@dataclass
class _NumberLayout:
    integer: list          # tokens before the decimal point: placeholders and literals
    fraction: list         # tokens after it, up to the exponent
    exponent: list         # ["E+", "0", "0"] or []
    grouping: bool         # a comma between integer placeholders: thousands separators
    scale: int             # power of ten applied: +2 per %, -3 per trailing comma
    has_point: bool


def _layout(section: str) -> _NumberLayout:
    tokens = _TOKEN.findall(section)
    integer, fraction, exponent = [], [], []
    grouping, scale, has_point = False, 0, False
    part = integer
    for index, token in enumerate(tokens):
        if token == ",":
            before = any(t in _SLOTS for t in part)
            after = _slot_ahead(tokens[index + 1:])
            if before and after and part is integer:
                grouping = True
            elif before and not after:
                scale -= 3             # "#,##0," shows thousands
            else:
                part.append(token)     # a comma as literal text
            continue
        if token == "%":
            scale += 2
        if token == "." and part is integer:
            has_point, part = True, fraction
        elif token.upper() in ("E+", "E-") and part is not exponent:
            exponent.append(token)
            part = exponent
        else:
            part.append(token)
    return _NumberLayout(integer, fraction, exponent, grouping, scale, has_point)


def _slot_ahead(tokens: list) -> bool:
    """Whether a digit placeholder follows before the decimal point or the exponent."""
    for token in tokens:
        if token == "." or token.upper() in ("E+", "E-"):
            return False
        if token in _SLOTS:
            return True
    return False


def _format_number(number: Decimal, section: str) -> str | ErrorValue:
    layout = _layout(section)
    places = sum(1 for t in layout.fraction if t in ("0", "#", "?"))
    int_slots = [t for t in layout.integer if t in ("0", "#", "?")]
    if places > MAX_DIGITS_SHOWN or len(int_slots) > MAX_DIGITS_SHOWN:
        return VALUE
    number = number.scaleb(layout.scale, FORMULA_CONTEXT)
    exponent_text = ""
    if layout.exponent:
        number, exponent_text = _scientific(number, max(1, len(int_slots)), layout.exponent)
    rounded = number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP,
                              context=_WIDE) if number.adjusted() < 300 else number
    negative = rounded < 0
    digits = format(abs(rounded), "f")
    int_digits, _, frac_digits = digits.partition(".")
    text = _fill_integer(int_digits, layout) + _fill_fraction(frac_digits, layout) + exponent_text
    return ("-" + text) if negative and any(ch.isdigit() and ch != "0" for ch in text) else text


_WIDE = FORMULA_CONTEXT.copy()
_WIDE.prec = 1000
_WIDE.Emax = 999_999
_WIDE.Emin = -999_999


def _scientific(number: Decimal, int_places: int, tokens: list) -> tuple[Decimal, str]:
    sign_token, digit_slots = tokens[0], [t for t in tokens[1:] if t in ("0", "#", "?")]
    if not number:
        power = 0
    else:
        power = number.adjusted() - (int_places - 1)
    mantissa = number.scaleb(-power, _WIDE)
    sign = "-" if power < 0 else ("+" if sign_token.endswith("+") else "")
    width = sum(1 for t in digit_slots if t == "0")
    return mantissa, f"{sign_token[0]}{sign}{str(abs(power)).zfill(width)}"


def _fill_integer(int_digits: str, layout: _NumberLayout) -> str:
    """Integer digits laid into the integer placeholders right to left, literals kept.

    The leftmost placeholder takes every digit beyond the placeholders; an unused 0 shows
    0, an unused ? a space, an unused # nothing.
    """
    tokens = layout.integer
    out = [_literal(token) for token in tokens]
    slots = [i for i, token in enumerate(tokens) if token in _SLOTS]
    if not slots:
        return "".join(out)
    digits = "" if int_digits == "0" else int_digits
    if layout.grouping and slots[-1] - slots[0] == len(slots) - 1:
        forced = len(slots) - next((n for n, i in enumerate(slots) if tokens[i] != "#"), len(slots))
        padded = digits.rjust(forced, "0")
        for position in slots:
            out[position] = ""
        out[slots[0]] = group_thousands(padded) if padded else ""
        return "".join(out)
    remaining = digits
    for position in reversed(slots):
        if position == slots[0] and remaining:
            out[position], remaining = remaining, ""
        elif remaining:
            out[position], remaining = remaining[-1], remaining[:-1]
        else:
            out[position] = {"0": "0", "?": " ", "#": ""}[tokens[position]]
    return "".join(out)


def _fill_fraction(frac_digits: str, layout: _NumberLayout) -> str:
    tokens = layout.fraction
    slots = [i for i, t in enumerate(tokens) if t in ("0", "#", "?")]
    if not layout.has_point:
        return ""
    digits = list(frac_digits.ljust(len(slots), "0"))
    # Trailing # slots drop zeros; ? slots show a space for them.
    for n in range(len(slots) - 1, -1, -1):
        if digits[n] != "0" or tokens[slots[n]] == "0":
            break
        digits[n] = " " if tokens[slots[n]] == "?" else ""
    out = [_literal(token) for token in tokens]
    for n, position in enumerate(slots):
        out[position] = digits[n]
    return "." + "".join(out)


# ---- dates -----------------------------------------------------------------------------

def _format_date(moment: datetime, section: str) -> str:
    tokens = _TOKEN.findall(section)
    twelve_hour = any(t.upper() in ("AM/PM", "A/P") or t == "上午/下午" for t in tokens)
    out = []
    for index, token in enumerate(tokens):
        out.append(_date_token(moment, token, tokens, index, twelve_hour))
    return "".join(out)


def _is_minute(tokens: list, index: int) -> bool:
    """An m after an h (or before an s) means minutes, as in Excel."""
    for token in reversed(tokens[:index]):
        lead = token[0].lower()
        if lead == "h":
            return True
        if lead in "ymd" or lead == "s":
            break
    for token in tokens[index + 1:]:
        lead = token[0].lower()
        if lead == "s":
            return True
        if lead in "ymdh":
            break
    return False


def _date_token(moment: datetime, token: str, tokens: list, index: int, twelve_hour: bool) -> str:
    lead, size = token[0].lower(), len(token)
    if lead == "y" and token.isalpha():
        return f"{moment.year % 100:02d}" if size <= 2 else f"{moment.year:04d}"
    if lead == "m" and token.isalpha():
        if size <= 2 and _is_minute(tokens, index):
            return f"{moment.minute:02d}" if size == 2 else str(moment.minute)
        return _month(moment.month, size)
    if lead == "d" and token.isalpha():
        if size <= 2:
            return f"{moment.day:02d}" if size == 2 else str(moment.day)
        name = WEEKDAYS[moment.weekday()]
        return name[:3] if size == 3 else name
    if lead == "h" and token.isalpha():
        hour = moment.hour
        if twelve_hour:
            hour = hour % 12 or 12
        return f"{hour:02d}" if size >= 2 else str(hour)
    if lead == "s" and token.isalpha():
        return f"{moment.second:02d}" if size >= 2 else str(moment.second)
    if lead == "a" and token.isalpha() and size in (3, 4):
        day = WEEKDAYS_ZH[moment.weekday()]
        return day if size == 3 else "星期" + day
    upper = token.upper()
    if upper == "AM/PM":
        return "AM" if moment.hour < 12 else "PM"
    if upper == "A/P":
        return "A" if moment.hour < 12 else "P"
    if token == "上午/下午":
        return "上午" if moment.hour < 12 else "下午"
    return _literal(token)


def _month(month: int, size: int) -> str:
    if size == 1:
        return str(month)
    if size == 2:
        return f"{month:02d}"
    name = MONTHS[month - 1]
    return name[:3] if size == 3 else name[0] if size == 5 else name


# ---- FIXED -----------------------------------------------------------------------------

def fixed(number: Decimal, decimals: int, no_commas: bool) -> str:
    """FIXED: rounded half up to `decimals` places (negative: tens...), with separators."""
    if decimals > 127:
        decimals = 127
    quantum = Decimal(1).scaleb(-decimals)
    rounded = number.quantize(quantum, rounding=ROUND_HALF_UP, context=_WIDE)
    if decimals < 0:
        rounded = rounded.quantize(Decimal(1), context=_WIDE)
    text = format(abs(rounded), "f")
    int_digits, point, frac_digits = text.partition(".")
    if not no_commas:
        int_digits = group_thousands(int_digits)
    sign = "-" if rounded < 0 else ""
    return sign + int_digits + (point + frac_digits if decimals > 0 else "")

