"""Files through the web app (SQLite and PostgreSQL): upload with a field's limits,
download only after the permission check, Content-Disposition and nosniff, and the
cleanup of files nobody attached (runtime/files.py, `formwork files cleanup`)."""
from __future__ import annotations

import io
from datetime import timedelta

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from engine.storage import system
from runtime.files import cleanup_orphans, file_store
from runtime.session import Session
from tests.support.form_pages import HidingPolicy
from tests.support.web import add_user, csrf_from, make_app, sign_in
from web.cli import cli

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4 a small pdf"


@pytest.fixture
def files_dir(tmp_path):
    return tmp_path / "files"


@pytest.fixture
def web(db, desk, files_dir):
    made = []

    def make(policy=None):
        config = {"FORMWORK_FILES_DIR": str(files_dir)}
        if policy is not None:
            config["FORMWORK_POLICY"] = policy
        app = make_app(db, **config)
        made.append(app)
        return app
    yield make
    for app in made:
        app.extensions["formwork"].engine.dispose()


def client_of(app, account="li.lei"):
    client = app.test_client()
    sign_in(client, account)
    return client


def upload(client, content: bytes, name: str, query: str = "", content_type="application/octet-stream"):
    return client.post(f"/api/v1/files{query}", data={"file": (io.BytesIO(content), name, content_type)},
                       headers={"X-CSRF-Token": csrf_from(client, "/")}, content_type="multipart/form-data")


FIELD = "?app=desk&form=everything&field="


def test_upload_answers_the_file_and_the_uploader_may_download_it(web, user_id, files_dir):
    client = client_of(web())
    answer = upload(client, PDF, "合同.pdf", FIELD + "attachment", "application/pdf")
    assert answer.status_code == 201
    body = answer.get_json()
    assert {"id", "name", "size", "content_type"} <= body.keys()
    assert (body["name"], body["size"], body["content_type"]) == ("合同.pdf", len(PDF), "application/pdf")
    assert list(files_dir.rglob(body["sha256"]))              # stored under FORMWORK_FILES_DIR
    download = client.get(f"/api/v1/files/{body['id']}")
    assert download.status_code == 200 and download.data == PDF
    assert download.headers["Content-Type"] == "application/pdf"
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert download.headers["X-Content-Type-Options"] == "nosniff"


def test_the_fields_limits_apply(web, user_id):
    client = client_of(web())
    refused = upload(client, b"MZ binary", "setup.exe", FIELD + "attachment")
    assert refused.status_code == 422 and refused.get_json()["error"]["fields"][0]["code"] == "file_type_refused"
    too_big = upload(client, b"%PDF" + b"x" * (5 * 1024 * 1024), "big.pdf", FIELD + "attachment")
    assert too_big.status_code == 413 and too_big.get_json()["error"]["fields"][0]["code"] == "file_too_large"
    not_image = upload(client, PDF, "photo.png", FIELD + "image")
    assert not_image.get_json()["error"]["fields"][0]["code"] == "file_not_image"
    in_the_body = client.post("/api/v1/files", headers={"X-CSRF-Token": csrf_from(client, "/")},
                              data={"file": (io.BytesIO(b"MZ"), "x.exe"), "app": "desk", "form": "everything",
                                    "field": "attachment"}, content_type="multipart/form-data")
    assert in_the_body.get_json()["error"]["fields"][0]["code"] == "file_type_refused"
    unknown = upload(client, PDF, "a.pdf", "?app=desk&form=everything&field=text")
    assert unknown.status_code == 404 and unknown.get_json()["error"]["code"] == "not_found"
    missing = client.post("/api/v1/files", data={}, headers={"X-CSRF-Token": csrf_from(client, "/")})
    assert missing.status_code == 400


def test_uploads_need_a_signed_in_user_and_the_csrf_token(web, user_id):
    app = web()
    anonymous = app.test_client()
    assert anonymous.post("/api/v1/files", data={"file": (io.BytesIO(PDF), "a.pdf")}).status_code in (400, 401)
    client = client_of(app)
    no_token = client.post("/api/v1/files", data={"file": (io.BytesIO(PDF), "a.pdf")},
                           content_type="multipart/form-data")
    assert no_token.status_code == 400


def test_images_inline_only_when_asked_and_html_never(web, user_id):
    client = client_of(web())
    image = upload(client, PNG, "p.png", FIELD + "image").get_json()
    inline = client.get(f"/api/v1/files/{image['id']}?inline=1")
    assert inline.headers["Content-Type"] == "image/png"
    assert inline.headers["Content-Disposition"].startswith("inline")
    html = upload(client, b"<script>alert(1)</script>", "x.html", "", "text/html").get_json()
    svg = upload(client, b"<svg onload=alert(1)></svg>", "x.svg", "", "image/svg+xml").get_json()
    for stored in (html, svg):
        answer = client.get(f"/api/v1/files/{stored['id']}?inline=1")
        assert answer.headers["Content-Disposition"].startswith("attachment")
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
        assert "sandbox" in answer.headers["Content-Security-Policy"]


