"""Importing CSV and XLSX files into a form.

Every cell is parsed by its field type (members and departments by name, account
or path; relations by the related record's title or a unique field, see
relations.py). Rows go through the record service like any other create
(validation, unique checks, history). Modes:

- dry run: everything is checked, every bad cell reported, nothing is kept;
- all or nothing (default): any bad row and nothing is kept;
- skip bad rows: good rows are kept, bad ones written to a report.

The file is read in batches inside one transaction, so memory stays constant and
an interrupted import leaves nothing half-done. Subform rows come from the lines
below a record whose main cells are empty (CSV, or a sheet written by hand) or
from a sheet per subform (XLSX exports).

A relation to the form being imported (customers referred by customers) may name
a record further down the file: those cells are resolved after every row is in,
and set with a second, recorded update. Skipping a row that others refer to skips
them too; the file is then read once more without them.
"""
from __future__ import annotations

import csv
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from sqlalchemy.engine import Engine

from engine.errors import FieldError, FormworkError, RecordValidationError
from engine.fields.base import ValueContext
from engine.fields.relation import RelationField
from engine.i18n import render
from engine.suggest import did_you_mean
from runtime.actor import Actor
from runtime.apps import load_installed
from runtime.import_export.cells import restore
from runtime.import_export.directory import Directory, cell_texts, lookup_kind
from runtime.import_export.mapping import (Column, ColumnMap, MappingError, load_mapping_file,
                                           map_columns, map_subform_sheet)
from runtime.import_export.readers import Row, Table, open_table
from runtime.import_export.relations import RelationMatcher, matchable_keys, split_refs
from runtime.permissions.fields import writable_form
from runtime.permissions.policy import CREATE, IMPORT, Policy
from runtime.permissions.roles import policy_for
from runtime.jobs import outbox
from runtime.jobs.registry import kind_named
from runtime.records import DEFAULT_LISTENERS, Records
from runtime.referrals.fraud import fraud_listener, fraud_status_field
from runtime.records.transactions import run_again_on_contention
from runtime.referrals.channels import with_channel

BATCH = 1000
UPDATE_BATCH = 1000
KEPT_PROBLEMS = 1000   # problems kept in memory for the summary; all go to the report file
MAX_PASSES = 5         # skip mode: passes that drop rows referring to skipped rows
MAX_REFUSED_KEYS = 100_000   # refused rows remembered to explain references to them


@dataclass
class CellProblem:
    row: int          # the row number the user sees in the spreadsheet
    column: str       # the column header ("" for a problem of the whole row)
    value: str
    reason: str
    sheet: str = ""   # XLSX: the sheet, when not the first one


@dataclass
class ImportReport:
    file: str
    rows_read: int = 0
    rows_valid: int = 0       # rows that passed every check
    rows_imported: int = 0    # rows kept (0 after a dry run or a refused all-or-nothing import)
    rows_refused: int = 0
    orphan_rows: int = 0      # subform-sheet rows that belong to no record
    problems: list[CellProblem] = field(default_factory=list)
    problem_count: int = 0
    notes: list[str] = field(default_factory=list)   # columns left out on purpose
    dry_run: bool = False
    committed: bool = False
    passes: int = 1
    seconds: float = 0.0
    report_file: str | None = None

    @property
    def ok(self) -> bool:
        return self.rows_refused == 0 and self.orphan_rows == 0


class ImportSetupError(FormworkError):
    """The import cannot start: the app is not installed, the report cannot be written."""


Progress = Callable[[int, "float | None"], None]   # (rows read, fraction of the file or None)


