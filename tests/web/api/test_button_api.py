"""POST /api/v1/apps/{app}/forms/{form}/records/{id}/buttons/{key} on SQLite and
PostgreSQL: in the OpenAPI document (for callers who may edit the form), 202 with a body
its ButtonRun schema accepts, 404 for a button, form or record that is not there, 403
for a caller who may only view; and schemathesis's generated requests against it."""
from __future__ import annotations

import json

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from engine.validation import load_definition
from runtime.apps import apply_app
from runtime.permissions import ROLE_POLICY
from runtime.session import Session
from tests.support.api_docs import assert_openapi_31, assert_valid
from tests.support.automations import automation, definition, rows
from tests.support.web import add_user, make_app
from tests.support.web_api import api_key, bearer

TASK = {"kind": "create_record", "form": "tasks", "values": {"title": '"task for " & name', "lead": "id"}}
BUTTON = automation("make_task", {"kind": "button", "label": {"zh": "建任务", "en": "Make task"}}, [TASK])
PATH = "/api/v1/apps/auto/forms/leads/records/{id}/buttons/make_task"


def _world(db):
    document = definition(BUTTON)
    document["permissions"] = [
        {"key": "viewers", "roles": ["viewer"], "forms": {"leads": "view_all", "tasks": "view_all"}},
        {"key": "editors", "roles": ["editor"], "forms": {"leads": {"preset": "view_all", "actions": ["view", "edit"]},
                                                          "tasks": "view_all"}}]
    app_def = load_definition(json.dumps(document))
    apply_app(db, app_def)
    keys = {}
    with Session(db).write() as uow:
        for account, role in (("viewer.wang", "viewer"), ("editor.li", "editor")):
            uow.org.roles.create(role, role)
    for account, role in (("viewer.wang", "viewer"), ("editor.li", "editor")):
        user_id = add_user(db, account, account)
        with Session(db).write() as uow:
            uow.org.roles.assign(role, [user_id])
        keys[account] = bearer(api_key(db, user_id))
    lead = Session(db).write(lambda uow: uow.records("auto").create("leads", {"name": "王"}))
    return app_def, keys, lead, make_app(db, FORMWORK_API_RATE="off", FORMWORK_POLICY=ROLE_POLICY)


def _check(operation, headers: dict[str, str], failures: list[str]) -> None:
    @settings(max_examples=15, deadline=None, database=None, derandomize=True,
              phases=[Phase.explicit, Phase.generate],
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
    @given(case=operation.as_strategy())
    def run(case):
        response = case.call(headers=headers)
        case.validate_response(response, checks=[not_a_server_error, response_schema_conformance], headers=headers)
    try:
        run()
    except Exception as exc:            # both callers are tried; the failures are reported together
        failures.append(f"{headers}: {str(exc)[:1500]}")


def test_the_button_endpoint_is_documented_and_answers_as_documented(db):
    app_def, keys, lead, flask_app = _world(db)
    client = flask_app.test_client()
    try:
        document = client.get("/api/v1/openapi.json", headers=keys["editor.li"]).get_json()
        assert_openapi_31(document)
        operation = document["paths"][PATH]["post"]
        assert operation["operationId"] == "auto__leads__button__make_task" and "Make task" in operation["summary"]
        assert "202" in operation["responses"] and "403" in operation["responses"]
        viewers = client.get("/api/v1/openapi.json", headers=keys["viewer.wang"]).get_json()
        assert PATH not in viewers["paths"]         # only what the caller may do

        url = PATH.format(id=lead["id"])
        answer = client.post(url, headers=keys["editor.li"])
        assert answer.status_code == 202
        assert_valid(document, "ButtonRun", answer.get_json())
        assert answer.get_json()["run"]["status"] == "done" and answer.get_json()["label"]["en"] == "Make task"
        [task] = rows(db, app_def, "tasks")
        assert task["title"] == "task for 王"

        refused = client.post(url, headers=keys["viewer.wang"])
        assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "permission_denied"
        for missing in (PATH.format(id=10 ** 6), url.replace("make_task", "nope"),
                        url.replace("/leads/", "/tasks/"), url.replace("/auto/", "/nope/")):
            answer = client.post(missing, headers=keys["editor.li"])
            assert answer.status_code == 404, missing
            assert_valid(document, "Error", answer.get_json())
        assert len(rows(db, app_def, "tasks")) == 1
        assert client.post(url).status_code == 401
    finally:
        flask_app.extensions["formwork"].engine.dispose()


def test_generated_button_requests_match_the_document(db):
    _app_def, keys, _lead, flask_app = _world(db)
    try:
        schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", flask_app, headers=keys["editor.li"])
        schema = schema.include(path_regex="/buttons/")
        operations = [result.ok() for result in schema.get_all_operations()]
        assert [op.path for op in operations] == [PATH]
        failures: list[str] = []
        for who in ("editor.li", "viewer.wang"):
            _check(operations[0], keys[who], failures)
        assert not failures, "\n\n".join(failures)
    finally:
        flask_app.extensions["formwork"].engine.dispose()
