"""The data table: one call for one page of a form's records, as the page and the API
show it.

    table = DataTable(records)          # records: Records of the app, as the reader
    page = table.page("customers", view="default", search="明达", cursor=None, limit=None)

`view` is a saved view's id, "default" (the reader's default view of the form, if any)
or None; `filter`, `columns`, `sort` and `limit` given explicitly replace the view's
(checked strictly: a bad one raises ViewError in zh and en). The answer is JSON-safe:

    {"form": {"key": "customers", "label": "客户"},
     "view": {"id": 3, "name": "重要客户", ...} or None,
     "warnings": [{"code", "params", "message"}],        # parts of the view left out
     "columns": [{"key": "name", "label": "名称", "type": "text", "sortable": True}, ...],
     "rows": [Display row (runtime/records/display.py), ...],
     "next_cursor": "..." or None,
     "count": {"value": 10000, "exact": False, "estimated": False, "text": "10,000+"} or None,
     "filter": ..., "sort": [...], "limit": 50}

Statements: the record page's own (one query, one per multiple relation and subform
among the columns), the capped count (first page only, unless `count` says otherwise)
and one per kind of name shown (members, departments): constant in the page size.
"""
from __future__ import annotations

from typing import Any

from engine.definition.model import FormDef
from runtime.records.display import Display, count_json
from runtime.records.service import Records
from runtime.views.errors import ViewError, ViewNotFound
from runtime.views.spec import SYSTEM_LABELS, ViewSpec, column_label
from runtime.views.store import SavedViews

COUNT_MODES = ("auto", "always", "none")


class DataTable:
    def __init__(self, records: Records):
        self.records, self.app = records, records.app
        self.views = SavedViews(records)
        self.display = Display(records.conn, records.app, records.ctx)

    def page(self, form_key: str, *, view: int | str | None = None, filter: Any = None, columns: Any = None,
             sort: Any = None, search: str | None = None, cursor: str | None = None,
             limit: int | None = None, count: str = "auto") -> dict[str, Any]:
        """One page (see the module docstring). `count`: "auto" (on the first page),
        "always" or "none"."""
        form = self.app.require_form(form_key)
        access = self.records.access(form)
        saved, spec = self._spec(form, view)
        explicit = ViewSpec.checked(self.records, form, filter=filter, columns=columns, sort=sort,
                                    page_size=limit if limit is not None else spec.page_size)
        merged = ViewSpec(filter if filter is not None else spec.filter,
                          explicit.columns if columns is not None else spec.columns,
                          explicit.sort if sort is not None else spec.sort, explicit.page_size)
        keys = merged.columns or [f.key for f in form.fields if access.can_see(f.key)]
        fields = [k for k in keys if form.field(k) is not None]
        if count not in COUNT_MODES:
            raise ViewError("table_count_invalid", value=str(count)[:20])
        with_count = {"auto": None, "always": True, "none": False}[count]
        result = self.records.list(form_key, filter=merged.filter, sort=merged.sort, search=search,
                                   page_size=merged.page_size, cursor=cursor, with_count=with_count,
                                   fields=fields)
        lang = self.records.ctx.lang
        return {"form": {"key": form.key, "label": form.label.get(lang)}, "view": saved,
                "warnings": spec.warnings, "columns": self.columns(form, keys),
                "rows": self.display.rows(form, result.records, fields),
                "next_cursor": result.next_cursor, "count": count_json(result.count),
                "filter": merged.filter, "sort": merged.sort, "limit": merged.page_size}

    def _spec(self, form: FormDef, view) -> tuple[dict | None, ViewSpec]:
        if view == "default":
            view = self.views.default(form.key)
        if view is None:
            return None, ViewSpec()
        saved, spec = self.views.load(view)
        if saved["form"] != form.key:     # a view of another form: as if it did not exist
            raise ViewNotFound(view)
        return saved, spec

    def columns(self, form: FormDef, keys: list[str]) -> list[dict[str, Any]]:
        lang = self.records.ctx.lang
        out = []
        for key in keys:
            fdef = form.field(key)
            if fdef is None:
                out.append({"key": key, "label": SYSTEM_LABELS[key].get(lang), "type": "system",
                            "sortable": key in ("id", "created_at", "updated_at")})
                continue
            ftype = self.app.types.of(fdef)
            out.append({"key": key, "label": column_label(form, key, lang), "type": fdef.type,
                        "sortable": bool(ftype.sortable and ftype.storage == "column")})
        return out
