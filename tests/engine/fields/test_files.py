"""Attachments, images and signatures: files outside the database, with checksum,
size and type limits; field values are ids of fw_files rows."""
import hashlib
import io

import pytest
import sqlalchemy as sa

from engine.fields import ValueContext
from engine.storage.files import FileRefused, FileStore, safe_name
from engine.storage.system import files
from tests.support.fields import CTX, Lab, L, make, messages, problem_at, refused

TYPES = {"attachment", "image", "signature"}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(256)) * 4
PDF = b"%PDF-1.7\n" + "合同正文".encode() * 100
MB = 1024 * 1024


class Trickle(io.RawIOBase):
    """A stream that hands out `total` bytes a few at a time and counts what was read."""

    def __init__(self, total: int, piece: int = 7):
        self.left, self.piece, self.read_bytes = total, piece, 0

    def read(self, size: int = -1) -> bytes:
        n = min(self.piece, self.left)
        self.left -= n
        self.read_bytes += n
        return b"x" * n


@pytest.fixture
def store(tmp_path):
    return FileStore(tmp_path / "files")


def _put(db, store, data: bytes, name: str, **limits):
    limits.setdefault("max_bytes", MB)
    with db.begin() as conn:
        return store.put(conn, io.BytesIO(data), name, **limits)


def _leftovers(store) -> list[str]:
    return [p.name for p in store.root.rglob("*") if p.is_file() and p.name.startswith(".upload-")]


def test_files_live_outside_the_database_with_their_checksum(db, store):
    row = _put(db, store, PDF, "合同.pdf", content_type="application/pdf", user_id=None)
    sha = hashlib.sha256(PDF).hexdigest()
    assert (row["sha256"], row["size"], row["content_type"], row["name"]) == (sha, len(PDF), "application/pdf",
                                                                            "合同.pdf")
    path = store.path_of(row["storage_key"])
    assert path.read_bytes() == PDF and path.parent.parent.parent == store.root
    assert path.name == sha                                  # content-addressed
    with db.connect() as conn:
        stored = conn.execute(sa.select(files).where(files.c.id == row["id"])).mappings().one()
        assert not any(isinstance(v, (bytes, memoryview)) for v in stored.values())   # no blob in the DB
        with store.open(conn, row["id"]) as handle:
            assert hashlib.sha256(handle.read()).hexdigest() == stored["sha256"]
    again = _put(db, store, PDF, "副本.pdf")
    assert again["id"] != row["id"] and again["storage_key"] == row["storage_key"]   # stored once
    assert sum(1 for p in store.root.rglob("*") if p.is_file()) == 1
    assert not _leftovers(store)


