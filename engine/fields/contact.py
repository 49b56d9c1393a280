"""Contact details: phone (mainland mobile and landline, via phonenumbers), email,
URL and the resident identity card number (GB 11643 checksum)."""
from __future__ import annotations

import re
from datetime import date
from typing import Any
from urllib.parse import urlsplit

import phonenumbers
import sqlalchemy as sa

from engine.definition.model import Label
from engine.errors import FieldError
from engine.fields.base import TEXT_OPS, FieldType, SchemaContext, ValueContext, WidgetContext, contains_text
from engine.fields.registry import register
from engine.fields.text import check_text_content, require_text
from engine.i18n import register_messages

register_messages({
    "phone_invalid": {"zh": "“{value}”不是有效的电话号码：手机号为 11 位，固定电话需带区号（如 010-12345678）",
                      "en": "'{value}' is not a valid phone number: a mobile number has 11 digits, a landline "
                            "needs its area code (like 010-12345678)"},
    "phone_not_mobile": {"zh": "请填写手机号码（11 位）", "en": "Give a mobile number (11 digits)"},
    "phone_not_landline": {"zh": "请填写固定电话（如 010-12345678）", "en": "Give a landline number (like 010-12345678)"},
    "email_invalid": {"zh": "“{value}”不是有效的邮箱地址", "en": "'{value}' is not a valid email address"},
    "url_invalid": {"zh": "“{value}”不是有效的网址（需以 http:// 或 https:// 开头）",
                    "en": "'{value}' is not a valid web address (it must start with http:// or https://)"},
    "idcard_old_format": {"zh": "“{value}”是旧的 15 位身份证号码，请填写 18 位号码",
                          "en": "'{value}' is an old 15-digit ID card number; give the 18-digit number"},
    "idcard_shape": {"zh": "身份证号码应为 17 位数字加 1 位数字或 X，“{value}”不是",
                     "en": "An ID card number is 17 digits followed by a digit or X; '{value}' is not"},
    "idcard_region": {"zh": "身份证号码“{value}”的前两位不是省份代码",
                      "en": "The first two digits of ID card number '{value}' are not a province code"},
    "idcard_birth_date": {"zh": "身份证号码“{value}”中的出生日期 {birth} 不存在",
                          "en": "The birth date {birth} in ID card number '{value}' does not exist"},
    "idcard_birth_range": {"zh": "身份证号码“{value}”中的出生日期 {birth} 不在 1900 年到今天之间",
                           "en": "The birth date {birth} in ID card number '{value}' is not between 1900 and today"},
    "idcard_checksum": {"zh": "身份证号码“{value}”的校验位（最后一位）不正确，请检查是否输错",
                        "en": "The check digit (the last one) of ID card number '{value}' is wrong; check for a typo"},
})

_FULLWIDTH = str.maketrans("０１２３４５６７８９＋－（）　", "0123456789+-() ")


class _TextLike(FieldType):
    can_be_unique = True
    can_match = True
    searchable = True
    operators = TEXT_OPS
    formula_type = "text"
    max_length = 64

    def widget_options(self, ctx: WidgetContext) -> dict[str, Any]:
        return {"max_length": self.max_length}

    def sa_type(self):
        return sa.String(self.max_length)

    def indexed(self) -> bool:
        return False

    def search_clause(self, table, needle):
        return contains_text(table.c[self.column_name], needle)

    value_format: str | None = None   # the JSON Schema format of the canonical text

    def json_schema(self, ctx: SchemaContext) -> dict:
        if ctx.writing:
            return {"type": "string", "maxLength": self.max_length * 2}   # spaces and full-width digits allowed
        return {"type": "string", "maxLength": self.max_length,
                **({"format": self.value_format} if self.value_format else {})}

    def clean_operand(self, operand: Any, ctx: ValueContext) -> Any:
        text = check_text_content(require_text(operand))
        try:
            return self.clean(text, ctx)
        except FieldError:
            return text.strip()   # a partial number still filters with contains


@register
class PhoneField(_TextLike):
    """Canonical forms: mobiles as 11 digits (13812345678); landlines as area code,
    dash, number (010-12345678), extension after '-' (010-12345678-123); numbers
    outside mainland China in E.164 (+85212345678)."""

    name = "phone"
    label = Label("电话", "Phone")
    config_schema = {"kind": {"enum": ["any", "mobile", "landline"]}}
    max_length = 32
    widget_kind = "phone"

    def widget_options(self, ctx: WidgetContext) -> dict[str, Any]:
        return {"max_length": self.max_length, "phone_kind": self.fdef.option("kind", "any")}

    def json_schema(self, ctx: SchemaContext) -> dict:
        schema = super().json_schema(ctx)
        return {**schema, "type": ["string", "integer"]} if ctx.writing else schema   # 13812345678 as a number

    def clean(self, raw: Any, ctx: ValueContext) -> str:
        if isinstance(raw, bool) or not isinstance(raw, (str, int)):
            raise FieldError("phone_invalid", value=str(raw)[:40])
        text = str(raw).translate(_FULLWIDTH).strip()
        if _MOBILE_SHAPE.match(text) and _valid_mobile(text):   # the common case, fast
            if self.fdef.option("kind", "any") == "landline":
                raise FieldError("phone_not_landline")
            return text
        number, extension = _parse_phone(text)
        if number is None:
            raise FieldError("phone_invalid", value=text[:40])
        mobile = _is_mainland_mobile(number)
        wanted = self.fdef.option("kind", "any")
        if wanted == "mobile" and not mobile:
            raise FieldError("phone_not_mobile")
        if wanted == "landline" and mobile:
            raise FieldError("phone_not_landline")
        if extension and mobile:
            raise FieldError("phone_invalid", value=text[:40])   # mobiles have no extensions
        result = _canonical_phone(number, mobile)
        return f"{result}-{extension}" if extension else result


