"""Files (issue #9 part 6): `POST /api/v1/files` stores an upload (multipart field
`file`; with `?app=&form=&field=`, or those fields beside the file, the limits of that field apply) and answers
`{"id", "name", "size", "content_type"}`; `GET /api/v1/files/<id>` sends it after the
permission check of runtime/files.py, as an attachment (inline only for raster images),
with `X-Content-Type-Options: nosniff`. The runtime decides; this view only speaks HTTP."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request, send_file
from werkzeug.exceptions import BadRequest

from runtime.files import file_store, readable_file, store_upload
from web.context import login_required, runtime_session

bp = Blueprint("files", __name__, url_prefix="/api/v1/files")

# Shown in the browser when asked: raster images only, never HTML, SVG or anything a
# browser would run.
INLINE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
UPLOAD_LIMIT = 1024 * 1024 * 1024 + 64 * 1024      # the largest field limit (1 GB) and the form's envelope


class UploadMissing(BadRequest):
    error_code = "file_missing"
    description = "Send the file in the multipart form field 'file'."


def store():
    return file_store(current_app.config.get("FORMWORK_FILES_DIR"))


@bp.before_request
def allow_large_uploads():
    # Bodies are limited to 2 MB elsewhere; an upload is limited by its field instead
    # (FileStore.put stops reading past it).
    if request.method == "POST":
        request.max_content_length = UPLOAD_LIMIT


@bp.post("")
@login_required
def upload():
    sent = request.files.get("file")
    if sent is None or not sent.filename:
        raise UploadMissing()
    # The field it is for: in the query string, or beside the file (the OpenAPI FileUpload).
    named = {key: request.args.get(key) or request.form.get(key) for key in ("app", "form", "field")}
    row = runtime_session().write(lambda uow: store_upload(
        uow, store(), sent.stream, sent.filename, sent.mimetype,
        app_key=named["app"], form_key=named["form"], field_key=named["field"]))
    return jsonify(file_json(row)), 201


@bp.get("/<int:file_id>")
@login_required
def download(file_id: int):
    with runtime_session().read() as uow:
        row = readable_file(uow, file_id)
    inline = row["content_type"] in INLINE_TYPES and request.args.get("inline") == "1"
    response = send_file(store().path_of(row["storage_key"]), mimetype=row["content_type"],
                         as_attachment=not inline, download_name=row["name"], max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response


def file_json(row: dict) -> dict:
    return {"id": row["id"], "name": row["name"], "size": row["size"], "content_type": row["content_type"],
            "sha256": row["sha256"], "created_at": row["created_at"].isoformat()}