def test_who_may_download(db, web, user_id):
    add_user(db, "han.mei", "韩梅梅")
    app = web()
    owner, other = client_of(app), client_of(app, "han.mei")
    stored = upload(owner, PDF, "a.pdf", FIELD + "attachment").get_json()
    url = f"/api/v1/files/{stored['id']}"
    assert other.get(url).status_code == 404                  # not attached: the uploader only
    assert owner.get("/api/v1/files/999999").status_code == 404
    Session(db).write(lambda uow: uow.records("desk").create("everything", {"attachment": [stored["id"]]}))
    assert other.get(url).status_code == 200                  # held by a record they may see
    hiding = client_of(web(HidingPolicy({"everything": {"attachment"}})), "han.mei")
    assert hiding.get(url).status_code == 404                 # the field is hidden from them
    viewer = client_of(web(HidingPolicy({"everything": {"text"}})), "han.mei")
    assert viewer.get(url).status_code == 200


def test_a_recycled_record_no_longer_shares_its_files(db, web, user_id):
    add_user(db, "han.mei", "韩梅梅")
    app = web()
    stored = upload(client_of(app), PDF, "a.pdf", FIELD + "attachment").get_json()
    session = Session(db)
    record = session.write(lambda uow: uow.records("desk").create("everything", {"attachment": [stored["id"]]}))
    session.write(lambda uow: uow.records("desk").delete("everything", record["id"]))
    assert client_of(app, "han.mei").get(f"/api/v1/files/{stored['id']}").status_code == 404


def _age(db, file_id, days=2):
    with db.begin() as conn:
        row = conn.execute(sa.select(system.files.c.created_at).where(system.files.c.id == file_id)).scalar_one()
        conn.execute(system.files.update().where(system.files.c.id == file_id)
                     .values(created_at=row - timedelta(days=days)))


def test_cleanup_removes_old_unattached_files_only(db, web, user_id, files_dir):
    client = client_of(web())
    kept = upload(client, PDF, "kept.pdf", FIELD + "attachment").get_json()
    signature = upload(client, PNG, "sig.png", FIELD + "signature").get_json()
    orphan = upload(client, b"%PDF orphan", "orphan.pdf", FIELD + "attachment").get_json()
    fresh = upload(client, b"%PDF fresh", "fresh.pdf", FIELD + "attachment").get_json()
    Session(db).write(lambda uow: uow.records("desk").create(
        "everything", {"attachment": [kept["id"]], "signature": signature["id"]}))
    for stored in (kept, signature, orphan):
        _age(db, stored["id"])
    with db.begin() as conn:
        assert cleanup_orphans(conn, file_store(files_dir)) == 1
    with db.connect() as conn:
        left = set(conn.execute(sa.select(system.files.c.id)).scalars())
    assert left == {kept["id"], signature["id"], fresh["id"]}
    assert not list(files_dir.rglob(orphan["sha256"])) and list(files_dir.rglob(kept["sha256"]))


def test_a_refused_record_write_leaves_its_upload_unattached_and_cleaned(db, web, user_id, files_dir):
    app = web()
    client = client_of(app)
    stored = upload(client, PDF, "a.pdf", FIELD + "attachment").get_json()
    token = csrf_from(client, "/apps/desk/forms/everything/new")
    refused = client.post("/apps/desk/forms/everything/new",
                          data={"attachment": f"[{stored['id']}]", "number": "99", "csrf_token": token})
    assert refused.status_code == 422                          # number is at most 9
    assert f'data-id="{stored["id"]}"' in refused.get_data(as_text=True)   # the upload is still shown
    _age(db, stored["id"])
    result = CliRunner().invoke(cli, ["--database-url", db.url.render_as_string(hide_password=False),
                                      "files", "cleanup", "--files-dir", str(files_dir)])
    assert result.exit_code == 0, result.output
    assert "removed 1" in result.output
    assert client.get(f"/api/v1/files/{stored['id']}").status_code == 404


def test_the_same_content_uploaded_twice_is_kept_until_both_are_gone(db, web, user_id, files_dir):
    client = client_of(web())
    first = upload(client, PDF, "a.pdf", FIELD + "attachment").get_json()
    second = upload(client, PDF, "b.pdf", FIELD + "attachment").get_json()
    Session(db).write(lambda uow: uow.records("desk").create("everything", {"attachment": [second["id"]]}))
    _age(db, first["id"])
    _age(db, second["id"])
    with db.begin() as conn:
        assert cleanup_orphans(conn, file_store(files_dir)) == 1
    assert client.get(f"/api/v1/files/{second['id']}").data == PDF    # the shared content stays


def test_the_edit_page_shows_the_records_files(db, web, user_id):
    client = client_of(web())
    pdf = upload(client, PDF, "报价单.pdf", FIELD + "attachment").get_json()
    sig = upload(client, PNG, "signature.png", FIELD + "signature").get_json()
    record = Session(db).write(lambda uow: uow.records("desk").create(
        "everything", {"attachment": [pdf["id"]], "signature": sig["id"]}))
    html = client.get(f"/apps/desk/forms/everything/records/{record['id']}/edit").get_data(as_text=True)
    assert f'<a href="/api/v1/files/{pdf["id"]}">报价单.pdf</a>' in html
    assert f'value=\'[{pdf["id"]}]\'' in html
    assert f'src="/api/v1/files/{sig["id"]}?inline=1"' in html and f'value="{sig["id"]}"' in html
