"""What an import wizard (the web page) asks before it runs an import: can the file be
read, what does each of its columns go to, is the mapping the user chose complete; and
the refused cells as an XLSX workbook for download.

    columns = propose(uow.records(app_key), form_key, path)   # ImportFileError: unreadable
    problems = check_choice(columns, {"公司名称": "name", "内部编号": None}, lang)
    import_file(engine, app_key, form_key, path, mapping=choice, ...)   # importer.py
    report_as_xlsx(Path("x.errors.csv"), Path("x.errors.xlsx"))

The proposal is the importer's own: the fields an import maps to (those the actor may
set, runtime/permissions/fields.py writable_form) looked up by key, Chinese or English
label, as map_columns does. Messages are coded, in zh and en.
"""
from __future__ import annotations

import csv
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from engine.definition.model import FieldDef, FormDef
from engine.errors import CodedError
from engine.i18n import register_messages, render
from runtime.import_export.mapping import _FormNames, _left_out, _needs_column
from runtime.import_export.readers import ReadError, open_table
from runtime.permissions.fields import writable_form
from runtime.permissions.policy import CREATE, IMPORT
from runtime.records import Records

SUFFIXES = (".csv", ".xlsx", ".tsv", ".txt", ".xlsm")

register_messages({
    "import_file_missing": {"zh": "请选择要导入的 CSV 或 XLSX 文件",
                            "en": "Choose a CSV or XLSX file to import"},
    "import_file_type": {
        "zh": "不能导入“{name}”：请上传 .csv 或 .xlsx 文件（.xls 文件请先在 Excel 或 WPS 中另存为 .xlsx）",
        "en": "Cannot import '{name}': upload a .csv or .xlsx file (save .xls files as .xlsx in Excel or WPS first)"},
    "import_file_unreadable": {
        "zh": "无法读取文件“{name}”：它已损坏，或不是扩展名所说的格式。请用 Excel 或 WPS 重新保存为 CSV 或 XLSX 后再上传",
        "en": "Cannot read the file '{name}': it is damaged or not in the format its name says. Save it "
              "again as CSV or XLSX in Excel or WPS and upload it again"},
    "import_file_no_header": {
        "zh": "文件“{name}”没有表头：第一行应写各列的名称（如 客户名称、电话）",
        "en": "The file '{name}' has no header: its first row should name the columns (like Name, Phone)"},
    "import_file_too_large": {"zh": "文件太大：最多 {max} MB", "en": "The file is too large: at most {max} MB"},
    "import_required_unmapped": {
        "zh": "必填字段“{label}”没有对应的列；请把某一列对应到它",
        "en": "The required field '{label}' has no column; map a column to it"},
    "import_field_twice": {
        "zh": "列“{first}”和“{second}”都对应到字段“{label}”；每个字段只能对应一列",
        "en": "The columns '{first}' and '{second}' both go to the field '{label}'; map one column per field"},
    "import_unknown_target": {
        "zh": "列“{column}”对应的字段“{target}”不存在或不能导入；请另选字段或忽略此列",
        "en": "The column '{column}' goes to '{target}', which is not a field you can import; choose another or ignore it"},
})

class ImportFileError(CodedError):
    """The uploaded file cannot be used: wrong type, unreadable, no header row."""


@dataclass(frozen=True)
class Target:
    """A field (or subform column, key "subform.column") a file column may fill."""
    key: str
    label: dict[str, str]
    required: bool


@dataclass
class ProposedColumn:
    index: int
    header: str
    target: str | None          # the proposed target key, None: nothing matches (ignored)
    note: str | None = None     # why a column naming a field is left out (computed, files...)
    samples: list[str] = field(default_factory=list)


@dataclass
class Proposal:
    columns: list[ProposedColumn]
    targets: list[Target]
    file_kind: str              # "csv" or "xlsx"

    def target(self, key: str | None) -> Target | None:
        return next((t for t in self.targets if t.key == key), None)

    def mapping(self, choice: dict[int, str | None] | None = None) -> dict[str, Any]:
        """The mapping for import_file: header -> target key or None (ignored)."""
        chosen = {c.index: c.target for c in self.columns} if choice is None else choice
        return {c.header: chosen.get(c.index) for c in self.columns}


def check_file_name(name: str | None) -> None:
    """Refuse a missing file or a name that is not a spreadsheet, before saving it."""
    if not name:
        raise ImportFileError("import_file_missing")
    if Path(name).suffix.lower() not in SUFFIXES:
        raise ImportFileError("import_file_type", name=Path(name).name)


