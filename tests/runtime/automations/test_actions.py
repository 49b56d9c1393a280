"""Every action kind through a run: create (other tests), update, upsert, delete, a batch
over 1,000 records in a bounded number of statements, start_workflow through the hook
the merge wires, notify, call_webhook, round robin; the action registry's schemas."""
from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from engine.automations.kinds import ACTION_KINDS
from engine.storage import system
from engine.storage.db import read_connection
from runtime.automations import actions
from runtime.automations.actions import ACTIONS, next_turn
from runtime.session import Session
from tests.support.automations import automation, install, jobs_of, rows, runs


def _create(db, form="leads", **values):
    return Session(db).write(lambda uow: uow.records("auto").create(form, values))


def test_every_action_kind_has_a_schema_and_a_run():
    assert sorted(ACTIONS) == sorted(ACTION_KINDS)
    assert ACTIONS["update_batch"].schema["required"] == ["kind", "form", "filter", "values"]
    assert ACTIONS["create_record"].schema["properties"]["kind"] == {"const": "create_record"}


def test_upsert_creates_then_updates_the_matching_record(db):
    app = install(db, automation("count_tasks", {"kind": "record_updated", "fields": ["score"]}, [
        {"kind": "upsert_record", "form": "tasks", "match": ["code"],
         "values": {"code": '"lead-" & id', "title": '"score " & score', "count": "score"}}]))
    lead = _create(db, name="王", score=1)
    for score in (2, 3):
        Session(db).write(lambda uow, s=score: uow.records("auto").update("leads", lead["id"], {"score": s}))
    [task] = rows(db, app, "tasks")
    assert (task["code"], task["title"], task["count"]) == (f"lead-{lead['id']}", "score 3", 3)
    assert [list(r["actions"][0]["result"]) for r in runs(db)] == [["form", "created"], ["form", "updated"]]


def test_delete_and_update_by_a_record_formula(db):
    app = install(db, automation("won", {"kind": "record_updated", "fields": ["stage"]}, [
        {"kind": "update_record", "form": "tasks", "record": "score", "values": {"title": '"won: " & name'}},
        {"kind": "delete_record", "form": "tasks", "record": "score + 1"}], condition='stage = "won"'))
    first, second = _create(db, "tasks", title="a"), _create(db, "tasks", title="b")
    lead = _create(db, name="王", score=first["id"])
    assert second["id"] == first["id"] + 1
    Session(db).write(lambda uow: uow.records("auto").update("leads", lead["id"], {"stage": "won"}))
    assert [(t["id"], t["title"]) for t in rows(db, app, "tasks")] == [(first["id"], "won: 王")]


def test_a_batch_over_a_thousand_records_is_set_based(db, count_statements):
    app = install(db, automation("close_all", {"kind": "record_updated", "fields": ["stage"]}, [
        {"kind": "update_batch", "form": "tasks", "filter": {"field": "count", "op": "lt", "value": 5},
         "values": {"title": '"closed by " & name'}}], condition='stage = "lost"'))
    Session(db).write(lambda uow: uow.records("auto").bulk_create(
        "tasks", [{"title": f"t{i}", "count": i % 10} for i in range(1000)]))
    lead = _create(db, name="王")
    with count_statements(db) as counter:
        Session(db).write(lambda uow: uow.records("auto").update("leads", lead["id"], {"stage": "lost"}))
    tasks = rows(db, app, "tasks")
    assert sum(t["title"] == "closed by 王" for t in tasks) == 500
    [run] = runs(db)
    assert run["actions"][0]["result"] == {"form": "tasks", "updated": 500}
    # Ids by pages of 500, one bulk update: no statement per record.
    assert counter.count < 60, counter.statements


def test_start_workflow_calls_the_starter(db, monkeypatch):
    app = install(db, automation("review", {"kind": "record_created"},
                                 [{"kind": "start_workflow", "workflow": "lead_review"}]))
    started = []

    def starter(uow, app_key, workflow, form, record_id):
        started.append((app_key, workflow, form, record_id))
        return {"instance": 41}
    monkeypatch.setattr(actions, "start_with_workflows", starter)
    lead = _create(db, name="王")
    monkeypatch.undo()
    assert started == [("auto", "lead_review", "leads", lead["id"])]
    assert runs(db)[0]["actions"][0]["result"] == {"workflow": "lead_review", "form": "leads", "instance": 41}
    _create(db, name="李")      # runtime/workflow again: the form has no such workflow, and the run says so
    failed = runs(db)[-1]
    assert failed["status"] == "failed"
    assert failed["error"].startswith("automations[0].actions[0] (start_workflow): ") and "lead_review" in failed["error"]
    assert app.key == "auto"