def import_file(engine: Engine, app_key: str, form_key: str, path: Path, *, dry_run: bool = False,
                skip_bad_rows: bool = False, mapping: dict | Path | None = None,
                report_path: Path | None = None, actor: Actor | None = None, lang: str = "zh",
                sheet: str | None = None, batch_size: int = BATCH,
                progress: Progress | None = None, policy: Policy | None = None,
                before_commit: Callable[[Any], None] | None = None) -> ImportReport:
    """Import the rows of `path` into a form; see the module docstring for the modes.
    The records are created as `actor` (default the system actor: runtime/actor.py) under
    `policy` (default the actor's: policy_for), who needs the import and create actions
    (edit too when rows of the file refer to each other); columns of fields the actor may
    not set are left out as unknown ones. `before_commit(conn)` is called in the import's
    transaction just before it commits (not when nothing is kept): what it writes commits
    with the rows, and an exception from it rolls the import back (the import job marks
    itself done there: runtime/import_export/runs.py)."""
    started = time.perf_counter()
    if isinstance(mapping, (str, Path)):
        mapping = load_mapping_file(Path(mapping))
    withdrawn: dict[int, list[CellProblem]] = {}
    for attempt in range(1, MAX_PASSES + 1):
        options = _Options(dry_run, skip_bad_rows, mapping, actor, lang, sheet, batch_size, progress,
                           policy or policy_for(actor or Actor.system(lang)), before_commit)

        def one_pass(number=attempt, options=options):
            fresh = ImportReport(file=str(path), dry_run=dry_run, passes=number)
            return fresh, _run_pass(engine, app_key, form_key, Path(path), fresh, report_path, options, withdrawn)
        # A pass aborted by the database for other writers (a deadlock) is run again from
        # the start: it wrote nothing, and its report starts afresh.
        report, more = run_again_on_contention(one_pass)
        if not more:
            break
        withdrawn.update(more)
    report.seconds = time.perf_counter() - started
    return report


@dataclass
class _Options:
    dry_run: bool
    skip_bad_rows: bool
    mapping: dict | None
    actor: Actor | None
    lang: str
    sheet: str | None
    batch_size: int
    progress: Progress | None
    policy: Policy
    before_commit: Callable[[Any], None] | None = None


def _run_pass(engine, app_key, form_key, path, report, report_path, options: _Options,
              withdrawn: dict[int, list[CellProblem]]) -> dict[int, list[CellProblem]]:
    """One read of the file in one transaction. Returns the rows a further pass must
    leave out (skip mode, when rows referred to rows that were refused), else {}."""
    table = open_table(path, options.sheet)
    writer = _ProblemWriter(report, report_path, sheet=None if table.text_cells else table.sheet)
    try:
        with engine.connect() as conn, conn.begin() as transaction:
            app = load_installed(conn, app_key)
            if app is None:
                raise ImportSetupError(f"app {app_key!r} is not installed")
            form = app.require_form(form_key)
            # The fraud checks run on imported referrals as on any other (docs/referrals.md),
            # unless the file carries the verdict column (a restore: judged already); the
            # review jobs they enqueue are left to the scheduler (no runner here).
            verdict = fraud_status_field(app, form_key)
            given: list[bool] = []
            records = Records(conn, app, actor=options.actor, policy=options.policy, lang=options.lang,
                              listeners=DEFAULT_LISTENERS.then(fraud_listener(
                                  _enqueuer(conn), verdict_given=lambda: bool(given))))
            records.access(form_key, IMPORT)
            mapped = writable_form(form, records.access(form_key, CREATE))
            sheets = _subform_sheet_names(table, mapped)
            columns = map_columns(mapped, table.headers, options.mapping, types=app.types,
                                  subform_sheets=frozenset(sheets))
            report.notes = list(columns.notes)
            if verdict is not None and any(c.field == verdict for c in columns.main):
                given.append(True)
            importer = _BatchImporter(conn, app, form, columns, table, records, writer, withdrawn)
            subform_sheets = [_SubformSheet(table, form.field(key), name, writer, importer)
                              for key, name in sheets.items()]
            importer.subform_sheets = subform_sheets
            report.notes += [note for sheet in subform_sheets for note in sheet.notes]
            batch: list[_SourceRecord] = []
            for record in _group_records(table.rows, columns):
                batch.append(record)
                if len(batch) >= options.batch_size:
                    importer.run(batch)
                    batch = []
                    if options.progress:
                        options.progress(report.rows_read, table.fraction())
            if batch:
                importer.run(batch)
            for sheet in subform_sheets:
                sheet.finish()
            if options.progress:
                options.progress(report.rows_read, 1.0)
            again = importer.finish(options.skip_bad_rows and not options.dry_run, options.dry_run)
            if again:
                transaction.rollback()
                return again
            if not options.dry_run and (options.skip_bad_rows or report.ok):
                if options.before_commit:
                    options.before_commit(conn)
                report.committed = True
                report.rows_imported = report.rows_valid
            else:
                transaction.rollback()
    finally:
        table.close()
        writer.close()
    return {}


