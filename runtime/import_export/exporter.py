"""Exporting a (filtered) list of records to XLSX or CSV.

Types are kept: dates are date cells, numbers are numbers, Chinese text is intact
(CSV is written as UTF-8 with a BOM so Excel opens it correctly). Relations are
written as the related record's title, which an import matches again. Subforms go
to one extra sheet each (XLSX) or a JSON cell (CSV). Text that a spreadsheet could
run as a formula is neutralised (see cells.py). Records are read page by page, so
memory stays constant.
"""
from __future__ import annotations

import csv
import json
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable

from sqlalchemy.engine import Engine

from engine.errors import FormworkError
from engine.fields.registry import field_type
from runtime.apps import load_installed
from runtime.import_export.cells import neutralise
from runtime.records import Records

PAGE = 500
ROW_HEADER = {"zh": "记录行", "en": "Record row"}


def export_records(engine: Engine, app_key: str, form_key: str, path: Path, fmt: str | None = None,
                   *, filter: Any = None, sort: Any = None, lang: str = "zh",
                   progress: Callable[[int], None] | None = None) -> int:
    """Write the records matching `filter` to `path`; returns how many were written."""
    path = Path(path)
    fmt = (fmt or path.suffix.lstrip(".")).lower()
    if fmt not in ("xlsx", "csv"):
        raise FormworkError(f"unknown export format {fmt!r}: use xlsx or csv")
    with engine.connect() as conn:
        app = load_installed(conn, app_key)
        if app is None:
            raise FormworkError(f"app {app_key!r} is not installed")
        form = app.require_form(form_key)
        records = Records(conn, app, lang=lang)
        fields = [f for f in form.fields]
        types = {f.key: field_type(f) for f in fields}
        main = [f for f in fields if types[f.key].storage != "child_table"]
        subforms = [f for f in fields if types[f.key].storage == "child_table"]
        writer = (_XlsxWriter if fmt == "xlsx" else _CsvWriter)(path, form, main, subforms, lang,
                                                                records.ctx.tz)
        count = 0
        try:
            cursor = None
            while True:
                page = records.list(form_key, filter=filter, sort=sort, page_size=PAGE,
                                    cursor=cursor, with_count=False)
                for record in page.records:
                    count += 1
                    writer.write(count, record, records, types)
                if progress:
                    progress(count)
                cursor = page.next_cursor
                if not cursor:
                    break
        finally:
            writer.close()
    return count


def _cell(ftype, value, record, records: Records, key: str) -> Any:
    if value is None or value == []:
        return None
    titles = record.get("titles", {}).get(key)
    if titles is not None:
        ids = value if isinstance(value, list) else [value]
        return ", ".join(str(titles.get(i, {}).get("title", f"#{i}")) for i in ids)
    if ftype.storage == "none":   # a lookup: the related record's value, as read
        return _plain(value)
    return _plain(ftype.export_value(value, records.ctx))


def _plain(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value   # converted to the workspace time zone by the writer
    if isinstance(value, (str, int, float, Decimal, date, datetime, bool)):
        return value
    if isinstance(value, (list, tuple)):
        return ", ".join(str(_plain(v)) for v in value)
    return json.dumps(value, ensure_ascii=False, default=str)


class _XlsxWriter:
    def __init__(self, path, form, main, subforms, lang, tz):
        from openpyxl import Workbook
        self.path, self.lang, self.tz = path, lang, tz
        self.book = Workbook(write_only=True)
        self.sheet = self.book.create_sheet(title=_sheet_title(form.label.get(lang)))
        self.sheet.append([f.label.get(lang) for f in main])
        self.main, self.subforms = main, subforms
        self.sub_sheets = {}
        for sub in subforms:
            sheet = self.book.create_sheet(title=_sheet_title(sub.label.get(lang)))
            sheet.append([ROW_HEADER[lang]] + [s.label.get(lang) for s in sub.fields])
            self.sub_sheets[sub.key] = sheet

    def _row(self, sheet, values):
        from openpyxl.cell import WriteOnlyCell
        cells = []
        for value in values:
            cell = WriteOnlyCell(sheet, value=None)
            if isinstance(value, str):
                cell.value = value
                cell.data_type = "s"   # text, never a formula, whatever its first character
            elif isinstance(value, datetime):
                # Spreadsheets have no time zones: write the workspace's wall-clock time.
                cell.value = value.astimezone(self.tz).replace(tzinfo=None) if value.tzinfo else value
                cell.number_format = "yyyy-mm-dd hh:mm:ss"
            elif isinstance(value, date):
                cell.value = value
                cell.number_format = "yyyy-mm-dd"
            else:
                cell.value = value
            cells.append(cell)
        sheet.append(cells)

    def write(self, number, record, records, types):
        self._row(self.sheet, [_cell(types[f.key], record["fields"].get(f.key), record, records, f.key)
                               for f in self.main])
        for sub in self.subforms:
            sub_types = {s.key: field_type(s) for s in sub.fields}
            for row in record["fields"].get(sub.key) or []:
                self._row(self.sub_sheets[sub.key], [number] + [
                    _plain(sub_types[s.key].export_value(row.get(s.key), records.ctx))
                    if row.get(s.key) is not None else None for s in sub.fields])

    def close(self):
        self.book.save(self.path)


class _CsvWriter:
    def __init__(self, path, form, main, subforms, lang, tz):
        self.tz = tz
        self.handle = open(path, "w", encoding="utf-8-sig", newline="")
        self.csv = csv.writer(self.handle)
        self.main, self.subforms, self.lang = main, subforms, lang
        self.csv.writerow([f.label.get(lang) for f in main] + [s.label.get(lang) for s in subforms])

    def write(self, number, record, records, types):
        values = [_cell(types[f.key], record["fields"].get(f.key), record, records, f.key)
                  for f in self.main]
        for sub in self.subforms:
            sub_types = {s.key: field_type(s) for s in sub.fields}
            rows = [{s.key: sub_types[s.key].to_json(row.get(s.key)) for s in sub.fields}
                    for row in record["fields"].get(sub.key) or []]
            values.append(json.dumps(rows, ensure_ascii=False) if rows else None)
        self.csv.writerow([_csv_text(v, self.tz) for v in values])

    def close(self):
        self.handle.close()


def _csv_text(value: Any, tz) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        local = value.astimezone(tz).replace(tzinfo=None) if value.tzinfo else value
        return local.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "是" if value else "否"
    return neutralise(str(value))


def _sheet_title(text: str) -> str:
    for bad in "[]:*?/\\":
        text = text.replace(bad, " ")
    return text[:31] or "Sheet"
