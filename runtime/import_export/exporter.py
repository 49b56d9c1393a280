"""Exporting a (filtered) list of records to XLSX or CSV.

Types are kept: dates are date cells, numbers are numbers, Chinese text is intact
(CSV is written as UTF-8 with a BOM so Excel opens it correctly). Options are
written as their labels, members and departments as names, relations as the
related record's title: what an import reads back. Subforms go to one extra sheet
each (XLSX), or to extra lines under their record (CSV). Text that a spreadsheet
could run as a formula is neutralised (see cells.py). Records are read page by
page, so memory stays constant.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from engine.definition.model import FieldDef, FormDef
from engine.errors import FormworkError
from engine.fields.base import FieldType, ValueContext
from engine.fields.relation import LookupField, RelationField
from engine.storage.db import read_connection
from runtime.apps import load_installed
from runtime.import_export.cells import neutralise
from runtime.import_export.directory import Directory
from runtime.actor import Actor
from runtime.import_export.relations import matchable_keys
from runtime.permissions.fields import shown_form
from runtime.permissions.policy import EXPORT, VIEW, Policy
from runtime.permissions.roles import policy_for
from runtime.records import Records

PAGE = 500
MAIN_ROW_HEADER = {"zh": "主表行号", "en": "Main sheet row"}
EXCEL_DIGITS = 15   # a spreadsheet number keeps 15 significant digits; longer ones are written as text


def export_records(engine: Engine, app_key: str, form_key: str, path: Path, fmt: str | None = None,
                   *, filter: Any = None, sort: Any = None, lang: str = "zh",
                   progress: Callable[[int], None] | None = None, actor: Actor | None = None,
                   policy: Policy | None = None) -> int:
    """Write the records matching `filter` to `path`; returns how many were written.
    As `actor` (default the system) under `policy` (default the actor's: policy_for), who
    needs the export and view actions; only the rows in their scope and the fields they
    see are written (PermissionDenied before anything is written otherwise)."""
    path = Path(path)
    fmt = (fmt or path.suffix.lstrip(".")).lower()
    if fmt not in ("xlsx", "csv"):
        raise FormworkError(f"unknown export format {fmt!r}: use xlsx or csv")
    with read_connection(engine) as conn:
        app = load_installed(conn, app_key)
        if app is None:
            raise FormworkError(f"app {app_key!r} is not installed")
        form = app.require_form(form_key)
        actor = actor or Actor.system(lang)
        records = Records(conn, app, actor=actor, policy=policy or policy_for(actor), lang=lang)
        records.access(form_key, VIEW)
        layout = _Layout.of(app, shown_form(form, records.access(form_key, EXPORT)), lang)
        directory = Directory(conn)
        relation_names = _RelationNames(conn, app, records.tables, layout)
        writer = (_XlsxWriter if fmt == "xlsx" else _CsvWriter)(path, layout, records.ctx)
        count = 0
        try:
            cursor = None
            while True:
                page = records.list(form_key, filter=filter, sort=sort, page_size=PAGE,
                                    cursor=cursor, with_count=False)
                ctx = ValueContext(lang=lang, tz=records.ctx.tz,
                                   names=directory.names(layout.referenced_ids(page.records)))
                named = relation_names.for_page(page.records, ctx)
                for record in page.records:
                    count += 1
                    writer.write(count, layout.main_cells(record, ctx, named), layout.subform_cells(record, ctx))
                if progress:
                    progress(count)
                cursor = page.next_cursor
                if not cursor:
                    break
        finally:
            writer.close()
    return count


@dataclass
class _Layout:
    """The columns of an export: main fields, and each subform with its columns."""

    form: FormDef
    lang: str
    main: list[tuple[FieldDef, FieldType]]
    subforms: list[tuple[FieldDef, list[tuple[FieldDef, FieldType]]]]

    @classmethod
    def of(cls, app, form: FormDef, lang: str) -> "_Layout":
        main, subforms = [], []
        for fdef in form.fields:
            ftype = app.types.of(fdef)
            if ftype.storage == "child_table":
                subforms.append((fdef, [(s, app.types.of(s)) for s in fdef.fields]))
                continue
            if isinstance(ftype, LookupField):   # formatted as the field it reads
                resolved = ftype.resolve(form, app)
                ftype = app.types.of(resolved[1]) if resolved else ftype
            main.append((fdef, ftype))
        return cls(form, lang, main, subforms)

    def headers(self) -> list[str]:
        return [f.label.get(self.lang) for f, _ in self.main]

    def subform_headers(self) -> list[str]:
        return [f"{sub.label.get(self.lang)}.{col.label.get(self.lang)}"
                for sub, columns in self.subforms for col, _ in columns]

    def referenced_ids(self, records: list[dict]) -> dict[str, set[int]]:
        """Ids of users, departments and files a page refers to, by kind."""
        found: dict[str, set[int]] = {}

        def add(ftype: FieldType, value: Any) -> None:
            ref = ftype.references(value) if value not in (None, []) else None
            if ref is not None and ref.kind != "form":
                found.setdefault(ref.kind, set()).update(ref.ids)
        for record in records:
            values = record["fields"]
            for fdef, ftype in self.main:
                add(ftype, values.get(fdef.key))
            for sub, columns in self.subforms:
                for row in values.get(sub.key) or []:
                    for col, ftype in columns:
                        add(ftype, row.get(col.key))
        return found

    def main_cells(self, record: dict, ctx: ValueContext, named: dict[str, dict[int, str]]) -> list[Any]:
        values, titles = record["fields"], record.get("titles", {})
        cells = []
        for fdef, ftype in self.main:
            value = values.get(fdef.key)
            if value is None or value == []:
                cells.append(None)
            elif fdef.key in titles:   # a relation: the related records' titles
                ids = value if isinstance(value, list) else [value]
                own = named.get(fdef.key, {})
                cells.append("、".join(own.get(i) or str(titles[fdef.key].get(i, {}).get("title", f"#{i}"))
                                      for i in ids))
            else:
                cells.append(_plain(ftype.export_value(value, ctx)))
        return cells

    def subform_cells(self, record: dict, ctx: ValueContext) -> list[list[list[Any]]]:
        """For each subform, its rows as lists of cells."""
        return [[[None if row.get(col.key) is None else _plain(ftype.export_value(row[col.key], ctx))
                  for col, ftype in columns]
                 for row in record["fields"].get(sub.key) or []]
                for sub, columns in self.subforms]


class _RelationNames:
    """Relation cells name the related record by its title, or as "title (unique value)"
    when several live records of the related form share that title, so that an import
    (which matches titles and unique fields) finds the right one again."""

    def __init__(self, conn, app, tables, layout: _Layout):
        self.conn = conn
        self.targets: dict[str, tuple] = {}   # relation key -> (table, title type, unique type)
        for fdef, ftype in layout.main:
            if not isinstance(ftype, RelationField):
                continue
            target = app.require_form(ftype.target)
            title = target.title_key()
            unique = next((k for k in matchable_keys(target, app.types) if k != title), None)
            if title and unique:
                self.targets[fdef.key] = (tables.form_table(target.key), app.types.of(target.field(title)),
                                          app.types.of(target.field(unique)))

    def for_page(self, records: list[dict], ctx: ValueContext) -> dict[str, dict[int, str]]:
        """{relation key: {record id: cell text}} for related records whose title is shared."""
        named: dict[str, dict[int, str]] = {}
        for key, (table, title, unique) in self.targets.items():
            ids = {i for r in records for i in _as_ids(r["fields"].get(key))}
            if not ids:
                continue
            title_col, unique_col = table.c[title.column_name], table.c[unique.column_name]
            rows = self.conn.execute(sa.select(table.c.id, title_col, unique_col).where(table.c.id.in_(ids))).all()
            shared = set(self.conn.execute(
                sa.select(title_col).where(title_col.in_({r[1] for r in rows if r[1] is not None}),
                                           table.c.deleted_at.is_(None))
                .group_by(title_col).having(sa.func.count() > 1)).scalars())
            named[key] = {rid: f"{title.display(title.from_row({title.column_name: t}), ctx)} "
                               f"({unique.display(unique.from_row({unique.column_name: u}), ctx)})"
                          for rid, t, u in rows if t in shared and u is not None}
        return named


def _as_ids(value: Any) -> list[int]:
    return [] if value is None else (value if isinstance(value, list) else [value])


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        if len(value.as_tuple().digits) > EXCEL_DIGITS:
            return str(value)   # as a number it would lose digits
        return value
    if isinstance(value, (str, int, float, date, datetime, bool)):
        return value
    if isinstance(value, (list, tuple)):
        return "、".join(str(_plain(v)) for v in value)
    return str(value)


class _XlsxWriter:
    def __init__(self, path: Path, layout: _Layout, ctx: ValueContext):
        from openpyxl import Workbook
        self.path, self.layout, self.tz = path, layout, ctx.tz
        self.book = Workbook(write_only=True)
        self.sheet = self._sheet(layout.form.label.get(layout.lang), layout.headers())
        self.sub_sheets = [
            self._sheet(sub.label.get(layout.lang),
                        [MAIN_ROW_HEADER[layout.lang]] + [c.label.get(layout.lang) for c, _ in columns])
            for sub, columns in layout.subforms]

    def _sheet(self, title: str, headers: list[str]):
        from openpyxl.styles import Font
        from openpyxl.utils import get_column_letter
        sheet = self.book.create_sheet(title=_sheet_title(title, self.book.sheetnames))
        sheet.freeze_panes = "A2"
        for index, header in enumerate(headers, start=1):   # wide enough for the header, in CJK widths
            width = sum(2 if ord(ch) > 0x2E80 else 1 for ch in header) + 4
            sheet.column_dimensions[get_column_letter(index)].width = max(12, min(width, 40))
        self._append(sheet, headers, font=Font(bold=True))
        return sheet

    def _append(self, sheet, values: list[Any], font=None) -> None:
        from openpyxl.cell import WriteOnlyCell
        cells = []
        for value in values:
            cell = WriteOnlyCell(sheet, value=None)
            if font is not None:
                cell.font = font
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
            elif isinstance(value, Decimal):
                cell.value = value
                places = -value.as_tuple().exponent
                cell.number_format = "0." + "0" * places if places > 0 else "0"
            else:
                cell.value = value
            cells.append(cell)
        sheet.append(cells)

    def write(self, number: int, main: list[Any], subforms: list[list[list[Any]]]) -> None:
        self._append(self.sheet, main)
        for sheet, rows in zip(self.sub_sheets, subforms):
            for row in rows:
                self._append(sheet, [number + 1] + row)   # the record's row on the main sheet

    def close(self) -> None:
        self.book.save(self.path)


class _CsvWriter:
    """One line per record, plus a line per further subform row with the main cells
    left empty (the shape an import reads back)."""

    def __init__(self, path: Path, layout: _Layout, ctx: ValueContext):
        self.tz = ctx.tz
        self.handle = open(path, "w", encoding="utf-8-sig", newline="")
        self.csv = csv.writer(self.handle)
        self.widths = [len(columns) for _, columns in layout.subforms]
        self.main_width = len(layout.main)
        self.csv.writerow(layout.headers() + layout.subform_headers())

    def write(self, number: int, main: list[Any], subforms: list[list[list[Any]]]) -> None:
        lines = max([1] + [len(rows) for rows in subforms])
        for line in range(lines):
            cells = list(main) if line == 0 else [None] * self.main_width
            for width, rows in zip(self.widths, subforms):
                cells += rows[line] if line < len(rows) else [None] * width
            self.csv.writerow([_csv_text(v, self.tz) for v in cells])

    def close(self) -> None:
        self.handle.close()


def _csv_text(value: Any, tz) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, datetime):
        local = value.astimezone(tz).replace(tzinfo=None) if value.tzinfo else value
        return local.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return neutralise(value)
    return str(value)   # numbers: "-5" is a number, not a formula


def _sheet_title(text: str, taken: list[str]) -> str:
    for bad in "[]:*?/\\":
        text = text.replace(bad, " ")
    title = text[:31].strip() or "Sheet"
    suffix = 2
    while title in taken:   # two subforms with the same label
        title = f"{text[:28]} {suffix}"
        suffix += 1
    return title
