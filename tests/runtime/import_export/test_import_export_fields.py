"""Every registered field type: how an import reads its cells (CSV text and typed XLSX
cells) and how an export writes its values, and that an exported value reads back
as the same value through CSV and through XLSX. A new field type fails
`test_every_type_has_a_case` until it gets a case here."""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

import phonenumbers
import pytest

from engine.definition.model import FormDef
from engine.errors import FieldError
from engine.fields import ValueContext
from engine.fields.registry import FieldTypes
from engine.fields.registry import all_types
from engine.formula.values import ErrorValue
from runtime.import_export.exporter import _csv_text, _plain
from runtime.import_export.importer import _cell
from runtime.import_export.mapping import map_columns
from tests.support.fields import CTX, make

TZ = CTX.tz
LOOKUPS = {"users": {"li.lei": 3, "李雷": 3, "韩梅梅": 4},
           "departments": {"销售部": 7, "总部/销售部": 7, "华东组": 8}}
NAMES = {"users": {3: "李雷", 4: "韩梅梅"}, "departments": {7: "销售部", 8: "华东组"},
         "files": {21: "合同.pdf", 22: "现场.jpg"}}
OPTIONS = [{"value": "vip", "label": {"zh": "重要客户", "en": "Key account"}},
           {"value": "normal", "label": {"zh": "普通客户", "en": "Regular"}},
           "其他"]


@dataclass
class Case:
    config: dict[str, Any] = field(default_factory=dict)
    text: list[tuple[str, Any]] = field(default_factory=list)    # CSV cell -> stored value
    cells: list[tuple[Any, Any]] = field(default_factory=list)   # typed XLSX cell -> stored value
    bad: list[str] = field(default_factory=list)                 # CSV cells refused
    export: list[tuple[Any, Any]] = field(default_factory=list)  # stored value -> spreadsheet cell
    round_trip: bool = True    # export -> import gives the value back (False: see `why`)
    why: str = ""