def test_notify_writes_in_app_notifications_by_template(db):
    install(db, automation("tell_owner", {"kind": "record_created"}, [
        {"kind": "notify", "to": {"fields": ["owner"], "users": ["boss"]}, "title": "新线索 {{ record.name }}",
         "body": "分数 {{ record.score }}", "link": "/apps/auto/leads/{{ record.id }}", "channels": ["in_app"]}]))
    with Session(db).write() as uow:
        owner, boss = uow.org.users.add("owner", "负责人"), uow.org.users.add("boss", "老板")
    lead = _create(db, name="王", score=9, owner=owner.id)
    with read_connection(db) as conn:
        got = conn.execute(sa.select(system.notifications.c.user_id, system.notifications.c.title,
                                     system.notifications.c.body, system.notifications.c.link)
                           .order_by(system.notifications.c.user_id)).all()
    assert [tuple(r) for r in got] == [(owner.id, "新线索 王", "分数 9", f"/apps/auto/leads/{lead['id']}"),
                                       (boss.id, "新线索 王", "分数 9", f"/apps/auto/leads/{lead['id']}")]


def test_call_webhook_is_skipped_while_its_url_is_unset_and_enqueued_once_set(db, monkeypatch):
    install(db, automation("hook", {"kind": "record_created"},
                           [{"kind": "call_webhook", "url_env": "AUTO_HOOK_URL", "event": "lead.created"}]))
    _create(db, name="王")
    assert runs(db)[0]["actions"][0]["result"] == {"skipped": "AUTO_HOOK_URL is not set"}
    monkeypatch.setenv("AUTO_HOOK_URL", "http://127.0.0.1:1/never")
    _create(db, name="李")
    [job] = jobs_of(db, "webhook.deliver")
    assert job["payload"]["body"]["event"] == "lead.created"
    assert job["payload"]["body"]["record"]["fields"]["name"] == "李"
    assert job["payload"]["delivery"] == runs(db)[-1]["actions"][0]["result"]["delivery"]


ROUND_ROBIN = automation("assign", {"kind": "record_created"},
                         [{"kind": "assign_round_robin", "field": "owner", "department": "销售部"}])


def _sales(db, accounts):
    with Session(db).write() as uow:
        dept = uow.org.departments.create("销售部")
        users = [uow.org.users.add(a, a) for a in accounts]
        uow.org.departments.add_members(dept.id, [u.id for u in users])
    return users


def test_round_robin_takes_turns_within_the_department(db):
    app = install(db, ROUND_ROBIN)
    users = _sales(db, ["a.zhang", "b.li", "c.wang"])
    for i in range(4):
        _create(db, name=f"L{i}")
    _create(db, name="已有", owner=users[2].id)         # only_if_empty: kept
    assert [r["owner"] for r in rows(db, app, "leads")] == [users[0].id, users[1].id, users[2].id, users[0].id,
                                                            users[2].id]


def test_two_workers_never_take_the_same_turn(db):
    with db.begin() as conn:
        next_turn(conn, "scope")
    taken, errors, start = [], [], threading.Barrier(4)

    def worker():
        try:
            start.wait()
            for _ in range(5):
                taken.append(Session(db).write(lambda uow: next_turn(uow.conn, "scope")))
        except Exception as exc:        # pragma: no cover - reported below
            errors.append(exc)
    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors and sorted(taken) == list(range(1, 21))


def test_an_action_without_a_wired_department_fails_the_run_clearly(db):
    install(db, ROUND_ROBIN)
    _create(db, name="王")
    assert runs(db)[0]["error"] == "automations[0].actions[0] (assign_round_robin): there is no department '销售部'"


@pytest.mark.parametrize("kind", sorted(ACTION_KINDS))
def test_each_action_schema_names_its_required_options(kind):
    schema = ACTIONS[kind].schema
    assert schema["additionalProperties"] is False
    assert set(schema["required"]) <= {"kind", *schema["properties"]}