def _enqueuer(conn):
    """enqueue(kind, payload, key=...) writing a job in the import's transaction, for the
    scheduler to hand to a runner once committed."""
    def enqueue(kind: str, payload: Any, *, key: str | None = None) -> int | None:
        return outbox.insert(conn, kind, payload, key=key, run_at=None, actor_id=None,
                             max_attempts=kind_named(kind).max_attempts, now=outbox.utcnow(), dispatched=False)
    return enqueue


class _ProblemWriter:
    """Keeps the first problems in memory and streams all of them to the report file.
    For a workbook (`sheet`: its main sheet) the file has a sheet column, filled in for
    every line: a problem of the main sheet leaves CellProblem.sheet empty."""

    def __init__(self, report: ImportReport, path: Path | None, *, sheet: str | None):
        self.report, self.main_sheet = report, sheet
        self.with_sheet = sheet is not None
        self.handle = None
        if path is not None:
            try:
                self.handle = open(path, "w", encoding="utf-8-sig", newline="")
            except OSError as exc:
                raise ImportSetupError(f"cannot write the report {path}: {exc.strerror or exc}; "
                                   "name another file with --report") from None
            self.csv = csv.writer(self.handle)
            self.csv.writerow((["工作表 sheet"] if self.with_sheet else [])
                              + ["行号 row", "列 column", "值 value", "原因 reason"])
            report.report_file = str(path)

    def add(self, problem: CellProblem) -> None:
        self.report.problem_count += 1
        if len(self.report.problems) < KEPT_PROBLEMS:
            self.report.problems.append(problem)
        if self.handle:
            self.csv.writerow(([problem.sheet or self.main_sheet] if self.with_sheet else [])
                              + [problem.row, problem.column, problem.value, problem.reason])

    def close(self) -> None:
        if self.handle:
            self.handle.close()


@dataclass
class _SourceRecord:
    number: int              # the row of the record's main cells
    cells: list[Any]
    lines: list[Row]         # rows holding its subform cells on the same sheet (its own row first)
    sheet_rows: dict[str, list[Row]] = field(default_factory=dict)   # subform key -> rows of its sheet


def _blank(cells: list[Any], indexes: list[int]) -> bool:
    for index in indexes:
        if index < len(cells):
            value = cells[index]
            if value is not None and (not isinstance(value, str) or value.strip()):
                return False
    return True


def _group_records(rows: Iterator[Row], columns: ColumnMap) -> Iterator[_SourceRecord]:
    """Records from rows: a row whose main cells are all empty but which has subform
    cells adds a subform row to the record above it."""
    if not columns.subform:
        for number, cells in rows:
            yield _SourceRecord(number, cells, [])
        return
    main = [c.index for c in columns.main]
    sub = [c.index for c in columns.subform]
    current: _SourceRecord | None = None
    for number, cells in rows:
        if current is not None and _blank(cells, main) and not _blank(cells, sub):
            current.lines.append((number, cells))
            continue
        if current is not None:
            yield current
        current = _SourceRecord(number, cells, [(number, cells)])
    if current is not None:
        yield current


def _subform_sheet_names(table: Table, form) -> dict[str, str]:
    """{subform key: sheet name} for XLSX sheets named after a subform (as exports write them)."""
    found = {}
    for fdef in form.fields:
        if fdef.fields:
            name = next((n for n in (fdef.label.zh, fdef.label.en, fdef.key)
                         if n in table.sheet_names and n != table.sheet), None)
            if name:
                found[fdef.key] = name
    return found


