"""Text: CONCATENATE CONCAT TEXTJOIN JOIN SPLIT LEFT RIGHT MID LEN UPPER LOWER PROPER TRIM
REPLACE SUBSTITUTE FIND SEARCH REPT EXACT VALUE TEXT FIXED CHAR UNICHAR UNICODE.

Positions and lengths count characters (code points), so LEN("中文") = 2 and
LEFT("客户转介绍", 2) = "客户". Numbers become text as `&` prints them (2.50 -> "2.5").
Every function that builds text checks the text limit before building it.
"""
from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from engine.formula.criteria import MAX_PATTERN_LENGTH, WildcardPattern
from engine.formula.functions.args import (
    bool_arg, first_failure, int_arg, number_arg, text_arg, values_of,
)
from engine.formula.functions.registry import function
from engine.formula.functions.textformat import fixed, format_value
from engine.formula.values import (
    VALUE, EvalContext, ErrorValue, date_to_serial, parse_date_text, parse_formatted_number, to_text,
)

_OMITTED: Any = object()   # an optional argument left out (an empty field passed is None)


def _joined(ctx: EvalContext, parts: list[str], separator: str = "") -> str | ErrorValue:
    """Parts joined, or #VALUE! when the result would pass the text limit."""
    size = sum(map(len, parts)) + len(separator) * max(len(parts) - 1, 0)
    if not ctx.text_fits(size):
        return VALUE
    return separator.join(parts)


def _texts(values: list) -> list[str] | ErrorValue:
    texts = []
    for value in values:
        text = to_text(value)
        if type(text) is ErrorValue:
            return text
        texts.append(text)
    return texts


# ---- joining and splitting -------------------------------------------------------------

@function("CONCATENATE(text1, ...)", result="text", args=("text",),
          summary="Joins the texts into one (each argument a single value).",
          zh="将多个文本连接成一个文本（每个参数为单个值）。", example='CONCATENATE("张", "三", 1)')
def CONCATENATE(ctx: EvalContext, *args: Any) -> Any:
    if any(type(arg) is list for arg in args):
        return VALUE
    texts = _texts(list(args))
    return texts if type(texts) is ErrorValue else _joined(ctx, texts)


@function("CONCAT(text1, ...)", result="text", args=("values",),
          summary="Joins the texts into one; arrays give all their values.",
          zh="将多个文本连接成一个文本；数组会连接其中所有的值。", example='CONCAT("A", "-", 2025)')
def CONCAT(ctx: EvalContext, *args: Any) -> Any:
    texts = _texts(values_of(ctx, args))
    return texts if type(texts) is ErrorValue else _joined(ctx, texts)


@function("TEXTJOIN(delimiter, ignore_empty, text1, ...)", result="text",
          args=("text", "boolean", "values"),
          summary="Joins the texts with the delimiter; with ignore_empty TRUE, empty values are left out.",
          zh="用分隔符连接文本；ignore_empty 为 TRUE 时跳过空值。",
          example='TEXTJOIN("、", TRUE, "苹果", "", "香蕉")')
def TEXTJOIN(ctx: EvalContext, delimiter: Any, ignore_empty: Any, *args: Any) -> Any:
    separator, skip = text_arg(delimiter), bool_arg(ignore_empty)
    failure = first_failure(separator, skip)
    if failure is not None:
        return failure
    texts = _texts(values_of(ctx, args))
    if type(texts) is ErrorValue:
        return texts
    if skip:
        texts = [text for text in texts if text != ""]
    return _joined(ctx, texts, separator)


@function("JOIN(array, separator)", result="text", args=("array", "text"),
          summary="Joins the values of an array with the separator, leaving out empty values "
                  "(Jiandaoyun).",
          zh="用分隔符连接数组中的值，空值跳过（简道云函数）。", example='JOIN(SPLIT("a,b,c", ","), "/")')
def JOIN(ctx: EvalContext, array: Any, separator: Any) -> Any:
    between = text_arg(separator)
    if type(between) is ErrorValue:
        return between
    texts = _texts(values_of(ctx, [array]))
    if type(texts) is ErrorValue:
        return texts
    return _joined(ctx, [text for text in texts if text != ""], between)


@function("SPLIT(text, separator)", result="array:text", args=("text", "text"),
          summary="Splits the text at each separator into an array of texts (an empty separator "
                  "splits into characters; empty text gives an empty array) (Jiandaoyun).",
          zh="按分隔符把文本拆分为文本数组（分隔符为空时逐字拆分；空文本得到空数组）（简道云函数）。",
          example='SPLIT("华东,华南,华北", ",")')
