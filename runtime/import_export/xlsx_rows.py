"""The rows of an XLSX sheet as a fast stream of values, for imports.

openpyxl's read-only mode turns every cell into a dictionary through a general
parser (about 50,000 cells a second here); an import needs only the values. This
reads the sheet's XML with expat in chunks and converts each cell the way openpyxl
does (shared strings, numbers, booleans, dates by their number format, inline
strings, cached formula results), several times faster, in constant memory. The
workbook's shared strings, date formats and epoch come from openpyxl itself.
"""
from __future__ import annotations

import xml.parsers.expat
from typing import Any, Iterator

from openpyxl.utils.datetime import from_excel, from_ISO8601

CHUNK = 1 << 16   # bytes of XML parsed at a time

Row = tuple[int, list[Any]]


def supported(book, ws) -> bool:
    """Whether this openpyxl version exposes what the fast reader needs."""
    return all(hasattr(x, name) for x, name in (
        (ws, "_get_source"), (book, "shared_strings"), (book, "_date_formats"),
        (book, "_timedelta_formats"), (book, "epoch")))


def sheet_rows(book, ws) -> Iterator[Row]:
    """(row number, cell values from column A) for each row of the sheet that has cells."""
    state = _SheetState(book)
    parser = xml.parsers.expat.ParserCreate()
    parser.buffer_text = True
    parser.StartElementHandler = state.start
    parser.EndElementHandler = state.end
    parser.CharacterDataHandler = state.text
    with ws._get_source() as source:
        while True:
            chunk = source.read(CHUNK)
            parser.Parse(chunk, not chunk)
            if state.rows:
                yield from state.rows
                state.rows = []
            if not chunk:
                return


def _local(name: str) -> str:
    """The element name without a namespace prefix ("x:row" -> "row")."""
    return name.rpartition(":")[2]


def _column(ref: str) -> int:
    """1-based column of a cell reference: "A7" -> 1, "AB12" -> 28."""
    number = 0
    for ch in ref:
        if ch <= "9":
            break
        number = number * 26 + ord(ch) - 64
    return number


class _SheetState:
    """expat callbacks collecting finished rows in `rows`."""

    def __init__(self, book):
        self.strings = book.shared_strings
        self.date_styles = book._date_formats
        self.duration_styles = book._timedelta_formats
        self.epoch = book.epoch
        self.rows: list[Row] = []
        self.row_number = 0
        self.cells: list[Any] = []
        self.column = 0
        self.kind = "n"
        self.style = 0
        self.buffer: list[str] = []
        self.collecting = False
        self.has_value = False

    def start(self, name: str, attrs: dict) -> None:
        name = _local(name)
        if name == "c":
            ref = attrs.get("r")
            self.column = _column(ref) if ref else self.column + 1
            self.kind = attrs.get("t", "n")
            style = attrs.get("s")
            self.style = int(style) if style else 0
            self.buffer = []
            self.has_value = False
        elif name == "v" or (name == "t" and self.kind == "inlineStr"):
            self.collecting = True
            self.has_value = True
        elif name == "row":
            number = attrs.get("r")
            self.row_number = int(number) if number else self.row_number + 1
            self.cells = []
            self.column = 0

    def text(self, data: str) -> None:
        if self.collecting:
            self.buffer.append(data)

    def end(self, name: str) -> None:
        name = _local(name)
        if name in ("v", "t"):
            self.collecting = False
        elif name == "c":
            if self.has_value:
                cells = self.cells
                if len(cells) < self.column:
                    cells.extend([None] * (self.column - len(cells)))
                cells[self.column - 1] = self._value("".join(self.buffer))
        elif name == "row":
            if self.cells:
                self.rows.append((self.row_number, self.cells))

    def _value(self, text: str) -> Any:
        kind = self.kind
        if not text and kind != "inlineStr":
            return None
        if kind == "n":
            number = float(text) if ("." in text or "E" in text or "e" in text) else int(text)
            if self.style in self.date_styles:
                try:
                    return from_excel(number, self.epoch, timedelta=self.style in self.duration_styles)
                except (OverflowError, ValueError):
                    return "#VALUE!"   # as openpyxl reads a date cell out of range
            return number
        if kind == "s":
            return self.strings[int(text)]
        if kind == "b":
            return bool(int(text))
        if kind == "d":
            return from_ISO8601(text)
        return text   # str (a formula's text result), inlineStr, e (an error such as #N/A)
