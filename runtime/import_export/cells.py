"""Spreadsheet formula injection: a text value that starts with = + - @ (or a tab or
carriage return) could run as a formula when a spreadsheet opens the file. Exports
write such text with a leading apostrophe (and as a text cell in XLSX); imports take
that apostrophe off again, so a round trip gives back the value as it was."""
from __future__ import annotations

from typing import Any

DANGEROUS_FIRST = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(DANGEROUS_FIRST):
        return "'" + value
    return value


def restore(value: Any) -> Any:
    if isinstance(value, str) and len(value) > 1 and value[0] == "'" and value[1] in "=+-@\t\r":
        return value[1:]
    return value
