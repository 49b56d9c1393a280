"""Record triggers (created, updated with fields and an old/new condition, deleted), run
inline after the commit, on SQLite and PostgreSQL; the run log; no-change updates; the
depth limit of a chain."""
from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa

from runtime.automations import MAX_DEPTH
from runtime.session import Session
from tests.support.automations import automation, install, jobs_of, rows, runs

CREATE_TASK = {"kind": "create_record", "form": "tasks",
               "values": {"title": '"call " & name', "lead": "id", "count": "score * 2"}}
# A run of two actions (update the triggering record, create a task), savepoints included:
# its job's INSERT (1) and savepoint (2), the record read (1), one savepoint for all its
# actions (2), the update (lock, read, UPDATE, history, read back: 5), the create (INSERT,
# history, read back: 3). Before the actions shared one savepoint (the record service's
# own per write: 4 more) and the run log and done mark were written once per batch (2
# more), a run cost 24; before a write's statements stopped opening savepoints of their
# own inside the write's (an UPDATE's and an INSERT's: 4 more), 18.
RUN_STATEMENTS = 14


def test_a_created_record_runs_its_automation_after_the_commit(db):
    app = install(db, automation("on_new", {"kind": "record_created"}, [CREATE_TASK]))
    lead = Session(db).write(lambda uow: uow.records("auto").create("leads", {"name": "王", "score": 3}))
    [task] = rows(db, app, "tasks")
    assert (task["title"], task["lead"], task["count"]) == ("call 王", lead["id"], Decimal(6))
    [run] = runs(db)
    assert (run["automation_key"], run["trigger"], run["record_id"], run["status"], run["depth"]) == \
        ("on_new", "record_created", lead["id"], "done", 0)
    assert run["actions"] == [{"kind": "create_record", "status": "done",
                               "result": {"form": "tasks", "created": task["id"]}}]
    assert run["inputs"]["record"] == lead["id"] and run["duration_ms"] >= 0


def test_a_rolled_back_write_runs_nothing(db):
    install(db, automation("on_new", {"kind": "record_created"}, [CREATE_TASK]))
    try:
        with Session(db).write() as uow:
            uow.records("auto").create("leads", {"name": "王"})
            raise RuntimeError("undo")
    except RuntimeError:
        pass
    assert runs(db) == [] and jobs_of(db, "automation.run") == []


STAGE_CHANGED = automation(
    "stage_changed", {"kind": "record_updated", "fields": ["stage"]},
    [{"kind": "create_record", "form": "tasks", "values": {"title": 'old.stage & " -> " & stage'}}],
    condition="old.stage <> stage")


def test_an_update_runs_when_a_watched_field_changed_and_the_condition_holds(db):
    app = install(db, STAGE_CHANGED)
    session = Session(db)
    lead = session.write(lambda uow: uow.records("auto").create("leads", {"name": "王"}))
    session.write(lambda uow: uow.records("auto").update("leads", lead["id"], {"note": "no watched field"}))
    session.write(lambda uow: uow.records("auto").update("leads", lead["id"], {"stage": "contacted"}))
    session.write(lambda uow: uow.records("auto").update("leads", lead["id"], {"stage": "won", "note": "x"}))
    assert [t["title"] for t in rows(db, app, "tasks")] == ["new -> contacted", "contacted -> won"]
    assert [r["status"] for r in runs(db)] == ["done", "done"]


def test_an_update_that_changes_nothing_triggers_nothing(db):
    install(db, STAGE_CHANGED, automation("any_update", {"kind": "record_updated"},
                                          [{"kind": "update_record", "form": "tasks", "record": "0",
                                            "values": {"title": '"never"'}}]))
    session = Session(db)
    lead = session.write(lambda uow: uow.records("auto").create("leads", {"name": "王", "stage": "won"}))
    session.write(lambda uow: uow.records("auto").update("leads", lead["id"], {"stage": "won", "name": "王"}))
    assert jobs_of(db, "automation.run") == [] and runs(db) == []


def test_a_condition_that_is_false_logs_a_skipped_run(db):
    app = install(db, automation("big", {"kind": "record_created"}, [CREATE_TASK], condition="score >= 10"))
    Session(db).write(lambda uow: uow.records("auto").create("leads", {"name": "小", "score": 3}))
    assert rows(db, app, "tasks") == [] and [(r["status"], r["error"]) for r in runs(db)] == [("skipped", None)]


