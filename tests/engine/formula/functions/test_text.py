"""Text functions: joining, pieces, finding, numbers as text, unicode and limits."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal as D

import pytest

from engine.formula.values import DIV0, NA, VALUE, Limits
from tests.support.formula_functions import SH, call, ctx, same


@pytest.mark.parametrize("name, args, expected", [
    ("CONCATENATE", ("张", "三", 1), "张三1"), ("CONCATENATE", ("a", None, 2.50, True), "a2.5TRUE"),
    ("CONCATENATE", ("a", ["b"]), VALUE), ("CONCATENATE", ("a", NA), NA),
    ("CONCATENATE", (date(2025, 1, 15), " ", 0.1), "2025-01-15 0.1"),
    ("CONCAT", ("A", "-", 2025), "A-2025"), ("CONCAT", (["a", None, "b"], "c"), "abc"),
    ("CONCAT", ([1, [2, 3]],), "123"), ("CONCAT", (["a", DIV0],), DIV0),
    ("TEXTJOIN", (",", True, ["a", "", "c"]), "a,c"), ("TEXTJOIN", (",", False, ["a", "", "c"]), "a,,c"),
    ("TEXTJOIN", (",", True, ["a", None, "c"]), "a,c"), ("TEXTJOIN", (",", False, ["a", None]), "a,"),
    ("TEXTJOIN", ("、", True, "苹果", "", "香蕉"), "苹果、香蕉"), ("TEXTJOIN", ("", True, [1, 2]), "12"),
    ("TEXTJOIN", (",", True, []), ""), ("TEXTJOIN", (",", "x", ["a"]), VALUE),
    ("TEXTJOIN", (",", True, ["a", NA]), NA),
    ("JOIN", (["a", "b", "c"], "/"), "a/b/c"), ("JOIN", (["a", None, "", "c"], ","), "a,c"),
    ("JOIN", ([1, 2.5], "+"), "1+2.5"), ("JOIN", ("solo", ","), "solo"), ("JOIN", ([], ","), ""),
    ("SPLIT", ("华东,华南,华北", ","), ["华东", "华南", "华北"]), ("SPLIT", ("a,,b", ","), ["a", "", "b"]),
    ("SPLIT", ("abc", ""), ["a", "b", "c"]), ("SPLIT", ("", ","), []), ("SPLIT", (None, ","), []),
    ("SPLIT", ("a--b", "--"), ["a", "b"]), ("SPLIT", ("abc", ","), ["abc"]), ("SPLIT", (123.5, "."), ["123", "5"]),
])
def test_joining_and_splitting(name, args, expected):
    assert same(call(name, *args), expected)


@pytest.mark.parametrize("name, args, expected", [
    ("LEFT", ("13812345678", 3), "138"), ("LEFT", ("客户转介绍", 2), "客户"), ("LEFT", ("abc",), "a"),
    ("LEFT", ("abc", 10), "abc"), ("LEFT", ("abc", 0), ""), ("LEFT", ("abc", -1), VALUE),
    ("LEFT", ("abc", 2.9), "ab"), ("LEFT", (12345, 2), "12"), ("LEFT", (None, 2), ""),
    ("LEFT", ("li.lei@example.com", 6), "li.lei"),
    ("RIGHT", ("13812345678", 4), "5678"), ("RIGHT", ("客户转介绍", 3), "转介绍"), ("RIGHT", ("abc", 0), ""),
    ("RIGHT", ("abc", 5), "abc"), ("RIGHT", ("abc", -1), VALUE), ("RIGHT", ("abc",), "c"),
    ("MID", ("13812345678", 4, 4), "1234"), ("MID", ("客户转介绍", 3, 3), "转介绍"), ("MID", ("abc", 5, 2), ""),
    ("MID", ("abc", 0, 1), VALUE), ("MID", ("abc", 1, -1), VALUE), ("MID", ("abc", 2, 100), "bc"),
    ("LEN", ("客户转介绍",), 5), ("LEN", ("中文",), 2), ("LEN", ("",), 0), ("LEN", (None,), 0),
    ("LEN", (D("12.50"),), 4), ("LEN", (True,), 4), ("LEN", ("😀",), 1), ("LEN", ([1],), VALUE),
    ("UPPER", ("vip-gold",), "VIP-GOLD"), ("UPPER", ("张三 abc",), "张三 ABC"),
    ("LOWER", ("VIP",), "vip"), ("LOWER", ("ÄÖ",), "äö"),
    ("PROPER", ("zhang san",), "Zhang San"), ("PROPER", ("HELLO wORLD",), "Hello World"),
    ("PROPER", ("o'neil-smith",), "O'Neil-Smith"), ("PROPER", ("2nd place",), "2Nd Place"),
    ("PROPER", ("张san",), "张san"),
    ("TRIM", ("  张三   李四 ",), "张三 李四"), ("TRIM", ("\u3000张三\u3000",), "张三"), ("TRIM", ("a",), "a"),
    ("TRIM", ("",), ""),
])
def test_pieces_of_text(name, args, expected):
    assert same(call(name, *args), expected)


@pytest.mark.parametrize("name, args, expected", [
    ("REPLACE", ("13812345678", 4, 4, "****"), "138****5678"), ("REPLACE", ("abc", 1, 0, "X"), "Xabc"),
    ("REPLACE", ("abc", 10, 1, "X"), "abcX"), ("REPLACE", ("abc", 0, 1, "X"), VALUE),
    ("REPLACE", ("abc", 2, -1, "X"), VALUE), ("REPLACE", ("客户转介绍", 3, 1, "-"), "客户-介绍"),
    ("SUBSTITUTE", ("aaa", "a", "b", 2), "aba"), ("SUBSTITUTE", ("aaa", "a", "b"), "bbb"),
    ("SUBSTITUTE", ("aaa", "a", "b", 4), "aaa"), ("SUBSTITUTE", ("aaa", "a", "b", 0), VALUE),
    ("SUBSTITUTE", ("aaa", "", "b"), "aaa"), ("SUBSTITUTE", ("Aa", "a", "x"), "Ax"),
    ("SUBSTITUTE", ("张三-李四", "-", "、"), "张三、李四"), ("SUBSTITUTE", ("aaaa", "aa", "b", 2), "aab"),
    ("FIND", ("C", "abcabc"), VALUE), ("FIND", ("c", "abcabc"), 3), ("FIND", ("c", "abcabc", 4), 6),
    ("FIND", ("@", "li.lei@example.com"), 7), ("FIND", ("", "abc"), 1), ("FIND", ("", "abc", 3), 3),
    ("FIND", ("a", "abc", 0), VALUE), ("FIND", ("a", "abc", 5), VALUE), ("FIND", ("*", "a*b"), 2),
    ("FIND", ("介绍", "客户转介绍"), 4),
    ("SEARCH", ("c", "abcabc", 4), 6), ("SEARCH", ("C", "abcabc"), 3), ("SEARCH", ("b*c", "aXbYYc"), 3),
    ("SEARCH", ("?c", "abcabc"), 2), ("SEARCH", ("~*", "a*b"), 2), ("SEARCH", ("x", "abc"), VALUE),
    ("SEARCH", ("", "abc"), 1), ("SEARCH", (".", "a.b"), 2), ("SEARCH", ("客户", "老客户"), 2),
    ("REPT", ("★", 3), "★★★"), ("REPT", ("ab", 0), ""), ("REPT", ("ab", -1), VALUE), ("REPT", ("ab", 2.7), "abab"),
    ("REPT", ("x", 10 ** 12), VALUE), ("REPT", ("", 10 ** 12), ""),
    ("EXACT", ("Abc", "abc"), False), ("EXACT", ("abc", "abc"), True), ("EXACT", (1, "1"), True),
    ("EXACT", (None, ""), True),
])
def test_replacing_and_finding(name, args, expected):
    assert same(call(name, *args), expected)


@pytest.mark.parametrize("name, args, expected", [
    ("VALUE", ("1,234.5",), 1234.5), ("VALUE", ("50%",), 0.5), ("VALUE", ("¥12",), 12), ("VALUE", ("￥1,000",), 1000),
    ("VALUE", ("(12)",), -12), ("VALUE", (" 42 ",), 42), ("VALUE", ("1e3",), 1000), ("VALUE", ("１２３",), 123),
    ("VALUE", ("abc",), VALUE), ("VALUE", ("",), VALUE), ("VALUE", ("1,23",), VALUE), ("VALUE", (5,), 5),
    ("VALUE", (None,), 0), ("VALUE", (True,), VALUE), ("VALUE", ("2025-01-15",), 45672),
    ("VALUE", (date(2025, 1, 15),), 45672),
    ("FIXED", (1234567.891, 2), "1,234,567.89"), ("FIXED", (1234567.891,), "1,234,567.89"),
    ("FIXED", (1234.5, 0), "1,235"), ("FIXED", (1234.5, 1, True), "1234.5"), ("FIXED", (-1234.567, 1), "-1,234.6"),
    ("FIXED", (1234567, -3), "1,235,000"), ("FIXED", (0.005, 2), "0.01"), ("FIXED", (2.675, 2), "2.68"),
    ("FIXED", (-0.001, 2), "0.00"), ("FIXED", ("x", 2), VALUE), ("FIXED", (999.999, 2), "1,000.00"),
    ("CHAR", (65,), "A"), ("CHAR", (10,), "\n"), ("CHAR", (128,), "€"), ("CHAR", (0,), VALUE),
    ("CHAR", (256,), VALUE), ("CHAR", (129,), VALUE), ("CHAR", (65.9,), "A"),
    ("UNICHAR", (20013,), "中"), ("UNICHAR", (0,), VALUE), ("UNICHAR", (0xD800,), VALUE),
    ("UNICODE", ("中文",), 20013), ("UNICODE", ("",), VALUE),
])
def test_numbers_and_text(name, args, expected):
    assert same(call(name, *args), expected)


@pytest.mark.parametrize("value, code, expected", [
    (1234567.4, "#,##0", "1,234,567"), (0.0375, "0.0%", "3.8%"), (0.126, "0%", "13%"),
    (1234.5, "0.00", "1234.50"), (2.675, "0.00", "2.68"), (-1234.5, "#,##0.00", "-1,234.50"),
    (-1234.5, "#,##0.00;(#,##0.00)", "(1,234.50)"), (0, '0.00;-0.00;"零"', "零"),
    (0.5, "#.##", ".5"), (5, "000", "005"), (13812345678, "000-0000-0000", "138-1234-5678"),
    (12345678, "#,##0,", "12,346"), (1000000, '#,##0,,"M"', "1M"), (12345, "0.00E+00", "1.23E+04"),
    (0.000123, "0.0E+00", "1.2E-04"), (5.5, "¥#,##0.00", "¥5.50"), (1.5, '0.00"元"', "1.50元"),
    (1234.5678, "#,##0.0#", "1,234.57"), (1234.5, "#,##0.0#", "1,234.5"), (1234.5, "General", "1234.5"),
    (1234.5, "G/通用格式", "1234.5"), (0, "0.00", "0.00"), (None, "0.00", "0.00"), ("12.5", "0.0", "12.5"),
    ("abc", "0.00", "abc"), ("abc", '"<"@">"', "<abc>"), (True, "0", "TRUE"), (12.3, "???.??", " 12.3 "),
    (1234.5, "[Red]#,##0", "1,235"), (1234.5, "[$¥-804]#,##0", "¥1,235"),
    (date(2025, 9, 11), "yyyy-mm-dd", "2025-09-11"), (date(2025, 1, 5), "yyyy年m月d日", "2025年1月5日"),
    (date(2025, 1, 5), "yy/m/d", "25/1/5"), (date(2025, 9, 15), "dddd, mmmm d", "Monday, September 15"),
    (date(2025, 9, 15), "ddd mmm dd", "Mon Sep 15"), (date(2025, 9, 15), "aaaa", "星期一"), (date(2025, 9, 21), "aaa", "日"),
    (date(2025, 1, 15), "0", "45672"), (45672, "yyyy-mm-dd", "2025-01-15"),
    (datetime(2025, 1, 5, 14, 5, 9, tzinfo=SH), "hh:mm", "14:05"),
    (datetime(2025, 1, 5, 14, 5, 9, tzinfo=SH), "h:mm AM/PM", "2:05 PM"),
    (datetime(2025, 1, 5, 0, 5, 9, tzinfo=SH), "h:mm AM/PM", "12:05 AM"),
    (datetime(2025, 1, 5, 9, 5, 9, tzinfo=SH), "上午/下午h时mm分", "上午9时05分"),
    (datetime(2025, 1, 5, 14, 5, 9, tzinfo=SH), "yyyy/m/d h:mm:ss", "2025/1/5 14:05:09"),
    (datetime(2025, 1, 5, 14, 5, 9, tzinfo=SH), "mm:ss", "05:09"),
    (date(2025, 1, 5), "hh:mm", "00:00"),
    ("2025-01-05 14:05", "hh:mm", "14:05"), ("2025/1/5", "yyyy-mm-dd", "2025-01-05"),
    ([1], "0", VALUE), (1, "0" * 500, VALUE),
])
def test_text_formats(value, code, expected):
    assert same(call("TEXT", value, code), expected)


def test_text_limits_refuse_before_building():
    small = ctx(limits=Limits(max_text_length=10))
    assert call("REPT", "ab", 6, context=small) == VALUE
    assert call("REPT", "ab", 5, context=small) == "ab" * 5
    assert call("CONCAT", ["abcdef", "ghijk"], context=small) == VALUE
    assert call("SUBSTITUTE", "aaaa", "a", "xyz", context=small) == VALUE
    assert call("TEXTJOIN", ",", True, ["abcde", "fghij"], context=small) == VALUE


def test_split_refuses_arrays_past_the_limit():
    small = ctx(limits=Limits(max_array_length=3))
    assert call("SPLIT", "a,b,c,d", ",", context=small) == VALUE
    assert call("SPLIT", "a,b,c", ",", context=small) == ["a", "b", "c"]


def test_numbers_print_as_excel_prints_them():
    assert call("CONCAT", D("2.50"), "|", D("1E+21"), "|", D(1) / D(3)) == "2.5|1E+21|0.333333333333333"