class _SubformSheet:
    """The rows of one subform on a sheet of its own, read alongside the main sheet.
    Its first column is the main-sheet row of the record a row belongs to; rows come
    in the order of the main sheet, as exports write them."""

    def __init__(self, table: Table, fdef, name: str, writer: _ProblemWriter, importer: "_BatchImporter"):
        self.key, self.name, self.writer, self.importer = fdef.key, name, writer, importer
        headers, self.rows = table.sheet_rows(name)
        self.notes: list[str] = []
        self.columns = map_subform_sheet(fdef, headers, name, self.notes, types=importer.records.app.types)
        self.next: Row | None = next(self.rows, None)

    def take(self, number: int) -> list[Row]:
        """The rows of the record on main-sheet row `number`; rows left behind are orphans."""
        found = []
        while self.next is not None:
            parent = _parent_row(self.next)
            if parent is not None and parent > number:
                break
            if parent == number:
                found.append(self.next)
            else:
                self._orphan(self.next, parent)
            self.next = next(self.rows, None)
        return found

    def finish(self) -> None:
        while self.next is not None:
            self._orphan(self.next, _parent_row(self.next))
            self.next = next(self.rows, None)

    def _orphan(self, row: Row, parent: int | None) -> None:
        number, cells = row
        lang = self.importer.ctx.lang
        reason = (_msg(lang, "第一列应为该行所属记录在主表中的行号", "the first column must be the row of its "
                       "record on the main sheet") if parent is None else
                  _msg(lang, f"主表第 {parent} 行不是一条记录，或本行不在主表顺序中（子表行应按主表行号排列）",
                       f"main sheet row {parent} is not a record, or this row is out of order (keep the "
                       "rows in the order of the main sheet)"))
        self.writer.add(CellProblem(number, "", str(cells[0] if cells else ""), reason, self.name))
        self.writer.report.orphan_rows += 1


def _parent_row(row: Row) -> int | None:
    cells = row[1]
    value = cells[0] if cells else None
    try:
        number = int(float(value))
    except (TypeError, ValueError):
        return None
    return number if number >= 2 else None


@dataclass
class _ParsedBatch:
    """One batch of records read from the file, before it is written."""

    rows: list[dict[str, Any]] = field(default_factory=list)            # values by field key
    where: list[dict[str, list[tuple[int, str]]]] = field(default_factory=list)   # subform rows' places
    unparsed: list[set] = field(default_factory=list)   # per record: cells already reported unreadable
    bad: set[int] = field(default_factory=set)          # records not to write
    pending: list[tuple[int, Column, list[str]]] = field(default_factory=list)   # relation cells
    deferred: list[tuple[int, "_Deferred"]] = field(default_factory=list)      # ... to this form


@dataclass
class _Deferred:
    """A relation cell naming a record of the form being imported: resolved at the end."""

    number: int
    column: Column
    texts: list[str]
    record_id: int | None = None   # None when its row was refused (still checked, for the report)