def propose(records: Records, form_key: str, path: Path, *, display_name: str | None = None,
            samples: int = 3) -> Proposal:
    """The columns of the file at `path` with the field each would fill, and the fields the
    actor may import into (the actor needs the import and create actions)."""
    records.access(form_key, IMPORT)
    form = writable_form(records.app.require_form(form_key), records.access(form_key, CREATE))
    name = display_name or path.name
    table = _open(path, name)
    try:
        if not any(table.headers):
            raise ImportFileError("import_file_no_header", name=name)
        rows = [cells for _, cells in _first(table.rows, samples)]
    except (ReadError, UnicodeDecodeError, csv.Error, zipfile.BadZipFile, KeyError, ValueError):
        raise ImportFileError("import_file_unreadable", name=name) from None
    finally:
        table.close()
    types = records.app.types
    names = _FormNames(form)
    columns = []
    for index, header in enumerate(table.headers):
        if not header:
            continue
        found = names.find(header)
        target, note = None, None
        if found is not None:
            fdef, sub = found
            note = _left_out(types.of(sub or fdef), header, sub or fdef)
            if note is None and (sub is not None or types.of(fdef).storage != "child_table"):
                target = f"{fdef.key}.{sub.key}" if sub else fdef.key
        sample_cells = [_text(row[index]) for row in rows if index < len(row) and _text(row[index])]
        columns.append(ProposedColumn(index, str(header), target, note, sample_cells))
    return Proposal(columns, _targets(form, types), "xlsx" if not table.text_cells else "csv")


def check_choice(proposal: Proposal, choice: dict[int, str | None], lang: str) -> dict[int | str, str]:
    """Problems of the mapping the user chose, by column index (a field chosen twice, an
    unknown target) or by target key (a required field without a column)."""
    problems: dict[int | str, str] = {}
    used: dict[str, ProposedColumn] = {}
    for column in proposal.columns:
        key = choice.get(column.index)
        if not key:
            continue
        target = proposal.target(key)
        if target is None:
            problems[column.index] = render("import_unknown_target", {"column": column.header, "target": key}, lang)
        elif key in used:
            problems[column.index] = render("import_field_twice", {
                "first": used[key].header, "second": column.header, "label": target.label[lang]}, lang)
        else:
            used[key] = column
    for target in proposal.targets:
        if target.required and target.key not in used:
            problems[target.key] = render("import_required_unmapped", {"label": target.label[lang]}, lang)
    return problems


def report_as_xlsx(csv_path: Path, xlsx_path: Path) -> Path:
    """The refused cells of an import (its CSV report) as a workbook: a bold header,
    every cell a text cell, so a value like `=1+1` never runs as a formula."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("report")
    bold = Font(bold=True)
    with open(csv_path, encoding="utf-8-sig", newline="") as handle:
        for number, line in enumerate(csv.reader(handle)):
            sheet.append([_text_cell(sheet, value, bold if number == 0 else None) for value in line])
    book.save(xlsx_path)
    return xlsx_path


def _text_cell(sheet, value: str, font):
    cell = WriteOnlyCell(sheet, value=value)
    cell.data_type = "s"
    if font is not None:
        cell.font = font
    return cell


def _open(path: Path, name: str):
    if path.exists() and path.stat().st_size == 0:
        raise ImportFileError("import_file_no_header", name=name)
    try:
        return open_table(path)
    except ReadError:
        if Path(name).suffix.lower() not in SUFFIXES:
            raise ImportFileError("import_file_type", name=name) from None
        raise ImportFileError("import_file_unreadable", name=name) from None
    except (UnicodeDecodeError, csv.Error, zipfile.BadZipFile, KeyError, ValueError, OSError):
        raise ImportFileError("import_file_unreadable", name=name) from None


def _first(rows, count: int):
    for number, item in enumerate(rows):
        if number >= count:
            break
        yield item


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _targets(form: FormDef, types) -> list[Target]:
    targets = []
    for fdef in form.fields:
        ftype = types.of(fdef)
        if ftype.storage == "child_table":
            targets += [Target(f"{fdef.key}.{sub.key}", _label(fdef, sub), _needs_column(sub, types))
                        for sub in fdef.fields if _importable(sub, types)]
        elif _importable(fdef, types):
            targets.append(Target(fdef.key, _label(fdef), _needs_column(fdef, types)))
    return targets


def _importable(fdef: FieldDef, types) -> bool:
    ftype = types.of(fdef)
    return _left_out(ftype, fdef.key, fdef) is None


def _label(fdef: FieldDef, sub: FieldDef | None = None) -> dict[str, str]:
    if sub is None:
        return {"zh": fdef.label.zh, "en": fdef.label.en or fdef.label.zh}
    return {"zh": f"{fdef.label.zh}.{sub.label.zh}",
            "en": f"{fdef.label.en or fdef.label.zh}.{sub.label.en or sub.label.zh}"}