_MOBILE_SHAPE = re.compile(r"^1[3-9]\d{9}$")


def _metadata_patterns():
    """libphonenumber's own patterns for mainland numbers: the general shape, mobiles,
    and the types it would check before deciding a number is a mobile."""
    meta = phonenumbers.PhoneMetadata.metadata_for_region("CN")

    def pattern(desc):
        return re.compile(desc.national_number_pattern) if desc is not None and desc.national_number_pattern \
            else None
    earlier = [pattern(getattr(meta, name)) for name in (
        "premium_rate", "toll_free", "shared_cost", "voip", "personal_number", "pager", "uan", "voicemail")]
    return pattern(meta.general_desc), pattern(meta.mobile), [p for p in earlier if p is not None]


_CN_GENERAL, _CN_MOBILE, _CN_NOT_MOBILE = _metadata_patterns()


def _valid_mobile(number: str) -> bool:
    """Whether an 11-digit number is a valid mainland mobile, by the patterns of
    libphonenumber's metadata (the same answer as is_valid_number + number_type, checked
    on a million random numbers, at a fraction of the cost: imports check 100k phones)."""
    return bool(_CN_GENERAL.fullmatch(number) and _CN_MOBILE.fullmatch(number)
                and not any(p.fullmatch(number) for p in _CN_NOT_MOBILE))


_EXTENSION = re.compile(r"^(.*?)\s*(?:转|ext\.?|x|#)\s*(\d{1,6})$", re.I)
_DASH_EXTENSION = re.compile(r"^(.*\d)-(\d{1,6})$")   # the canonical "010-12345678-123"


def _parse_phone(text: str) -> tuple[phonenumbers.PhoneNumber | None, str | None]:
    """(number, extension) of a phone number as people write it, or (None, None)."""
    candidates = [(text, None)]
    m = _EXTENSION.match(text)
    if m:
        candidates = [(m.group(1), m.group(2))]
    else:
        m = _DASH_EXTENSION.match(text)
        if m:   # only when the whole text is not itself a number (400-810-8888 is)
            candidates.append((m.group(1), m.group(2)))
    for number_text, extension in candidates:
        try:
            number = phonenumbers.parse(number_text, "CN")
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return number, extension
    return None, None


def _is_mainland_mobile(number: phonenumbers.PhoneNumber) -> bool:
    kind = phonenumbers.number_type(number)
    return kind in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE) \
        and number.country_code == 86 and str(number.national_number).startswith("1")


def _canonical_phone(number: phonenumbers.PhoneNumber, mobile: bool) -> str:
    """13812345678; 010-12345678 (trunk 0, area code, dash); 400-810-8888; +85221234567."""
    if number.country_code != 86:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if mobile:
        return str(number.national_number)
    area = phonenumbers.length_of_geographical_area_code(number)
    if area:
        digits = "0" + str(number.national_number)
        return f"{digits[:area + 1]}-{digits[area + 1:]}"
    # Nationwide numbers (400, 800) have no area code: keep their usual grouping.
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL).replace(" ", "-")


_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")


@register
class EmailField(_TextLike):
    name = "email"
    label = Label("邮箱", "Email")
    max_length = 254
    value_format = "email"

    widget_kind = "email"

    def clean(self, raw: Any, ctx: ValueContext) -> str:
        text = str(raw).strip().replace("＠", "@").replace("。", ".")
        if isinstance(raw, bool) or len(text) > 254 or not _EMAIL.match(text) or ".." in text:
            raise FieldError("email_invalid", value=text[:60])
        # Mail servers treat the local part without case in practice, and so do people:
        # Li.Lei@x.com and li.lei@x.com are one address for `unique` and for filters.
        return text.lower()


@register
class UrlField(_TextLike):
    name = "url"
    label = Label("网址", "URL")
    max_length = 2000
    value_format = "uri"

    widget_kind = "url"

    def sa_type(self):
        return sa.Text()

    def clean(self, raw: Any, ctx: ValueContext) -> str:
        text = check_text_content(str(raw).strip())
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


def idcard_problem(text: str, today: date) -> FieldError | None:
    """What is wrong with an ID card number (GB 11643), or None when it is valid."""
    if len(text) == 15 and text.isdigit():
        return FieldError("idcard_old_format", value=text)
    if len(text) != 18 or not text[:17].isdigit() or not (text[17].isdigit() or text[17] == "X"):
        return FieldError("idcard_shape", value=text[:20])
    if int(text[:2]) not in _PROVINCE_PREFIXES:
        return FieldError("idcard_region", value=text)
    birth = f"{text[6:10]}-{text[10:12]}-{text[12:14]}"
    try:
        born = date.fromisoformat(birth)
    except ValueError:
        return FieldError("idcard_birth_date", value=text, birth=birth)
    if born.year < 1900 or born > today:
        return FieldError("idcard_birth_range", value=text, birth=birth)
    total = sum(int(d) * w for d, w in zip(text[:17], _ID_WEIGHTS))
    if _ID_CHECK[total % 11] != text[17]:
        return FieldError("idcard_checksum", value=text)
    return None


@register
class IdcardField(_TextLike):
    name = "idcard"
    label = Label("身份证号", "ID card number")
    max_length = 18
    widget_kind = "id-card"

    def clean(self, raw: Any, ctx: ValueContext) -> str:
        text = str(raw).translate(_FULLWIDTH).replace(" ", "").upper()
        problem = idcard_problem(text, ctx.today())
        if problem:
            raise problem
        return text

    def display(self, value: Any, ctx: ValueContext) -> str:
        return "" if value is None else value
