"""Uploaded files (issue #9 part 6): storing an upload under a field's limits, who may
download a file, and the cleanup of files nobody attached.

    stored = store_upload(uow, store, stream, "合同.pdf", "application/pdf",
                          app_key="crm", form_key="contracts", field_key="scan")
    row = readable_file(uow, file_id)       # NotFound unless the actor may see it
    removed = cleanup_orphans(conn, store)  # files older than a day that no record holds

A file may be downloaded by whoever may see a record holding it in a field they may see
(the record in their row scope of that form), and by the user who uploaded it while no
record holds it yet (the form being filled in shows it). Everyone else gets NotFound, so
a file id tells nothing about what exists.

A record write that fails is rolled back with the references it would have made; the
uploads it would have attached are then orphans, removed by `cleanup_orphans` once they
are older than `ORPHAN_AGE` (a day: a user may still be filling in the form). The file
content is content-addressed (engine/storage/files.py), so a blob is removed only when
no fw_files row names it any more.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import BinaryIO, Iterator

import sqlalchemy as sa

from engine.compiled.app import App
from engine.errors import CodedError, NotFound
from engine.fields.multivalue import JsonArrayMatch
from engine.i18n import register_messages
from engine.storage import system
from engine.storage.files import FileStore
from engine.storage.types import utcnow
from runtime.apps import installed_apps, load_installed
from runtime.permissions import CREATE, EDIT, VIEW

FILE_TYPES = ("attachment", "image", "signature")
ORPHAN_AGE = timedelta(days=1)
LOOKED_AT = 20          # candidate records checked for a download (newest first)

register_messages({
    "file_not_found": {"zh": "文件 #{id} 不存在，或你无权查看它",
                       "en": "File #{id} does not exist or you may not see it"},
    "file_field_unknown": {
        "zh": "表单“{form}”没有可上传文件的字段“{field}”（或你无权填写它）；请检查 app、form 和 field 参数",
        "en": "Form '{form}' has no file field '{field}' you may fill in; check the app, form and field parameters"},
})

DEFAULT_LIMITS = {"max_bytes": 20 * 1024 * 1024, "accept": None, "images_only": False}


class FileNotFound(CodedError, NotFound):
    def __init__(self, file_id):
        super().__init__("file_not_found", id=file_id)


class FileFieldUnknown(CodedError, NotFound):
    def __init__(self, form_key, field_key):
        super().__init__("file_field_unknown", form=form_key, field=field_key)


def file_store(root: str | Path | None = None) -> FileStore:
    """The file store: `root`, else FORMWORK_FILES_DIR, else <instance>/files."""
    return FileStore(root or os.environ.get("FORMWORK_FILES_DIR") or None)


@dataclass(frozen=True)
class FileField:
    """A field that holds files, where its values are stored."""
    app: App
    form_key: str
    field_key: str
    table: sa.Table
    column: sa.Column
    is_list: bool
    subform: str | None = None     # the subform holding the column, None for a form's own field


def upload_limits(uow, app_key: str, form_key: str, field_key: str) -> dict:
    """The size and type limits of the file field an upload is for; the actor must be
    allowed to fill it in (create or edit the form, see and set the field)."""
    records = uow.records(app_key)
    form = records.app.form(form_key)
    fdef = form.field(field_key) if form is not None else None
    kind = fdef.type if fdef is not None else None
    if fdef is None or kind not in FILE_TYPES:
        raise FileFieldUnknown(form_key, field_key)
    access = uow.session.policy.access(records.app, form, uow.actor)
    if not (access.can(CREATE) or access.can(EDIT)) or not access.can_edit(field_key):
        raise FileFieldUnknown(form_key, field_key)
    return records.app.field_type(fdef).upload_limits()


def store_upload(uow, store: FileStore, stream: BinaryIO, name: str, content_type: str | None, *,
                 app_key: str | None = None, form_key: str | None = None,
                 field_key: str | None = None) -> dict:
    """Store an upload (FileStore.put) under the limits of the field it is for, when
    named, else DEFAULT_LIMITS; returns its fw_files row."""
    limits = DEFAULT_LIMITS
    if app_key or form_key or field_key:
        limits = upload_limits(uow, app_key or "", form_key or "", field_key or "")
    return store.put(uow.conn, stream, name, content_type, max_bytes=limits["max_bytes"],
                     accept=limits["accept"], images_only=limits["images_only"],
                     user_id=uow.actor.user_id)


def file_fields(conn: sa.Connection) -> Iterator[FileField]:
    """Every field of every installed app that holds files (subform columns too)."""
    for row in installed_apps(conn):
        app = load_installed(conn, row["key"])
        if app is None:
            continue
        for form in app.forms:
            table = app.tables.form_table(form.key)
            for fdef in form.fields:
                if fdef.type in FILE_TYPES:
                    yield FileField(app, form.key, fdef.key, table, table.c[fdef.key],
                                    fdef.type != "signature")
                elif fdef.type == "subform":
                    child = app.tables.child_table(form.key, fdef.key)
                    for column in fdef.fields or ():
                        if column.type in FILE_TYPES:
                            yield FileField(app, form.key, column.key, child, child.c[column.key],
                                            column.type != "signature", subform=fdef.key)


def _holds(field: FileField, ids: list[int]):
    if field.is_list:
        return JsonArrayMatch(field.column, ids, "any")
    return field.column.in_(ids)


def attached(conn: sa.Connection, ids: list[int]) -> set[int]:
    """Which of `ids` some record (in the recycle bin too) holds: one query per file field."""
    found: set[int] = set()
    if not ids:
        return found
    for field in file_fields(conn):
        for value in conn.execute(sa.select(field.column).where(_holds(field, ids))).scalars():
            held = value if isinstance(value, list) else [value]
            found.update(int(v) for v in held if v is not None and int(v) in ids)
    return found


def readable_file(uow, file_id: int) -> dict:
    """The fw_files row of a file the actor may download (see the module docstring),
    else FileNotFound."""
    row = uow.conn.execute(sa.select(system.files).where(system.files.c.id == file_id)).mappings().first()
    if row is None:
        raise FileNotFound(file_id)
    holders = False
    for field in file_fields(uow.conn):
        if field.subform is not None:
            continue
        rids = uow.conn.execute(
            sa.select(field.table.c.id).where(_holds(field, [file_id]), field.table.c.deleted_at.is_(None))
            .order_by(field.table.c.id.desc()).limit(LOOKED_AT)).scalars().all()
        if not rids:
            continue
        holders = True
        if _may_see(uow, field, rids):
            return dict(row)
    if not holders and uow.actor.user_id is not None and row["created_by"] == uow.actor.user_id \
            and not attached(uow.conn, [file_id]):
        return dict(row)
    raise FileNotFound(file_id)


def _may_see(uow, field: FileField, record_ids: list[int]) -> bool:
    """Whether the actor sees `field` of one of the records (their row scope applies)."""
    records = uow.records(field.app.key)
    form = field.app.require_form(field.form_key)
    access = uow.session.policy.access(field.app, form, uow.actor)
    if not access.can(VIEW) or not access.can_see(field.field_key):
        return False
    page = records.list(field.form_key, filter={"field": "id", "op": "in", "value": record_ids}, page_size=len(record_ids),
                        with_count=False, fields=[field.field_key])
    return bool(page.records)


def cleanup_orphans(conn: sa.Connection, store: FileStore, *, older_than: timedelta = ORPHAN_AGE,
                    now=None) -> int:
    """Remove the files older than `older_than` that no record holds (their rows, and
    their content once no row names it). Returns how many files were removed."""
    cutoff = (now or utcnow()) - older_than
    files = system.files
    old = conn.execute(sa.select(files.c.id, files.c.storage_key).where(files.c.created_at < cutoff)).all()
    if not old:
        return 0
    held = attached(conn, [r.id for r in old])
    orphans = [r for r in old if r.id not in held]
    if not orphans:
        return 0
    conn.execute(files.delete().where(files.c.id.in_([r.id for r in orphans])))
    keys = {r.storage_key for r in orphans}
    still = set(conn.execute(sa.select(files.c.storage_key).where(files.c.storage_key.in_(keys))).scalars())
    for key in keys - still:
        path = store.path_of(key)
        if path.exists():
            path.unlink()
    return len(orphans)
