"""Bulk actions of the data table and the recycle bin.

    bulk = BulkActions(records)                 # records: Records of the app, as the user
    bulk.set_field("customers", [3, 5, 8], "level", "vip")   # {"updated": 3, "ids": [3, 5, 8]}
    bulk.delete("customers", [3, 5])                          # {"deleted": 2}
    bulk.recycle_bin("customers", cursor=None, limit=50)     # deleted records, who and when
    bulk.restore("customers", [3])                            # {"restored": 1}

Setting a field is all or nothing: the value is validated for every selected record as
an update would be (required, rules, unique, references), and when any record refuses
it nothing is written and BulkEditError lists every refused record by id with its
issues. A selection is at most MAX_SELECTION ids and is handled in one set of
statements whatever its size (the record service's bulk_update, delete and restore).
Records outside the actor's row scope answer NotFound, as everywhere.
"""
from __future__ import annotations

from typing import Any, Iterable

from engine.errors import CodedError, FieldIssue
from engine.fields.base import FieldType
from engine.i18n import register_messages
from engine.suggest import hint_for
from runtime.permissions import DELETE, FormAccess
from runtime.permissions.errors import PermissionDenied
from runtime.records.display import Display, count_json
from runtime.records.service import MAX_BATCH, BulkValidationError, Records

MAX_SELECTION = MAX_BATCH

register_messages({
    "bulk_empty_selection": {
        "zh": "没有选择任何记录；请先勾选要处理的记录",
        "en": "No records are selected; select the records to act on first"},
    "bulk_too_many": {
        "zh": "一次最多处理 {max} 条记录，你选择了 {count} 条；请分批处理",
        "en": "At most {max} records at a time, {count} were selected; act on them in batches"},
    "bulk_bad_id": {
        "zh": "选择中的第 {index} 项“{value}”不是记录编号",
        "en": "Item {index} of the selection, '{value}', is not a record id"},
    "bulk_unknown_field": {
        "zh": "表单“{form}”没有字段“{field}”{hint}",
        "en": "Form '{form}' has no field '{field}'{hint}"},
    "bulk_field_not_editable": {
        "zh": "不能批量修改字段“{field}”：它是计算得出的，或你没有修改它的权限",
        "en": "The field '{field}' cannot be set in bulk: it is computed, or you may not edit it"},
    "bulk_edit_refused": {
        "zh": "{count} 条记录不接受这个值，所有记录均未修改：{detail}",
        "en": "{count} record(s) refused the value, so none was changed: {detail}"},
})


class BulkError(CodedError):
    """A bulk action refused before anything was written."""


class BulkEditError(CodedError):
    """Setting a field refused by some of the records: nothing was written.
    `by_id` is {record id: [FieldIssue]}."""

    def __init__(self, by_id: dict[int, list[FieldIssue]]):
        self.by_id = by_id
        detail = "; ".join(f"#{rid} " + ", ".join(f"{x.field}: {x.code}" for x in issues)
                           for rid, issues in list(by_id.items())[:10])
        super().__init__("bulk_edit_refused", count=len(by_id), detail=detail)

    def as_dict(self, lang: str = "zh") -> dict[str, Any]:
        out = super().as_dict(lang)
        out["records"] = [{"id": rid, "issues": [x.as_dict(lang) for x in issues]}
                          for rid, issues in self.by_id.items()]
        return out


def can_set(access: FormAccess, key: str, ftype: FieldType) -> bool:
    """Whether the actor may give `key` a value: not computed, looked up or assigned by
    the system, and editable by their access."""
    return access.can_edit(key) and ftype.storage != "none" and not ftype.system_assigned \
        and not ftype.computed


def selection(ids: Any) -> list[int]:
    """The ids of a selection, checked: not empty, not too many, whole numbers, each once."""
    if isinstance(ids, (str, bytes)) or not isinstance(ids, Iterable):
        raise BulkError("bulk_bad_id", index=1, value=str(ids)[:30])
    ids = list(ids)
    if not ids:
        raise BulkError("bulk_empty_selection")
    if len(ids) > MAX_SELECTION:
        raise BulkError("bulk_too_many", max=MAX_SELECTION, count=len(ids))
    out, seen = [], set()
    for i, raw in enumerate(ids):
        value = raw if isinstance(raw, int) and not isinstance(raw, bool) else \
            int(raw) if isinstance(raw, str) and raw.strip().isdigit() else None
        if value is None or value <= 0:
            raise BulkError("bulk_bad_id", index=i + 1, value=str(raw)[:30])
        if value not in seen:
            seen.add(value)
            out.append(value)
    return out


class BulkActions:
    def __init__(self, records: Records):
        self.records, self.app = records, records.app

    def set_field(self, form_key: str, ids: Any, field: str, value: Any) -> dict[str, Any]:
        """Set `field` to `value` on every selected record, all or nothing."""
        form = self.app.require_form(form_key)
        access = self.records.access(form)
        chosen = selection(ids)
        fdef = form.field(field) if isinstance(field, str) else None
        if fdef is None or not access.can_see(field):
            raise BulkError("bulk_unknown_field", form=form_key, field=str(field)[:64],
                            hint=hint_for(str(field), [k for k in form.field_keys() if access.can_see(k)]))
        ftype = self.app.types.of(fdef)
        if not can_set(access, field, ftype):
            raise BulkError("bulk_field_not_editable", field=field)
        try:
            self.records.bulk_update(form_key, [{"id": rid, "changes": {field: value}} for rid in chosen])
        except BulkValidationError as exc:
            raise BulkEditError({chosen[i]: issues for i, issues in exc.by_index.items()}) from None
        return {"updated": len(chosen), "ids": chosen}

    def delete(self, form_key: str, ids: Any) -> dict[str, Any]:
        """Move the selected records to the recycle bin (relations decide, as for one)."""
        return {"deleted": self.records.delete(form_key, selection(ids))}

    def restore(self, form_key: str, ids: Any) -> dict[str, Any]:
        return {"restored": self.records.restore(form_key, selection(ids))}

    def recycle_bin(self, form_key: str, *, cursor: str | None = None, limit: int = 50,
                    search: str | None = None, count: bool | None = None) -> dict[str, Any]:
        """The deleted records, newest first by id, keyset paged: each with its title,
        when it was deleted and by whom (the last writer of a deleted record is who
        deleted it: a record in the bin cannot be edited)."""
        form = self.app.require_form(form_key)
        access = self.records.access(form)
        if not access.can(DELETE):
            raise PermissionDenied("permission_delete_denied", form=form.key)
        title = form.title_key()
        keys = [title] if title and access.can_see(title) else []
        page = self.records.list(form_key, deleted=True, cursor=cursor, page_size=limit,
                                 search=search, with_count=count, fields=keys,
                                 sort=[{"field": "id", "dir": "desc"}])
        display = Display(self.records.conn, self.app, self.records.ctx)
        rows = display.rows(form, page.records, keys)
        out = [{"id": row["id"], "version": row["version"],
                "title": row["display"].get(title) if keys else None,
                "deleted_at": row["deleted_at"], "deleted_by": row["updated_by"]} for row in rows]
        return {"rows": out, "next_cursor": page.next_cursor,
                "count": count_json(page.count)}