CASES: dict[str, Case] = {
    "text": Case(
        {"max_length": 10},
        text=[("  张三 ", "张三"), ("a\nb", "a b"), ("=1+1", "=1+1")],
        cells=[(42, "42"), (12.5, "12.5")],
        bad=["x" * 11, "a\x07b"],
        export=[("张三", "张三")]),
    "textarea": Case(
        text=[("第一行\n  第二行", "第一行\n  第二行")],
        export=[("多\n行", "多\n行")]),
    "number": Case(
        {"precision": 2, "unit": "元"},
        text=[("1,234.50", Decimal("1234.50")), ("¥1,234", Decimal("1234.00")), ("12%", Decimal("0.12")),
              ("８８", Decimal("88.00")), ("-5", Decimal("-5.00")), ("99 元", Decimal("99.00")),
              ("1.005", Decimal("1.01"))],
        cells=[(12.5, Decimal("12.50")), (3, Decimal("3.00")), (Decimal("7.1"), Decimal("7.10"))],
        bad=["abc", "1.2.3", "12,34"],
        export=[(Decimal("1234.50"), Decimal("1234.50"))]),
    "radio": Case(
        {"options": OPTIONS},
        text=[("重要客户", "vip"), ("Key account", "vip"), ("vip", "vip"), ("其他", "其他"), (" regular ", "normal")],
        bad=["金牌"],
        export=[("vip", "重要客户")]),
    "select": Case(
        {"options": OPTIONS},
        text=[("普通客户", "normal"), ("NORMAL", "normal")],
        bad=["VIP客户"],
        export=[("normal", "普通客户")]),
    "checkbox": Case(
        {"options": OPTIONS},
        text=[("重要客户、普通客户", ["vip", "normal"]), ("普通客户，重要客户", ["vip", "normal"])],
        bad=["重要客户;金牌"],
        export=[(["vip", "其他"], "重要客户、其他")]),
    "multiselect": Case(
        {"options": OPTIONS},
        text=[("重要客户;普通客户", ["vip", "normal"]), ("其他|vip", ["vip", "其他"]),
              ("Key account, Regular", ["vip", "normal"]), ("普通客户；其他", ["normal", "其他"])],
        bad=["金牌、vip"],
        export=[(["vip", "normal"], "重要客户、普通客户")]),
    "switch": Case(
        text=[("是", True), ("否", False), ("TRUE", True), ("0", False), ("√", True)],
        cells=[(True, True), (False, False), (1, True)],
        bad=["也许"],
        export=[(True, "是"), (False, "否")]),
    "rating": Case(
        {"max": 5},
        text=[("4", 4), ("★★★", 3), ("5.0", 5)],
        cells=[(2, 2), (3.0, 3)],
        bad=["6", "2.5", "好"],
        export=[(4, 4)]),
    "date": Case(
        text=[("2025/1/5", date(2025, 1, 5)), ("2025年1月5日", date(2025, 1, 5)), ("2025-01-05", date(2025, 1, 5)),
              ("2025.1.5", date(2025, 1, 5)), ("20250105", date(2025, 1, 5)), ("２０２５-０１-０５", date(2025, 1, 5))],
        cells=[(datetime(2025, 1, 5, 0, 0), date(2025, 1, 5)), (date(2025, 1, 5), date(2025, 1, 5)),
               (45662, date(2025, 1, 5)), (45662.0, date(2025, 1, 5))],   # Excel serial day numbers
        bad=["2025-02-30", "明天", "5/1/2025"],
        export=[(date(2025, 1, 5), date(2025, 1, 5))]),
    "datetime": Case(
        text=[("2025-01-05 13:45", datetime(2025, 1, 5, 5, 45, tzinfo=timezone.utc)),
              ("2025年1月5日 13时45分", datetime(2025, 1, 5, 5, 45, tzinfo=timezone.utc)),
              ("2025/1/5 13:45:30", datetime(2025, 1, 5, 5, 45, 30, tzinfo=timezone.utc)),
              ("2025-01-05T13:45:00+00:00", datetime(2025, 1, 5, 13, 45, tzinfo=timezone.utc))],
        cells=[(datetime(2025, 1, 5, 13, 45), datetime(2025, 1, 5, 5, 45, tzinfo=timezone.utc)),
               (45662.5, datetime(2025, 1, 5, 4, 0, tzinfo=timezone.utc))],   # noon on an Excel serial day
        bad=["2025-01-05 25:00", "昨天下午"],
        export=[(datetime(2025, 1, 5, 5, 45, tzinfo=timezone.utc), datetime(2025, 1, 5, 13, 45))]),
    "phone": Case(
        text=[("138 1234 5678", "13812345678"), ("+86 138-1234-5678", "13812345678"),
              ("010-62345678", "010-62345678"), ("(021) 6234 5678", "021-62345678"),
              ("010-62345678 转 123", "010-62345678-123")],
        cells=[(13812345678, "13812345678")],
        bad=["12345", "138123456789", "电话"],
        export=[("13812345678", "13812345678"), ("+85221234567", "+85221234567")]),
    "email": Case(
        text=[(" Li.Lei@Example.COM ", "li.lei@example.com"), ("li＠example。com", "li@example.com")],
        bad=["li@", "not an email"],
        export=[("li@example.com", "li@example.com")]),
    "url": Case(
        text=[("example.com/a", "https://example.com/a"), ("http://x.cn", "http://x.cn")],
        bad=["ftp://x.cn", "javascript:alert(1)"],
        export=[("https://example.com", "https://example.com")]),
    "idcard": Case(
        text=[("11010519491231002x", "11010519491231002X")],
        bad=["110105194912310021", "123"],
        export=[("11010519491231002X", "11010519491231002X")]),
    "member": Case(
        text=[("李雷", 3), ("li.lei", 3), ("#4", 4), ("4", 4)],
        cells=[(3, 3), (4.0, 4)],
        bad=["王五"],
        export=[(3, "李雷"), (9, "#9")]),
    "members": Case(
        text=[("李雷、韩梅梅", [3, 4]), ("li.lei;韩梅梅", [3, 4]), ("韩梅梅|李雷", [4, 3])],
        bad=["李雷、王五"],
        export=[([3, 4], "李雷、韩梅梅")]),
    "department": Case(
        text=[("销售部", 7), ("总部/销售部", 7), ("华东组", 8)],
        cells=[(7, 7)],
        bad=["市场部"],
        export=[(7, "销售部")]),
    "departments": Case(
        text=[("销售部、华东组", [7, 8])],
        bad=["销售部、市场部"],
        export=[([8, 7], "华东组、销售部")]),
    "serial": Case(
        {"pattern": "HT{YYYY}{MM}-{counter:4}"},
        text=[("HT202501-0007", "HT202501-0007"), (" HT202501-12345 ", "HT202501-12345")],
        bad=["HT2025-0001", "GD202501-0001"],
        export=[("HT202501-0007", "HT202501-0007")]),
    "address": Case(
        text=[("广东省深圳市南山区科技园1号", {"province": "广东省", "city": "深圳市", "district": "南山区",
                                            "detail": "科技园1号"}),
              ("上海 浦东新区 世纪大道100号", {"province": "上海市", "city": "上海市", "district": "浦东新区",
                                           "detail": "世纪大道100号"})],
        bad=["火星市"],
        export=[({"province": "北京市", "city": "北京市", "district": "海淀区", "detail": None}, "北京市海淀区")]),
    "location": Case(
        text=[("121.47,31.23 外滩", {"lng": Decimal("121.470000"), "lat": Decimal("31.230000"), "name": "外滩"}),
              ("116.4，39.9", {"lng": Decimal("116.400000"), "lat": Decimal("39.900000"), "name": None})],
        bad=["200,10", "上海"],
        export=[({"lng": Decimal("121.47"), "lat": Decimal("31.23"), "name": None}, "121.47,31.23")]),
    # Relations: a cell naming a record by title or unique field is matched by the
    # importer against the database (tests/runtime/import_export/test_import_export.py); the field type
    # itself reads record ids, and the exporter writes the related record's title.
    "relation": Case(
        {"target": "customers"},
        text=[("#12", 12), ("12", 12)],
        cells=[(12, 12), (12.0, 12)],
        bad=["0", "-3"],
        round_trip=False, why="exported as the related record's title, matched again by the importer"),
    "lookup": Case(
        {"relation": "customer", "field": "level"},
        round_trip=False, why="a value read through a relation: exported for reading, left out of imports"),
    "subform": Case(
        {"fields": [{"key": "qty", "type": "number", "label": {"zh": "数量", "en": "Qty"}}]},
        round_trip=False, why="its columns are imported and exported one by one (extra lines or sheets)"),
    "formula": Case(
        {"formula": "amount * 2", "result": "number", "precision": 2},
        bad=["42"],
        export=[(Decimal("84.00"), Decimal("84.00")), (ErrorValue("#DIV/0!"), "#DIV/0!")],
        round_trip=False, why="computed by the app: exported for reading, left out of imports with a note"),
    "rollup": Case(
        {"source": "orders", "via": "customer", "aggregate": "count"},
        bad=["3"],
        export=[(Decimal("3"), Decimal("3"))],
        round_trip=False, why="computed by the app: exported for reading, left out of imports with a note"),
    "attachment": Case(
        export=[([21, 22], "合同.pdf、现场.jpg")],
        round_trip=False, why="files are uploaded: exported by name, left out of imports with a note"),
    "image": Case(
        export=[([22], "现场.jpg")],
        round_trip=False, why="files are uploaded: exported by name, left out of imports with a note"),
    "signature": Case(
        export=[(21, "合同.pdf"), (30, "#30")],
        round_trip=False, why="a drawn signature is a file: left out of imports with a note"),
}


