"""Files outside the database: content-addressed storage under `<instance>/files`,
with a fw_files row per upload (name, type, size, sha256).

Uploads are streamed to a temporary file while they are hashed and measured, so a
file over its size limit is refused without reading the rest, and the same content
is stored once however often it is uploaded.
"""
from __future__ import annotations

import hashlib
import os
import re
import tempfile
import unicodedata
from pathlib import Path
from typing import BinaryIO, Iterable

import sqlalchemy as sa

from engine.errors import FieldError, FormworkError
from engine.i18n import register_messages
from engine.storage.db import instance_dir
from engine.storage.system import files
from engine.storage.types import utcnow

CHUNK = 64 * 1024
_CONTENT_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]{0,62}/[a-z0-9][a-z0-9!#$&^_.+-]{0,62}")
IMAGE_MAGIC = [(b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"),
               (b"GIF87a", "image/gif"), (b"GIF89a", "image/gif")]


register_messages({
    "file_too_large": {"zh": "文件“{name}”超过了 {max_mb} MB 的大小上限",
                       "en": "The file '{name}' is larger than the {max_mb} MB limit"},
    "file_empty": {"zh": "文件“{name}”是空的（0 字节），请重新选择文件",
                   "en": "The file '{name}' is empty (0 bytes); choose the file again"},
    "file_not_image": {"zh": "文件“{name}”不是图片：只接受 PNG、JPEG、GIF 或 WebP",
                       "en": "The file '{name}' is not an image: only PNG, JPEG, GIF or WebP are accepted"},
    "file_type_refused": {"zh": "不接受文件“{name}”的类型，可上传：{accepted}",
                          "en": "Files like '{name}' are not accepted here; accepted: {accepted}"},
})


class FileRefused(FieldError):
    """An upload refused by a field's limits (size, type); coded, with zh/en text."""


def accepts(accept: Iterable[str], name: str, content_type: str) -> bool:
    """Whether a file matches a field's `accept` list: extensions (".pdf" or "pdf"),
    content types ("application/pdf") or families ("image/*")."""
    suffix = Path(name).suffix.lower()
    for item in (a.strip().lower() for a in accept):
        if item.endswith("/*") and content_type.startswith(item[:-1]):
            return True
        if "/" in item and item == content_type:
            return True
        if "/" not in item and suffix and suffix == (item if item.startswith(".") else "." + item):
            return True
    return False


def sniff_image(head: bytes) -> str | None:
    for magic, kind in IMAGE_MAGIC:
        if head.startswith(magic):
            return kind
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def safe_name(name: str) -> str:
    """A file name without directories or control characters (unicode kept)."""
    name = unicodedata.normalize("NFC", str(name)).replace("\\", "/").split("/")[-1]
    name = re.sub(r"[\x00-\x1f\x7f<>:\"|?*]", "_", name).strip(" .")
    return (name or "file")[:200]


class FileStore:
    def __init__(self, root: Path | None = None):
        self.root = Path(root) if root else instance_dir() / "files"

    def path_of(self, storage_key: str) -> Path:
        return self.root / storage_key

    def put(self, conn: sa.Connection, stream: BinaryIO, name: str, content_type: str | None = None, *,
            max_bytes: int, accept: Iterable[str] | None = None, images_only: bool = False,
            user_id: int | None = None) -> dict:
        name = safe_name(name)
        self.root.mkdir(parents=True, exist_ok=True)
        digest, size = hashlib.sha256(), 0
        handle, temp = tempfile.mkstemp(dir=self.root, prefix=".upload-")
        head = b""
        try:
            with os.fdopen(handle, "wb") as out:
                while True:
                    chunk = stream.read(CHUNK)
                    if not chunk:
                        break
                    if len(head) < 16:
                        head += chunk[:16]
                    size += len(chunk)
                    if size > max_bytes:
                        raise FileRefused("file_too_large", name=name, max_mb=f"{max_bytes / 1024 / 1024:g}")
                    digest.update(chunk)
                    out.write(chunk)
            if size == 0:
                raise FileRefused("file_empty", name=name)
            kind = sniff_image(head)
            if images_only and kind is None:
                raise FileRefused("file_not_image", name=name)
            # The sniffed type wins over the one the client claims, which must look like one.
            claimed = (content_type or "").strip().lower()
            content_type = kind or (claimed if _CONTENT_TYPE.fullmatch(claimed) else "application/octet-stream")
            if accept and not accepts(accept, name, content_type):
                raise FileRefused("file_type_refused", name=name, accepted=", ".join(accept))
            sha = digest.hexdigest()
            key = f"{sha[:2]}/{sha[2:4]}/{sha}"
            target = self.path_of(key)
            if not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(temp, target)
            row = {"sha256": sha, "size": size, "content_type": content_type, "name": name,
                   "storage_key": key, "created_by": user_id, "created_at": utcnow()}
            row["id"] = conn.execute(files.insert().values(**row).returning(files.c.id)).scalar_one()
            return row
        finally:
            if os.path.exists(temp):
                os.unlink(temp)

    def info(self, conn: sa.Connection, ids: Iterable[int]) -> dict[int, dict]:
        ids = list(ids)
        if not ids:
            return {}
        return {r["id"]: dict(r) for r in conn.execute(sa.select(files).where(files.c.id.in_(ids))).mappings()}

    def open(self, conn: sa.Connection, file_id: int) -> BinaryIO:
        row = self.info(conn, [file_id]).get(file_id)
        if row is None:
            raise FormworkError(f"file #{file_id} does not exist")
        return self.path_of(row["storage_key"]).open("rb")
