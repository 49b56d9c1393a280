"""The workflow service: start a flow on a record, act on a task, read the inbox, the log
and the flow of a record.

    wf = Workflows(uow.conn, uow.actor)                 # or uow.workflows
    instance = wf.start("crm", "contracts", record_id)  # the form's `start: submit` workflow
    record, instance = wf.submit("crm", "contracts", values)   # create the record, then start
    wf.start_if_any("crm", "contracts", record_id)       # the form's submit workflow, if it has one
    wf.tasks("pending")                                  # my inbox: pending | done | started | cc
    wf.page("pending", cursor=None, limit=20)            # a keyset page of it: {"items", "next_cursor"}
    wf.offers("crm", "contracts", record_id)             # what I may do on the record's flow now
    wf.act(task_id, "approve", comment="ok")             # see ACTIONS
    wf.act(task_id, "transfer", user=7)                  # a member's user id or account (member_id)
    wf.act(task_id, "approve", changes={"status": "ok"}) # with the fields the node lets edit
    wf.edit(task_id, {"amount": 9000})                   # change fields the node lets edit
    wf.log("crm", "contracts", record_id); wf.flow(instance_id); wf.status_of("crm", "contracts", ids)

Starting is explicit (`start` or `submit`), not a record listener: starting may write the
record (a set_fields step) and listeners must not write records (runtime/records/events.py).

An instance runs on the app version it started on: its workflow is read from that
version's definition (runtime.apps.load_version), the record from the current one.
"""
from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime, timezone
from types import SimpleNamespace
from typing import Any, Callable
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from engine.compiled.app import App
from engine.fields.base import DEFAULT_TZ
from engine.storage import system
from engine.suggest import did_you_mean
from engine.workflow.model import EDITABLE, HIDDEN, REQUIRED, Workflow
from engine.workflow.nodes import node_type
from runtime.actor import Actor
from runtime.apps import load_installed, load_version
from runtime.records import Records
from runtime.workflow import store
from runtime.workflow.approvers import ids_of_accounts, member_id
from runtime.workflow.errors import TaskConflict, WorkflowDenied, WorkflowNotFound, WorkflowRefused
from runtime.workflow.processor import Run

TASK_ACTIONS = ("approve", "reject", "return", "transfer", "add_before", "add_after")
INSTANCE_ACTIONS = ("withdraw", "urge", "end", "reassign")
ACTIONS = TASK_ACTIONS + INSTANCE_ACTIONS
BOXES = ("pending", "done", "started", "cc")

_i, _t, _l, _u = system.workflow_instances, system.workflow_tasks, system.workflow_log, system.users

# Built once (every record page runs it; see runtime/workflow/store.py).
_PENDING_ON = (sa.select(_t.c.id, _t.c.node_key, _t.c.kind, _i.c.id.label("instance_id"))
               .join(_i, _i.c.id == _t.c.instance_id)
               .where(_t.c.assignee_id == sa.bindparam("b_user"), _t.c.status == "pending", _t.c.kind != "cc",
                      _i.c.app_key == sa.bindparam("b_app"), _i.c.form_key == sa.bindparam("b_form"),
                      _i.c.record_id == sa.bindparam("b_record"))
               .order_by(_t.c.id))


