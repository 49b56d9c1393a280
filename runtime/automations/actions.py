"""The action kinds of automations, Budibase style: each is the JSON Schema of its options
(engine/automations/kinds.py, what a builder renders a form from) and a `run(scope,
action) -> dict` that does it in the run's unit of work and says what it did (kept in the
run log). An action that raises fails the run; the run's actions are then rolled back
together (runtime/automations/runner.py).

    ACTIONS["create_record"].schema     # {"type": "object", "properties": {"form": ..., "values": ...}}
    ACTIONS["create_record"].run(scope, action)

Writes go through the record service of the run's unit of work, so they are validated,
permission-checked (the job acts with full access), written to history and raise record
events: the automations those trigger are enqueued one level deeper.
"""
from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from typing import Any, Callable

import sqlalchemy as sa

from engine.automations.kinds import ACTION_KINDS, action_schema
from engine.automations.model import Action
from engine.errors import FormworkError
from engine.storage import system
from runtime.automations.scope import Scope
from runtime.notifications.send import notify
from runtime.webhooks.deliver import enqueue_delivery

BATCH_PAGE = 500            # ids read per page of a batch's filter (the record service's page limit)


@dataclass(frozen=True)
class ActionKind:
    name: str
    schema: dict
    run: Callable[[Scope, Action], dict]


ACTIONS: dict[str, ActionKind] = {}


def action(name: str):
    """Register the run() of action kind `name` (its schema is in engine/automations/kinds.py)."""
    if name not in ACTION_KINDS:
        raise ValueError(f"action kind {name!r} has no schema in engine/automations/kinds.py")

    def register(run):
        ACTIONS[name] = ActionKind(name, action_schema(name), run)
        return run
    return register


def _form(scope: Scope, action: Action) -> str:
    return scope.automation.action_form(action)


@action("create_record")
def create_record(scope: Scope, action: Action) -> dict:
    created = scope.uow.records(scope.app.key).create(_form(scope, action), scope.values(action))
    return {"form": _form(scope, action), "created": created["id"]}


@action("update_record")
def update_record(scope: Scope, action: Action) -> dict:
    record_id = scope.target_id(action)
    updated = scope.uow.records(scope.app.key).update(_form(scope, action), record_id, scope.values(action))
    scope.wrote(_form(scope, action), record_id, updated)
    return {"form": _form(scope, action), "updated": record_id}


@action("upsert_record")
def upsert_record(scope: Scope, action: Action) -> dict:
    form, values = _form(scope, action), scope.values(action)
    records = scope.uow.records(scope.app.key)
    match = {"and": [{"field": key, "op": "eq" if values.get(key) is not None else "empty",
                      **({"value": values[key]} if values.get(key) is not None else {})}
                     for key in action.option("match")]}
    found = records.list(form, filter=match, page_size=2, with_count=False, fields=[]).records
    if len(found) > 1:
        raise FormworkError(f"{action.path}: more than one {form} record matches "
                            f"{ {k: values.get(k) for k in action.option('match')} }; make `match` unique")
    if found:
        scope.wrote(form, found[0]["id"], records.update(form, found[0]["id"], values))
        return {"form": form, "updated": found[0]["id"]}
    return {"form": form, "created": records.create(form, values)["id"]}


@action("delete_record")
def delete_record(scope: Scope, action: Action) -> dict:
    record_id = scope.target_id(action)
    scope.uow.records(scope.app.key).delete(_form(scope, action), [record_id])
    return {"form": _form(scope, action), "deleted": record_id}


@action("update_batch")
def update_batch(scope: Scope, action: Action) -> dict:
    """Every record the filter selects gets the same values (evaluated once, with the
    triggering record): the ids are read a page at a time, then one bulk update of the
    record service (set-based: its statements do not grow with the records)."""
    form, values = _form(scope, action), scope.values(action)
    records = scope.uow.records(scope.app.key)
    ids, cursor = [], None
    while True:
        page = records.list(form, filter=action.option("filter"), page_size=BATCH_PAGE, cursor=cursor,
                            with_count=False, fields=[])
        ids += [r["id"] for r in page.records]
        cursor = page.next_cursor
        if not cursor:
            break
    if ids:
        records.bulk_update(form, [{"id": rid, "changes": values} for rid in ids])
    return {"form": form, "updated": len(ids)}


def start_with_workflows(uow, app_key: str, workflow: str | None, form: str, record_id: int) -> dict:
    """Start `workflow` of `form` on the record through runtime/workflow, as the run's actor."""
    instance = uow.workflows.start(app_key, form, record_id, workflow=workflow)
    return {"instance": instance["id"], "status": instance["status"]}


