"""The workflow API on SQLite and PostgreSQL: the inbox boxes, acting on tasks (the
runtime's refusals as 403 / 404 / 409), two approvers racing, the record's workflow."""
from __future__ import annotations

import threading

import pytest

from tests.support.workflow_web import RECORDS, submit, workflow_world


@pytest.fixture
def world(db):
    built = workflow_world(db)
    yield built
    built.app.extensions["formwork"].engine.dispose()


def tasks(client, world, account, status="pending"):
    answer = client.get(f"/api/v1/tasks?status={status}", headers=world.auth(account))
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()["items"]


def test_the_boxes_give_each_user_their_own_tasks(world):
    record_id = submit(world.engine)
    client = world.app.test_client()
    fay = tasks(client, world, "fay")
    assert [(t["record_id"], t["node_key"], t["status"]) for t in fay] == [(record_id, "finance", "pending")]
    assert tasks(client, world, "bob") == []
    started = tasks(client, world, "ann", "started")
    assert [(s["record_id"], s["instance_status"]) for s in started] == [(record_id, "running")]


def test_approving_moves_the_task_to_done_and_copies_the_cc(world):
    record_id = submit(world.engine)
    client = world.app.test_client()
    task = tasks(client, world, "fay")[0]
    answer = client.post(f"/api/v1/tasks/{task['id']}/approve", json={"comment": "同意"}, headers=world.auth("fay"))
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["instance"]["status"] == "approved"
    assert [t["comment"] for t in tasks(client, world, "fay", "done")] == ["同意"]
    assert [t["record_id"] for t in tasks(client, world, "dan", "cc")] == [record_id]
    assert tasks(client, world, "fred") == []


def test_rejecting_with_an_empty_body(world):
    submit(world.engine)
    client = world.app.test_client()
    task = tasks(client, world, "fred")[0]
    answer = client.post(f"/api/v1/tasks/{task['id']}/reject", headers=world.auth("fred"))
    assert answer.status_code == 200
    assert answer.get_json()["instance"]["status"] == "rejected"


def test_a_task_handled_already_is_409_with_the_runtime_message(world):
    submit(world.engine)
    client = world.app.test_client()
    task = tasks(client, world, "fay")[0]
    assert client.post(f"/api/v1/tasks/{task['id']}/approve", headers=world.auth("fay")).status_code == 200
    again = client.post(f"/api/v1/tasks/{task['id']}/approve?lang=en", headers=world.auth("fay"))
    assert again.status_code == 409
    error = again.get_json()["error"]
    assert (error["code"], error["details"]) == ("conflict", {"reason": "wf_not_running"})
    assert "is over" in error["message_en"] and "已结束" in error["message_zh"]


def test_someone_elses_task_is_403_and_a_missing_one_404(world):
    submit(world.engine)
    client = world.app.test_client()
    task = tasks(client, world, "fay")[0]
    refused = client.post(f"/api/v1/tasks/{task['id']}/approve?lang=en", headers=world.auth("bob"))
    assert refused.status_code == 403
    assert "not assigned to you" in refused.get_json()["error"]["message_en"]
    missing = client.post("/api/v1/tasks/999999/approve", headers=world.auth("bob"))
    assert missing.status_code == 404


def test_an_unknown_action_or_a_bad_body_is_400_saying_what_to_send(world):
    submit(world.engine)
    client = world.app.test_client()
    task = tasks(client, world, "fay")[0]
    unknown = client.post(f"/api/v1/tasks/{task['id']}/aprove?lang=en", headers=world.auth("fay"))
    assert unknown.status_code == 400
    assert "approve" in unknown.get_json()["error"]["message_en"]
    bad = client.post(f"/api/v1/tasks/{task['id']}/approve?lang=en", json={"comment": 3, "colour": "x"},
                      headers=world.auth("fay"))
    assert bad.status_code == 400
    assert sorted(f["field"] for f in bad.get_json()["error"]["fields"]) == ["colour", "comment"]
    box = client.get("/api/v1/tasks?status=later", headers=world.auth("fay"))
    assert box.status_code == 400


def test_transfer_needs_a_known_user_and_hands_the_task_over(world):
    submit(world.engine)
    client = world.app.test_client()
    task = tasks(client, world, "fay")[0]
    answer = client.post(f"/api/v1/tasks/{task['id']}/transfer", json={"user": "carl", "comment": "请代批"},
                         headers=world.auth("fay"))
    assert answer.status_code == 200, answer.get_json()
    assert [t["node_key"] for t in tasks(client, world, "carl")] == ["finance"]


def test_two_approvers_racing_on_one_node_one_wins_one_gets_409(world):
    submit(world.engine)
    client = world.app.test_client()
    mine = {a: tasks(client, world, a)[0]["id"] for a in ("fay", "fred")}
    start, statuses = threading.Barrier(2), []

    def approve(account):
        own = world.app.test_client()
        start.wait()
        statuses.append(own.post(f"/api/v1/tasks/{mine[account]}/approve", json={"comment": account},
                                 headers=world.auth(account)).status_code)
    threads = [threading.Thread(target=approve, args=(a,)) for a in mine]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 409]


def test_the_record_workflow_has_the_log_and_the_flow(world):
    record_id = submit(world.engine)
    client = world.app.test_client()
    task = tasks(client, world, "fay")[0]
    client.post(f"/api/v1/tasks/{task['id']}/approve", json={"comment": "可以"}, headers=world.auth("fay"))
    answer = client.get(f"{RECORDS}/{record_id}/workflow", headers=world.auth("bob"))
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["status"] == "approved"
    assert ("approve", "fay", "可以") in [(e["action"], e["account"], e["comment"]) for e in body["log"]]
    flow = body["flows"][0]
    assert {n["key"]: n["state"] for n in flow["nodes"]}["finance"] == "done"
    assert client.get(f"{RECORDS}/999999/workflow", headers=world.auth("bob")).status_code == 404


def test_the_flow_marks_the_current_node_while_it_waits(world):
    record_id = submit(world.engine)
    body = world.app.test_client().get(f"{RECORDS}/{record_id}/workflow", headers=world.auth("ann")).get_json()
    assert body["status"] == "running"
    assert body["flows"][0]["current"] == ["finance"]
    assert {n["key"]: n["state"] for n in body["flows"][0]["nodes"]}["finance"] == "current"