def test_a_deleted_record_runs_with_the_values_it_had(db):
    app = install(db, automation("gone", {"kind": "record_deleted"},
                                 [{"kind": "create_record", "form": "tasks", "values": {"title": '"gone: " & name'}}]))
    session = Session(db)
    lead = session.write(lambda uow: uow.records("auto").create("leads", {"name": "王"}))
    session.write(lambda uow: uow.records("auto").delete("leads", [lead["id"]]))
    assert [t["title"] for t in rows(db, app, "tasks")] == ["gone: 王"]


def test_a_chain_that_keeps_triggering_itself_stops_at_the_depth_limit(db):
    app = install(db, automation("bump", {"kind": "record_updated", "fields": ["score"]},
                                 [{"kind": "update_record", "values": {"score": "score + 1"}}]))
    session = Session(db)
    lead = session.write(lambda uow: uow.records("auto").create("leads", {"name": "王", "score": 0}))
    session.write(lambda uow: uow.records("auto").update("leads", lead["id"], {"score": 1}))
    logged = sorted(runs(db), key=lambda r: r["depth"])     # the stop is logged inside the last run
    assert [r["status"] for r in logged] == ["done"] * MAX_DEPTH + ["stopped"]
    assert [r["depth"] for r in logged] == list(range(MAX_DEPTH)) + [MAX_DEPTH]
    assert logged[-1]["error"] == (
        f"stopped: the chain of automations reached the depth limit of {MAX_DEPTH} "
        f"({' -> '.join(['bump'] * (MAX_DEPTH + 1))}); an automation's actions keep triggering automations, "
        "probably in a loop: give one of them a condition or a `fields` list that the other's writes do not meet")
    assert rows(db, app, "leads")[0]["score"] == 1 + MAX_DEPTH


def test_a_failing_action_rolls_back_the_run_and_is_logged(db):
    app = install(db, automation("two_steps", {"kind": "record_created"}, [
        CREATE_TASK, {"kind": "update_record", "form": "tasks", "record": "999999", "values": {"title": '"x"'}}]))
    lead = Session(db).write(lambda uow: uow.records("auto").create("leads", {"name": "王"}))
    [run] = runs(db)
    assert run["status"] == "failed" and run["record_id"] == lead["id"]
    assert run["error"] == ("automations[0].actions[1] (update_record): "
                            "tasks record #999999 does not exist or is in the recycle bin")
    assert [a["status"] for a in run["actions"]] == ["rolled_back", "failed"]
    assert rows(db, app, "tasks") == [] and rows(db, app, "leads")[0]["name"] == "王"


def _every_statement(engine):
    """Every statement sent, savepoints included (what a run costs in round trips), by
    its first words."""
    sent: list[str] = []

    def listen(conn, cursor, statement, parameters, context, executemany):
        words = statement.split()
        table = words[2] if words[0].upper() in ("INSERT", "DELETE") else words[1]
        sent.append(words[0].upper() if words[0].upper() in ("SAVEPOINT", "RELEASE") else f"{words[0]} {table}")
    return sent, listen


def test_the_statements_of_a_run_are_constant_in_the_batch_size(db):
    """The runs of one commit run in one transaction: per run, its job's savepoint, one
    savepoint for all its actions, the record read, the actions' own writes; the claim,
    the run log (one INSERT for the batch) and the done mark (one UPDATE) once."""
    install(db, automation("on_new", {"kind": "record_created"}, [
        {"kind": "update_record", "values": {"note": '"seen"'}}, CREATE_TASK]))
    Session(db).write(lambda uow: uow.records("auto").create("leads", {"name": "warm"}))  # app loaded
    counts = {}
    for size in (1, 5):
        sent, listen = _every_statement(db)
        sa.event.listen(db, "before_cursor_execute", listen)
        try:
            Session(db).write(lambda uow: uow.records("auto").bulk_create(
                "leads", [{"name": f"{size}-{n}", "score": n} for n in range(size)]))
        finally:
            sa.event.remove(db, "before_cursor_execute", listen)
        counts[size] = sent
        assert sent.count("INSERT fw_automation_runs") == 1
        assert sum(s.startswith("UPDATE fw_jobs") for s in sent) == 2      # the claim, the done mark
    per_run = (len(counts[5]) - len(counts[1])) / 4
    assert per_run == RUN_STATEMENTS, (per_run, counts[5])
    assert len(runs(db)) == 7 and {r["status"] for r in runs(db)} == {"done"}
