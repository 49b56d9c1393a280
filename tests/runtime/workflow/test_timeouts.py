"""Timeouts through fire_due, the function the scheduler calls: remind (repeatable),
auto-approve, auto-return, escalate; a date field as the deadline; fired once when two
schedulers race."""
from __future__ import annotations

import json
import threading
from datetime import date, datetime, timedelta, timezone

from engine.storage import system
from engine.validation import load_definition
from runtime.apps import apply_app
from runtime.session import Session
from runtime.jobs.scheduler import tick
from runtime.workflow import fire_due, next_due
from runtime.workflow.scheduling import DUE_SOURCE
from tests.support.automations import L, automation, definition, rows, runs
from tests.support.workflow_app import NOW, as_user, install, make_org, pending


TASK = {"kind": "create_record", "form": "tasks", "values": {"title": '"task for " & name', "lead": "id"}}


def flow(timeout: dict) -> list[dict]:
    return [{"key": "submit", "type": "start", "next": "first"},
            {"key": "first", "type": "approve", "approvers": [{"users": ["dan"]}], "next": "check"},
            {"key": "check", "type": "approve", "approvers": [{"users": ["bob"]}], "timeout": timeout,
             "next": "done"},
            {"key": "done", "type": "end"}]


def start(db, timeout: dict, values=None):
    install(db, flow(timeout))
    ids = make_org(db)
    with db.begin() as conn:
        record, instance = as_user(conn, "ann").submit("office", "expenses", {"title": "x", **(values or {})})
        [task] = pending(conn, "dan")
        as_user(conn, "dan").act(task["id"], "approve")
    return ids, record, instance


def fire(db, at: datetime) -> list[dict]:
    with db.begin() as conn:
        return fire_due(conn, at, limit=50)


def test_remind_repeats_until_acted(db):
    ids, record, instance = start(db, {"after": "2d", "action": "remind", "repeat": "1d"})
    with db.begin() as conn:
        assert next_due(conn) == NOW + timedelta(days=2)
    assert fire(db, NOW + timedelta(days=1)) == []
    assert [f["action"] for f in fire(db, NOW + timedelta(days=2))] == ["remind"]
    assert fire(db, NOW + timedelta(days=2, hours=1)) == []
    assert [f["action"] for f in fire(db, NOW + timedelta(days=3))] == ["remind"]
    with db.begin() as conn:
        t = system.workflow_tasks
        row = conn.execute(t.select().where(t.c.node_key == "check")).first()
        assert row.remind_count == 2 and row.status == "pending"
        log = as_user(conn, "ann").log("office", "expenses", record["id"])
        assert [e["action"] for e in log].count("remind") == 2


def test_auto_approve(db):
    ids, record, instance = start(db, {"after": "4h", "action": "auto_approve"})
    fire(db, NOW + timedelta(hours=4))
    with db.begin() as conn:
        assert as_user(conn, None).instance(instance["id"])["status"] == "approved"
        entry = [e for e in as_user(conn, None).log("office", "expenses", record["id"]) if e["action"] == "approve"][-1]
        assert entry["comment"] == "timeout: auto_approve" and entry["account"] is None     # the system


def test_a_refused_timeout_is_logged_and_the_others_still_fire(db):
    install(db, [{"key": "submit", "type": "start", "next": "check"},
                 {"key": "check", "type": "approve", "approvers": [{"users": ["bob"]}],
                  "fields": {"note": "required"}, "timeout": {"after": "1h", "action": "auto_approve"},
                  "next": "done"}, {"key": "done", "type": "end"}])
    make_org(db)
    with db.begin() as conn:
        first, _ = as_user(conn, "ann").submit("office", "expenses", {"title": "x"})
        second, _ = as_user(conn, "ann").submit("office", "expenses", {"title": "y", "note": "有"})
    fired = fire(db, NOW + timedelta(hours=1))
    assert [("error" in f) for f in fired] == [True, False]
    with db.begin() as conn:
        wf = as_user(conn, None)
        assert wf.status_of("office", "expenses", [first["id"], second["id"]]) == {
            first["id"]: "running", second["id"]: "approved"}
        entry = wf.log("office", "expenses", first["id"])[-1]
        assert entry["action"] == "timeout_failed" and "required fields first: note" in entry["comment"]


def test_auto_return_to_the_previous_node(db):
    ids, record, instance = start(db, {"after": "4h", "action": "auto_return"})
    fire(db, NOW + timedelta(hours=5))
    with db.begin() as conn:
        assert as_user(conn, None).instance(instance["id"])["current_nodes"] == ["first"]
        assert len(pending(conn, "dan")) == 1