class Workflows:
    def __init__(self, conn: sa.Connection, actor: Actor | None = None, *, tz: ZoneInfo = DEFAULT_TZ,
                 now: datetime | None = None, on_event: Callable[..., Any] | None = None,
                 apps: Callable[[str], App | None] | None = None):
        self.conn, self.actor, self.tz, self.clock = conn, actor or Actor.system(), tz, now
        # The installed apps by key: the unit of work's (one load per app and transaction,
        # shared with its records and automations), else loaded once for this service.
        self._load_app = apps or self._load_installed
        self._apps: dict[str, App | None] = {}
        # Told when an instance reaches a human node or ends, in this transaction: the unit
        # of work passes runtime.automations.on_workflow_event (workflow triggers).
        self.on_event = on_event

    def report(self, run, event: str, *, node: str | None = None, outcome: str | None = None) -> None:
        if self.on_event is not None:
            self.on_event(run.app.key, run.form_key, run.row.record_id, event, node=node, outcome=outcome,
                          instance=run.id)

    def now(self) -> datetime:
        return self.clock or datetime.now(timezone.utc)

    # ---- apps and definitions --------------------------------------------------------------
    def _load_installed(self, app_key: str) -> App | None:
        if app_key not in self._apps:
            self._apps[app_key] = load_installed(self.conn, app_key)
        return self._apps[app_key]

    def _app(self, app_key: str) -> App:
        app = self._load_app(app_key)
        if app is None:
            raise WorkflowNotFound("wf_app_not_installed", app=app_key)
        return app

    def _workflow_of(self, row, current: App) -> Workflow:
        app = current if current.version == row.app_version else load_version(self.conn, row.app_key, row.app_version)
        return app.workflows(row.form_key)[row.workflow_key]

    def _run(self, row, current: App | None = None) -> Run:
        current = current or self._app(row.app_key)
        return Run(self, row, self._workflow_of(row, current), current)

    # ---- starting ----------------------------------------------------------------------------
    def submit(self, app_key: str, form_key: str, values: dict, *, workflow: str | None = None,
               chosen: dict[str, list[str]] | None = None) -> tuple[dict, dict]:
        """Create the record as the actor, then start its workflow."""
        app = self._app(app_key)
        record = Records(self.conn, app, actor=self.actor, tz=self.tz, now=self.clock).create(form_key, values)
        return record, self._start_on(app, form_key, record["id"], workflow, chosen, record=record)

    def start(self, app_key: str, form_key: str, record_id: int, *, workflow: str | None = None,
              chosen: dict[str, list[str]] | None = None) -> dict:
        """Start a workflow of the form on one record, as the actor (the submitter).
        `chosen`: for nodes whose approvers are chosen by the submitter, their accounts."""
        return self._start_on(self._app(app_key), form_key, record_id, workflow, chosen)

    def start_if_any(self, app_key: str, form_key: str, record_id: int) -> dict | None:
        """Start the form's `start: submit` workflow on a record just created (the form
        page's submit), or None when the form has none."""
        app = self._app(app_key)
        if not any(w.start_on == "submit" for w in app.workflows(form_key).values()):
            return None
        return self._start_on(app, form_key, record_id, None, None)

    def _start_on(self, app: App, form_key: str, record_id: int, workflow: str | None,
                  chosen: dict[str, list[str]] | None, record: dict | None = None) -> dict:
        app.require_form(form_key)
        flow = self._pick(app, form_key, workflow)
        chosen_ids = {node: ids_of_accounts(self.conn, accounts) for node, accounts in (chosen or {}).items()}
        for node in flow.nodes:
            if any(rule.kind == "chosen" for rule in node.approvers) and not chosen_ids.get(node.key):
                raise WorkflowRefused("wf_choose_approvers", node=node.key)
        return self._start(app, flow, record_id, chosen_ids, parent=None, record=record)

    def _pick(self, app: App, form_key: str, key: str | None) -> Workflow:
        flows = app.workflows(form_key)
        if key is None:
            found = next((w for w in flows.values() if w.start_on == "submit"), None)
            if found is None:
                raise WorkflowNotFound("wf_none_on_form", form=form_key)
            return found
        if key not in flows:
            raise WorkflowNotFound("wf_no_workflow", form=form_key, workflow=key,
                                   suggestion=did_you_mean(key, list(flows)))
        return flows[key]

    def _start(self, app: App, flow: Workflow, record_id: int, chosen: dict, parent: tuple[int, str] | None,
               record: dict | None = None) -> dict:
        """Run a new instance to its first pause, then insert it. `record`: the record as
        its creation gave it back (else it is read)."""
        now = self.now()
        state = {"chosen": chosen, **({"parent_node": parent[1]} if parent else {})}
        row = SimpleNamespace(   # inserted by the run's flush, with the state it reaches
            id=None, app_key=app.key, form_key=flow.form_key, record_id=record_id, workflow_key=flow.key,
            app_version=app.version or 0, status="running", current_nodes=[], state=state,
            parent_id=parent[0] if parent else None, started_by=self.actor.user_id, started_at=now,
            ended_at=None, version=None)
        run = self._run(row, app)
        run._record = record
        run.record      # a missing record is refused before anything runs
        run.enter(flow.start.key)
        return self._finish_run(run)

    def _finish_run(self, run: Run) -> dict:
        """Write the run, start its sub-flows, tell a parent its child ended; the
        instance as it is now."""
        run.flush()
        touched = bool(run.children)        # a sub-flow that ends at once changes this instance again
        for form_key, workflow_key, record_id, node_key in run.children:
            app = self._app(run.row.app_key)
            self._start(app, app.workflows(form_key)[workflow_key], record_id, {}, parent=(run.id, node_key))
        run.children = []
        if run.status in ("approved", "ended", "rejected", "withdrawn") and run.row.parent_id is not None:
            self._child_ended(run)
        return self.instance(run.id) if touched else _instance_dict(run.row, **run.saved)

    def _child_ended(self, run: Run) -> None:
        parent = store.instance(self.conn, run.row.parent_id)
        node = (run.row.state or {}).get("parent_node")
        if parent is None or parent.status != "running" or node is None:
            return
        locked = store.lock_instance(self.conn, parent.id)
        if locked is None:
            return
        parent_run = self._run(locked)
        parent_run.child_ended(node)
        self._finish_run(parent_run)

    # ---- acting -------------------------------------------------------------------------------
    def act(self, task_id: int, action: str, *, comment: str | None = None, to: str | None = None,
            user: int | str | None = None, signature: int | None = None, again: bool = True,
            changes: dict[str, Any] | None = None) -> dict:
        """Do `action` on a task (or on its instance): see ACTIONS. Returns the instance.
        `user`: the person a transfer, an added signer or a reassignment goes to, as a
        member picker's user id or an account (runtime/workflow/approvers.member_id).
        `changes`: fields the node lets the assignee edit, written first (`edit`), in
        the same transaction: a refused action leaves them unwritten."""
        if action not in ACTIONS:
            raise WorkflowRefused("wf_unknown_action", action=action, actions=", ".join(ACTIONS),
                                  suggestion=did_you_mean(action, list(ACTIONS)))
        if changes and action in TASK_ACTIONS:
            self.edit(task_id, changes)
        # The instance is locked first (found through the task, in the same statement), then
        # the task's round is read under the lock: no other action changes it meanwhile.
        locked = store.lock_instance_of_task(self.conn, task_id)
        if locked is None:
            task = store.task_with_instance(self.conn, task_id)
            if task is None:
                raise WorkflowNotFound("wf_task_not_found", task=task_id)
            raise TaskConflict("wf_not_running", instance=task.instance_id, status=task.i_status)
        run = self._run(locked)
        tasks = store.round_of_task(self.conn, task_id)
        task = next(t for t in tasks if t.id == task_id)
        node = run.workflow.node(task.node_key)
        if action in TASK_ACTIONS:
            self._check_task(task, action)
        getattr(self, f"_{action}")(run, task, node, comment=comment, to=to, user=user, signature=signature,
                                    again=again, tasks=tasks)
        return self._finish_run(run)

    def _check_task(self, task, action: str) -> None:
        if task.status != "pending":
            raise TaskConflict("wf_task_handled", task=task.id, status=task.status)
        if task.kind == "cc":
            raise WorkflowRefused("wf_action_not_here", action=action, kind="cc")
        if task.assignee_id != self.actor.user_id and not self.actor.is_system:   # the system: timeouts
            raise WorkflowDenied("wf_not_assignee", task=task.id)

    def _claim(self, task, action: str, comment: str | None, status: str = "done", **more) -> None:
        if not store.claim_task(self.conn, task.id, task.version, status=status, action=action, comment=comment,
                                acted_at=self.now(), acted_by=self.actor.user_id, due_at=None, **more):
            current = self.conn.execute(sa.select(_t.c.status).where(_t.c.id == task.id)).scalar()
            raise TaskConflict("wf_task_handled", task=task.id, status=current)

    def _approve(self, run: Run, task, node, *, comment, signature, tasks, **_) -> None:
        if task.kind == "resubmit":
            self._claim(task, "resubmit", comment)
            run.log("resubmit", task.node_key, task_id=task.id, comment=comment)
            run.complete(task.node_key)
            return
        if self._self_approval(task, run, node):
            raise WorkflowDenied("wf_self_approval", node=node.key)
        if node.signature and signature is None and not self.actor.is_system:    # a timeout cannot sign
            raise WorkflowRefused("wf_signature_needed", node=node.key)
        self._require_fields(run, node)
        self._claim(task, "approve", comment, signature_file_id=signature)
        run.log("approve" if task.kind == "approve" else "fill", node.key, task_id=task.id, comment=comment)
        self._settle(run, node, task, _handled(tasks, task, "approve"))

    def _self_approval(self, task, run: Run, node) -> bool:
        """Approving this task would be approving one's own submission, which the node forbids."""
        return task.assignee_id == run.row.started_by and not node.allow_self and not self.actor.is_system

    def _require_fields(self, run: Run, node) -> None:
        missing = [key for key, access in node.fields.items() if access == REQUIRED
                   and run.values.get(key) in (None, "", [])]
        if missing:
            form = run.app.require_form(run.form_key)
            label = lambda key, lang: form.field(key).label.get(lang) if form.field(key) else key   # noqa: E731
            raise WorkflowRefused("wf_required_fields", fields=", ".join(missing),
                                  labels="、".join(label(k, "zh") for k in missing),
                                  labels_en=", ".join(label(k, "en") for k in missing))

    def _settle(self, run: Run, node, acted, tasks: list) -> None:
        """After a task of a human node was handled: wake the signers waiting on it, then see
        whether the node is done (by its mode), rejected, or goes on to the next approver.
        `tasks`: the tasks of the node's round as they are now (the acted one handled)."""
        wake = [t.id for t in tasks if t.status == "waiting" and t.parent_task_id == acted.id and t.added == "after"]
        if acted.added == "before" and acted.parent_task_id is not None:
            wake += [t.id for t in tasks if t.id == acted.parent_task_id and t.status == "waiting"]
        if wake:
            store.set_task_status(self.conn, wake, "pending", run.now, due={i: run.due(node) for i in wake})
            return
        slots = _slots(tasks)
        approved = sum(1 for s in slots.values() if s == "approved")
        rejected = sum(1 for s in slots.values() if s == "rejected")
        total = len(slots)
        mode = node.mode
        if mode == "any":
            done = approved > 0
        elif mode == "share":
            needed = -(-node.share * total // 100)
            if total - rejected < needed:
                run.finish("rejected", node.key)
                return
            done = approved >= needed
        else:
            done = approved == total
        if done:
            # the node's other open tasks (its tasks are those of this round: a return
            # cancelled those of the earlier ones)
            if any(t.status in store.OPEN and t.id != acted.id for t in tasks):
                store.cancel_open_tasks(self.conn, run.id, run.now, [node.key])
            run.complete(node.key)
        elif mode == "sequential":
            self._next_in_line(run, node, tasks, acted)

    def _next_in_line(self, run: Run, node, tasks, acted) -> None:
        if any(t.status == "pending" and t.id != acted.id for t in tasks):
            return
        waiting = sorted({t.slot for t in tasks if t.status == "waiting" and t.added is None})
        if waiting:
            ids = [t.id for t in tasks if t.slot == waiting[0] and t.status == "waiting" and t.added is None]
            store.set_task_status(self.conn, ids, "pending", run.now, due={i: run.due(node) for i in ids})

    def _reject(self, run: Run, task, node, *, comment, tasks, **_) -> None:
        self._claim(task, "reject", comment)
        if node.mode == "share":
            run.log("reject", node.key, task_id=task.id, comment=comment)
            self._settle(run, node, task, _handled(tasks, task, "reject"))
            return
        run.finish("rejected", node.key, comment=comment)

    @staticmethod
    def _return_targets(run: Run, node) -> list[str]:
        """The earlier human nodes a task of `node` may return to, oldest first."""
        return list(dict.fromkeys(k for k in run.state["trail"] if k != node.key))

    def _return(self, run: Run, task, node, *, comment, to, again, **_) -> None:
        """Back to the previous human node (default), a named earlier node, or the
        submitter (`to="submitter"` or the start node). `again=False`: once that node is
        done, the flow jumps back here and the nodes between are not asked again."""
        start = run.workflow.start.key
        trail = self._return_targets(run, node)
        target = (trail[-1] if trail else start) if to is None else (start if to == "submitter" else to)
        if target != start and target not in trail:
            choices = ", ".join(["submitter", *dict.fromkeys(trail)])
            raise WorkflowRefused("wf_return_target", node=target, choices=choices,
                                  suggestion=did_you_mean(target, trail))
        self._claim(task, "return", comment)
        store.cancel_open_tasks(self.conn, run.id, run.now)
        run.current, run.state["joins"] = [], {}
        if target in run.state["trail"]:
            run.state["trail"] = run.state["trail"][:run.state["trail"].index(target)]
        if not again:
            run.state["resume_at"][target] = node.key
        run.log("return", node.key, task_id=task.id, comment=comment, changes={"to": target, "again": again})
        if target == start:
            round_ = run._round(start)
            run.new_tasks.append(run.task_row(run.workflow.start, round_, 0, run.row.started_by, "resubmit", "pending"))
            run.current.append(start)
        else:
            run.enter(target)

    def _transfer(self, run: Run, task, node, *, comment, user, **_) -> None:
        target = self._user(user, "transfer")
        self._claim(task, "transfer", comment, status="transferred")
        run.new_tasks.append(run.task_row(node, task.round, task.slot, target, task.kind, "pending",
                                          added=task.added, parent_task_id=task.parent_task_id, due_at=task.due_at))
        run.log("transfer", node.key, task_id=task.id, comment=comment, changes={"to": target})

    def _add_before(self, run: Run, task, node, *, comment, user, **_) -> None:
        target = self._user(user, "add_before")
        store.set_task_status(self.conn, [task.id], "waiting", run.now)
        run.new_tasks.append(run.task_row(node, task.round, task.slot, target, task.kind, "pending",
                                          added="before", parent_task_id=task.id))
        run.log("add_before", node.key, task_id=task.id, comment=comment, changes={"user": target})

    def _add_after(self, run: Run, task, node, *, comment, user, **_) -> None:
        target = self._user(user, "add_after")
        run.new_tasks.append(run.task_row(node, task.round, task.slot, target, task.kind, "waiting",
                                          added="after", parent_task_id=task.id))
        run.log("add_after", node.key, task_id=task.id, comment=comment, changes={"user": target})

    def _withdraw(self, run: Run, task, node, *, comment, **_) -> None:
        if not self._is_submitter(run):
            raise WorkflowDenied("wf_withdraw_not_submitter")
        other = store.acted_by_others(self.conn, run.id, run.row.started_by)
        if other is not None:
            names = self.conn.execute(sa.select(_u.c.name).where(_u.c.id == other)).scalar()
            raise WorkflowRefused("wf_withdraw_too_late", who=names or f"#{other}")
        run.finish("withdrawn", comment=comment)

    def _is_submitter(self, run: Run) -> bool:
        return self.actor.user_id is not None and self.actor.user_id == run.row.started_by

    def _urge(self, run: Run, task, node, *, comment, **_) -> None:
        people = store.urge(self.conn, run.id, run.now)
        run.log("urge", None, task_id=task.id, comment=comment, changes={"users": people})

    def _end(self, run: Run, task, node, *, comment, **_) -> None:
        self._admin("end")
        run.finish("ended", comment=comment)

    def _reassign(self, run: Run, task, node, *, comment, user, **_) -> None:
        self._admin("reassign")
        if task.status != "pending":
            raise TaskConflict("wf_task_handled", task=task.id, status=task.status)
        target = self._user(user, "reassign")
        self._claim(task, "reassign", comment, status="transferred")
        run.new_tasks.append(run.task_row(node, task.round, task.slot, target, task.kind, "pending",
                                          added=task.added, parent_task_id=task.parent_task_id, due_at=task.due_at))
        run.log("reassign", node.key, task_id=task.id, comment=comment,
                changes={"from": task.assignee_id, "to": target})

    def _admin(self, action: str) -> None:
        if not self.actor.is_admin:
            raise WorkflowDenied("wf_admin_only", action=action)

    def _user(self, member: int | str | None, action: str) -> int:
        return member_id(self.conn, member, action)

    # ---- what the actor may do ------------------------------------------------------------------
    def offers(self, app_key: str, form_key: str, record_id: int) -> list[dict]:
        """What the actor may do on the record's running workflow, by the same rules `act`
        applies, for a page to offer: one entry per task to act on, each {"task_id",
        "node_key", "kind", "assignee_id", "mine", "actions", "return_to", "signature",
        "fields"} ("fields": the fields the node lets this assignee edit, editable or
        required, to be sent with the action as `changes`; a return may always say
        `again=False`, back to this node once the one returned to is done).
        The actor's own pending tasks (approve, reject, return, transfer, add a signer;
        approve left out where it would be a forbidden self-approval; a returned
        submitter's task: resubmit), the submitter's withdraw (while nobody else has
        acted) and urge, an admin's end and reassign (of every pending task)."""
        latest = self.conn.execute(sa.select(_i).where(
            _i.c.app_key == app_key, _i.c.form_key == form_key, _i.c.record_id == record_id)
            .order_by(_i.c.id.desc()).limit(1)).first()
        if latest is None or latest.status != store.RUNNING:
            return []
        run = self._run(latest)
        tasks = self.conn.execute(sa.select(_t).where(_t.c.instance_id == latest.id, _t.c.status == "pending",
                                                      _t.c.kind != "cc").order_by(_t.c.id)).all()
        offers = []
        for task in tasks:
            node = run.workflow.node(task.node_key)
            mine = task.assignee_id == self.actor.user_id and self.actor.user_id is not None
            actions: list[str] = []
            if mine and task.kind == "resubmit":
                actions.append("approve")
            elif mine:
                actions += [a for a in TASK_ACTIONS if a != "approve" or not self._self_approval(task, run, node)]
            if self.actor.is_admin:
                actions.append("reassign")
            if actions:
                offers.append({"task_id": task.id, "node_key": task.node_key, "kind": task.kind,
                               "assignee_id": task.assignee_id, "mine": mine, "actions": actions,
                               "return_to": ["submitter", *self._return_targets(run, node)] if "return" in actions
                               else [], "signature": bool(node.signature) and "approve" in actions
                               and task.kind != "resubmit",
                               "fields": {k: a for k, a in node.fields.items() if a in (EDITABLE, REQUIRED)}
                               if mine and task.kind != "resubmit" else {}})
        instance_actions = []
        if self._is_submitter(run):
            if store.acted_by_others(self.conn, run.id, run.row.started_by) is None:
                instance_actions.append("withdraw")
            if tasks:
                instance_actions.append("urge")
        if self.actor.is_admin:
            instance_actions.append("end")
        any_task = tasks[0].id if tasks else self.conn.execute(
            sa.select(sa.func.max(_t.c.id)).where(_t.c.instance_id == latest.id)).scalar()
        if instance_actions and any_task is not None:
            offers.append({"task_id": any_task, "node_key": None, "kind": "instance", "assignee_id": None,
                           "mine": False, "actions": instance_actions, "return_to": [], "signature": False,
                           "fields": {}})
        others = {o["assignee_id"] for o in offers if not o["mine"] and o["assignee_id"] is not None}
        names = dict(self.conn.execute(sa.select(_u.c.id, _u.c.name).where(_u.c.id.in_(others))).all()) \
            if others else {}
        for offer in offers:
            offer["assignee_name"] = names.get(offer["assignee_id"]) if not offer["mine"] else self.actor.name
        return offers

    # ---- editing the record through a task ------------------------------------------------------
    def field_access(self, task_id: int) -> dict[str, str]:
        """The permission of every field of the record at the task's node: hidden, visible,
        editable or required (unlisted fields are visible)."""
        task, run = self._task_run(task_id)
        node = run.workflow.node(task.node_key)
        form = run.app.require_form(run.form_key)
        return {f.key: node.fields.get(f.key, "visible") for f in form.fields}

    def task_record(self, task_id: int) -> dict:
        """The record as the task's assignee sees it at the node: hidden fields left out."""
        access = self.field_access(task_id)
        task, run = self._task_run(task_id)
        return {k: v for k, v in run.values.items() if access.get(k) != HIDDEN}

    def edit(self, task_id: int, changes: dict[str, Any]) -> dict:
        """Change the record through a pending task: only the fields the node makes editable
        or required; as the actor, logged with the changes."""
        task, run = self._task_run(task_id)
        self._check_task(task, "edit")
        node = run.workflow.node(task.node_key)
        for key in changes:
            if node.fields.get(key) not in (EDITABLE, REQUIRED):
                raise WorkflowDenied("wf_field_not_editable", field=key, node=node.key)
        before = dict(run.values)
        after = run.records(actor=self.actor).update(run.form_key, run.row.record_id, changes)["fields"]
        diff = {k: {"from": _plain(before.get(k)), "to": _plain(after.get(k))} for k in changes
                if before.get(k) != after.get(k)}
        run.log("edit", node.key, task_id=task.id, changes=diff)
        store.insert_log(self.conn, run.logs)
        return {k: v for k, v in after.items() if node.fields.get(k, "visible") != HIDDEN}

    def _task_run(self, task_id: int):
        task = store.task_with_instance(self.conn, task_id)
        if task is None:
            raise WorkflowNotFound("wf_task_not_found", task=task_id)
        return task, self._run(store.instance_of(task))

    # ---- reading --------------------------------------------------------------------------------
    def instance(self, instance_id: int) -> dict:
        row = store.instance(self.conn, instance_id)
        if row is None:
            raise WorkflowNotFound("wf_instance_not_found", instance=instance_id)
        return _instance_dict(row)

    def tasks(self, box: str = "pending", *, user_id: int | None = None, limit: int = 100) -> list[dict]:
        """The actor's inbox (待办 pending / 已办 done / 我发起的 started / 抄送我的 cc), newest
        first, each with its instance, workflow and record: one query."""
        user_id = self.actor.user_id if user_id is None else user_id
        if box not in BOXES:
            raise WorkflowRefused("wf_unknown_action", action=box, actions=", ".join(BOXES),
                                  suggestion=did_you_mean(box, list(BOXES)))
        cols = [_t.c.id, _t.c.node_key, _t.c.kind, _t.c.status, _t.c.action, _t.c.comment, _t.c.due_at,
                _t.c.created_at, _t.c.acted_at, _t.c.assignee_id, _i.c.id.label("instance_id"), _i.c.app_key,
                _i.c.form_key, _i.c.record_id, _i.c.workflow_key, _i.c.status.label("instance_status"),
                _i.c.started_by, _i.c.started_at]
        if box == "started":
            query = sa.select(_i.c.id.label("instance_id"), _i.c.app_key, _i.c.form_key, _i.c.record_id,
                              _i.c.workflow_key, _i.c.status.label("instance_status"), _i.c.current_nodes,
                              _i.c.started_by, _i.c.started_at, _i.c.ended_at) \
                .where(_i.c.started_by == user_id).order_by(_i.c.id.desc())
            rows = self.conn.execute(query.limit(limit)).all()
            return [dict(r._mapping) for r in rows]
        query = sa.select(*cols).join(_i, _i.c.id == _t.c.instance_id).where(_t.c.assignee_id == user_id)
        query = query.where({"pending": _t.c.status == "pending",
                             "done": _t.c.status.in_(("done", "transferred")) & (_t.c.kind != "cc"),
                             "cc": _t.c.kind == "cc"}[box])
        rows = self.conn.execute(query.order_by(_t.c.id.desc()).limit(limit)).all()
        return [dict(r._mapping) for r in rows]

    def page(self, box: str = "pending", *, cursor: str | None = None, limit: int = 20) -> dict:
        """One page of the actor's inbox, newest first, keyset paged by (created time, id)
        (a task's; an instance's start for `started`), never OFFSET: {"items": rows as
        `tasks` gives them, "next_cursor": the page after, or None}. One query."""
        if box not in BOXES:
            raise WorkflowRefused("wf_unknown_action", action=box, actions=", ".join(BOXES),
                                  suggestion=did_you_mean(box, list(BOXES)))
        limit = max(1, min(int(limit), 100))
        user_id = self.actor.user_id
        if box == "started":
            at, key = _i.c.started_at, _i.c.id
            query = sa.select(_i.c.id.label("instance_id"), _i.c.app_key, _i.c.form_key, _i.c.record_id,
                              _i.c.workflow_key, _i.c.status.label("instance_status"), _i.c.current_nodes,
                              _i.c.started_by, _i.c.started_at, _i.c.ended_at).where(_i.c.started_by == user_id)
        else:
            at, key = _t.c.created_at, _t.c.id
            query = sa.select(*_TASK_COLUMNS).join(_i, _i.c.id == _t.c.instance_id) \
                .where(_t.c.assignee_id == user_id, _BOX_FILTERS[box])
        if cursor:
            after_at, after_id = decode_inbox_cursor(cursor)
            query = query.where(sa.or_(at < after_at, sa.and_(at == after_at, key < after_id)))
        rows = [dict(r._mapping) for r in self.conn.execute(query.order_by(at.desc(), key.desc())
                                                            .limit(limit + 1)).all()]
        more, rows = len(rows) > limit, rows[:limit]
        last = rows[-1] if rows else None
        next_cursor = None
        if more and last is not None:
            next_cursor = encode_inbox_cursor(last["started_at" if box == "started" else "created_at"],
                                              last["instance_id" if box == "started" else "id"])
        return {"items": rows, "next_cursor": next_cursor}

    def pending_count(self) -> int:
        """How many tasks wait for the actor (the inbox badge): one query."""
        return self.conn.execute(sa.select(sa.func.count()).select_from(_t).where(
            _t.c.assignee_id == self.actor.user_id, _t.c.status == "pending")).scalar()

    def pending_on(self, app_key: str, form_key: str, record_id: int) -> list[dict]:
        """The actor's pending tasks on one record (what its page offers to act on): one query."""
        rows = self.conn.execute(_PENDING_ON, {"b_user": self.actor.user_id, "b_app": app_key, "b_form": form_key,
                                               "b_record": record_id}).all()
        return [dict(r._mapping) for r in rows]

    def log(self, app_key: str, form_key: str, record_id: int) -> list[dict]:
        """Every action on the record's workflows, oldest first, with who did it: one query."""
        query = (sa.select(_l.c.instance_id, _l.c.task_id, _l.c.node_key, _l.c.action, _l.c.comment, _l.c.changes,
                           _l.c.at, _l.c.user_id, _u.c.account, _u.c.name)
                 .join(_i, _i.c.id == _l.c.instance_id).outerjoin(_u, _u.c.id == _l.c.user_id)
                 .where(_i.c.app_key == app_key, _i.c.form_key == form_key, _i.c.record_id == record_id)
                 .order_by(_l.c.id))
        return [dict(r._mapping) for r in self.conn.execute(query).all()]

    def status_of(self, app_key: str, form_key: str, record_ids: list[int]) -> dict[int, str]:
        """The workflow status of records (of their latest instance), for a list or a record
        page: one query. Records without an instance are left out."""
        latest = (sa.select(sa.func.max(_i.c.id)).where(_i.c.app_key == app_key, _i.c.form_key == form_key,
                                                        _i.c.record_id.in_(record_ids))
                  .group_by(_i.c.record_id).scalar_subquery())
        rows = self.conn.execute(sa.select(_i.c.record_id, _i.c.status).where(_i.c.id.in_(latest))).all()
        return {r.record_id: r.status for r in rows}

    def instances_of(self, app_key: str, form_key: str, record_id: int) -> list[dict]:
        rows = self.conn.execute(sa.select(_i).where(_i.c.app_key == app_key, _i.c.form_key == form_key,
                                                     _i.c.record_id == record_id).order_by(_i.c.id)).all()
        return [_instance_dict(r) for r in rows]

    def flow(self, instance_id: int) -> dict:
        """The instance's flow for a page to draw: nodes (key, type, label, state: done,
        current or ahead), edges (from, to, label), the current nodes."""
        row = store.instance(self.conn, instance_id)
        if row is None:
            raise WorkflowNotFound("wf_instance_not_found", instance=instance_id)
        workflow = self._workflow_of(row, self._app(row.app_key))
        visited = set((row.state or {}).get("rounds", {})) | set((row.state or {}).get("trail", []))
        entered = set(self.conn.execute(sa.select(_l.c.node_key).where(_l.c.instance_id == instance_id)
                                        .distinct()).scalars())
        current = list(row.current_nodes or [])
        nodes = [{"key": n.key, "type": n.type, "label": n.label.as_dict(), "human": node_type(n.type).human,
                  "state": "current" if n.key in current else "done" if n.key in visited | entered else "ahead"}
                 for n in workflow.nodes]
        return {"instance": _instance_dict(row), "workflow": workflow.key, "label": workflow.label.as_dict(),
                "nodes": nodes, "edges": [{"from": a, "to": b, "label": c} for a, b, c in workflow.edges()],
                "current": current}


_TASK_COLUMNS = [_t.c.id, _t.c.node_key, _t.c.kind, _t.c.status, _t.c.action, _t.c.comment, _t.c.due_at,
                 _t.c.created_at, _t.c.acted_at, _t.c.assignee_id, _i.c.id.label("instance_id"), _i.c.app_key,
                 _i.c.form_key, _i.c.record_id, _i.c.workflow_key, _i.c.status.label("instance_status"),
                 _i.c.started_by, _i.c.started_at]
_BOX_FILTERS = {"pending": _t.c.status == "pending",
                "done": _t.c.status.in_(("done", "transferred")) & (_t.c.kind != "cc"),
                "cc": _t.c.kind == "cc"}


def encode_inbox_cursor(at: datetime, row_id: int) -> str:
    raw = json.dumps([at.isoformat(), int(row_id)], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_inbox_cursor(cursor: str) -> tuple[datetime, int]:
    """The (time, id) an inbox page ends at; a cursor that is not one is refused."""
    try:
        at, row_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        found = datetime.fromisoformat(at)
        if not isinstance(row_id, int) or isinstance(row_id, bool):
            raise ValueError(row_id)
    except (ValueError, TypeError, UnicodeDecodeError, binascii.Error):
        raise WorkflowRefused("wf_bad_cursor") from None
    return (found if found.tzinfo else found.replace(tzinfo=timezone.utc)), row_id


def _handled(tasks: list, acted, action: str) -> list:
    """The round's tasks as read under the instance's lock, with `acted` as its claim
    left it (done, with its action): what a read after the claim would give."""
    done = SimpleNamespace(**{**acted._mapping, "status": "done", "action": action, "version": acted.version + 1})
    return [done if t.id == acted.id else t for t in tasks]


def _slots(tasks) -> dict[int, str]:
    """approved / rejected / open per approver slot of a node's round."""
    out: dict[int, str] = {}
    for slot in sorted({t.slot for t in tasks if t.kind != "cc"}):
        mine = [t for t in tasks if t.slot == slot]
        actions = {t.action for t in mine if t.status == "done"}
        if "reject" in actions:
            out[slot] = "rejected"
        elif any(t.status in store.OPEN for t in mine) or not actions:
            out[slot] = "open"
        else:
            out[slot] = "approved"
    return out


def _plain(value: Any) -> Any:
    return value if isinstance(value, (str, int, float, bool, type(None))) else str(value)


def _instance_dict(row, **saved) -> dict:
    """An instance for callers; `saved`: columns just written over the row's."""
    values = {**row._mapping, **saved} if hasattr(row, "_mapping") else {**vars(row), **saved}
    return {"id": values["id"], "app": values["app_key"], "form": values["form_key"], "record_id": values["record_id"],
            "workflow": values["workflow_key"], "app_version": values["app_version"], "status": values["status"],
            "current_nodes": list(values["current_nodes"] or []), "started_by": values["started_by"],
            "started_at": values["started_at"], "ended_at": values["ended_at"]}
