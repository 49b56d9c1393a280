"""What the operations pages and endpoints ask of runtime/automations, on SQLite and
PostgreSQL: the run log in keyset pages by automation and outcome; the webhook body
parsed with line and column; accept_webhook answering the job and the run it logged;
buttons offered only to users who see the record and may edit the form, pressed only on
their own form."""
from __future__ import annotations

import json

import pytest

from engine.errors import NotFound
from engine.validation import load_definition
from runtime.actor import actor_for
from runtime.apps import apply_app
from runtime.automations.runs import BadOutcome, run_page
from runtime.automations.triggers import (WebhookBodyInvalid, WebhookRefused, accept_webhook, buttons_for,
                                          parse_webhook_body, press_button, secret_matches)
from runtime.jobs.manage import JobNotFound, job_detail
from runtime.permissions import ROLE_POLICY, PermissionDenied
from runtime.session import AppNotInstalled, Session
from tests.support.automations import automation, definition, install, runs

TASK = {"kind": "create_record", "form": "tasks", "values": {"title": '"task for " & name', "lead": "id"}}
BUTTON = automation("make_task", {"kind": "button", "label": {"zh": "建任务", "en": "Make task"}}, [TASK])
PICKY = automation("picky", {"kind": "button", "label": {"zh": "挑剔", "en": "Picky"}}, [TASK], condition="score > 10")
HOOK = automation("inbound", {"kind": "webhook", "secret_env": "OPS_HOOK_SECRET"}, [
    {"kind": "create_record", "form": "leads", "values": {"name": "payload.name"}}], form=None)


def _lead(db, **values):
    return Session(db).write(lambda uow: uow.records("auto").create("leads", {"name": "王", **values}))


def test_the_run_log_pages_by_keyset_and_filters_by_automation_and_outcome(db):
    install(db, BUTTON, PICKY)
    lead = _lead(db, score=1)
    session = Session(db)
    for _ in range(3):
        press_button(session, "auto", "leads", "make_task", lead["id"])
    press_button(session, "auto", "leads", "picky", lead["id"])         # its condition: skipped
    with session.read() as uow:
        first = run_page(uow, "auto", limit=2)
        second = run_page(uow, "auto", limit=2, before=first.next_before)
        skipped = run_page(uow, "auto", outcome="skipped")
        made = run_page(uow, "auto", automation="make_task")
        assert run_page(uow, "auto", outcome="failed").runs == []
        with pytest.raises(BadOutcome, match="the outcomes are done, skipped, failed, stopped"):
            run_page(uow, "auto", outcome="exploded")
        with pytest.raises(AppNotInstalled):
            run_page(uow, "nope")
    every = [r["id"] for r in runs(db)][::-1]
    assert [r["id"] for r in first.runs + second.runs] == every and second.next_before is None
    assert first.runs[0]["automation_key"] == "picky" and first.runs[0]["label"].get("zh") == "picky"
    assert [r["automation_key"] for r in skipped.runs] == ["picky"]
    assert len(made.runs) == 3 and all(r["status"] == "done" and r["trigger"] == "button" for r in made.runs)
    assert made.runs[0]["record_id"] == lead["id"] and made.runs[0]["form"] == "leads"
    assert [key for key, _label in first.automations] == ["make_task", "picky"]
    with session.read() as uow:         # the job page lists the runs its job logged
        detail = job_detail(uow, made.runs[0]["job_id"])
    assert [r["id"] for r in detail["runs"]] == [made.runs[0]["id"]]
    with pytest.raises(JobNotFound):
        with session.read() as uow:
            job_detail(uow, 10 ** 9)


def test_the_run_log_is_for_administrators(db):
    install(db, BUTTON)
    with Session(db).write() as uow:
        uow.org.users.add("li.lei", "李雷")
    with pytest.raises(PermissionDenied):
        with Session.for_user(db, "li.lei").read() as uow:
            run_page(uow, "auto")


@pytest.mark.parametrize("body, where", [(b'{"name": ', (1, 10)), (b'{\n  "a": 1,\n  "b": tru\n}', (3, 8)),
                                         (b"\xff\xfe", (1, 1))])
