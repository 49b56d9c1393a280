"""The triggers that are not record events: workflow events, date fields (fired once with
two schedulers), cron schedules, incoming webhooks with a secret, buttons."""
from __future__ import annotations

import json
import threading
from datetime import date, datetime, timezone

import pytest

from engine.errors import NotFound
from engine.validation import load_definition
from runtime.apps import apply_app
from runtime.automations import on_workflow_event, receive_webhook, run_button
from runtime.automations.triggers import WebhookRefused, due_dates
from runtime.jobs.scheduler import tick
from runtime.permissions import FULL_ACCESS
from runtime.session import Session
from tests.support.automations import L, automation, definition, install, jobs_of, rows, runs

TASK = {"kind": "create_record", "form": "tasks", "values": {"title": '"task for " & name', "lead": "id"}}


def _lead(db, **values):
    return Session(db).write(lambda uow: uow.records("auto").create("leads", {"name": "王", **values}))


def test_workflow_node_and_end_events_run_their_automations_once_per_instance(db):
    app = install(db, automation("at_review", {"kind": "workflow_node", "node": "review"}, [TASK]),
                  automation("approved", {"kind": "workflow_ended", "outcome": "approved"},
                             [{"kind": "update_record", "values": {"stage": '"won"'}}]),
                  automation("any_end", {"kind": "workflow_ended"},
                             [{"kind": "create_record", "form": "tasks", "values": {"title": '"ended"'}}]))
    lead = _lead(db)
    session = Session(db)
    for _ in range(2):      # reported twice: run once
        session.write(lambda uow: on_workflow_event(uow, "auto", "leads", lead["id"], "node_reached",
                                                    node="review", instance=7))
    session.write(lambda uow: on_workflow_event(uow, "auto", "leads", lead["id"], "node_reached", node="other",
                                                instance=7))
    session.write(lambda uow: on_workflow_event(uow, "auto", "leads", lead["id"], "ended", outcome="rejected",
                                                instance=7))
    assert sorted(t["title"] for t in rows(db, app, "tasks")) == ["ended", "task for 王"]
    assert rows(db, app, "leads")[0]["stage"] == "new"
    session.write(lambda uow: on_workflow_event(uow, "auto", "leads", lead["id"], "ended", outcome="approved",
                                                instance=8))
    assert rows(db, app, "leads")[0]["stage"] == "won"
    assert {(r["automation_key"], r["trigger"]) for r in runs(db)} >= {
        ("at_review", "workflow_node"), ("approved", "workflow_ended"), ("any_end", "workflow_ended")}


REMIND = automation("remind", {"kind": "date", "field": "follow_up_on", "offset_days": -3},
                    [{"kind": "create_record", "form": "tasks", "values": {"title": '"follow up " & name'}}])