def test_escalate_to_a_role(db):
    ids, record, instance = start(db, {"after": "1d", "action": "escalate", "to": [{"role": "director"}]})
    fire(db, NOW + timedelta(days=1))
    with db.begin() as conn:
        assert pending(conn, "bob") == [] and [t["node_key"] for t in pending(conn, "carl")] == ["check"]


def test_a_date_field_as_the_deadline(db):
    ids, record, instance = start(db, {"field": "due", "action": "auto_approve"}, {"due": "2026-12-05"})
    with db.begin() as conn:
        assert next_due(conn).date() == date(2026, 12, 4)   # 00:00 Asia/Shanghai is 16:00 UTC the day before
    assert fire(db, datetime(2026, 12, 4, 15, tzinfo=timezone.utc)) == []
    assert len(fire(db, datetime(2026, 12, 4, 16, tzinfo=timezone.utc))) == 1


def test_two_schedulers_racing_fire_each_timeout_once(db):
    install(db, flow({"after": "1h", "action": "remind"}))
    make_org(db)
    with db.begin() as conn:
        for n in range(6):
            as_user(conn, "ann").submit("office", "expenses", {"title": f"x{n}"})
        for task in pending(conn, "dan"):
            as_user(conn, "dan").act(task["id"], "approve")
    barrier, fired, errors = threading.Barrier(2), [], []

    def scheduler():
        barrier.wait(timeout=30)
        try:
            fired.extend(f["task"] for f in fire(db, NOW + timedelta(hours=2)))
        except Exception as exc:          # SQLite: the loser's write lock wait ends in an error
            errors.append(exc)
    threads = [threading.Thread(target=scheduler) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert len(fired) == 6 and len(set(fired)) == 6
    with db.begin() as conn:
        t = system.workflow_tasks
        counts = [r.remind_count for r in conn.execute(t.select().where(t.c.node_key == "check")).all()]
        assert counts == [1] * 6


def test_the_scheduler_fires_timeouts_once_through_its_due_source(db):
    """runtime/workflow/scheduling.py: a scheduler tick fires what is due, once."""
    ids, record, instance = start(db, {"after": "4h", "action": "auto_approve"})
    assert tick(db, now=NOW + timedelta(hours=3)).sources[DUE_SOURCE] == 0
    assert tick(db, now=NOW + timedelta(hours=4)).sources[DUE_SOURCE] == 1
    assert tick(db, now=NOW + timedelta(hours=5)).sources[DUE_SOURCE] == 0
    with db.begin() as conn:
        assert as_user(conn, None).instance(instance["id"])["status"] == "approved"


def test_timeouts_raise_the_workflow_events_their_automations_run_on(db):
    """A timeout that moves an instance on (auto-approve to the next node, then to the end)
    runs the `workflow_node` and `workflow_ended` automations, as an approver's action
    would: the scheduler's tick passes its unit of work's on_event to fire_due."""
    document = definition(
        automation("at_review", {"kind": "workflow_node", "node": "review"}, [TASK]),
        automation("approved", {"kind": "workflow_ended", "outcome": "approved"},
                   [{"kind": "update_record", "values": {"stage": '"won"'}}]))
    leads = dict(document["forms"][0])
    leads["workflows"] = [{"key": "lead_review", "label": L("线索审核", "Lead review"), "nodes": [
        {"key": "submit", "type": "start", "next": "first"},
        {"key": "first", "type": "approve", "approvers": [{"users": ["boss"]}],
         "timeout": {"after": "4h", "action": "auto_approve"}, "next": "review"},
        {"key": "review", "type": "approve", "approvers": [{"users": ["boss"]}],
         "timeout": {"after": "4h", "action": "auto_approve"}, "next": "done"},
        {"key": "done", "type": "end"}]}]
    document["forms"] = [leads, *document["forms"][1:]]
    app = load_definition(json.dumps(document))
    apply_app(db, app)
    Session(db).write(lambda uow: uow.org.users.add("boss", "老板"))
    _lead, instance = Session(db).write(lambda uow: uow.workflows.submit("auto", "leads", {"name": "王"}))
    assert rows(db, app, "tasks") == []
    start_at = datetime.now(timezone.utc)
    assert tick(db, now=start_at + timedelta(hours=5)).sources[DUE_SOURCE] == 1     # first: auto-approved
    assert [t["title"] for t in rows(db, app, "tasks")] == ["task for 王"]
    assert rows(db, app, "leads")[0]["stage"] == "new"
    assert tick(db, now=start_at + timedelta(hours=10)).sources[DUE_SOURCE] == 1    # review: auto-approved
    assert rows(db, app, "leads")[0]["stage"] == "won"
    assert {(r["automation_key"], r["trigger"], r["status"]) for r in runs(db)} == {
        ("at_review", "workflow_node", "done"), ("approved", "workflow_ended", "done")}
    with db.begin() as conn:
        assert as_user(conn, None).instance(instance["id"])["status"] == "approved"
