"""Importing CSV and XLSX files into a form.

Every cell is parsed by its field type; relations are matched by a field of the
related form (its title or a unique field, or the one a mapping names), one query
per column and batch. Rows go through the record service like any other create
(validation, unique checks, history). Modes:

- dry run: everything is checked, every bad cell reported, nothing is kept;
- all or nothing (default): any bad row and nothing is kept;
- skip bad rows: good rows are kept, bad ones written to a report.

The file is read and written in batches inside one transaction, so memory stays
constant and an interrupted import leaves nothing half-done.
"""
from __future__ import annotations

import csv
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from engine.errors import FieldError, FormworkError
from engine.fields.base import ValueContext
from engine.fields.registry import field_type
from engine.fields.relation import RelationField, parse_record_id
from engine.i18n import render
from runtime.apps import load_installed
from runtime.import_export.cells import restore
from runtime.import_export.mapping import Column, load_mapping_file, map_columns
from runtime.import_export.readers import open_table
from runtime.records import Records

BATCH = 1000
KEPT_PROBLEMS = 1000   # problems kept in memory for the summary; all go to the report file


@dataclass
class CellProblem:
    row: int          # the row number the user sees in the spreadsheet
    column: str       # the column header ("" for a problem of the whole row)
    value: str
    reason: str


@dataclass
class ImportReport:
    file: str
    rows_read: int = 0
    rows_valid: int = 0       # rows that passed every check
    rows_imported: int = 0    # rows kept (0 after a dry run or a refused all-or-nothing import)
    rows_refused: int = 0
    problems: list[CellProblem] = field(default_factory=list)
    problem_count: int = 0
    dry_run: bool = False
    committed: bool = False
    seconds: float = 0.0
    report_file: str | None = None

    @property
    def ok(self) -> bool:
        return self.rows_refused == 0


class ImportError_(FormworkError):
    pass


def import_file(engine: Engine, app_key: str, form_key: str, path: Path, *, dry_run: bool = False,
                skip_bad_rows: bool = False, mapping: dict | Path | None = None,
                report_path: Path | None = None, user_id: int | None = None, lang: str = "zh",
                sheet: str | None = None, batch_size: int = BATCH,
                progress: Callable[[int], None] | None = None) -> ImportReport:
    started = time.perf_counter()
    report = ImportReport(file=str(path), dry_run=dry_run)
    if isinstance(mapping, (str, Path)):
        mapping = load_mapping_file(Path(mapping))
    table = open_table(Path(path), sheet)
    writer = _ProblemWriter(report, report_path, lang)
    try:
        with engine.connect() as conn:
            transaction = conn.begin()
            try:
                app = load_installed(conn, app_key)
                if app is None:
                    raise ImportError_(f"app {app_key!r} is not installed")
                form = app.require_form(form_key)
                columns = map_columns(form, table.headers, mapping)
                importer = _BatchImporter(conn, app, form_key, columns, table.text_cells,
                                          Records(conn, app, user_id=user_id, lang=lang), writer,
                                          _subform_sheets(table, form, lang))
                batch: list[tuple[int, list[Any]]] = []
                for number, cells in table.rows:
                    batch.append((number, cells))
                    if len(batch) >= batch_size:
                        importer.run(batch)
                        batch = []
                        if progress:
                            progress(report.rows_read)
                if batch:
                    importer.run(batch)
                    if progress:
                        progress(report.rows_read)
                keep = not dry_run and (skip_bad_rows or report.rows_refused == 0)
                if keep:
                    transaction.commit()
                    report.committed = True
                    report.rows_imported = report.rows_valid
                else:
                    transaction.rollback()
            except BaseException:
                if transaction.is_active:
                    transaction.rollback()
                raise
    finally:
        table.close()
        writer.close()
    report.seconds = time.perf_counter() - started
    return report


class _ProblemWriter:
    """Keeps the first problems in memory and streams all of them to the report file."""

    def __init__(self, report: ImportReport, path: Path | None, lang: str):
        self.report, self.lang = report, lang
        self.handle = None
        if path is not None:
            self.handle = open(path, "w", encoding="utf-8-sig", newline="")
            self.csv = csv.writer(self.handle)
            self.csv.writerow(["行号 row", "列 column", "值 value", "原因 reason"])
            report.report_file = str(path)

    def add(self, problem: CellProblem) -> None:
        self.report.problem_count += 1
        if len(self.report.problems) < KEPT_PROBLEMS:
            self.report.problems.append(problem)
        if self.handle:
            self.csv.writerow([problem.row, problem.column, problem.value, problem.reason])

    def close(self) -> None:
        if self.handle:
            self.handle.close()


