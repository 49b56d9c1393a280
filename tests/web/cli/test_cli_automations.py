"""`formwork automations runs|show|rerun|sync`, end to end on SQLite and PostgreSQL with the
inline runner: a failed run is listed with --failed, shown with its actions, and run
again once what it needed exists."""
from __future__ import annotations

import pytest

from runtime.automations import triggers
from runtime.jobs import dispatch
from runtime.session import Session
from tests.support.automations import automation, install, rows, runs
from web.cli import main


@pytest.fixture(autouse=True)
def inline(monkeypatch):
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setattr(dispatch, "_down_until", {})
    monkeypatch.setenv("FORMWORK_TIMEZONE", "UTC")
    triggers.forget_synced()


def run(capsys, url, *args) -> tuple[int, str, str]:
    code = main(["--database-url", url, *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_runs_failed_show_and_rerun(db, db_url, capsys):
    app = install(db, automation("assign", {"kind": "record_created"},
                                 [{"kind": "assign_round_robin", "field": "owner", "department": "销售部"}]),
                  automation("nightly", {"kind": "schedule", "cron": "0 2 * * *"},
                             [{"kind": "update_batch", "form": "leads", "filter": {}, "values": {"note": '"n"'}}],
                             form=None))
    lead = Session(db).write(lambda uow: uow.records("auto").create("leads", {"name": "王"}))
    [failed] = runs(db)
    code, out, _ = run(capsys, db_url, "automations", "runs", "auto", "--failed")
    assert code == 0 and out.split()[:5] == [str(failed["id"]), "failed", "assign", "record_created",
                                             f"#{lead['id']}"]
    assert out.rstrip().endswith("(assign_round_robin): there is no department '销售部'")
    code, out, _ = run(capsys, db_url, "automations", "show", str(failed["id"]))
    assert code == 0 and "action 1 assign_round_robin: failed  there is no department '销售部'" in out
    with Session(db).write() as uow:
        dept = uow.org.departments.create("销售部")
        user = uow.org.users.add("a.zhang", "张")
        uow.org.departments.add_members(dept.id, [user.id])
    code, out, _ = run(capsys, db_url, "automations", "rerun", str(failed["id"]))
    again = runs(db)[-1]
    assert code == 0 and out.strip() == (f"run #{failed['id']} enqueued again as job {again['job_id']}: "
                                         f"run #{again['id']} done")
    assert again["rerun_of"] == failed["id"] and rows(db, app, "leads")[0]["owner"] == user.id
    code, out, _ = run(capsys, db_url, "automations", "runs", "auto", "--failed")
    assert out.count("\n") == 1     # the failed run stays in the log
    code, out, _ = run(capsys, db_url, "automations", "sync", "auto")
    assert (code, out.strip()) == (0, "1 schedule(s) of app auto")
    code, _, err = run(capsys, db_url, "automations", "rerun", "999999")
    assert code == 2 and "there is no automation run #999999" in err
