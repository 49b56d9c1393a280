"""The record page: one record with every field the actor may see, its subform rows,
the tabs of the records pointing at it, its history for people, and an edit whose
version conflict says who changed what and when.

    page = RecordPage(records)                   # records: Records of the app, as the reader
    page.view("customers", 7)                    # the record, its fields and tabs (JSON-safe)
    page.related("customers", 7, "orders", "customer", cursor=None, limit=20)
    page.history("customers", 7)
    page.edit("customers", 7, {"level": "vip"}, version=3)   # EditConflict when it moved on

Comments are runtime/comments. The JSON shapes are in docs/record-pages.md.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from engine.definition.model import FormDef
from engine.errors import ConflictError
from engine.i18n import register_messages, render
from runtime.permissions import DELETE, EDIT, HISTORY
from runtime.record_page.history import HistoryFormatter
from runtime.record_page.related import find_tab, tab_counts
from runtime.records.bulk import can_set
from runtime.records.display import Display
from runtime.records.service import Records
from runtime.views.table import DataTable

register_messages({
    "edit_conflict": {
        "zh": "保存失败：{who}在 {at} 修改了这条记录（{fields}）。你编辑的是第 {expected} 版，"
              "现在是第 {actual} 版；请重新加载，确认后再修改",
        "en": "Not saved: {who} changed this record at {at} ({fields}). You edited version {expected}, "
              "it is now version {actual}; reload it, check, and apply your change again"},
    "edit_conflict_someone": {"zh": "其他人", "en": "someone else"},
    "edit_conflict_no_fields": {"zh": "没有你能看到的字段", "en": "no field you can see"},
})


class EditConflict(ConflictError):
    """ConflictError with who changed the record since the version edited, when, and the
    labels of the fields they changed (those the reader may see only)."""

    def __init__(self, base: ConflictError, changes: list[dict[str, Any]], form: FormDef, tz):
        super().__init__(base.form, base.record_id, base.expected, base.actual)
        self.changes = changes          # formatted history entries after `expected`, newest first
        self._form, self._tz = form, tz
        self.args = (self.message("en"),)

    def _params(self, lang: str) -> dict[str, Any]:
        latest = self.changes[0] if self.changes else None
        names = []
        for entry in self.changes:
            name = (entry["user"] or {}).get("name")
            if name and name not in names:
                names.append(name)
        labels = []
        for entry in self.changes:
            for change in entry["changes"]:
                label = self._form.field(change["field"]).label.get(lang)
                if label not in labels:
                    labels.append(label)
        sep = "、" if lang == "zh" else ", "
        at = datetime.fromisoformat(latest["at"]).astimezone(self._tz).strftime("%Y-%m-%d %H:%M") \
            if latest and latest["at"] else "?"
        return {"who": sep.join(names) or render("edit_conflict_someone", None, lang), "at": at,
                "fields": sep.join(labels) or render("edit_conflict_no_fields", None, lang),
                "expected": self.expected, "actual": self.actual}

    def message(self, lang: str = "zh") -> str:
        return render("edit_conflict", self._params(lang), lang)

    def as_dict(self, lang: str = "zh") -> dict[str, Any]:
        return {"error": "edit_conflict", "message": self.message(lang), "message_en": self.message("en"),
                "record_id": self.record_id, "expected_version": self.expected,
                "current_version": self.actual, "changes": self.changes}


class RecordPage:
    def __init__(self, records: Records):
        self.records, self.app = records, records.app
        self.display = Display(records.conn, records.app, records.ctx)
        self.lang = records.ctx.lang

    def view(self, form_key: str, record_id: int) -> dict[str, Any]:
        """{"form", "fields", "record", "tabs", "can"}: statements are the record's
        (one, plus one per multiple relation and subform), one per kind of name and one
        for the counts of every tab."""
        form = self.app.require_form(form_key)
        access = self.records.access(form)
        record = self.records.get(form_key, record_id)
        keys = [f.key for f in form.fields if access.can_see(f.key)]
        return {"form": {"key": form.key, "label": form.label.get(self.lang)},
                "fields": self.fields(form, keys),
                "record": self.display.rows(form, [record], keys)[0],
                "tabs": tab_counts(self.records, form_key, record_id),
                "can": {"edit": access.can(EDIT), "delete": access.can(DELETE), "history": access.can(HISTORY)}}

    def fields(self, form: FormDef, keys: list[str]) -> list[dict[str, Any]]:
        access = self.records.access(form)
        out = []
        for key in keys:
            fdef = form.field(key)
            item = {"key": key, "label": fdef.label.get(self.lang), "type": fdef.type,
                    "editable": can_set(access, key, self.app.types.of(fdef))}
            if fdef.fields:
                item["columns"] = [{"key": s.key, "label": s.label.get(self.lang), "type": s.type}
                                   for s in fdef.fields]
            out.append(item)
        return out

    def related(self, form_key: str, record_id: int, source_form: str, field: str, *,
                cursor: str | None = None, limit: int = 20, search: str | None = None) -> dict[str, Any]:
        """A page of the records of `source_form` whose `field` points at the record: a
        data-table page (runtime/views/table.py) within the actor's scope of that form."""
        self.records.get(form_key, record_id)
        tab = find_tab(self.records, form_key, source_form, field)
        page = DataTable(self.records).page(tab.source.key, filter={"field": field, "op": "eq", "value": record_id},
                                            cursor=cursor, limit=limit, search=search)
        page["tab"] = tab.key()
        return page

    def history(self, form_key: str, record_id: int) -> list[dict[str, Any]]:
        """The formatted history, newest first (runtime/record_page/history.py); a record
        outside the reader's scope answers NotFound, one in the recycle bin has its history."""
        self.records.get(form_key, record_id, include_deleted=True)
        return HistoryFormatter(self.records).entries(form_key, record_id)

    def edit(self, form_key: str, record_id: int, changes: dict[str, Any], *, version: int | None) -> dict[str, Any]:
        """Update with the optimistic version check; the updated record for display.
        A stale `version` raises EditConflict naming who changed what since."""
        try:
            self.records.update(form_key, record_id, changes, expected_version=version)
        except ConflictError as conflict:
            since = HistoryFormatter(self.records).entries(form_key, record_id, since_version=conflict.expected)
            raise EditConflict(conflict, since, self.app.require_form(form_key), self.records.ctx.tz) from None
        return self.view(form_key, record_id)