def _subform_sheets(table, form, lang) -> dict[str, dict[int, list[dict]]]:
    """XLSX exports put each subform on its own sheet, named after the subform, whose
    first column is the record's row on the main sheet (1 = the first record). These
    sheets are read whole: their size is that of the subform rows, not of the file."""
    found: dict[str, dict[int, list[dict]]] = {}
    if not table.sheet_names:
        return found
    for fdef in form.fields:
        if not fdef.fields:
            continue
        names = [n for n in (fdef.label.zh, fdef.label.en, fdef.key) if n in table.sheet_names]
        if not names:
            continue
        headers, rows = table.read_sheet(names[0])
        keys = {}
        for index, header in enumerate(headers[1:], start=1):
            sub = next((s for s in fdef.fields if header in (s.key, s.label.zh, s.label.en)), None)
            if sub is not None:
                keys[index] = sub.key
        by_parent: dict[int, list[dict]] = {}
        for _number, cells in rows:
            try:
                parent = int(cells[0])
            except (TypeError, ValueError):
                continue
            by_parent.setdefault(parent, []).append(
                {key: cells[i] for i, key in keys.items() if i < len(cells) and cells[i] is not None})
        found[fdef.key] = by_parent
    return found


class _BatchImporter:
    def __init__(self, conn, app, form_key, columns: list[Column], text_cells: bool,
                 records: Records, writer: _ProblemWriter, subform_rows=None):
        self.subform_rows = subform_rows or {}
        self.conn, self.app, self.form_key = conn, app, form_key
        self.columns, self.text_cells = columns, text_cells
        self.records, self.writer = records, writer
        self.report = writer.report
        self.ctx = ValueContext(lang=records.ctx.lang, tz=records.ctx.tz)
        self.header_of = {c.field: c.header for c in columns}
        # Cells parsed by their field type and relation ids resolved here are clean values.
        self.parsed_fields = frozenset(c.field for c in columns if c.ftype.storage != "child_table")

    def run(self, batch: list[tuple[int, list[Any]]]) -> None:
        self.report.rows_read += len(batch)
        parsed: list[tuple[int, dict[str, Any]]] = []
        pending_refs: list[tuple[int, Column, list[str]]] = []
        bad_rows: set[int] = set()
        for number, cells in batch:
            values: dict[str, Any] = {}
            for column in self.columns:
                raw = cells[column.index] if column.index < len(cells) else None
                raw = restore(raw)
                if raw is None or (isinstance(raw, str) and not raw.strip()):
                    continue
                if isinstance(column.ftype, RelationField):
                    pending_refs.append((number, column, _split_refs(raw, column.ftype.multiple)))
                    continue
                if column.ftype.storage == "child_table":
                    rows = _json_rows(raw)
                    if rows is None:
                        self._problem(number, column.header, raw, _msg(
                            self.ctx.lang, "子表单单元格应为导出时的 JSON 行列表",
                            "a subform cell must hold the JSON list of rows an export writes"))
                        bad_rows.add(number)
                    else:
                        values[column.field] = rows
                    continue
                try:
                    if self.text_cells or isinstance(raw, str):
                        values[column.field] = column.ftype.parse_text(str(raw), self.ctx)
                    else:
                        values[column.field] = column.ftype.parse_cell(raw, self.ctx)
                except FieldError as exc:
                    self._problem(number, column.header, raw, render(exc.code, exc.params, self.ctx.lang))
                    bad_rows.add(number)
            for key, by_parent in self.subform_rows.items():
                if number - 1 in by_parent:
                    values[key] = by_parent[number - 1]
            parsed.append((number, values))
        by_number = dict(parsed)
        for number, column, ids in self._resolve_relations(pending_refs):
            if ids is None:
                bad_rows.add(number)
            else:
                by_number[number][column.field] = ids if column.ftype.multiple else ids[0]
        # Rows with a bad cell are still validated (their other cells may be wrong too,
        # or clash with another row) but never written.
        excluded = {i for i, (number, _) in enumerate(parsed) if number in bad_rows}
        _ids, failures = self.records.create_many(self.form_key, [v for _, v in parsed],
                                                  skip_invalid=True, exclude=excluded,
                                                  already_clean=self.parsed_fields)
        for index, issues in failures.items():
            number, values = parsed[index]
            bad_rows.add(number)
            for issue in issues:
                header = self.header_of.get(issue.field, issue.field)
                value = values.get(issue.field, "")
                where = f"[{issue.row + 1}].{issue.subfield}" if issue.row is not None else ""
                self._problem(number, header + where, value,
                              render(issue.code, issue.params, self.ctx.lang))
        self.report.rows_refused += len(bad_rows)
        self.report.rows_valid += len(batch) - len(bad_rows)

    def _problem(self, row: int, column: str, value: Any, reason: str) -> None:
        text = "" if value is None else str(value)
        self.writer.add(CellProblem(row, column, text[:200], reason))

    def _resolve_relations(self, pending):
        """Match relation cells to record ids: one query per relation column and batch."""
        by_column: dict[str, list] = {}
        for item in pending:
            by_column.setdefault(item[1].field, []).append(item)
        for items in by_column.values():
            column = items[0][1]
            lookup, ambiguous = self._match_targets(column, {t for _, _, texts in items for t in texts})
            for number, col, texts in items:
                ids, failed = [], False
                for text in texts:
                    if text in ambiguous:
                        self._problem(number, col.header, text, _msg(self.ctx.lang,
                                      f"“{text}”匹配到多条关联记录，请改用唯一字段（如编号、电话）",
                                      f"'{text}' matches several related records; use a unique field"))
                        failed = True
                    elif text in lookup:
                        ids.append(lookup[text])
                    else:
                        self._problem(number, col.header, text, _msg(self.ctx.lang,
                                      f"找不到关联记录“{text}”", f"no related record matches '{text}'"))
                        failed = True
                yield number, col, (None if failed else ids)

    def _match_targets(self, column: Column, texts: set[str]) -> tuple[dict[str, int], set[str]]:
        ftype: RelationField = column.ftype
        target = self.app.require_form(ftype.target)
        table = self.records.tables.form_table(target.key)
        lookup: dict[str, int] = {}
        ambiguous: set[str] = set()
        numeric = {t for t in texts if t.lstrip("#").isdigit() and column.match is None}
        if numeric:
            wanted = {parse_record_id(t): t for t in numeric}
            for rid in self.conn.execute(sa.select(table.c.id).where(
                    table.c.id.in_(wanted), table.c.deleted_at.is_(None))).scalars():
                lookup[wanted[rid]] = rid
        keys = [column.match] if column.match else _matchable_keys(target)
        rest = texts - set(lookup)
        if not rest or not keys:
            return lookup, ambiguous
        conditions = []
        for key in keys:
            fdef = target.field(key)
            if fdef is None:
                raise ImportError_(f"column {column.header!r}: form {target.key!r} has no field {key!r} to match")
            conditions.append(table.c[field_type(fdef).column_name].in_(rest))
        query = sa.select(table.c.id, *[table.c[field_type(target.field(k)).column_name] for k in keys]
                          ).where(sa.or_(*conditions), table.c.deleted_at.is_(None))
        for row in self.conn.execute(query):
            for value in row[1:]:
                if value in rest:
                    if value in lookup and lookup[value] != row[0]:
                        ambiguous.add(value)
                    lookup[value] = row[0]
        return lookup, ambiguous


def _matchable_keys(form) -> list[str]:
    """The title field and the unique text-like fields of a form."""
    keys = [form.title_key()] if form.title_key() else []
    keys += [f.key for f in form.fields if f.unique and f.key not in keys
             and field_type(f).storage == "column" and field_type(f).searchable]
    return keys


def _split_refs(raw: Any, multiple: bool) -> list[str]:
    text = str(raw).strip()
    if isinstance(raw, float) and raw.is_integer():
        text = str(int(raw))
    if not multiple:
        return [text]
    for sep in "，；;、|\n":
        text = text.replace(sep, ",")
    return [t.strip() for t in text.split(",") if t.strip()]


def _json_rows(raw: Any) -> list[dict] | None:
    try:
        rows = json.loads(raw) if isinstance(raw, str) else None
    except ValueError:
        return None
    if isinstance(rows, list) and all(isinstance(r, dict) for r in rows):
        return rows
    return None


def _msg(lang: str, zh: str, en: str) -> str:
    return en if lang == "en" else zh