def ctx(lang: str = "zh") -> ValueContext:
    return ValueContext(lang=lang, now=CTX.now, lookups=dict(LOOKUPS), names=dict(NAMES))


def test_every_type_has_a_case():
    missing = sorted(set(all_types()) - set(CASES))
    assert not missing, f"add an import/export case for the field types {missing}"


@pytest.mark.parametrize("type_name", sorted(CASES))
def test_import_parsing(type_name):
    case = CASES[type_name]
    ftype = make(type_name, **dict(case.config))
    for text, expected in case.text:
        assert ftype.parse_text(text, ctx()) == expected, (type_name, text)
        if not ftype.system_assigned:   # subform cells are cleaned again by the record service
            assert ftype.clean(expected, ctx()) == expected, (type_name, text)
    for cell, expected in case.cells:
        assert ftype.parse_cell(cell, ctx()) == expected, (type_name, cell)
    for text in case.bad:
        with pytest.raises(FieldError):
            ftype.parse_text(text, ctx())


@pytest.mark.parametrize("type_name", sorted(CASES))
def test_export_formatting(type_name):
    case = CASES[type_name]
    ftype = make(type_name, **dict(case.config))
    for value, expected in case.export:
        cell = _plain(ftype.export_value(value, ctx()))
        assert cell == expected and type(cell) is type(expected), (type_name, value, cell)


@pytest.mark.parametrize("type_name", sorted(n for n, c in CASES.items() if c.round_trip))
def test_export_reads_back_through_csv_and_xlsx(type_name):
    case = CASES[type_name]
    ftype = make(type_name, **dict(case.config))
    for _text, value in case.text:
        exported = _plain(ftype.export_value(value, ctx()))
        as_csv = _csv_text(exported, TZ)
        assert ftype.parse_text(_cell([as_csv], 0), ctx()) == value, (type_name, value, as_csv)
        as_xlsx = float(exported) if isinstance(exported, Decimal) else exported   # Excel keeps floats
        assert ftype.parse_cell(as_xlsx, ctx()) == value, (type_name, value, as_xlsx)


