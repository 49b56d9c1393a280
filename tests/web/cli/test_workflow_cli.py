"""`formwork tasks`, `formwork task` and `formwork workflow log|flow|start|fire-due`."""
import json

from click.testing import CliRunner

from tests.support.workflow_app import install, make_org
from web.cli import cli

FLOW = [{"key": "submit", "type": "start", "next": "check"},
        {"key": "check", "type": "approve", "approvers": [{"users": ["bob", "dan"]}], "mode": "all",
         "timeout": {"after": "1h", "action": "remind"}, "next": "done"},
        {"key": "done", "type": "end"}]


def run(url, *args):
    return CliRunner().invoke(cli, ["--database-url", url, *args], catch_exceptions=False)


def test_a_flow_from_the_command_line(db, db_url):
    install(db, FLOW)
    make_org(db)
    created = run(db_url, "records", "create", "office", "expenses", "--data", '{"title": "差旅"}')
    record_id = json.loads(created.output)["id"]
    started = run(db_url, "workflow", "start", "office", "expenses", str(record_id), "--as", "ann")
    assert started.exit_code == 0 and "running, now at check" in started.output, started.output
    listed = run(db_url, "tasks", "bob")
    assert "office/expenses#1  flow.check  approve  pending  due " in listed.output, listed.output
    task_id = listed.output.split()[1]
    wrong = run(db_url, "task", task_id, "approve", "--as", "dan", "--lang", "en")
    assert wrong.exit_code == 1 and "not assigned to you" in wrong.output
    done = run(db_url, "task", task_id, "approve", "--as", "bob", "--comment", "同意")
    assert "instance 1: running, now at check" in done.output, done.output
    assert "task " in run(db_url, "tasks", "bob", "--status", "done").output
    assert "instance 1" in run(db_url, "tasks", "ann", "--status", "started").output
    fired = run(db_url, "workflow", "fire-due", "--at", "2099-01-01T00:00:00")
    assert "1 timeout(s) fired" in fired.output, fired.output
    dan_task = run(db_url, "tasks", "dan").output.split()[1]
    assert "approved" in run(db_url, "task", dan_task, "approve", "--as", "dan").output
    log = run(db_url, "workflow", "log", "office", "expenses", str(record_id)).output.splitlines()
    assert [line.split()[2:5] for line in log] == [
        ["submit", "submit", "ann"], ["check", "approve", "bob"], ["check", "remind", "system"],
        ["check", "approve", "dan"], ["done", "approved", "system"]]
    assert "“同意”" in log[1]
    flow = json.loads(run(db_url, "workflow", "flow", "1").output)
    assert {n["key"]: n["state"] for n in flow["nodes"]} == {"submit": "done", "check": "done", "done": "done"}


def test_an_unknown_action_is_refused_by_the_command(db, db_url):
    result = run(db_url, "task", "1", "aprove", "--as", "bob")
    assert result.exit_code == 2 and "approve" in result.output
