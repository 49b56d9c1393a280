"""POST /hooks/<app>/<automation>/<secret> on SQLite and PostgreSQL: a good call runs the
automation as a job and answers 202 with the job and its run; a delivery id sent twice
runs once; the secret may come in the X-Formwork-Secret header; a wrong secret, an
unknown app or automation, a disabled one and one whose secret is unset answer the same
404; bad JSON 400 with line and column; a body past the limit 413; no CSRF token and no
session needed, and a signed-in cookie changes nothing."""
from __future__ import annotations

import json

import pytest

from tests.support.automations import automation, install, jobs_of, rows, runs
from tests.support.web import add_user, make_app, sign_in

HOOK = automation("inbound", {"kind": "webhook", "secret_env": "WEB_HOOK_SECRET"}, [
    {"kind": "create_record", "form": "leads", "values": {"name": "payload.name"}}], form=None)
OFF = automation("switched_off", {"kind": "webhook", "secret_env": "WEB_HOOK_SECRET"}, [
    {"kind": "create_record", "form": "leads", "values": {"name": '"x"'}}], form=None, enabled=False)
UNSET = automation("no_secret", {"kind": "webhook", "secret_env": "WEB_HOOK_UNSET"}, [
    {"kind": "create_record", "form": "leads", "values": {"name": '"x"'}}], form=None)
URL = "/hooks/auto/inbound/s3cret"


@pytest.fixture
def hook_app(db, monkeypatch):
    monkeypatch.setenv("WEB_HOOK_SECRET", "s3cret")
    monkeypatch.delenv("WEB_HOOK_UNSET", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    app_def = install(db, HOOK, OFF, UNSET)
    flask_app = make_app(db, FORMWORK_HOOK_MAX_BYTES=1024)
    yield flask_app, app_def
    flask_app.extensions["formwork"].engine.dispose()


def _post(client, url=URL, body='{"name": "官网"}'.encode(), **headers):
    return client.post(url, data=body, headers={"Content-Type": "application/json", **headers})


def test_a_call_with_the_secret_runs_the_automation_and_answers_202(db, hook_app):
    flask_app, app_def = hook_app
    answer = _post(flask_app.test_client())
    assert answer.status_code == 202
    body = answer.get_json()
    assert body["status"] == "done" and body["run"]["status"] == "done" and body["duplicate"] is False
    [job] = jobs_of(db, "automation.run")
    assert body["job"] == job["id"] and job["payload"]["trigger"] == "webhook"
    assert [r["name"] for r in rows(db, app_def, "leads")] == ["官网"]
    assert body["run"]["id"] == runs(db)[0]["id"]


def test_a_delivery_sent_twice_runs_once_and_the_header_carries_the_secret(db, hook_app):
    flask_app, app_def = hook_app
    client = flask_app.test_client()
    first = _post(client, "/hooks/auto/inbound", **{"X-Formwork-Secret": "s3cret", "X-Delivery-Id": "abc"})
    again = _post(client, "/hooks/auto/inbound", **{"X-Formwork-Secret": "s3cret", "X-Delivery-Id": "abc"})
    assert first.status_code == again.status_code == 202
    assert again.get_json() == {"job": None, "status": None, "run": None, "duplicate": True}
    assert len(rows(db, app_def, "leads")) == 1


@pytest.mark.parametrize("url", ["/hooks/auto/inbound/wrong", "/hooks/auto/inbound", "/hooks/auto/nope/s3cret",
                                 "/hooks/nope/inbound/s3cret", "/hooks/auto/switched_off/s3cret",
                                 "/hooks/auto/no_secret/anything", "/hooks/auto/no_secret/"])
def test_every_hook_that_cannot_run_answers_the_same_404(db, hook_app, url):
    flask_app, app_def = hook_app
    answer = _post(flask_app.test_client(), url)
    assert answer.status_code == 404
    error = answer.get_json()["error"]
    assert error["code"] == "not_found" and "There is no webhook at this address" in error["message_en"]
    assert "这个地址没有 Webhook" in error["message_zh"]
    text = answer.get_data(as_text=True)
    for secret_detail in ("WEB_HOOK", "inbound", "switched_off", "no_secret", "not set", "wrong"):
        assert secret_detail not in text, (url, secret_detail)
    assert rows(db, app_def, "leads") == [] and jobs_of(db, "automation.run") == []


@pytest.mark.parametrize("body, where", [(b'{"name": ', {"line": 1, "column": 10}),
                                         (b'{\n "name": "a",\n}', {"line": 3, "column": 1})])
def test_bad_json_is_a_400_saying_where(db, hook_app, body, where):
    flask_app, _app_def = hook_app
    answer = _post(flask_app.test_client(), body=body)
    assert answer.status_code == 400
    [issue] = answer.get_json()["error"]["fields"]
    assert issue["field"] == "body" and issue["code"] == "webhook_bad_json"
    assert {k: issue[k] for k in ("line", "column")} == where
    assert f"line {where['line']}, column {where['column']}" in issue["message_en"]


def test_a_body_that_is_not_an_object_is_a_400(hook_app):
    flask_app, _app_def = hook_app
    answer = _post(flask_app.test_client(), body=b"[1, 2]")
    assert answer.status_code == 400
    assert answer.get_json()["error"]["fields"][0]["code"] == "webhook_not_object"


def test_a_body_past_the_limit_is_a_413(db, hook_app):
    flask_app, app_def = hook_app
    big = json.dumps({"name": "x" * 2000}).encode()
    answer = _post(flask_app.test_client(), body=big)
    assert answer.status_code == 413 and answer.get_json()["error"]["code"] == "body_too_large"
    assert rows(db, app_def, "leads") == []


def test_a_signed_in_browser_needs_no_csrf_token_and_other_methods_are_refused(db, hook_app):
    flask_app, app_def = hook_app
    add_user(db)
    client = flask_app.test_client()
    sign_in(client)
    assert _post(client).status_code == 202
    assert client.get(URL).status_code == 405
    assert len(rows(db, app_def, "leads")) == 1