class _BatchImporter:
    def __init__(self, conn, app, form, columns: ColumnMap, table: Table, records: Records,
                 writer: _ProblemWriter, withdrawn: dict[int, list[CellProblem]]):
        self.conn, self.app, self.form, self.columns = conn, app, form, columns
        self.text_cells = table.text_cells
        self.records, self.writer, self.withdrawn = records, writer, withdrawn
        self.report = writer.report
        self.ctx = ValueContext(lang=records.ctx.lang, tz=records.ctx.tz)
        self.directory = Directory(conn)
        self.matcher = RelationMatcher(conn, app, records.tables, self.ctx)
        self.subform_sheets: list[_SubformSheet] = []
        self.deferred: list[_Deferred] = []
        # Refused rows by the values other rows of the file may name them with (title,
        # unique fields), to say why a reference to them fails. Kept only when some
        # column refers to the form itself.
        self.relations = [c for c in columns.main if isinstance(c.ftype, RelationField)]
        self.refused_keys: dict[str, int] = {}
        self.own_keys = [k for k in matchable_keys(form, app.types) if k in {c.field for c in columns.main}] \
            if any(self._defers(c) for c in self.relations) else []
        self.plain_parsers = [(c, c.index, c.field, c.ftype.parse_text, c.ftype.parse_cell)
                              for c in columns.main if c not in self.relations]
        self.org_columns = [c for c in columns.main + columns.subform if lookup_kind(c.ftype)]
        for column in self.relations:
            _check_match(app, column)
        # Cells parsed by their field type and relation ids resolved here are clean values;
        # subform rows are cleaned by the record service, which reports each cell.
        self.parsed_fields = frozenset(c.field for c in columns.main)

    # ---- one batch ----------------------------------------------------------------------
    def run(self, batch: list[_SourceRecord]) -> None:
        self.report.rows_read += len(batch)
        for sheet in self.subform_sheets:
            for record in batch:
                record.sheet_rows[sheet.key] = sheet.take(record.number)
        self.ctx.lookups = self._org_lookups(batch)
        parsed = _ParsedBatch()
        for index, record in enumerate(batch):
            self._parse_record(index, record, parsed)
        self._resolve(batch, parsed)
        self._write(batch, parsed)

    def _parse_record(self, index: int, record: _SourceRecord, parsed: "_ParsedBatch") -> None:
        values: dict[str, Any] = {}
        failed = self._parse_main(record, values)
        for column in self.relations:
            raw = _cell(record.cells, column.index)
            if raw is None:
                continue
            texts = split_refs(raw, column.ftype.multiple)
            if not self._defers(column):
                parsed.pending.append((index, column, texts))
            elif record.number not in self.withdrawn:
                parsed.deferred.append((index, _Deferred(record.number, column, texts)))
        parsed.where.append(self._parse_subforms(record, values, failed))
        if failed:
            parsed.bad.add(index)
        if record.number in self.withdrawn:   # refused in an earlier pass, for the reasons given then
            for problem in self.withdrawn[record.number]:
                self.writer.add(problem)
            parsed.bad.add(index)
        parsed.rows.append(values)
        parsed.unparsed.append(failed)

    def _write(self, batch: list[_SourceRecord], parsed: "_ParsedBatch") -> None:
        """Create the good records through the record service; report the others."""
        bad = parsed.bad
        try:
            ids, failures = self._create(parsed.rows, bad)
        except RecordValidationError:   # a rule of a related record (engine/upkeep/derived_rules.py)
            ids, failures = self._create_one_by_one(parsed.rows, bad)
        for index, issues in failures.items():
            bad.add(index)
            self._report_issues(batch[index], parsed.rows[index], parsed.where[index],
                                [i for i in issues if (i.field, i.row, i.subfield) not in parsed.unparsed[index]])
        for index in bad:
            self._remember_refused(batch[index])
        record_ids = dict(zip([i for i in range(len(batch)) if i not in bad], ids))
        for index, item in parsed.deferred:
            item.record_id = record_ids.get(index)
            self.deferred.append(item)
        self.report.rows_refused += len(bad)
        self.report.rows_valid += len(batch) - len(bad)

    def _create(self, rows: list[dict], exclude: set[int]) -> tuple[list[int], dict[int, list]]:
        rows = [with_channel(self.records, self.form.key, row, "import") for row in rows]
        return self.records.create_many(self.form.key, rows, skip_invalid=True, exclude=exclude,
                                        already_clean=self.parsed_fields)

    def _create_one_by_one(self, rows: list[dict], bad: set[int]) -> tuple[list[int], dict[int, list]]:
        """The batch again, one record at a time, after the whole batch broke a rule of a
        related record (a contract these payments would overpay): the rows that break it
        are reported with the rule's message, the others are written. Only on this error
        path does an import cost statements per row."""
        _, failures = self._create(rows, set(range(len(rows))))     # checks every row, writes none
        ids = []
        for index, row in enumerate(rows):
            if index in bad or index in failures:
                continue
            try:
                ids += self._create([row], set())[0]
            except RecordValidationError as refused:
                failures[index] = refused.issues
        return ids, failures

    def _remember_refused(self, record: _SourceRecord) -> None:
        for key in self.own_keys:
            cell = _cell(record.cells, self.columns.header_index(key))
            if cell is not None and len(self.refused_keys) < MAX_REFUSED_KEYS:
                self.refused_keys.setdefault(str(cell).strip(), record.number)

    def _parse_main(self, record: _SourceRecord, values: dict[str, Any]) -> set:
        """Parse the record's main cells into `values`; the (field, None, None) slots of
        the cells that could not be read (each reported once, here)."""
        failed = set()
        cells, ctx, width = record.cells, self.ctx, len(record.cells)
        # The hot loop of an import: _cell() and _parse() inlined.
        for column, index, key, parse_text, parse_cell in self.plain_parsers:
            raw = cells[index] if index < width else None
            if raw is None:
                continue
            try:
                if isinstance(raw, str):
                    if not raw or raw.isspace():
                        continue
                    values[key] = parse_text(restore(raw) if raw[0] == "'" else raw, ctx)
                else:
                    values[key] = parse_text(str(raw), ctx) if self.text_cells else parse_cell(raw, ctx)
            except FieldError as exc:
                self._cell_problem(record.number, column, raw, exc)
                failed.add((key, None, None))
        return failed

    def _parse(self, column: Column, raw: Any) -> Any:
        if self.text_cells or isinstance(raw, str):
            return column.ftype.parse_text(raw if isinstance(raw, str) else str(raw), self.ctx)
        return column.ftype.parse_cell(raw, self.ctx)

    def _parse_subforms(self, record: _SourceRecord, values: dict[str, Any], failed: set
                        ) -> dict[str, list[tuple[int, str]]]:
        """Subform rows from the record's lines and sheets, into `values`; cells that could
        not be read go to `failed` as (subform, row, column). Returns where each row came
        from: {subform key: [(row number, sheet)]}."""
        where: dict[str, list[tuple[int, str]]] = {}
        sources = [(self.columns.subform, record.lines, "")]
        sources += [(sheet.columns, record.sheet_rows.get(sheet.key, []), sheet.name)
                    for sheet in self.subform_sheets]
        for columns, lines, sheet_name in sources:
            for number, cells in lines:
                parsed: dict[str, dict[str, Any]] = {}
                for column in columns:
                    raw = _cell(cells, column.index)
                    if raw is None:
                        continue
                    row = parsed.setdefault(column.subform, {})
                    try:
                        row[column.field] = self._parse(column, raw)
                    except FieldError as exc:
                        self._cell_problem(number, column, raw, exc, sheet_name)
                        failed.add((column.subform, len(values.get(column.subform, [])), column.field))
                for key, row in parsed.items():
                    values.setdefault(key, []).append(row)
                    where.setdefault(key, []).append((number, sheet_name))
        return where

    def _org_lookups(self, batch: list[_SourceRecord]) -> dict[str, dict[str, int]]:
        """Member and department names of the batch, resolved with one query per kind."""
        if not self.org_columns:
            return {}
        texts: dict[str, set[str]] = {}
        for column in self.org_columns:
            kind = lookup_kind(column.ftype)
            wanted = texts.setdefault(kind, set())
            for record in batch:
                lines = [record.cells] if column.subform is None else \
                    [c for _, c in record.lines] + [c for rows in record.sheet_rows.values() for _, c in rows]
                for cells in lines:
                    raw = _cell(cells, column.index)
                    if isinstance(raw, str):
                        wanted |= cell_texts(raw)
        return self.directory.lookups(texts)

    def _resolve(self, batch, parsed: "_ParsedBatch") -> None:
        """Relation cells to record ids: one query per relation column and batch. A cell
        that names no record is reported here, once: its field is marked unread so that
        the record service's "required" for the same cell is not reported again."""
        by_column: dict[int, list[tuple[int, Column, list[str]]]] = {}
        for item in parsed.pending:
            by_column.setdefault(item[1].index, []).append(item)
        for items in by_column.values():
            column = items[0][1]
            matches = self.matcher.match(column.ftype.target, {t for _, _, ts in items for t in ts},
                                         column.match)
            for index, _column, texts in items:
                ids = self._ids(batch[index].number, column, texts, matches)
                if ids is None:
                    parsed.bad.add(index)
                    parsed.unparsed[index].add((column.field, None, None))
                else:
                    parsed.rows[index][column.field] = ids if column.ftype.multiple else ids[0]

    def _ids(self, number: int, column: Column, texts: list[str], matches) -> list[int] | None:
        ids, failed = [], False
        for text in texts:
            if text in matches.found:
                ids.append(matches.found[text])
                continue
            failed = True
            self._problem(number, column.header, text, _relation_reason(text, matches, self.ctx.lang))
        return None if failed else list(dict.fromkeys(ids))

    def _defers(self, column: Column) -> bool:
        return column.ftype.target == self.form.key and not self.form.field(column.field).required

    # ---- problems -------------------------------------------------------------------------
    def _cell_problem(self, number: int, column: Column, raw: Any, exc: FieldError, sheet: str = "") -> None:
        kind = lookup_kind(column.ftype)
        reason = self.directory.shared_reason(kind, raw, self.ctx.lang) if kind else None
        self._problem(number, column.header, raw, reason or render(exc.code, exc.params, self.ctx.lang), sheet)

    def _report_issues(self, record: _SourceRecord, values, where, issues) -> None:
        for issue in issues:
            if issue.row is not None and issue.field in where and issue.row < len(where[issue.field]):
                number, sheet = where[issue.field][issue.row]
                header = self._sub_header(issue.field, issue.subfield, sheet)
                value = (values.get(issue.field) or [{}])[issue.row].get(issue.subfield, "")
            else:
                number, sheet = record.number, ""
                header = self.columns.header_of(issue.field)
                value = values.get(issue.field, "")
            self._problem(number, header, value, render(issue.code, issue.params, self.ctx.lang), sheet)

    def _sub_header(self, subform: str, subfield: str | None, sheet: str) -> str:
        if sheet:
            sheet_columns = next(s.columns for s in self.subform_sheets if s.name == sheet)
            return next((c.header for c in sheet_columns if c.field == subfield), subfield or "")
        return self.columns.header_of(subfield or "", subform)

    def _problem(self, row: int, column: str, value: Any, reason: str, sheet: str = "") -> None:
        text = "" if value is None else str(value)
        self.writer.add(CellProblem(row, column, text[:200], reason, sheet))

    # ---- the end: references to rows of this file ------------------------------------------
    def finish(self, skipping: bool, dry_run: bool) -> dict[int, list[CellProblem]]:
        """Resolve the deferred relation cells and set them (unless nothing will be kept).
        In skip mode, returns the rows to leave out in a further pass when some could not
        be resolved."""
        failed: dict[int, list[CellProblem]] = {}
        resolved: list[tuple[_Deferred, list[int]]] = []
        by_column: dict[int, list[_Deferred]] = {}
        for item in self.deferred:
            by_column.setdefault(item.column.index, []).append(item)
        for items in by_column.values():
            column = items[0].column
            matches = self.matcher.match(self.form.key, {t for i in items for t in i.texts}, column.match)
            for item in items:
                problems = [CellProblem(item.number, column.header, text[:200],
                                        _relation_reason(text, matches, self.ctx.lang, self.refused_keys.get(text)))
                            for text in item.texts if text not in matches.found]
                if problems:
                    failed.setdefault(item.number, []).extend(problems)
                    if item.record_id is not None:   # a row written, now refused
                        self.report.rows_refused += 1
                        self.report.rows_valid -= 1
                    for problem in problems:
                        self.writer.add(problem)
                else:
                    resolved.append((item, [matches.found[t] for t in item.texts]))
        written_failed = {item.record_id for item in self.deferred
                          if item.number in failed and item.record_id is not None}
        if skipping and written_failed:
            return self._cascade(failed, written_failed, resolved)
        if not dry_run and (skipping or self.report.ok):
            self._apply(resolved)
        return {}

    def _cascade(self, failed, failed_ids: set[int], resolved) -> dict[int, list[CellProblem]]:
        """The refused rows and, transitively, the rows that refer to them."""
        row_of = {item.record_id: item.number for item in self.deferred if item.record_id is not None}
        changed = True
        while changed:
            changed = False
            for item, ids in resolved:
                if item.number in failed or not failed_ids.intersection(ids):
                    continue
                target = row_of.get(next(i for i in ids if i in failed_ids))
                failed[item.number] = [CellProblem(item.number, item.column.header, "、".join(item.texts)[:200],
                                                   _msg(self.ctx.lang, f"引用的第 {target} 行未能导入",
                                                        f"it refers to row {target}, which was refused"))]
                failed_ids.add(item.record_id)
                changed = True
        return failed

    def _apply(self, resolved: list[tuple[_Deferred, list[int]]]) -> None:
        """Set the resolved references with recorded updates, in batches."""
        changes: dict[int, dict[str, Any]] = {}
        for item, ids in resolved:
            if item.record_id is not None:
                value = list(dict.fromkeys(ids)) if item.column.ftype.multiple else ids[0]
                changes.setdefault(item.record_id, {})[item.column.field] = value
        updates = [{"id": rid, "changes": values} for rid, values in changes.items()]
        for start in range(0, len(updates), UPDATE_BATCH):
            self.records.bulk_update(self.form.key, updates[start:start + UPDATE_BATCH])


