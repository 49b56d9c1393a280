"""Contact details: phone (mainland mobile and landline, via phonenumbers), email,
URL and the resident identity card number (GB 11643 checksum)."""
from __future__ import annotations

import re
from datetime import date
from typing import Any

import phonenumbers
import sqlalchemy as sa

from engine.definition.model import Label
from engine.errors import FieldError
from engine.fields.base import TEXT_OPS, FieldType, ValueContext
from engine.fields.registry import register
from engine.i18n import register_messages

register_messages({
    "phone_invalid": {"zh": "“{value}”不是有效的电话号码", "en": "'{value}' is not a valid phone number"},
    "phone_not_mobile": {"zh": "请填写手机号码（11 位）", "en": "Give a mobile number (11 digits)"},
    "phone_not_landline": {"zh": "请填写固定电话（如 010-12345678）", "en": "Give a landline number (like 010-12345678)"},
    "email_invalid": {"zh": "“{value}”不是有效的邮箱地址", "en": "'{value}' is not a valid email address"},
    "url_invalid": {"zh": "“{value}”不是有效的网址（需以 http:// 或 https:// 开头）",
                    "en": "'{value}' is not a valid web address (it must start with http:// or https://)"},
    "idcard_invalid": {"zh": "身份证号码“{value}”无效：{reason}", "en": "ID card number '{value}' is invalid: {reason}"},
})

# Beijing 010, Guangzhou 020, Shanghai 021, Tianjin 022 ... have 3-digit area codes.
_TWO_DIGIT_AREAS = {"10", "20", "21", "22", "23", "24", "25", "27", "28", "29"}
_FULLWIDTH = str.maketrans("０１２３４５６７８９＋－（）　", "0123456789+-() ")


class _TextLike(FieldType):
    can_be_unique = True
    searchable = True
    operators = TEXT_OPS
    formula_type = "text"
    max_length = 64

    def sa_type(self):
        return sa.String(self.max_length)

    def indexed(self) -> bool:
        return False

    def search_clause(self, table, needle):
        return table.c[self.column_name].contains(needle, autoescape=True)

    def clean_operand(self, operand: Any, ctx: ValueContext) -> Any:
        if operand is None or isinstance(operand, (list, dict, bool)):
            raise FieldError("invalid_type", expected="text")
        try:
            return self.clean(operand, ctx)
        except FieldError:
            return str(operand).strip()   # a partial number still filters with contains


@register
class PhoneField(_TextLike):
    """Canonical forms: mobiles as 11 digits (13812345678); landlines as area code,
    dash, number (010-12345678), extension after '-' (010-12345678-123); numbers
    outside mainland China in E.164 (+85212345678)."""

    name = "phone"
    label = Label("电话", "Phone")
    config_schema = {"kind": {"enum": ["any", "mobile", "landline"]}}
    max_length = 32

    def clean(self, raw: Any, ctx: ValueContext) -> str:
        if isinstance(raw, bool) or not isinstance(raw, (str, int)):
            raise FieldError("phone_invalid", value=str(raw)[:40])
        text = str(raw).translate(_FULLWIDTH).strip()
        extension = None
        m = re.match(r"^(.*?)(?:\s*(?:转|ext\.?|x|#)\s*(\d{1,6}))$", text, re.I)
        if m:
            text, extension = m.group(1), m.group(2)
        try:
            number = phonenumbers.parse(text, "CN")
        except phonenumbers.NumberParseException:
            raise FieldError("phone_invalid", value=str(raw)[:40]) from None
        if not phonenumbers.is_valid_number(number):
            raise FieldError("phone_invalid", value=str(raw)[:40])
        kind = phonenumbers.number_type(number)
        mobile = kind in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE) \
            and number.country_code == 86 and str(number.national_number).startswith("1")
        wanted = self.fdef.option("kind", "any")
        if wanted == "mobile" and not mobile:
            raise FieldError("phone_not_mobile")
        if wanted == "landline" and mobile:
            raise FieldError("phone_not_landline")
        if number.country_code != 86:
            result = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        elif mobile:
            result = str(number.national_number)
        else:
            digits = "0" + str(number.national_number)
            area = 3 if digits[1:3] in _TWO_DIGIT_AREAS else 4
            result = f"{digits[:area]}-{digits[area:]}"
        return f"{result}-{extension}" if extension else result


_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")


@register
class EmailField(_TextLike):
    name = "email"
    label = Label("邮箱", "Email")
    max_length = 254

    def clean(self, raw: Any, ctx: ValueContext) -> str:
        text = str(raw).strip().replace("＠", "@").replace("。", ".")
        if isinstance(raw, bool) or len(text) > 254 or not _EMAIL.match(text) or ".." in text:
            raise FieldError("email_invalid", value=text[:60])
        local, domain = text.rsplit("@", 1)
        return f"{local}@{domain.lower()}"


@register
class UrlField(_TextLike):
    name = "url"
    label = Label("网址", "URL")
    max_length = 2000

    def sa_type(self):
        return sa.Text()

    def clean(self, raw: Any, ctx: ValueContext) -> str:
        from urllib.parse import urlsplit
        text = str(raw).strip()
        if not re.match(r"^https?://", text, re.I) and re.match(r"^[\w-]+(\.[\w-]+)+(/|$)", text):
            text = "https://" + text
        try:
            parts = urlsplit(text)
        except ValueError:
            raise FieldError("url_invalid", value=text[:60]) from None
        if isinstance(raw, bool) or parts.scheme.lower() not in ("http", "https") or not parts.hostname \
                or len(text) > 2000 or any(c in text for c in " <>\"\n\r\t"):
            raise FieldError("url_invalid", value=text[:60])
        return text


_ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
_ID_CHECK = "10X98765432"
_PROVINCE_PREFIXES = {11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46,
                      50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83}


def idcard_problem(text: str) -> str | None:
    """Why an 18-character ID card number is invalid, or None."""
    if len(text) == 15 and text.isdigit():
        return "this is an old 15-digit number; give the 18-digit number"
    if len(text) != 18 or not text[:17].isdigit() or not (text[17].isdigit() or text[17] == "X"):
        return "it must be 17 digits followed by a digit or X"
    if int(text[:2]) not in _PROVINCE_PREFIXES:
        return "the first two digits are not a province code"
    try:
        born = date(int(text[6:10]), int(text[10:12]), int(text[12:14]))
    except ValueError:
        return "the birth date in it does not exist"
    if born.year < 1900 or born > date.today():
        return "the birth date in it is out of range"
    total = sum(int(d) * w for d, w in zip(text[:17], _ID_WEIGHTS))
    if _ID_CHECK[total % 11] != text[17]:
        return "the check digit is wrong (typo?)"
    return None


@register
class IdcardField(_TextLike):
    name = "idcard"
    label = Label("身份证号", "ID card number")
    max_length = 18

    def clean(self, raw: Any, ctx: ValueContext) -> str:
        text = str(raw).translate(_FULLWIDTH).replace(" ", "").upper()
        reason = idcard_problem(text)
        if reason:
            raise FieldError("idcard_invalid", value=text[:20], reason=reason)
        return text

    def display(self, value: Any, ctx: ValueContext) -> str:
        return "" if value is None else value
