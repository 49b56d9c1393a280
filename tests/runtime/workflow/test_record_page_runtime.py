"""What the record page and the inbox ask of runtime/workflow: the person of a transfer,
an added signer or a reassignment named by a member picker's user id or by an account
(one resolver, unknown and inactive members refused), fields written with an action in
its transaction, the offers' editable fields, the keyset inbox page with record titles,
and the top bar's counts in one statement. SQLite and PostgreSQL (the `db` fixture)."""
from __future__ import annotations

import pytest

from engine.errors import RecordValidationError
from runtime.notifications import badge_counts
from runtime.notifications.inbox import insert_notification
from runtime.org import Org
from runtime.permissions import FULL_ACCESS
from runtime.session import Session
from runtime.workflow.errors import TaskConflict, WorkflowRefused
from runtime.workflow.inbox import inbox_page, record_titles
from tests.support.workflow_app import as_user, install, make_org, pending

NODES = [{"key": "submit", "type": "start", "next": "lead"},
         {"key": "lead", "type": "approve", "approvers": [{"users": ["bob"]}],
          "fields": {"note": "editable", "status": "required", "secret": "hidden"}, "next": "done"},
         {"key": "done", "type": "end"}]


@pytest.fixture
def started(db):
    install(db, NODES)
    people = make_org(db)
    with db.begin() as conn:
        record, _instance = as_user(conn, "ann").submit("office", "expenses", {"title": "差旅", "amount": 100})
    return db, people, record["id"]


def _task(db, account="bob"):
    with db.connect() as conn:
        return pending(conn, account)[0]["id"]


@pytest.mark.parametrize("member", ["id", "digits", "account"])
def test_a_transfer_takes_a_user_id_digits_or_an_account(started, member):
    db, people, _rid = started
    given = {"id": people["dan"], "digits": str(people["dan"]), "account": "dan"}[member]
    task = _task(db)
    with db.begin() as conn:
        as_user(conn, "bob").act(task, "transfer", user=given, comment="你来")
    with db.connect() as conn:
        assert len(pending(conn, "dan")) == 1 and pending(conn, "bob") == []


@pytest.mark.parametrize("given, code, words", [
    (999999, "wf_unknown_member", "#999999"), ("999999", "wf_unknown_member", "#999999"),
    ("9" * 30, "wf_unknown_member", "#999"), (0, "wf_unknown_member", "#0"),
    ("dna", "wf_unknown_user", "dna"), (None, "wf_needs_user", "transfer"), ("  ", "wf_needs_user", "transfer")])
def test_an_unknown_or_missing_member_is_refused_with_a_clear_message(started, given, code, words):
    db, _people, _rid = started
    task = _task(db)
    with pytest.raises(WorkflowRefused) as refused, db.begin() as conn:
        as_user(conn, "bob").act(task, "transfer", user=given)
    assert refused.value.code == code
    assert words in refused.value.message("zh") and words in refused.value.message("en")
    if given == "dna":
        assert "dan" in refused.value.message("en")          # did you mean
    with db.connect() as conn:
        assert len(pending(conn, "bob")) == 1                  # nothing changed


@pytest.mark.parametrize("action", ["transfer", "add_before", "add_after"])
def test_an_inactive_member_cannot_take_the_task(started, action):
    db, people, _rid = started
    with db.begin() as conn:
        Org(conn).users.deactivate(["dan"])
    task = _task(db)
    with pytest.raises(WorkflowRefused) as refused, db.begin() as conn:
        as_user(conn, "bob").act(task, action, user=people["dan"])
    assert refused.value.code == "wf_inactive_member"
    assert "已停用" in refused.value.message("zh") and "deactivated" in refused.value.message("en")


def test_an_admin_reassigns_by_user_id(started):
    db, people, _rid = started
    task = _task(db)
    with db.begin() as conn:
        as_user(conn, "root").act(task, "reassign", user=people["carl"])
    with db.connect() as conn:
        assert len(pending(conn, "carl")) == 1


def test_offers_carry_the_fields_the_node_lets_edit(started):
    db, _people, rid = started
    with db.connect() as conn:
        [bob] = as_user(conn, "bob").offers("office", "expenses", rid)
        [ann] = as_user(conn, "ann").offers("office", "expenses", rid)
        root = as_user(conn, "root").offers("office", "expenses", rid)
    assert bob["fields"] == {"note": "editable", "status": "required"} and bob["mine"]
    assert ann["kind"] == "instance" and ann["fields"] == {}
    assert root[0]["actions"] == ["reassign"] and root[0]["fields"] == {} and root[0]["assignee_name"] == "Bob"


