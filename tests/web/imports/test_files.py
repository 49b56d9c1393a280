"""Uploads the wizard refuses, each with a message beside the file input in the page
language: no file, a file that is not a spreadsheet, a damaged XLSX, a file without a
header; and the import action the user must have."""
from __future__ import annotations

import io

from runtime.permissions import ROLE_POLICY
from runtime.session import Session
from tests.support.import_files import customers_csv
from tests.support.web import csrf_from, make_app, sign_in

BASE = "/apps/crm_referral/forms/customers/import"


def send(client, content: bytes | None, name: str = "x.csv"):
    data = {"csrf_token": csrf_from(client, BASE)}
    if content is not None:
        data["file"] = (io.BytesIO(content), name)
    return client.post(BASE, data=data, content_type="multipart/form-data")


def message(answer) -> str:
    assert answer.status_code == 422
    return answer.get_data(as_text=True).split('data-field="file">')[1].split("</small>")[0]


def test_no_file(admin):
    assert message(send(admin, None)) == "请选择要导入的 CSV 或 XLSX 文件"


def test_a_file_that_is_not_a_spreadsheet(admin):
    assert "不能导入“report.pdf”：请上传 .csv 或 .xlsx 文件" in message(send(admin, b"%PDF-1.4", "report.pdf"))
    assert ".xls 文件请先" in message(send(admin, b"\xd0\xcf\x11\xe0", "old.xls"))


def test_a_damaged_xlsx_file(admin, import_app, tmp_path):
    text = message(send(admin, b"this is not a zip file", "broken.xlsx"))
    assert text.startswith("无法读取文件“broken.xlsx”")
    assert list((tmp_path / "imports").iterdir()) == []          # nothing kept of a refused upload


def test_a_file_without_a_header(admin):
    assert "没有表头" in message(send(admin, b"", "empty.csv"))


def test_messages_follow_the_page_language(admin):
    admin.post("/lang", data={"lang": "en", "csrf_token": csrf_from(admin, BASE)})
    assert message(send(admin, b"%PDF", "a.pdf")).startswith("Cannot import &#39;a.pdf&#39;")


def test_a_file_over_the_size_limit_is_refused(admin, import_app):
    import_app.config["MAX_CONTENT_LENGTH"] = 2 * 1024 * 1024
    big = b"a" * (21 * 1024 * 1024)
    assert send(admin, big, "big.csv").status_code == 413


def test_a_user_without_the_import_action_gets_403(db, import_app, tmp_path):
    with Session(db).write() as uow:
        uow.org.roles.create("sales", "销售")
        uow.org.roles.assign("sales", ["li.lei"])
    strict = make_app(db, FORMWORK_IMPORT_DIR=str(tmp_path / "imports"), FORMWORK_POLICY=ROLE_POLICY)
    sales = strict.test_client()
    sign_in(sales)
    assert sales.get(BASE).status_code == 403
    token = csrf_from(sales, "/")
    with open(customers_csv(tmp_path), "rb") as handle:
        answer = sales.post(BASE, data={"csrf_token": token, "file": (handle, "c.csv")}, content_type="multipart/form-data")
    assert answer.status_code == 403
    admin = strict.test_client()
    sign_in(admin, "admin")
    assert admin.get(BASE).status_code == 200                    # a workspace administrator may
    strict.extensions["formwork"].engine.dispose()


def test_another_users_run_is_404_and_every_post_needs_csrf(import_app, admin, tmp_path):
    with open(customers_csv(tmp_path), "rb") as handle:
        run = admin.post(BASE, data={"csrf_token": csrf_from(admin, BASE), "file": (handle, "c.csv")},
                         content_type="multipart/form-data").headers["Location"]
    other = import_app.test_client()
    sign_in(other)
    assert other.get(run).status_code == 404
    assert other.get(f"{run}/status").status_code == 404
    assert other.get(f"{run}/report.csv").status_code == 404
    for path in (BASE, f"{run}/check", f"{run}/run"):
        assert admin.post(path, data={}).status_code == 400
    assert admin.get(f"{BASE}/not-a-token").status_code == 404
