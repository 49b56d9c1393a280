"""Errors render in one place: HTML pages in the app's style, JSON for /api/ and
Accept: application/json in the API's one error shape (runtime.api.errors), runtime errors
mapped to their status by error_response alone; never a traceback."""
from __future__ import annotations

import pytest

from engine.errors import FieldIssue, NotFound, RecordValidationError
from runtime.permissions import PermissionDenied
from runtime.session import AppNotInstalled
from tests.support.web import make_app, post_form, sign_in
from web.context import admin_required

JSON = {"Accept": "application/json"}


class Boom(RuntimeError):
    pass


RAISERS = {
    "/test/boom": lambda: (_ for _ in ()).throw(Boom("secret internals: /etc/passwd")),
    "/test/denied": lambda: (_ for _ in ()).throw(PermissionDenied("permission_view_denied", form="客户")),
    "/test/missing": lambda: (_ for _ in ()).throw(AppNotInstalled("crm")),
    "/test/plain-missing": lambda: (_ for _ in ()).throw(NotFound("nothing")),
    "/test/invalid": lambda: (_ for _ in ()).throw(RecordValidationError([FieldIssue("name", "required")])),
}


@pytest.fixture
def raising_app(db):
    app = make_app(db)
    for path, raiser in RAISERS.items():
        app.add_url_rule(path, path, raiser, methods=["GET", "POST"])
    yield app
    app.extensions["formwork"].engine.dispose()


def test_500_page_shows_no_trace(raising_app):
    for debug in (False, True):
        raising_app.debug = debug
        answer = raising_app.test_client().get("/test/boom")
        text = answer.get_data(as_text=True)
        assert answer.status_code == 500
        assert "Traceback" not in text and "secret internals" not in text and "Boom" not in text
        assert "系统出了点问题" in text and 'class="topbar"' in text


def test_500_json(raising_app):
    answer = raising_app.test_client().get("/test/boom", headers=JSON)
    assert answer.status_code == 500
    error = answer.json["error"]
    assert error["code"] == "internal" and error["fields"] == []
    assert error["message"] == error["message_zh"] and "logged" in error["message_en"]
    assert "secret" not in answer.get_data(as_text=True) and "Boom" not in answer.get_data(as_text=True)


def test_permission_denied_is_403_with_the_runtime_message_in_the_page_language(raising_app):
    client = raising_app.test_client()
    answer = client.get("/test/denied")
    assert answer.status_code == 403 and "你没有查看表单“客户”记录的权限" in answer.get_data(as_text=True)
    english = client.get("/test/denied", headers={**JSON, "Accept-Language": "en"})
    assert english.status_code == 403
    assert english.json["error"]["code"] == "permission_denied"
    assert english.json["error"]["message_en"] == ("You may not view the records of form '客户'; "
                                                   "ask an administrator for access")


def test_not_found_is_404(raising_app):
    client = raising_app.test_client()
    coded = client.get("/test/missing", headers=JSON)
    assert coded.status_code == 404 and coded.json["error"]["code"] == "not_found"
    assert client.get("/test/plain-missing").status_code == 404


def test_validation_is_422_with_every_field(raising_app):
    answer = raising_app.test_client().get("/test/invalid", headers=JSON)
    assert answer.status_code == 422
    error = answer.json["error"]
    assert error["code"] == "validation" and error["fields"][0]["field"] == "name"
    assert error["fields"][0]["message"] == "此项为必填项"
    page = raising_app.test_client().get("/test/invalid")
    assert page.status_code == 422 and "此项为必填项" in page.get_data(as_text=True)


def test_unknown_page_is_404_html_and_json(client):
    page = client.get("/no/such/page")
    assert page.status_code == 404 and "页面不存在" in page.get_data(as_text=True)
    api = client.get("/api/v1/nothing")
    assert api.status_code == 404 and api.json["error"]["code"] == "not_found"


def test_wrong_method_is_405(client):
    assert client.put("/login", headers=JSON).status_code in (400, 405)
    answer = client.get("/logout", headers=JSON)
    assert answer.json["error"]["code"] == "method_not_allowed" and "POST" in answer.headers["Allow"]


def test_body_over_2_mb_is_413(client, user_id):
    sign_in(client)
    answer = post_form(client, "/account/api-keys", {"name": "x" * (2 * 1024 * 1024 + 10)})
    assert answer.status_code == 413 and "内容过大" in answer.get_data(as_text=True)


def test_anonymous_json_request_gets_401_not_a_redirect(client):
    answer = client.get("/", headers=JSON)
    assert answer.status_code == 401 and answer.json["error"]["code"] == "unauthorized"


def test_admin_only_page_is_403_for_others(db, user_id):
    app = make_app(db)
    app.add_url_rule("/test/admin", "admin_only", admin_required(lambda: "secret admin page"))
    client = app.test_client()
    sign_in(client)
    answer = client.get("/test/admin")
    assert answer.status_code == 403 and "仅供工作区管理员使用" in answer.get_data(as_text=True)
    app.extensions["formwork"].engine.dispose()
