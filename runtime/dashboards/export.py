"""A widget's data as a spreadsheet (XLSX): the rows the widget shows, one line each, with
the dimension labels and the measures as columns (a pivot: one line per row and a column
per column key and measure, then the totals; a KPI: a line per measure with its previous
value and change; a table: its fields).

Text cells are written as text, never as formulas, and text that a spreadsheet would
run as a formula (= + - @ ...) gets the record export's leading apostrophe
(runtime/import_export/cells.py). Measures written by the API as exact decimal text
("1234.50") become numbers with as many decimal places.
"""
from __future__ import annotations

import io
from decimal import Decimal, InvalidOperation
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from runtime.import_export.cells import neutralise

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_WORDS = {"total": {"zh": "合计", "en": "Total"}, "previous": {"zh": "上期", "en": "Previous"},
          "change": {"zh": "变化", "en": "Change"}, "measure": {"zh": "指标", "en": "Measure"},
          "value": {"zh": "数值", "en": "Value"}}


def widget_table(kind: str, data: dict, lang: str) -> tuple[list[str], list[list[Any]]]:
    """The header and the lines of one widget's data (the service's `data`)."""
    word = {k: v["zh" if lang == "zh" else "en"] for k, v in _WORDS.items()}
    if kind == "kpi":
        return ([word["measure"], word["value"], word["previous"], word["change"]],
                [[m["label"], m["value"], m.get("previous"), m.get("change")] for m in data["measures"]])
    if kind == "table":
        return ([c["label"] for c in data["columns"]],
                [[row["values"][c["key"]] for c in data["columns"]] for row in data["rows"]])
    heads = [d["label"] for d in data["dimensions"]]
    measures = data["measures"]
    if kind == "pivot":
        columns = data["columns"]
        header = [" / ".join(heads)] + [f"{' / '.join(_text(x) for x in c['labels'])} · {m['label']}"
                                        for c in columns for m in measures] + \
                 [f"{word['total']} · {m['label']}" for m in measures]
        lines = [[" / ".join(_text(x) for x in row["labels"])]
                 + [row["cells"].get(c["key"], {}).get(m["key"]) for c in columns for m in measures]
                 + [(row["total"] or {}).get(m["key"]) for m in measures] for row in data["rows"]]
        lines.append([word["total"]] + [data["column_totals"].get(c["key"], {}).get(m["key"])
                                        for c in columns for m in measures]
                     + [(data["total"] or {}).get(m["key"]) for m in measures])
        return header, lines
    header = heads + [m["label"] for m in measures]
    return header, [[_text(x) for x in row["labels"]] + [row["values"][m["key"]] for m in measures]
                    for row in data["rows"]]


def xlsx_bytes(title: str, header: list[str], lines: list[list[Any]]) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=_sheet_title(title))
    sheet.freeze_panes = "A2"
    for index, text in enumerate(header, start=1):
        width = sum(2 if ord(ch) > 0x2E80 else 1 for ch in text) + 4
        sheet.column_dimensions[get_column_letter(index)].width = max(12, min(width, 40))
    sheet.append([_cell(sheet, text, Font(bold=True)) for text in header])
    for line in lines:
        sheet.append([_cell(sheet, value) for value in line])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _text(value: Any) -> str:
    return "–" if value is None else str(value)


def _cell(sheet, value: Any, font=None) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=None)
    if font is not None:
        cell.font = font
    if isinstance(value, dict):              # a formula's error value: {"error": "#DIV/0!"}
        value = value.get("error")
    number = _number(value)
    if number is not None:
        cell.value = number
        places = -number.as_tuple().exponent if isinstance(number, Decimal) else 0
        cell.number_format = "0." + "0" * places if places > 0 else "0"
    elif isinstance(value, str):
        cell.value = neutralise(value)
        cell.data_type = "s"                 # text, never a formula, whatever its first character
    else:
        cell.value = value
    return cell


def _number(value: Any) -> Decimal | int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value[:1] in "-0123456789" and value.lstrip("-")[:1].isdigit():
        try:
            found = Decimal(value)
        except InvalidOperation:
            return None
        return found if found.is_finite() and str(found) == value else None
    return None


def _sheet_title(text: str) -> str:
    for bad in "[]:*?/\\":
        text = text.replace(bad, " ")
    return text[:31].strip() or "Sheet"
