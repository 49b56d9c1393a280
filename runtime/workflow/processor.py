"""The interpreter: runs one instance from a node until it pauses at people or ends
(NocoBase's Processor is the model: a row per instance and per task, paused nodes
resumed by an action).

A `Run` holds one instance for the length of one call: it enters nodes one after the
other (automatic ones run at once; human ones create tasks and pause), collects the new
tasks and log rows, and writes them with the instance's new state in a few statements
(`flush`). The state (JSON on the instance row):

    rounds     {node: how many times it was entered}: a task belongs to one round, so
               tasks of an earlier visit (before a return) never count again
    joins      {join: {"expected": n, "arrived": k}} of the parallel splits under way
    trail      the human nodes completed, in order (where `return` may go back to)
    resume_at  {node: node}: after a return that skips the nodes between, where the flow
               jumps back once the node returned to is done
    chosen     {node: [user ids]} the submitter chose
    waiting    {node: n} sub-flows still running for a sub-flow node
"""
from __future__ import annotations

from datetime import datetime, time
from typing import Any, Callable

import sqlalchemy as sa

from engine.computed.env import evaluation_context
from engine.compiled.app import App
from engine.fields.base import ValueContext
from engine.formula import compile_formula, parse
from engine.formula.values import ErrorValue, to_bool
from engine.workflow.model import Node, Workflow
from engine.workflow.nodes import node_type
from runtime.org import Org
from runtime.records import Records
from runtime.workflow import store
from runtime.workflow.approvers import Resolver
from runtime.workflow.errors import WorkflowRefused

# Automated steps other than set_fields: an action name -> fn(run, node) -> dict (what it
# did, logged). The automations of issue #10 register theirs; an unregistered name is
# logged as recorded and not run.
AUTOMATED_ACTIONS: dict[str, Callable[["Run", Node], dict]] = {}

TERMINAL = ("approved", "rejected", "withdrawn", "ended")
DEPARTMENT_TYPES = ("department", "departments")


def register_action(name: str, fn: Callable[["Run", Node], dict]) -> None:
    AUTOMATED_ACTIONS[name] = fn