def test_size_limit_refuses_without_reading_the_rest(db, store):
    stream = Trickle(50 * MB, piece=64 * 1024)
    with pytest.raises(FileRefused) as caught, db.begin() as conn:
        store.put(conn, stream, "大文件.zip", max_bytes=MB)
    assert caught.value.code == "file_too_large" and stream.read_bytes <= MB + 64 * 1024
    zh, en = messages(caught.value.code, caught.value.params)
    assert "大文件.zip" in zh and "1 MB" in zh and "larger than the 1 MB limit" in en
    assert not _leftovers(store)
    with db.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(files)).scalar_one() == 0
    exact = _put(db, store, b"y" * 1000, "刚好.txt", max_bytes=1000)
    assert exact["size"] == 1000
    with pytest.raises(FileRefused, match="0.5 MB"):
        _put(db, store, b"y" * (MB // 2 + 1), "半兆.bin", max_bytes=MB // 2)


def test_small_chunks_are_hashed_and_sniffed_right(db, store):
    with db.begin() as conn:
        row = store.put(conn, Trickle(100, piece=3), "碎.txt", max_bytes=MB)
    assert row["sha256"] == hashlib.sha256(b"x" * 100).hexdigest() and row["size"] == 100
    with db.begin() as conn:
        png = store.put(conn, io.BufferedReader(io.BytesIO(PNG), buffer_size=2), "p.png",
                        max_bytes=MB, images_only=True)
    assert png["content_type"] == "image/png"


@pytest.mark.parametrize("data, name, claimed", [
    (b"<svg onload=alert(1)>", "a.svg", "image/svg+xml"), (PDF, "photo.png", "image/png"),
    (b"GIF8", "short.gif", "image/gif")])
def test_images_are_checked_by_their_content(db, store, data, name, claimed):
    with pytest.raises(FileRefused) as caught:
        _put(db, store, data, name, content_type=claimed, images_only=True)
    assert caught.value.code == "file_not_image"
    assert "PNG" in messages(caught.value.code, caught.value.params)[1]


@pytest.mark.parametrize("data, name, kind", [
    (PNG, "p.png", "image/png"), (b"\xff\xd8\xff\xe0" + bytes(100), "p.jpg", "image/jpeg"),
    (b"GIF89a" + bytes(20), "g.gif", "image/gif"),
    (b"RIFF\x00\x00\x00\x00WEBPVP8 " + bytes(20), "w.webp", "image/webp")])
def test_image_kinds(db, store, data, name, kind):
    assert _put(db, store, data, name, content_type="text/plain", images_only=True)["content_type"] == kind


def test_accepted_types(db, store):
    accept = [".pdf", "docx", "image/*", "text/csv"]
    assert _put(db, store, PDF, "合同.PDF", accept=accept)["name"] == "合同.PDF"
    assert _put(db, store, b"PK\x03\x04", "说明.docx", accept=accept)
    assert _put(db, store, PNG, "无后缀", accept=accept)["content_type"] == "image/png"
    assert _put(db, store, b"a,b\n", "data.txt", content_type="Text/CSV", accept=accept)["content_type"] == "text/csv"
    odd = _put(db, store, b"x", "x.bin", content_type="text/html; <script>" + "x" * 500)
    assert odd["content_type"] == "application/octet-stream"          # not a type: not trusted, not stored
    with pytest.raises(FileRefused) as caught:
        _put(db, store, b"MZ\x90\x00", "setup.exe", content_type="application/x-msdownload", accept=accept)
    assert caught.value.code == "file_type_refused"
    zh, en = messages(caught.value.code, caught.value.params)
    assert "setup.exe" in zh and ".pdf, docx, image/*, text/csv" in en
    with pytest.raises(FileRefused, match="empty"):
        _put(db, store, b"", "空.pdf", accept=accept)


@pytest.mark.parametrize("raw, safe", [("../../etc/passwd", "passwd"), ("C:\\Users\\a\\报告.docx", "报告.docx"),
                                       ("a\x00b<>.txt", "a_b__.txt"), ("  ..  ", "file"), ("名" * 300, "名" * 200)])
def test_file_names_are_made_safe(raw, safe):
    assert safe_name(raw) == safe


def test_upload_limits_come_from_the_field():
    assert make("attachment", max_size_mb=0.5, accept=[".pdf"]).upload_limits() == {
        "max_bytes": MB // 2, "accept": [".pdf"], "images_only": False}
    assert make("attachment").upload_limits()["max_bytes"] == 20 * MB
    assert make("image", max_size_mb=5).upload_limits() == {"max_bytes": 5 * MB, "accept": None, "images_only": True}
    assert make("signature").upload_limits()["images_only"] is True
    problem_at([{"key": "docs", "type": "attachment", "label": L("附件"), "max_size_mb": 0}],
               "forms[0].fields[0].max_size_mb")
    problem_at([{"key": "pics", "type": "image", "label": L("图片"), "max_files": 51}], "forms[0].fields[0].max_files")


def test_field_values_are_file_ids():
    docs = make("attachment", max_files=2)
    assert docs.clean([3, "4", {"id": 3, "name": "a.pdf"}], CTX) == [3, 4]
    assert docs.clean(5, CTX) == [5]
    refused(docs, [1, 2, 3], "files_too_many", zh=["2"], en=["At most 2 files"])
    for bad in ["abc", 0, -1, True, 2 ** 63, [1.5]]:
        refused(docs, bad, "file_invalid", zh=["文件编号"], en=["not a file id"])
    assert make("signature").clean("7", CTX) == 7
    refused(make("signature"), [7], "file_invalid")
    names = ValueContext(names={"files": {3: "合同.pdf"}})
    assert docs.display([3, 4], names) == "合同.pdf、#4"
    assert docs.references([3, 4]).ids == (3, 4) and docs.references([]) is None


FIELDS = [
    {"key": "docs", "type": "attachment", "label": L("附件", "Attachments"), "max_files": 3},
    {"key": "pics", "type": "image", "label": L("图片", "Images")},
    {"key": "sign", "type": "signature", "label": L("签名", "Signature")},
]


def test_round_trip_and_missing_files(db, store):
    lab = Lab(db, FIELDS)
    pdf, png = _put(db, store, PDF, "合同.pdf")["id"], _put(db, store, PNG, "签名.png", images_only=True)["id"]
    a = lab.create(docs=[pdf, {"id": png}], pics=png, sign=png)["id"]
    b = lab.create()["id"]
    assert lab.get(a)["fields"] == {"docs": [pdf, png], "pics": [png], "sign": png}
    lab.check_filters("docs", [("empty", None, [b]), ("not_empty", None, [a])])
    lab.check_filters("sign", [("empty", None, [b]), ("not_empty", None, [a])])
    assert lab.refused({"docs": [pdf, 999_999], "sign": 999_998}) == {"docs": "file_missing",
                                                                      "sign": "file_missing"}
    assert lab.update(a, docs=[], sign=None)["fields"]["docs"] is None
    assert lab.ids({"field": "docs", "op": "empty"}) == [a, b]