def SPLIT(ctx: EvalContext, text: Any, separator: Any) -> Any:
    whole, between = text_arg(text), text_arg(separator)
    failure = first_failure(whole, between)
    if failure is not None:
        return failure
    if whole == "":
        return []
    pieces = list(whole) if between == "" else whole.split(between)
    if not ctx.array_fits(len(pieces)):
        return VALUE
    ctx.tick(len(pieces))
    return pieces


# ---- pieces of text --------------------------------------------------------------------

@function("LEFT(text, [count])", result="text", args=("text", "number"),
          summary="The first count characters (1 by default).", zh="返回文本开头的若干个字符（默认 1 个）。",
          example='LEFT("13812345678", 3)')
def LEFT(ctx: EvalContext, text: Any, count: Any = Decimal(1)) -> Any:
    whole, size = text_arg(text), int_arg(count)
    failure = first_failure(whole, size)
    if failure is not None:
        return failure
    return VALUE if size < 0 else whole[:size]


@function("RIGHT(text, [count])", result="text", args=("text", "number"),
          summary="The last count characters (1 by default).", zh="返回文本末尾的若干个字符（默认 1 个）。",
          example='RIGHT("13812345678", 4)')
def RIGHT(ctx: EvalContext, text: Any, count: Any = Decimal(1)) -> Any:
    whole, size = text_arg(text), int_arg(count)
    failure = first_failure(whole, size)
    if failure is not None:
        return failure
    if size < 0:
        return VALUE
    return whole[len(whole) - size:] if size < len(whole) else whole


@function("MID(text, start, count)", result="text", args=("text", "number", "number"),
          summary="count characters from position start (the first character is 1).",
          zh="从第 start 个字符起（第一个字符为 1）取 count 个字符。", example='MID("客户转介绍", 3, 3)')
def MID(ctx: EvalContext, text: Any, start: Any, count: Any) -> Any:
    whole, begin, size = text_arg(text), int_arg(start), int_arg(count)
    failure = first_failure(whole, begin, size)
    if failure is not None:
        return failure
    if begin < 1 or size < 0:
        return VALUE
    return whole[begin - 1:begin - 1 + size]


@function("LEN(text)", result="number", args=("text",),
          summary="The number of characters.", zh="文本的字符数（一个汉字算 1 个）。", example='LEN("客户转介绍")')
def LEN(ctx: EvalContext, text: Any) -> Any:
    whole = text_arg(text)
    return whole if type(whole) is ErrorValue else Decimal(len(whole))


def _recase(name: str, change, summary: str, zh: str, example: str):
    @function(f"{name}(text)", result="text", args=("text",), summary=summary, zh=zh, example=example)
    def impl(ctx: EvalContext, text: Any) -> Any:
        whole = text_arg(text)
        return whole if type(whole) is ErrorValue else change(whole)
    impl.__name__ = name
    return impl


def _proper(text: str) -> str:
    """Capitalise each letter that follows a non-letter, lower the others (Excel)."""
    out, after_letter = [], False
    for char in text:
        out.append(char.lower() if after_letter else char.upper())
        after_letter = char.isalpha()
    return "".join(out)


_RUNS_OF_SPACES = re.compile(" {2,}")


def _trim(text: str) -> str:
    """Spaces (and full-width spaces) off both ends; runs of inner spaces become one."""
    return _RUNS_OF_SPACES.sub(" ", text.strip(" \u3000"))


UPPER = _recase("UPPER", str.upper, "The text in capitals.", "将文本转为大写。", 'UPPER("vip-gold")')
LOWER = _recase("LOWER", str.lower, "The text in small letters.", "将文本转为小写。", 'LOWER("VIP")')
PROPER = _recase("PROPER", _proper, "Capitalises the first letter of each word.",
                 "将每个单词的首字母大写。", 'PROPER("zhang san")')
TRIM = _recase("TRIM", _trim,
               "Removes spaces at both ends (full-width ones too) and collapses runs of inner spaces.",
               "去掉首尾空格（含全角空格），并把中间连续的空格合并为一个。", 'TRIM("  张三   李四 ")')


# ---- replacing and finding -------------------------------------------------------------

@function("REPLACE(old_text, start, count, new_text)", result="text",
          args=("text", "number", "number", "text"),
          summary="Replaces count characters from position start with new_text.",
          zh="把从第 start 个字符起的 count 个字符替换为新文本。", example='REPLACE("13812345678", 4, 4, "****")')