class Run:
    """`row`: the instance's row; for an instance being started, its values with id None:
    the first flush inserts it (with the state the run reached, so starting costs no
    UPDATE) and gives the new tasks and log rows its id."""

    def __init__(self, service, row, workflow: Workflow, app: App):
        self.service, self.conn, self.now = service, service.conn, service.now()
        self.row, self.workflow, self.app = row, workflow, app      # app: the current installed app
        self.id = row.id
        self.status = row.status
        self.current: list[str] = list(row.current_nodes or [])
        self.state: dict[str, Any] = {"rounds": {}, "joins": {}, "trail": [], "resume_at": {}, "chosen": {},
                                      "waiting": {}, **(row.state or {})}
        self.new_tasks: list[dict] = []
        self.logs: list[dict] = []
        self._record: dict | None = None
        self.saved: dict[str, Any] = {}      # what the last flush wrote on the instance row
        # Open (pending/waiting) tasks exist only at the current human nodes: an instance
        # that ends with none current has none to cancel.
        self.open_at_finish = False
        self.events: list[tuple[str, dict]] = []    # reached a human node, ended: told after the flush
        self.children: list[tuple[str, str, int, str]] = []     # sub-flows to start: (form, workflow, record, node)

    # ---- the record ---------------------------------------------------------------------
    @property
    def form_key(self) -> str:
        return self.row.form_key

    @property
    def record(self) -> dict:
        if self._record is None:
            self._record = self.records().get(self.form_key, self.row.record_id, include_deleted=True)
        return self._record

    @property
    def values(self) -> dict:
        """The record's field values."""
        return self.record["fields"]

    def records(self, actor=None) -> Records:
        return Records(self.conn, self.app, actor=actor, tz=self.service.tz, now=self.service.clock)

    def evaluate(self, text: str) -> Any:
        form = self.app.require_form(self.form_key)
        ctx = ValueContext(tz=self.service.tz, now=self.service.clock, user_id=self.row.started_by)
        types = self.app.form_types(form)
        formula = parse(text)
        inputs = {ref[0]: types[ref[0]].formula_value(self.values.get(ref[0]), ctx)
                  for ref in formula.references if ref[0] in types}
        return compile_formula(formula)(inputs, evaluation_context(ctx))

    # ---- the log ------------------------------------------------------------------------
    def log(self, action: str, node: str | None = None, *, task_id: int | None = None, comment: str | None = None,
            changes: dict | None = None, user_id: Any = "actor") -> None:
        self.logs.append({"instance_id": self.id, "task_id": task_id, "node_key": node,
                          "user_id": self.service.actor.user_id if user_id == "actor" else user_id,
                          "action": action, "comment": comment, "changes": changes, "at": self.now})

    # ---- walking the graph ---------------------------------------------------------------
    def enter(self, *keys: str) -> None:
        todo = list(keys)
        while todo and self.status == "running":
            node = self.workflow.node(todo.pop(0))
            todo.extend(getattr(self, f"_enter_{node.type}")(node))

    def complete(self, key: str) -> None:
        """A human (or waiting) node is done: on to its next node, or back where a return
        that skipped the nodes between came from."""
        if key in self.current:
            self.current.remove(key)
        node = self.workflow.node(key)
        if node_type(node.type).human:
            self.state["trail"].append(key)
        jump = self.state["resume_at"].pop(key, None)
        self.enter(jump or node.next)

    def _round(self, key: str) -> int:
        self.state["rounds"][key] = self.state["rounds"].get(key, 0) + 1
        return self.state["rounds"][key]

    def _enter_start(self, node: Node) -> list[str]:
        self.log("submit", node.key, user_id=self.row.started_by)
        return [node.next]

    def _enter_end(self, node: Node) -> list[str]:
        self.finish("approved", node.key)
        return []

    def finish(self, status: str, node: str | None = None, comment: str | None = None) -> None:
        self.open_at_finish = self.open_at_finish or bool(self.current)
        self.status, self.current = status, []
        self.state["joins"] = {}
        self.log(status if status != "ended" else "end", node, comment=comment,
                 user_id="actor" if status in ("withdrawn", "ended", "rejected") else None)
        self.events.append(("ended", {"outcome": status}))

    def _enter_exclusive(self, node: Node) -> list[str]:
        for branch in node.branches:
            result = self.evaluate(branch.when)
            if type(result) is not ErrorValue and to_bool(result) is True:
                self.log("branch", node.key, changes={"when": branch.when, "next": branch.next}, user_id=None)
                return [branch.next]
        self.log("branch", node.key, changes={"when": "default", "next": node.default}, user_id=None)
        return [node.default]

    def _enter_parallel(self, node: Node) -> list[str]:
        self.state["joins"][node.join] = {"expected": len(node.branches), "arrived": 0}
        return [b.next for b in node.branches]

    def _enter_join(self, node: Node) -> list[str]:
        join = self.state["joins"].get(node.key, {"expected": 1, "arrived": 0})
        join["arrived"] += 1
        if join["arrived"] < join["expected"]:
            self.state["joins"][node.key] = join
            return []
        self.state["joins"].pop(node.key, None)
        return [node.next]

    def _enter_action(self, node: Node) -> list[str]:
        if node.action == "set_fields":
            values = {key: _stored(self.evaluate(text)) for key, text in node.set.items()}
            before = {key: self.values.get(key) for key in values}
            self._record = self.records().update(self.form_key, self.row.record_id, values)
            changes = {k: {"from": _jsonable(before[k]), "to": _jsonable(self.values.get(k))} for k in values
                       if before[k] != self.values.get(k)}
            self.log("set_fields", node.key, changes=changes, user_id=None)
        elif node.action in AUTOMATED_ACTIONS:
            self.log("action", node.key, changes={"action": node.action, "result": AUTOMATED_ACTIONS[node.action](
                self, node)}, user_id=None)
        else:
            self.log("action_recorded", node.key, changes={"action": node.action, "params": node.params,
                                                           "run": False}, user_id=None)
        return [node.next]

    def _enter_subflow(self, node: Node) -> list[str]:
        other = self.app.require_form(node.form)
        table = self.app.tables.form_table(other.key)
        ids = list(self.conn.execute(sa.select(table.c.id).where(
            table.c[node.via] == self.row.record_id, table.c.deleted_at.is_(None)).order_by(table.c.id)).scalars())
        self.children.extend((other.key, node.workflow, record_id, node.key) for record_id in ids)
        self.log("subflow", node.key, changes={"form": other.key, "records": ids}, user_id=None)
        if not node.wait or not ids:
            return [node.next]
        self.state["waiting"][node.key] = len(ids)
        self.current.append(node.key)
        return []

    def child_ended(self, node_key: str) -> None:
        left = self.state["waiting"].get(node_key, 1) - 1
        if left > 0:
            self.state["waiting"][node_key] = left
        else:
            self.state["waiting"].pop(node_key, None)
            self.complete(node_key)

    def _enter_cc(self, node: Node) -> list[str]:
        people = self.resolve(node)
        round_ = self._round(node.key)
        self.new_tasks.extend(self.task_row(node, round_, slot, user, "cc", "cc") for slot, user in enumerate(people))
        self.log("cc", node.key, changes={"users": people}, user_id=None)
        return [node.next]

    def _enter_fill(self, node: Node) -> list[str]:
        return self._enter_human(node, "fill")

    def _enter_approve(self, node: Node) -> list[str]:
        return self._enter_human(node, "approve")

    def _enter_human(self, node: Node, kind: str) -> list[str]:
        people = self.resolve(node)
        if not node.allow_self:
            people = [p for p in people if p != self.row.started_by]
        if not people:
            if node.if_none == "skip":
                self.log("skipped", node.key, comment="no approver found", user_id=None)
                return [node.next]
            if node.if_none == "stop":
                message = node.if_none_message.get(self.service.actor.lang) if node.if_none_message else ""
                self.finish("ended", node.key, comment=message or "no approver found")
                return []
            people = store.admin_ids(self.conn)
            self.log("to_admin", node.key, comment="no approver found: the admins handle it", user_id=None)
        round_ = self._round(node.key)
        sequential = node.mode == "sequential"
        for slot, user in enumerate(people):
            status = "waiting" if sequential and slot > 0 else "pending"
            self.new_tasks.append(self.task_row(node, round_, slot, user, kind, status))
        self.current.append(node.key)
        self.events.append(("node_reached", {"node": node.key}))
        return []

    def resolve(self, node: Node) -> list[int]:
        form = self.app.require_form(self.form_key)
        departments = frozenset(f.key for f in form.fields if f.type in DEPARTMENT_TYPES)
        chosen = {k: list(v) for k, v in self.state["chosen"].items()}
        resolver = Resolver(Org(self.conn, now=self.now), self.values, self.row.started_by, chosen, departments)
        return resolver.people(node.approvers, node.key)

    def task_row(self, node: Node, round_: int, slot: int, user: int | None, kind: str, status: str, **more) -> dict:
        row = {"instance_id": self.id, "node_key": node.key, "round": round_, "kind": kind, "slot": slot,
               "added": None, "parent_task_id": None, "assignee_id": user, "status": status,
               "due_at": self.due(node) if status == "pending" else None, "created_at": self.now}
        row.update(more)
        return row

    def due(self, node: Node) -> datetime | None:
        timeout = node.timeout
        if timeout is None:
            return None
        if timeout.after is not None:
            return self.now + timeout.after
        value = self.values.get(timeout.field)
        if value is None:
            return None
        if isinstance(value, datetime):
            return value
        return datetime.combine(value, time(0), tzinfo=self.service.tz)

    # ---- writing ------------------------------------------------------------------------
    def flush(self) -> None:
        """Write what the run did: the new tasks and log rows, the instance's state (the
        instance itself when it is new); then tell the service's listener its events."""
        values: dict[str, Any] = {"status": self.status, "current_nodes": list(self.current), "state": self.state}
        terminal = self.status in TERMINAL
        if terminal:
            values["ended_at"] = self.now
        new = self.id is None
        if new:
            fresh = {k: v for k, v in vars(self.row).items() if k not in ("id", "version", "ended_at")}
            self.row = store.insert_instance(self.conn, **{**fresh, **values})
            self.id, values = self.row.id, {}
            for row in (*self.new_tasks, *self.logs):
                row["instance_id"] = self.id
        store.insert_tasks(self.conn, self.new_tasks)
        store.insert_log(self.conn, self.logs)
        if terminal and (self.open_at_finish or any(t["status"] in store.OPEN for t in self.new_tasks)):
            store.cancel_open_tasks(self.conn, self.id, self.now)
        if not new:
            store.save_instance(self.conn, self.id, **values)
        self.saved = values
        self.new_tasks, self.logs = [], []
        events, self.events = self.events, []
        for event, details in events:
            self.service.report(self, event, **details)


def _stored(value: Any) -> Any:
    if type(value) is ErrorValue:
        raise WorkflowRefused("wf_formula_error", error=str(value))
    return value


def _jsonable(value: Any) -> Any:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return str(value)

