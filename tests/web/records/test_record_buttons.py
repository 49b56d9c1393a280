"""The buttons of button automations on the record page, on SQLite and PostgreSQL: shown
to users who may edit the form (the runtime decides, not the template), pressed by a POST
with the CSRF token, the outcome flashed (ran, condition not met, failed); a viewer sees
no button and a POST of theirs is refused."""
from __future__ import annotations

import json

import pytest

from engine.validation import load_definition
from runtime.apps import apply_app
from runtime.permissions import ROLE_POLICY
from runtime.session import Session
from tests.support.automations import automation, definition, rows
from tests.support.web import add_user, csrf_from, make_app, sign_in

TASK = {"kind": "create_record", "form": "tasks", "values": {"title": '"task for " & name', "lead": "id"}}
AUTOMATIONS = [
    automation("make_task", {"kind": "button", "label": {"zh": "建任务", "en": "Make task"}}, [TASK]),
    automation("picky", {"kind": "button", "label": {"zh": "高分才建", "en": "Only high scores"}}, [TASK],
               condition="score > 10"),
    automation("broken", {"kind": "button", "label": {"zh": "会失败", "en": "Fails"}},
               [{"kind": "create_record", "form": "tasks", "values": {"code": "name"}}]),
]


@pytest.fixture
def world(db):
    document = definition(*AUTOMATIONS)
    document["permissions"] = [
        {"key": "viewers", "roles": ["viewer"], "forms": {"leads": "view_all", "tasks": "view_all"}},
        {"key": "editors", "roles": ["editor"], "forms": {"leads": {"preset": "view_all", "actions": ["view", "edit"]},
                                                          "tasks": "view_all"}}]
    app_def = load_definition(json.dumps(document))
    apply_app(db, app_def)
    with Session(db).write() as uow:
        for role in ("viewer", "editor"):
            uow.org.roles.create(role, role)
    for account, role in (("viewer.wang", "viewer"), ("editor.li", "editor")):
        user_id = add_user(db, account, account)
        with Session(db).write() as uow:
            uow.org.roles.assign(role, [user_id])
    lead = Session(db).write(lambda uow: uow.records("auto").create("leads", {"name": "王", "score": 3}))
    flask_app = make_app(db, FORMWORK_POLICY=ROLE_POLICY)
    yield app_def, lead, flask_app
    flask_app.extensions["formwork"].engine.dispose()


def _client(flask_app, account):
    client = flask_app.test_client()
    sign_in(client, account)
    client.post("/lang", data={"lang": "en", "csrf_token": csrf_from(client, "/")})
    return client


def test_an_editor_sees_the_buttons_and_each_press_says_how_it_went(db, world):
    app_def, lead, flask_app = world
    client = _client(flask_app, "editor.li")
    page_url = f"/apps/auto/forms/leads/records/{lead['id']}"
    page = client.get(page_url).get_data(as_text=True)
    for key, label in (("make_task", "Make task"), ("picky", "Only high scores"), ("broken", "Fails")):
        assert f'data-button="{key}">{label}</button>' in page
    token = csrf_from(client, page_url)
    said = {}
    for key in ("make_task", "picky", "broken"):
        answer = client.post(f"{page_url}/buttons/{key}", data={"csrf_token": token})
        assert answer.status_code == 302 and answer.headers["Location"].endswith(page_url)
        said[key] = client.get(page_url).get_data(as_text=True)
    assert "“Make task” ran." in said["make_task"]
    assert "“Only high scores” did not run: its condition does not hold for this record." in said["picky"]
    assert "“Fails” failed:" in said["broken"] and "notice-error" in said["broken"]
    assert [t["title"] for t in rows(db, app_def, "tasks")] == ["task for 王"]
    assert client.post(f"{page_url}/buttons/make_task").status_code == 400        # no CSRF token
    missing = client.post(f"{page_url}/buttons/nope", data={"csrf_token": token}, headers={"Accept": "text/html"})
    assert missing.status_code == 404


def test_a_viewer_sees_no_button_and_may_not_press_one(db, world):
    app_def, lead, flask_app = world
    client = _client(flask_app, "viewer.wang")
    page_url = f"/apps/auto/forms/leads/records/{lead['id']}"
    page = client.get(page_url).get_data(as_text=True)
    assert page.count("data-button=") == 0 and "王" in page
    answer = client.post(f"{page_url}/buttons/make_task", data={"csrf_token": csrf_from(client, page_url)},
                         headers={"Accept": "text/html"})
    assert answer.status_code == 403 and "You may not edit the records of form" in answer.get_data(as_text=True)
    assert rows(db, app_def, "tasks") == []