def test_a_body_that_is_not_json_says_line_and_column(body, where):
    with pytest.raises(WebhookBodyInvalid) as caught:
        parse_webhook_body(body)
    assert (caught.value.line, caught.value.column) == where
    assert f"line {where[0]}, column {where[1]}" in caught.value.message("en")
    assert f"第 {where[0]} 行第 {where[1]} 列" in caught.value.message("zh")


def test_a_body_must_be_an_object():
    assert parse_webhook_body(b"") == {} and parse_webhook_body(b' {"a": [1]} ') == {"a": [1]}
    for body, name in ((b"[1]", "array"), (b'"x"', "string"), (b"3.5", "number"), (b"null", "null")):
        with pytest.raises(WebhookBodyInvalid, match=f"must be a JSON object .*not {name}"):
            parse_webhook_body(body)


def test_secrets_compare_by_digest():
    assert secret_matches("s3cret", "s3cret")
    assert not secret_matches("s3cret", "s3cre") and not secret_matches("s3cret", None)
    assert not secret_matches("s3cret", "s3cret" + "x" * 1000)


def test_accept_webhook_answers_the_job_and_its_run(db, monkeypatch):
    install(db, HOOK)
    monkeypatch.setenv("OPS_HOOK_SECRET", "s3cret")
    session = Session(db)
    outcome = accept_webhook(session, "auto", "inbound", "s3cret", {"name": "官网"}, delivery_id="d-1")
    assert outcome["status"] == "done" and outcome["run"]["status"] == "done" and not outcome["duplicate"]
    assert accept_webhook(session, "auto", "inbound", "s3cret", {"name": "again"}, delivery_id="d-1") == {
        "job": None, "status": None, "run": None, "duplicate": True}
    with pytest.raises(WebhookRefused):
        accept_webhook(session, "auto", "inbound", "wrong", {})
    monkeypatch.delenv("OPS_HOOK_SECRET")
    with pytest.raises(WebhookRefused, match="OPS_HOOK_SECRET is not set"):
        accept_webhook(session, "auto", "inbound", "s3cret", {})


def _with_permission_sets(db):
    document = definition(BUTTON)
    document["permissions"] = [
        {"key": "viewers", "roles": ["viewer"], "forms": {"leads": "view_all"}},
        {"key": "editors", "roles": ["editor"], "forms": {"leads": {"preset": "view_all",
                                                                      "actions": ["view", "edit"]}}}]
    apply_app(db, load_definition(json.dumps(document)))
    with Session(db).write() as uow:
        for account, role in (("viewer.wang", "viewer"), ("editor.li", "editor")):
            uow.org.roles.create(role, role)
            user = uow.org.users.add(account, account)
            uow.org.roles.assign(role, [user.id])


def test_buttons_are_for_users_who_may_edit_the_form(db):
    _with_permission_sets(db)
    lead = _lead(db)

    def session_of(account):
        with db.connect() as conn:
            return Session(db, actor_for(conn, account), policy=ROLE_POLICY)
    viewer, editor = session_of("viewer.wang"), session_of("editor.li")
    with viewer.read() as uow:
        assert buttons_for(uow, "auto", "leads", lead["id"]) == []
    with editor.read() as uow:
        assert [a.key for a in buttons_for(uow, "auto", "leads", lead["id"])] == ["make_task"]
        assert buttons_for(uow, "auto", "tasks", lead["id"]) == []
        with pytest.raises(NotFound):
            buttons_for(uow, "auto", "leads", 10 ** 9)
    with pytest.raises(PermissionDenied, match="You may not edit the records of form 'leads'"):
        press_button(viewer, "auto", "leads", "make_task", lead["id"])
    outcome = press_button(editor, "auto", "leads", "make_task", lead["id"])
    assert outcome["run"]["status"] == "done" and outcome["label"] == {"zh": "建任务", "en": "Make task"}
    with pytest.raises(NotFound, match="no button automation 'make_task'"):
        press_button(editor, "auto", "tasks", "make_task", lead["id"])      # not a button of tasks