def REPLACE(ctx: EvalContext, text: Any, start: Any, count: Any, new: Any) -> Any:
    whole, begin, size, insert = text_arg(text), int_arg(start), int_arg(count), text_arg(new)
    failure = first_failure(whole, begin, size, insert)
    if failure is not None:
        return failure
    if begin < 1 or size < 0:
        return VALUE
    return _joined(ctx, [whole[:begin - 1], insert, whole[begin - 1 + size:]])


@function("SUBSTITUTE(text, old_text, new_text, [instance])", result="text",
          args=("text", "text", "text", "number"),
          summary="Replaces old_text with new_text: every occurrence, or only the instance-th "
                  "(case matters).",
          zh="把文本中的 old_text 替换为 new_text：全部替换，或只替换第 instance 次出现（区分大小写）。",
          example='SUBSTITUTE("aaa", "a", "b", 2)')
def SUBSTITUTE(ctx: EvalContext, text: Any, old: Any, new: Any, instance: Any = _OMITTED) -> Any:
    whole, find, insert = text_arg(text), text_arg(old), text_arg(new)
    nth = None if instance is _OMITTED else int_arg(instance)
    failure = first_failure(whole, find, insert, nth)
    if failure is not None:
        return failure
    if find == "":
        return whole
    if nth is None:
        count = whole.count(find)
        if not ctx.text_fits(len(whole) + count * (len(insert) - len(find))):
            return VALUE
        return whole.replace(find, insert)
    if nth < 1:
        return VALUE
    position = -len(find)
    for _ in range(nth):   # occurrences do not overlap, as when replacing them all
        position = whole.find(find, position + len(find))
        if position < 0:
            return whole
    return _joined(ctx, [whole[:position], insert, whole[position + len(find):]])


def _start_index(start: Any, within: str) -> int | ErrorValue:
    begin = int_arg(start)
    if type(begin) is ErrorValue:
        return begin
    if begin < 1 or begin > len(within) + 1:
        return VALUE
    return begin - 1


def _search_args(find: Any, within: Any, start: Any) -> Any:
    """(needle, haystack, 0-based start) of FIND and SEARCH, or the error they give."""
    needle, haystack = text_arg(find), text_arg(within)
    failure = first_failure(needle, haystack)
    if failure is not None:
        return failure
    begin = _start_index(start, haystack)
    if type(begin) is ErrorValue:
        return begin
    return needle, haystack, begin

@function("FIND(find_text, within_text, [start])", result="number", args=("text", "text", "number"),
          summary="The position of find_text in within_text, from start (case matters, no "
                  "wildcards); #VALUE! when absent.",
          zh="查找文本出现的位置（区分大小写，不支持通配符）；找不到时返回 #VALUE!。",
          example='FIND("@", "li.lei@example.com")')
def FIND(ctx: EvalContext, find: Any, within: Any, start: Any = Decimal(1)) -> Any:
    args = _search_args(find, within, start)
    if type(args) is ErrorValue:
        return args
    needle, haystack, begin = args
    position = haystack.find(needle, begin)
    return VALUE if position < 0 else Decimal(position + 1)


@function("SEARCH(find_text, within_text, [start])", result="number", args=("text", "text", "number"),
          summary="The position of find_text in within_text, from start, ignoring case; * and ? "
                  "are wildcards (~ escapes them); #VALUE! when absent or when find_text is "
                  "longer than 255 characters.",
          zh="查找文本出现的位置（不区分大小写，支持通配符 * 和 ?）；找不到时返回 #VALUE!。",
          example='SEARCH("c", "abcabc", 4)')
def SEARCH(ctx: EvalContext, find: Any, within: Any, start: Any = Decimal(1)) -> Any:
    args = _search_args(find, within, start)
    if type(args) is ErrorValue:
        return args
    needle, haystack, begin = args
    if len(needle) > MAX_PATTERN_LENGTH:
        return VALUE        # as in Excel; it also bounds the search's work
    found = WildcardPattern(needle).search(haystack, begin)
    return VALUE if found is None else Decimal(found + 1)


@function("REPT(text, times)", result="text", args=("text", "number"),
          summary="The text repeated; #VALUE! past the text length limit.",
          zh="将文本重复指定次数；超过文本长度上限时返回 #VALUE!。", example='REPT("★", 3)')
def REPT(ctx: EvalContext, text: Any, times: Any) -> Any:
    whole, count = text_arg(text), int_arg(times)
    failure = first_failure(whole, count)
    if failure is not None:
        return failure
    if count < 0 or not ctx.text_fits(len(whole) * count):
        return VALUE
    return whole * count