def _cell(cells: list[Any], index: int) -> Any:
    """The cell's value, None when blank; text a spreadsheet was kept from running as a
    formula loses its apostrophe again."""
    if index >= len(cells):
        return None
    raw = cells[index]
    if raw is None:
        return None
    if isinstance(raw, str):
        if not raw or raw.isspace():
            return None
        if raw[0] == "'":
            return restore(raw)
    return raw


def _check_match(app, column: Column) -> None:
    """A mapping's `match:` must name a field of the related form that can identify a
    record (FieldType.can_match); the error names those that can."""
    if column.match is None:
        return
    target = app.require_form(column.ftype.target)
    fdef = target.field(column.match)
    if fdef is None or not app.types.of(fdef).can_match:
        raise _match_error(app, column, target, fdef)


def _match_error(app, column: Column, target, fdef) -> MappingError:
    """What is wrong with a `match:` (`fdef` is the field it names, None for none) and
    what to use instead, in zh and en (the import is refused before any row is read)."""
    usable = ", ".join(f.key for f in target.fields if app.types.of(f).can_match)
    if fdef is None:
        hint = did_you_mean(column.match, target.field_keys())
        zh = (f"列“{column.header}”：match “{column.match}”不是表单“{target.label.zh}”（{target.key}）的字段"
              + (f"（是否想写“{hint}”？）" if hint else ""))
        en = (f"column {column.header!r}: match {column.match!r} is not a field of form {target.key!r}"
              + (f" (did you mean {hint!r}?)" if hint else ""))
    else:
        kind = app.types.of(fdef).label
        zh = (f"列“{column.header}”：match “{column.match}”（{fdef.label.zh}）是{kind.zh}字段，"
              f"不能用来识别表单“{target.label.zh}”的记录")
        en = (f"column {column.header!r}: match {column.match!r} ({fdef.label.en}) is a field of type "
              f"{kind.en}, which cannot identify a record of form {target.key!r}")
    if not usable:
        return MappingError(f"{zh}；该表单没有能识别记录的字段，请去掉 match，按标题匹配\n"
                            f"{en}; that form has no field that can, so remove match to match by title")
    return MappingError(f"{zh}；请改用 {usable}\n{en}; use one of {usable}")


def _relation_reason(text: str, matches, lang: str, refused_row: int | None = None) -> str:
    if refused_row is not None:
        return _msg(lang, f"“{text}”是第 {refused_row} 行，该行未能导入",
                    f"'{text}' is the record on row {refused_row}, which was refused")
    if text in matches.ambiguous:
        return _msg(lang, f"“{text}”匹配到多条关联记录，请改用唯一字段（如编号、电话）",
                    f"'{text}' matches several related records; use a unique field (a number, a phone)")
    if lang == "zh":
        tried = [zh for zh, _ in matches.tried]
        return (f"找不到关联记录“{text}”（按 {'、'.join(tried)} 匹配）；请填写已有记录的{_either(tried, '、', '或')}，"
                "或先创建该记录")
    tried = [en for _, en in matches.tried]
    return (f"no related record matches '{text}' (tried {', '.join(tried)}); give the "
            f"{_either(tried, ', ', ' or ')} of an existing record, or create that record first")


def _either(names: list[str], separator: str, last: str) -> str:
    """"a, b or c": the fields a cell may give."""
    return separator.join(names[:-1]) + last + names[-1] if len(names) > 1 else "".join(names)


def _msg(lang: str, zh: str, en: str) -> str:
    return en if lang == "en" else zh