def test_changes_are_written_with_the_action_and_a_refusal_writes_none(started):
    db, _people, rid = started
    task = _task(db)
    with pytest.raises(WorkflowRefused) as refused, db.begin() as conn:
        as_user(conn, "bob").act(task, "approve", changes={"note": "看过了"})      # status is required
    assert refused.value.code == "wf_required_fields" and "状态（status）" in refused.value.message("zh")
    with db.connect() as conn:
        assert as_user(conn, "bob").task_record(task)["note"] is None         # rolled back with the action
    with pytest.raises(Exception) as denied, db.begin() as conn:
        as_user(conn, "bob").act(task, "approve", changes={"secret": "x", "status": "ok"})
    assert getattr(denied.value, "code", "") == "wf_field_not_editable"
    with pytest.raises(RecordValidationError), db.begin() as conn:
        as_user(conn, "bob").act(task, "approve", changes={"status": "ok", "note": ["not", "text"]})
    with db.begin() as conn:
        instance = as_user(conn, "bob").act(task, "approve", changes={"note": "看过了", "status": "ok"})
    assert instance["status"] == "approved"
    with db.connect() as conn, pytest.raises(TaskConflict):
        as_user(conn, "bob").act(task, "approve", changes={"note": "again"})
    with db.connect() as conn:
        assert as_user(conn, "bob").task_record(task)["note"] == "看过了"


def test_the_inbox_pages_by_keyset_with_titles(db):
    install(db, NODES)
    make_org(db)
    with db.begin() as conn:
        ids = [as_user(conn, "ann").submit("office", "expenses", {"title": f"报销 {n}"})[0]["id"] for n in range(7)]
    seen = []
    with Session.for_user(db, "bob", policy=FULL_ACCESS).read() as uow:
        page = inbox_page(uow, "pending", limit=3)
        while True:
            seen += [(row["record_id"], row["title"]) for row in page["items"]]
            if page["next_cursor"] is None:
                break
            assert len(page["items"]) == 3
            page = inbox_page(uow, "pending", cursor=page["next_cursor"], limit=3)
    with Session.for_user(db, "ann", policy=FULL_ACCESS).read() as uow:
        started = inbox_page(uow, "started", limit=5)
    assert seen == [(rid, f"报销 {n}") for n, rid in reversed(list(enumerate(ids)))]
    assert len(started["items"]) == 5 and started["next_cursor"]
    with Session.for_user(db, "bob", policy=FULL_ACCESS).read() as uow, pytest.raises(WorkflowRefused) as bad:
        inbox_page(uow, "pending", cursor="not-a-cursor")
    assert bad.value.code == "wf_bad_cursor"


def test_titles_are_one_statement_for_any_number_of_records(db, count_statements):
    install(db, NODES)
    make_org(db)
    with db.begin() as conn:
        ids = [as_user(conn, "ann").submit("office", "expenses", {"title": f"T{n}"})[0]["id"] for n in range(5)]
    with Session.for_user(db, "bob", policy=FULL_ACCESS).read() as uow:
        uow.records("office")                                        # the app loaded
        with count_statements(db) as counter:
            titles = record_titles(uow, [("office", "expenses", i) for i in ids])
        assert record_titles(uow, []) == {}
    assert counter.count == 1
    assert titles == {("office", "expenses", i): f"T{n}" for n, i in enumerate(ids)}
    with Session.for_user(db, "bob").read() as uow:                   # the role policy: bob holds no role
        assert record_titles(uow, [("office", "expenses", ids[0])]) == {}
        assert inbox_page(uow, "pending", limit=1)["items"][0]["title"] is None


def test_the_top_bar_counts_are_one_statement(started, count_statements):
    db, people, _rid = started
    with db.begin() as conn:
        for n in range(2):
            insert_notification(conn, user_id=people["bob"], kind="test", title=f"n{n}", body=None, link=None,
                                key=f"k{n}")
    with db.connect() as conn, count_statements(db) as counter:
        assert badge_counts(conn, people["bob"]) == {"tasks": 1, "unread": 2}
        assert badge_counts(conn, people["carl"]) == {"tasks": 0, "unread": 0}
    assert counter.count == 2