@action("start_workflow")
def start_workflow(scope: Scope, action: Action) -> dict:
    form = _form(scope, action)
    started = start_with_workflows(scope.uow, scope.app.key, action.option("workflow"), form,
                                   scope.target_id(action))
    return {"workflow": action.option("workflow"), "form": form, **(started or {})}


@action("notify")
def notify_action(scope: Scope, action: Action) -> dict:
    context = template_context(scope)
    return notify(scope.uow, recipients=recipients(scope, action),
                  kind=action.option("category") or scope.automation.key,
                  title=action.option("title"), body=action.option("body"), link=action.option("link"),
                  channels=action.option("channels"), robot=action.option("robot"), context=context,
                  key=f"{scope.payload_key}:{action.path}")


def template_context(scope: Scope) -> dict[str, Any]:
    record = dict(scope.record["fields"]) if scope.record is not None else {}
    if scope.record is not None:
        record["id"] = scope.record["id"]
    return {"record": record, "old": scope.inputs.get("old", {}), "payload": scope.payload,
            "app": {"key": scope.app.key, "label": scope.app.label.zh},
            "automation": {"key": scope.automation.key, "label": scope.automation.label.zh}}


def recipients(scope: Scope, action: Action) -> list[int]:
    """User ids: named accounts, members of named roles, member fields of the record."""
    to = action.option("to") or {}
    conn = scope.uow.conn
    found: list[int] = []
    if to.get("users"):
        found += conn.execute(sa.select(system.users.c.id).where(system.users.c.account.in_(to["users"]))).scalars()
    if to.get("roles"):
        found += conn.execute(sa.select(system.role_members.c.user_id).join(
            system.roles, system.roles.c.id == system.role_members.c.role_id)
            .where(system.roles.c.name.in_(to["roles"]))).scalars()
    for key in to.get("fields") or []:
        value = scope.record["fields"].get(key) if scope.record is not None else None
        found += value if isinstance(value, list) else [value] if value is not None else []
    return list(dict.fromkeys(found))


@action("call_webhook")
def call_webhook(scope: Scope, action: Action) -> dict:
    url = os.environ.get(action.option("url_env"), "").strip()
    if not url:
        return {"skipped": f"{action.option('url_env')} is not set"}
    body = {"event": action.option("event") or scope.automation.key, "app": scope.app.key,
            "form": scope.automation.form, "automation": scope.automation.key,
            "record": scope.record_json(), "payload": scope.payload}
    delivery = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{scope.payload_key}:{action.path}"))
    enqueue_delivery(scope.uow, webhook=f"{scope.app.key}.{scope.automation.key}", url=url,
                     secret_env=action.option("secret_env"), body=body, delivery_id=delivery)
    return {"delivery": delivery}


@action("assign_round_robin")
def assign_round_robin(scope: Scope, action: Action) -> dict:
    """The next member of the department, in account order, takes the record: the turn is
    a row of fw_round_robin moved with one UPDATE, so concurrent runs take different turns."""
    key, record = action.option("field"), scope.record
    if record is None:
        raise FormworkError(f"{action.path}: round robin needs a triggering record")
    if action.option("only_if_empty", True) and record["fields"].get(key) is not None:
        return {"skipped": f"{key} is already set"}
    org = scope.uow.org
    members = org.departments.members(_department(org, action.option("department")),
                                      recursive=bool(action.option("include_subdepartments")))
    if not members:
        raise FormworkError(f"{action.path}: department {action.option('department')!r} has no active member")
    turn = next_turn(scope.uow.conn, f"{scope.app.key}:{scope.automation.key}:{action.option('department')}")
    chosen = members[turn % len(members)]
    updated = scope.uow.records(scope.app.key).update(scope.automation.form, record["id"], {key: chosen.id})
    scope.wrote(scope.automation.form, record["id"], updated)
    return {"assigned": chosen.account, "turn": turn}


def _department(org, name: str):
    ids, unknown = org.departments.lookup([name])
    if name not in ids:
        raise FormworkError(f"there is no department {name!r}" + (f" ({'; '.join(unknown[name])})"
                                                                   if unknown.get(name) else ""))
    return ids[name]


def next_turn(conn: sa.Connection, scope_key: str) -> int:
    """This call's turn (0, 1, 2...) of the rotation `scope_key`."""
    table = system.round_robin
    moved = conn.execute(table.update().where(table.c.scope == scope_key).values(turn=table.c.turn + 1)
                         .returning(table.c.turn)).scalar()
    if moved is None:
        insert = sa.dialects.postgresql.insert if conn.dialect.name == "postgresql" else sa.dialects.sqlite.insert
        conn.execute(insert(table).values(scope=scope_key, turn=0).on_conflict_do_nothing())
        moved = conn.execute(table.update().where(table.c.scope == scope_key).values(turn=table.c.turn + 1)
                             .returning(table.c.turn)).scalar()
    return int(moved) - 1
