"""Approval cycles per second with persistence: Formwork's workflow runtime beside
SpiffWorkflow (a Python BPMN engine) running the same process, its state saved to the
same database, measured alternately in the same run, on SQLite and PostgreSQL.

    .venv/bin/python bench/bench_approvals.py [--cycles 300] [--db both|sqlite|postgresql]
                                              [--variant one|two|both]

The process: a request (title, amount, note) is submitted, a named user approves it,
the instance ends approved (`one`); `two` has two approvals one after the other
(`boss` then `chief`). The same flows are bench/approval.bpmn for SpiffWorkflow.

A cycle is what real users do, each step its own transaction:
- Formwork: the submitter's `uow.workflows.submit(...)` (creates the record, starts the
  workflow, stops at the approval); then per approval, the approver's transaction:
  `pending_on(record)` (what the record page offers) and `act(task, "approve")`; the last
  approval reaches the end node.
- SpiffWorkflow: insert the record's row and the workflow's row (BpmnWorkflow created
  from the parsed spec, engine steps run, its state serialized as JSON, with the user it
  waits for); then per approval, a transaction that reads the workflow row by record
  (FOR UPDATE on PostgreSQL), deserializes it, runs the ready user task, runs the
  engine steps, serializes it and updates the row. The BPMN file is parsed once, as
  Formwork's app is compiled once.

Both sides are timed cycle by cycle, alternately (bench/_common.paired), so noise from
the shared machine hits both alike. Printed: cycles per second (from the median and
the best cycle), the ratio, and the SQL statements of each action for both (counted by
a `before_cursor_execute` listener; tests/runtime/workflow/test_statement_counts.py
proves Formwork's are constant in the size of the form and of the instance).
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402
from SpiffWorkflow import TaskState  # noqa: E402
from SpiffWorkflow.bpmn.parser import BpmnParser  # noqa: E402
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer  # noqa: E402
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow  # noqa: E402

from bench._common import L, Counter, databases, paired  # noqa: E402
from engine.storage.db import read_connection  # noqa: E402
from engine.validation import load_definition  # noqa: E402
from runtime.actor import actor_for  # noqa: E402
from runtime.apps import apply_app  # noqa: E402
from runtime.org import Org  # noqa: E402
from runtime.session import Session  # noqa: E402

BPMN = Path(__file__).resolve().parent / "approval.bpmn"
APP = "bench_wf"
FIELDS = [{"key": "title", "type": "text", "label": L("标题")},
          {"key": "amount", "type": "number", "label": L("金额"), "precision": 2},
          {"key": "note", "type": "text", "label": L("备注")}]


def flow(key: str, approvers: list[str]) -> dict:
    nodes = [{"key": "submit", "type": "start", "next": "approve_0"}]
    for n, account in enumerate(approvers):
        nodes.append({"key": f"approve_{n}", "type": "approve", "approvers": [{"users": [account]}],
                      "next": f"approve_{n + 1}" if n + 1 < len(approvers) else "done"})
    nodes.append({"key": "done", "type": "end"})
    return {"key": key, "label": L("审批"), "nodes": nodes}


# variant -> (form, the approvers in order, the BPMN process)
VARIANTS = {"one": ("requests", ["boss"], "approval"), "two": ("requests_two", ["boss", "chief"], "approval_two")}
DEFINITION = {"format_version": 1, "app": {"key": APP, "label": L("审批基准")}, "forms": [
    {"key": form, "label": L(form), "fields": FIELDS, "workflows": [flow("approval", approvers)]}
    for form, approvers, _ in VARIANTS.values()]}

# SpiffWorkflow's side: the record and the serialized workflow, in the same database.
spiff_metadata = sa.MetaData()
spiff_records = sa.Table(
    "bench_spiff_records", spiff_metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("title", sa.Text), sa.Column("amount", sa.Numeric(18, 2)), sa.Column("note", sa.Text),
    sa.Column("created_by", sa.Integer), sa.Column("created_at", sa.DateTime(timezone=True)))
spiff_workflows = sa.Table(
    "bench_spiff_workflows", spiff_metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("record_id", sa.Integer, nullable=False, index=True),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("waiting_for", sa.String(100)),       # the user the ready task waits for (the inbox)
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True)))


class Spiff:
    """SpiffWorkflow as an application would persist it: one row per workflow."""

    def __init__(self, engine, process: str, approvers: list[str], user_ids: dict[str, int]):
        parser = BpmnParser()
        parser.add_bpmn_file(str(BPMN))
        self.engine, self.spec = engine, parser.get_spec(process)
        self.approvers, self.user_ids = approvers, user_ids
        self.serializer = BpmnWorkflowSerializer()
        self.locking = engine.dialect.name == "postgresql"

    def submit(self, values: dict) -> int:
        now = datetime.now(timezone.utc)
        with self.engine.begin() as conn:
            record_id = conn.execute(spiff_records.insert().values(
                **values, created_by=self.user_ids["staff"], created_at=now).returning(spiff_records.c.id)).scalar_one()
            workflow = BpmnWorkflow(self.spec)
            workflow.data["record_id"] = record_id
            workflow.do_engine_steps()
            conn.execute(spiff_workflows.insert().values(
                record_id=record_id, status="running", waiting_for=self.approvers[0],
                state=self.serializer.serialize_json(workflow), updated_at=now))
        return record_id

    def approve(self, record_id: int, step: int, account: str) -> None:
        with self.engine.begin() as conn:
            query = sa.select(spiff_workflows.c.id, spiff_workflows.c.state, spiff_workflows.c.waiting_for).where(
                spiff_workflows.c.record_id == record_id, spiff_workflows.c.status == "running")
            row = conn.execute(query.with_for_update() if self.locking else query).one()
            if row.waiting_for != account:
                raise RuntimeError(f"workflow {row.id} waits for {row.waiting_for}, not {account}")
            workflow = self.serializer.deserialize_json(row.state)
            [task] = workflow.get_tasks(state=TaskState.READY, manual=True)
            task.data.update(decision="approve", approved_by=self.user_ids[account])
            task.run()
            workflow.do_engine_steps()
            done = workflow.is_completed()
            conn.execute(spiff_workflows.update().where(spiff_workflows.c.id == row.id).values(
                status="approved" if done else "running",
                waiting_for=None if done else self.approvers[step + 1],
                state=self.serializer.serialize_json(workflow), updated_at=datetime.now(timezone.utc)))

    def cycle(self, n: int) -> None:
        record_id = self.submit({"title": f"申请 {n}", "amount": n + 1, "note": "差旅"})
        for step, account in enumerate(self.approvers):
            self.approve(record_id, step, account)


class Formwork:
    """The same cycle through the runtime: a session per user, a transaction per step."""

    def __init__(self, engine, form: str, approvers: list[str]):
        with read_connection(engine) as conn:
            self.sessions = {a: Session(engine, actor_for(conn, a)) for a in ["staff", *approvers]}
        self.form, self.approvers = form, approvers

    def submit(self, values: dict) -> int:
        with self.sessions["staff"].write() as uow:
            record, instance = uow.workflows.submit(APP, self.form, values)
        assert instance["status"] == "running", instance
        return record["id"]

    def approve(self, record_id: int, account: str) -> str:
        with self.sessions[account].write() as uow:
            wf = uow.workflows
            [task] = wf.pending_on(APP, self.form, record_id)
            return wf.act(task["id"], "approve")["status"]

    def cycle(self, n: int) -> None:
        record_id = self.submit({"title": f"申请 {n}", "amount": n + 1, "note": "差旅"})
        for account in self.approvers:
            status = self.approve(record_id, account)
        assert status == "approved", status


def make_org(engine) -> dict[str, int]:
    with engine.begin() as conn:
        org = Org(conn)
        return {a: org.users.add(a, a.title()).id for a in ("staff", "boss", "chief")}


def statements(engine, ours: Formwork, base: Spiff) -> tuple[list[int], list[int]]:
    """SQL statements of each action (submit, then each approval) of one cycle."""
    counts = []
    for side in (ours, base):
        found = []
        with Counter(engine) as counter:
            record_id = side.submit({"title": "计数", "amount": 1, "note": ""})
        found.append(counter.count)
        for step, account in enumerate(side.approvers):
            with Counter(engine) as counter:
                side.approve(record_id, account) if side is ours else side.approve(record_id, step, account)
            found.append(counter.count)
        counts.append(found)
    return counts[0], counts[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cycles", type=int, default=300, help="cycles timed on each side, per variant")
    parser.add_argument("--db", default="both", choices=["both", "sqlite", "postgresql"])
    parser.add_argument("--variant", default="both", choices=["both", *VARIANTS])
    args = parser.parse_args()
    variants = list(VARIANTS) if args.variant == "both" else [args.variant]
    for name, engine in databases(args.db):
        apply_app(engine, load_definition(json.dumps(DEFINITION)))
        spiff_metadata.create_all(engine)
        user_ids = make_org(engine)
        print(f"== {name}")
        for variant in variants:
            form, approvers, process = VARIANTS[variant]
            ours, base = Formwork(engine, form, approvers), Spiff(engine, process, approvers, user_ids)
            counter = iter(range(10 ** 9))
            timings = paired(lambda: ours.cycle(next(counter)), lambda: base.cycle(next(counter)),
                             repeat=args.cycles, warmup=5)
            ours_ms, base_ms = statistics.median(timings.ours), statistics.median(timings.base)
            mine, theirs = statements(engine, ours, base)
            steps = " -> ".join(approvers)
            print(f"{variant} (submit -> {steps} -> end), {args.cycles} cycles each, alternately:")
            print(f"  Formwork      {1000 / ours_ms:7.1f} cycles/s (median {ours_ms:.2f} ms; best "
                  f"{min(timings.ours):.2f} ms = {1000 / min(timings.ours):.0f}/s)")
            print(f"  SpiffWorkflow {1000 / base_ms:7.1f} cycles/s (median {base_ms:.2f} ms; best "
                  f"{min(timings.base):.2f} ms = {1000 / min(timings.base):.0f}/s)")
            print(f"  ratio Formwork/SpiffWorkflow {base_ms / ours_ms:.2f}x by the medians, "
                  f"{min(timings.base) / min(timings.ours):.2f}x by the best cycles (above 1: Formwork ahead)")
            print(f"  SQL statements per action (submit, approvals): Formwork {mine}, SpiffWorkflow {theirs}")


if __name__ == "__main__":
    main()
