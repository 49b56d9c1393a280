"""The query parameters of the data-table page, its JSON twin and its export, read
once into the DataTable's arguments (runtime/views/table.py).

    ?view=3                 a saved view (0: no view; absent: the user's default view)
    ?filter={...}           the filter language as JSON (docs/records.md)
    ?columns=name,level     columns in order
    ?sort=-created_at,name  "-" for descending
    ?q=明达                 quick search
    ?cursor=...&trail=...   keyset paging; `trail` holds the cursors of the pages before
                            ("~" is the first page), so "previous" is a link too
    ?limit=50

Bad JSON, sort syntax, cursors and limits are refused by the REST API's own parser
(runtime/api/requests.py), so the page and the API say the same thing.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Mapping

from engine.errors import CodedError
from engine.i18n import register_messages
from runtime.api.requests import parse_list_query

FIRST_PAGE = "~"
MAX_TRAIL = 40
_KEY = re.compile(r"[a-z][a-z0-9_]{0,62}")

register_messages({
    "table_view_param": {"zh": "视图编号“{value}”不是整数；请从视图列表中选择",
                         "en": "The view id '{value}' is not a whole number; choose a view from the list"},
    "table_columns_param": {"zh": "列“{value}”不是字段键；用逗号分隔字段键，如 name,level",
                            "en": "The column '{value}' is not a field key; separate field keys with commas, "
                                  "e.g. name,level"},
})


class TableParamError(CodedError):
    """A query parameter of the data table that cannot be read."""


@dataclass(frozen=True)
class TableQuery:
    view: int | str | None
    filter: Any
    columns: list[str] | None
    sort: Any
    search: str | None
    cursor: str | None
    trail: list[str]
    limit: int | None

    def table_arguments(self) -> dict[str, Any]:
        return {"view": self.view, "filter": self.filter, "columns": self.columns, "sort": self.sort,
                "search": self.search, "cursor": self.cursor, "limit": self.limit}

    def previous(self) -> tuple[str | None, list[str]] | None:
        """(cursor, trail) of the page before, or None on the first page."""
        if not self.trail:
            return None
        last = self.trail[-1]
        return (None if last == FIRST_PAGE else last), self.trail[:-1]

    def next_trail(self) -> list[str]:
        return (self.trail + [self.cursor or FIRST_PAGE])[-MAX_TRAIL:]


def parse_table_query(args: Mapping[str, str]) -> TableQuery:
    listed = {name: args[name] for name in ("filter", "sort", "cursor", "limit") if args.get(name)}
    if args.get("q"):
        listed["search"] = args["q"]
    parsed = parse_list_query(listed)
    trail = [t for t in (args.get("trail") or "").split(".") if t]
    if any(t != FIRST_PAGE and parse_list_query({"cursor": t}).cursor is None for t in trail):
        trail = []
    return TableQuery(view=_view(args.get("view")), filter=parsed.filter, columns=_columns(args.get("columns")),
                      sort=parsed.sort, search=parsed.search, cursor=parsed.cursor, trail=trail,
                      limit=parsed.limit if args.get("limit") else None)


def _view(raw: str | None) -> int | str | None:
    if raw is None or raw == "":
        return "default"
    if not raw.isdigit():
        raise TableParamError("table_view_param", value=raw[:20])
    return int(raw) or None


def _columns(raw: str | None) -> list[str] | None:
    if not raw:
        return None
    keys = [part.strip() for part in raw.split(",") if part.strip()]
    for key in keys:
        if not _KEY.fullmatch(key):
            raise TableParamError("table_columns_param", value=key[:40])
    return keys or None