def test_english_exports_read_back_too():
    for type_name in ("select", "multiselect", "switch"):
        case = CASES[type_name]
        ftype = make(type_name, **dict(case.config))
        for _text, value in case.text:
            exported = _plain(ftype.export_value(value, ctx("en")))
            assert ftype.parse_text(_csv_text(exported, TZ), ctx("en")) == value


def test_long_numbers_are_written_as_text_so_no_digit_is_lost():
    value = Decimal("1234567890123456.78")
    assert _plain(value) == "1234567890123456.78"
    assert make("number", precision=2).parse_text(_plain(value), ctx()) == value
    assert _plain(Decimal("123456789012.34")) == Decimal("123456789012.34")


def test_csv_cells_neutralise_formulas_but_not_numbers():
    assert _csv_text("=SUM(A1)", TZ) == "'=SUM(A1)"
    assert _csv_text("-2+3", TZ) == "'-2+3" and _csv_text("@cmd", TZ) == "'@cmd"
    assert _csv_text(Decimal("-5.00"), TZ) == "-5.00" and _csv_text(-3, TZ) == "-3"
    assert _csv_text(True, TZ) == "是" and _csv_text(date(2025, 1, 5), TZ) == "2025-01-05"


def test_mobile_numbers_agree_with_libphonenumber():
    """The fast path for 11-digit mobiles gives libphonenumber's answer."""
    phone = make("phone")
    rnd = random.Random(20250105)
    for _ in range(5000):
        text = f"1{rnd.randrange(3, 10)}{rnd.randrange(10 ** 9):09d}"
        try:
            parsed = phonenumbers.parse(text, "CN")
            valid = phonenumbers.is_valid_number(parsed)
        except phonenumbers.NumberParseException:
            valid = False
        try:
            got = phone.parse_text(text, ctx())
        except FieldError:
            got = None
        assert (got is not None) == valid, text
        if got is not None:
            assert got == text


def test_columns_an_import_cannot_fill_are_left_out_with_a_note():
    form = FormDef.from_dict({"key": "orders", "label": "订单", "fields": [
        {"key": "title", "type": "text", "label": {"zh": "标题", "en": "Title"}, "required": True},
        {"key": "amount", "type": "number", "label": {"zh": "金额", "en": "Amount"}},
        {"key": "double", "type": "formula", "label": {"zh": "双倍", "en": "Double"}, "formula": "amount*2",
         "result": "number", "required": True},
        {"key": "scan", "type": "attachment", "label": {"zh": "扫描件", "en": "Scan"}},
    ]}, "forms[0]")
    columns = map_columns(form, ["标题", "Amount", "双倍", "扫描件"], types=FieldTypes({}))
    assert [c.field for c in columns.main] == ["title", "amount"]
    assert columns.notes == ["column '双倍' (double) is computed by the app and is not imported",
                             "column '扫描件' (scan) holds files, which are uploaded, not imported from a spreadsheet"]


@pytest.mark.parametrize("write_only", [False, True])
def test_the_fast_xlsx_reader_reads_what_openpyxl_reads(tmp_path, write_only):
    from openpyxl import Workbook, load_workbook

    from runtime.import_export.xlsx_rows import sheet_rows
    rows = [["名称", "数量", "金额", "日期", "时间", "是否", "备注"],
            ["甲", 3, 1234.5, date(2025, 1, 5), datetime(2025, 1, 5, 13, 45, 30), True, "=1+1"],
            [None, -7, Decimal("0.1"), None, None, False, "多\n行"],
            ["乙", 10 ** 15, 1e-7, date(1900, 3, 1), datetime(2030, 12, 31, 23, 59), None, " 空格 "],
            [None, None, None, None, None, None, None],
            ["丙", 0, -0.5, None, None, None, "x" * 3000]]
    book = Workbook(write_only=write_only)
    sheet = book.create_sheet("数据") if write_only else book.active
    for row in rows:
        sheet.append(row)
    if not write_only:
        sheet["J9"] = "远处的单元格"
        sheet["D4"].number_format = "yyyy/m/d"
    book.save(tmp_path / "t.xlsx")
    reading = load_workbook(tmp_path / "t.xlsx", read_only=True, data_only=True)
    ws = reading.worksheets[0]
    expected = [(n, [v for v in row]) for n, row in enumerate(ws.iter_rows(values_only=True), start=1)
                if any(v is not None for v in row)]
    fast = list(sheet_rows(reading, ws))
    reading.close()
    assert len(fast) == len(expected)
    for (number, cells), (want_number, want) in zip(fast, expected):
        assert number == want_number
        assert cells + [None] * (len(want) - len(cells)) == want