def _two_schedulers(db, now):
    start, errors = threading.Barrier(2), []

    def scheduler():
        try:
            start.wait()
            report = tick(db, now=now)
            errors.extend(report.errors)
        except Exception as exc:        # pragma: no cover - reported below
            errors.append(exc)
    threads = [threading.Thread(target=scheduler) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors, errors


def test_a_date_trigger_fires_once_per_record_and_due_date_with_two_schedulers(db):
    app = install(db, REMIND)
    due = _lead(db, name="到期", follow_up_on=date(2026, 3, 13))         # due on 03-10
    _lead(db, name="以后", follow_up_on=date(2026, 3, 20))               # due on 03-17
    _lead(db, name="无日期")
    _two_schedulers(db, datetime(2026, 3, 10, 1, 0, tzinfo=timezone.utc))
    _two_schedulers(db, datetime(2026, 3, 11, 1, 0, tzinfo=timezone.utc))
    assert [t["title"] for t in rows(db, app, "tasks")] == ["follow up 到期"]
    [run] = runs(db)
    assert (run["trigger"], run["record_id"], run["inputs"]["due_on"]) == ("date", due["id"], "2026-03-10")
    # The date moves: the new due date fires again, once.
    Session(db).write(lambda uow: uow.records("auto").update("leads", due["id"], {"follow_up_on": date(2026, 3, 14)}))
    _two_schedulers(db, datetime(2026, 3, 11, 2, 0, tzinfo=timezone.utc))
    assert [t["title"] for t in rows(db, app, "tasks")] == ["follow up 到期", "follow up 到期"]


def test_a_date_trigger_claims_every_due_record_in_one_statement(db, count_statements):
    install(db, REMIND)
    Session(db).write(lambda uow: uow.records("auto").bulk_create(
        "leads", [{"name": f"L{i}", "follow_up_on": date(2026, 3, 13)} for i in range(50)]))
    with count_statements(db) as counter:
        enqueued = Session(db).write(lambda uow: due_dates(uow, datetime(2026, 3, 10, 1, tzinfo=timezone.utc)))
    claims = [s for s in counter.statements if "fw_automation_date_fires" in s]
    assert enqueued == 50 and len(claims) == 1


def test_a_schedule_automation_runs_a_batch_at_its_cron_occurrence(db):
    app = install(db, automation("nightly", {"kind": "schedule", "cron": "0 2 * * *"}, [
        {"kind": "update_batch", "form": "leads", "filter": {"field": "stage", "op": "eq", "value": "new"},
         "values": {"stage": '"contacted"'}}], form=None))
    _lead(db, name="a"), _lead(db, name="b"), _lead(db, name="c", stage="won")
    tick(db, now=datetime(2026, 3, 10, 0, 0, tzinfo=timezone.utc))        # syncs the schedule
    assert runs(db) == []
    tick(db, now=datetime(2026, 3, 10, 18, 1, tzinfo=timezone.utc))       # 02:01 in Shanghai
    assert [r["stage"] for r in rows(db, app, "leads")] == ["contacted", "contacted", "won"]
    [run] = runs(db)
    assert run["trigger"] == "schedule" and run["actions"][0]["result"] == {"form": "leads", "updated": 2}


WEBHOOK = automation("inbound", {"kind": "webhook", "secret_env": "AUTO_HOOK_SECRET"}, [
    {"kind": "create_record", "form": "leads", "values": {"name": "payload.name", "score": "payload.score"}}],
    form=None)


def test_an_incoming_webhook_with_the_secret_runs_with_its_payload(db, monkeypatch):
    monkeypatch.setenv("AUTO_HOOK_SECRET", "s3cret")
    app = install(db, WEBHOOK)
    receive_webhook(Session(db), "auto", "inbound", "s3cret", {"name": "来自官网", "score": 7}, delivery_id="d1")
    again = receive_webhook(Session(db), "auto", "inbound", "s3cret", {"name": "重复"}, delivery_id="d1")
    assert again is None
    assert [(r["name"], r["score"]) for r in rows(db, app, "leads")] == [("来自官网", 7)]


def test_an_incoming_webhook_with_a_wrong_or_unset_secret_is_refused(db, monkeypatch):
    install(db, WEBHOOK)
    with pytest.raises(WebhookRefused, match="AUTO_HOOK_SECRET is not set"):
        receive_webhook(Session(db), "auto", "inbound", "anything", {})
    monkeypatch.setenv("AUTO_HOOK_SECRET", "s3cret")
    with pytest.raises(WebhookRefused, match="the webhook secret for automation 'inbound' is wrong"):
        receive_webhook(Session(db), "auto", "inbound", "s3cre", {})
    with pytest.raises(NotFound, match="app 'auto' has no webhook automation 'inbund'"):
        receive_webhook(Session(db), "auto", "inbund", "s3cret", {})
    assert jobs_of(db, "automation.run") == []


def test_a_button_runs_on_its_record_as_the_user_who_pressed_it(db):
    app = install(db, automation("make_task", {"kind": "button", "label": {"zh": "建任务", "en": "Make task"}},
                                 [TASK]))
    lead = _lead(db)
    with Session(db).write() as uow:
        user = uow.org.users.add("li.lei", "李雷")
    # The test app has no permission sets: the user acts with full access.
    run_button(Session.for_user(db, "li.lei", policy=FULL_ACCESS), "auto", "make_task", lead["id"])
    [task] = rows(db, app, "tasks")
    assert task["title"] == "task for 王" and task["created_by"] == user.id
    with pytest.raises(NotFound):
        run_button(Session(db), "auto", "make_task", 999999)


def test_a_real_workflow_reaching_a_node_and_ending_runs_its_automations(db):
    """runtime/workflow reports to the unit of work, which enqueues the workflow triggers:
    submitting reaches `review`, approving ends the instance as approved."""
    document = definition(
        automation("at_review", {"kind": "workflow_node", "node": "review"}, [TASK]),
        automation("approved", {"kind": "workflow_ended", "outcome": "approved"},
                   [{"kind": "update_record", "values": {"stage": '"won"'}}]))
    leads = dict(document["forms"][0])
    leads["workflows"] = [{"key": "lead_review", "label": L("线索审核", "Lead review"), "nodes": [
        {"key": "submit", "type": "start", "next": "review"},
        {"key": "review", "type": "approve", "approvers": [{"users": ["boss"]}], "next": "done"},
        {"key": "done", "type": "end"}]}]
    document["forms"] = [leads, *document["forms"][1:]]
    app = load_definition(json.dumps(document))
    apply_app(db, app)
    with Session(db).write() as uow:
        uow.org.users.add("boss", "老板")
    lead, instance = Session(db).write(lambda uow: uow.workflows.submit("auto", "leads", {"name": "王"}))
    assert [t["title"] for t in rows(db, app, "tasks")] == ["task for 王"]
    boss = Session.for_user(db, "boss")
    [task] = boss.write(lambda uow: uow.workflows.tasks("pending"))
    boss.write(lambda uow: uow.workflows.act(task["id"], "approve", comment="好"))
    assert rows(db, app, "leads")[0]["stage"] == "won"
    assert {(r["automation_key"], r["status"]) for r in runs(db)} == {("at_review", "done"), ("approved", "done")}
