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

from engine.errors import FormworkError
from engine.storage.db import instance_dir
from engine.storage.system import files
from engine.storage.types import utcnow

CHUNK = 64 * 1024
IMAGE_MAGIC = [(b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"),
               (b"GIF87a", "image/gif"), (b"GIF89a", "image/gif")]


class FileRefused(FormworkError):
    pass


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
                        raise FileRefused(f"{name} is larger than {max_bytes / 1024 / 1024:.1f} MB")
                    digest.update(chunk)
                    out.write(chunk)
            kind = sniff_image(head)
            if images_only and kind is None:
                raise FileRefused(f"{name} is not a PNG, JPEG, GIF or WebP image")
            content_type = kind or content_type or "application/octet-stream"
            if accept:
                suffix = Path(name).suffix.lower()
                allowed = {a.lower() for a in accept}
                if suffix not in allowed and content_type not in allowed:
                    raise FileRefused(f"{name}: files of this type are not accepted here "
                                      f"(accepted: {', '.join(sorted(allowed))})")
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