@function("EXACT(text1, text2)", result="boolean", args=("text", "text"),
          summary="TRUE when the texts are exactly the same, case included.",
          zh="两个文本完全相同（区分大小写）时返回 TRUE。", example='EXACT("Abc", "abc")')
def EXACT(ctx: EvalContext, first: Any, second: Any) -> Any:
    left, right = text_arg(first), text_arg(second)
    failure = first_failure(left, right)
    return failure if failure is not None else left == right


# ---- numbers and text ------------------------------------------------------------------

@function("VALUE(text)", result="number", args=("text",),
          summary='The number written in the text: "1,234.5", "50%", "¥12", "(12)" is -12; a date '
                  "gives its serial number; #VALUE! when it is not a number.",
          zh="把文本转为数字：支持千分位、百分号、货币符号，日期得到其序列号；不是数字时返回 #VALUE!。",
          example='VALUE("1,234.5")')
def VALUE_(ctx: EvalContext, text: Any) -> Any:
    kind = type(text)
    if kind is Decimal:
        return text
    if text is None:
        return Decimal(0)
    if kind is list or kind is bool:
        return VALUE
    if kind is not str:
        return date_to_serial(text)          # a date or datetime
    number = parse_formatted_number(text)
    if number is not None:
        return number
    moment = parse_date_text(text, ctx.tz)
    return VALUE if moment is None else date_to_serial(moment)


@function("TEXT(value, format)", result="text", args=("any", "text"),
          summary='The value formatted with an Excel format code: "0.00", "#,##0", "0%", '
                  '"yyyy-mm-dd", "yyyy年m月d日", "hh:mm"...',
          zh='按 Excel 格式代码把值格式化为文本，如 "0.00"、"#,##0"、"0%"、"yyyy-mm-dd"、"yyyy年m月d日"、"hh:mm"。',
          example='TEXT(1234567.4, "#,##0")')
def TEXT(ctx: EvalContext, value: Any, code: Any) -> Any:
    pattern = text_arg(code)
    if type(pattern) is ErrorValue:
        return pattern
    if type(value) is list:
        return VALUE
    return format_value(value, pattern, ctx.tz)


@function("FIXED(number, [decimals], [no_commas])", result="text", args=("number", "number", "boolean"),
          summary="The number rounded to decimals places (2 by default) as text with thousands "
                  "separators (none when no_commas is TRUE).",
          zh="把数字四舍五入到指定小数位（默认 2 位）并转为带千分位的文本（no_commas 为 TRUE 时不加千分位）。",
          example="FIXED(1234567.891, 2)")
def FIXED(ctx: EvalContext, value: Any, decimals: Any = Decimal(2), no_commas: Any = False) -> Any:
    number, places, plain = number_arg(value), int_arg(decimals), bool_arg(no_commas)
    failure = first_failure(number, places, plain)
    if failure is not None:
        return failure
    return fixed(number, places, plain)


@function("CHAR(number)", result="text", args=("number",),
          summary="The character with that code, 1 to 255 (Windows-1252, as Excel); for any "
                  "Unicode character use UNICHAR.",
          zh="返回代码 1～255 对应的字符（Windows-1252，与 Excel 相同）；任意 Unicode 字符请用 UNICHAR。",
          example="CHAR(65)")
def CHAR(ctx: EvalContext, code: Any) -> Any:
    number = int_arg(code)
    if type(number) is ErrorValue:
        return number
    if not 1 <= number <= 255:
        return VALUE
    try:
        return bytes([number]).decode("cp1252")
    except UnicodeDecodeError:          # 5 codes have no character in Windows-1252
        return VALUE


@function("UNICHAR(number)", result="text", args=("number",),
          summary="The Unicode character with that code point.", zh="返回 Unicode 码位对应的字符。",
          example="UNICHAR(20013)")
def UNICHAR(ctx: EvalContext, code: Any) -> Any:
    number = int_arg(code)
    if type(number) is ErrorValue:
        return number
    if not 1 <= number <= 0x10FFFF or 0xD800 <= number <= 0xDFFF:
        return VALUE
    return chr(number)


@function("UNICODE(text)", result="number", args=("text",),
          summary="The Unicode code point of the first character.", zh="返回文本第一个字符的 Unicode 码位。",
          example='UNICODE("中")')
def UNICODE(ctx: EvalContext, text: Any) -> Any:
    whole = text_arg(text)
    if type(whole) is ErrorValue:
        return whole
    return VALUE if whole == "" else Decimal(ord(whole[0]))
