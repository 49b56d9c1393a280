"""Reading spreadsheets as streams of rows: CSV (UTF-8 with or without BOM, or GBK/GB18030
as Chinese Excel writes it) and XLSX (openpyxl, read-only). Memory stays constant
whatever the file size, and each table says how far through the file it is."""
from __future__ import annotations

import codecs
import csv
import io
import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from engine.errors import FormworkError
from runtime.import_export import xlsx_rows

SNIFF_BYTES = 1 << 20   # how much of a CSV file is read to decide its encoding

Row = tuple[int, list[Any]]   # (row number as the user sees it, cells)


class ReadError(FormworkError):
    pass


@dataclass
class Table:
    """Header names and an iterator of rows. An XLSX table can open the other sheets
    of its workbook as further streams (subform rows)."""

    headers: list[str]
    rows: Iterator[Row]
    name: str
    encoding: str | None = None
    text_cells: bool = True   # CSV cells are text; XLSX cells keep their types
    sheet: str | None = None   # XLSX: the sheet read
    sheet_names: list[str] = field(default_factory=list)
    _book: Any = None
    _fraction: Callable[[], float | None] = lambda: None

    def fraction(self) -> float | None:
        """How much of the file has been read (0..1), or None when it cannot be told."""
        return self._fraction()

    def sheet_rows(self, name: str) -> tuple[list[str], Iterator[Row]]:
        """Another sheet of the workbook, as headers and a stream of rows."""
        rows = _sheet_stream(self._book, self._book[name])
        first = next(rows, None)
        headers = _header_cells(first[1] if first and first[0] == 1 else ())
        if first is not None and first[0] != 1:
            rows = itertools.chain([first], rows)
        return headers, _xlsx_rows(rows, len(headers))

    def close(self) -> None:
        closer = getattr(self.rows, "close", None)
        if closer:
            closer()
        if self._book is not None:
            self._book.close()


def open_table(path: Path, sheet: str | None = None) -> Table:
    path = Path(path)
    if not path.exists():
        raise ReadError(f"file not found: {path}")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _open_xlsx(path, sheet)
    if suffix in (".csv", ".txt", ".tsv"):
        return _open_csv(path)
    raise ReadError(f"cannot import {path.name}: use a .csv or .xlsx file "
                    "(save .xls files as .xlsx in Excel or WPS first)")


def detect_encoding(head: bytes) -> str:
    """utf-8-sig for a BOM, utf-8 when the sample decodes, else gb18030 (a superset of GBK)."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        head.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the end of the sample is still UTF-8.
        if exc.start >= len(head) - 3 and exc.reason == "unexpected end of data":
            return "utf-8"
    try:
        head.decode("gb18030")
        return "gb18030"
    except UnicodeDecodeError:
        raise ReadError("the file is neither UTF-8 nor GBK text; save it as CSV UTF-8 "
                        "(Excel: Save As > CSV UTF-8) and try again") from None


def _open_csv(path: Path) -> Table:
    with path.open("rb") as fh:
        head = fh.read(SNIFF_BYTES)
    if b"\x00" in head and not head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise ReadError(f"{path.name} looks like a binary file, not CSV text")
    encoding = detect_encoding(head)
    header_line = head.decode(encoding, errors="ignore").split("\n", 1)[0]
    raw = path.open("rb")
    size = path.stat().st_size or 1
    handle = io.TextIOWrapper(raw, encoding=encoding, newline="")
    reader = csv.reader(handle, delimiter=_delimiter(path, header_line))
    try:
        headers = next(reader)
    except StopIteration:
        handle.close()
        raise ReadError(f"{path.name} is empty: the first row must name the columns") from None
    except UnicodeDecodeError as exc:
        handle.close()
        raise ReadError(f"{path.name}: bad {encoding} text near byte {exc.start}") from None
    # The bytes taken from the file so far (read ahead by at most one buffer).
    return Table([h.strip() for h in headers], _csv_rows(reader, handle, encoding, path.name),
                 name=path.name, encoding=encoding, text_cells=True,
                 _fraction=lambda: min(1.0, raw.tell() / size) if not raw.closed else 1.0)


def _delimiter(path: Path, header_line: str) -> str:
    """Comma, unless the file is .tsv or its header row is clearly split by ; or tabs
    (data rows are not looked at: their text may hold any of these)."""
    if path.suffix.lower() == ".tsv":
        return "\t"
    counts = {d: header_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=counts.get)
    return best if counts[best] > counts[","] else ","


def _csv_rows(reader, handle, encoding, name) -> Iterator[Row]:
    try:
        for number, row in enumerate(reader, start=2):
            if any(cell.strip() for cell in row):
                yield number, row
    except UnicodeDecodeError as exc:
        raise ReadError(f"{name}: bad {encoding} text near byte {exc.start}; "
                        "save the file as CSV UTF-8 and try again") from None
    except csv.Error as exc:
        raise ReadError(f"{name}: malformed CSV after line {reader.line_num}: {exc}") from None
    finally:
        handle.close()


def _open_xlsx(path: Path, sheet: str | None) -> Table:
    import zipfile

    from openpyxl import load_workbook
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise ReadError(f"{path.name} is not a readable .xlsx workbook ({exc.__class__.__name__}); "
                        "open and save it again in Excel or WPS") from None
    if sheet is not None and sheet not in book.sheetnames:
        book.close()
        raise ReadError(f"{path.name} has no sheet {sheet!r}; sheets: {', '.join(book.sheetnames)}")
    ws = book[sheet] if sheet else book.worksheets[0]
    rows = _sheet_stream(book, ws)
    first = next(rows, None)
    if first is None or first[0] != 1:
        book.close()
        raise ReadError(f"{path.name} is empty or its first row is blank: the first row must name the columns")
    headers = _header_cells(first[1])
    position = {"row": 1}
    total = ws.max_row   # from the sheet's dimension; files written by streaming tools lack it

    def counted() -> Iterator[Row]:
        for number, cells in _xlsx_rows(rows, len(headers)):
            position["row"] = number
            yield number, cells

    return Table(headers, counted(), name=path.name, text_cells=False, sheet=ws.title,
                 sheet_names=list(book.sheetnames), _book=book,
                 _fraction=lambda: min(1.0, position["row"] / total) if total else None)


def _header_cells(cells) -> list[str]:
    headers = ["" if h is None else str(h).strip() for h in cells]
    while headers and headers[-1] == "":
        headers.pop()
    return headers


def _sheet_stream(book, ws) -> Iterator[Row]:
    """(row number, values) of the rows that have cells: the fast reader when this
    openpyxl allows it, else openpyxl's own."""
    if xlsx_rows.supported(book, ws):
        return xlsx_rows.sheet_rows(book, ws)
    return ((number, list(row)) for number, row in enumerate(ws.iter_rows(values_only=True), start=1))


def _xlsx_rows(rows: Iterator[Row], width: int) -> Iterator[Row]:
    """Data rows cut to the header's width, without the empty ones."""
    for number, row in rows:
        cells = list(row[:width])
        if len(cells) < width:
            cells.extend([None] * (width - len(cells)))
        if any(c is not None and (not isinstance(c, str) or c.strip()) for c in cells):
            yield number, cells
