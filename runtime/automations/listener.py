"""Record events -> automation jobs, in the write's own transaction.

`automation_listener(uow)` is a record listener (runtime/records/events.py) of every
unit of work that writes (runtime/session.py attaches it after history). For each record
of a created, updated or deleted event it enqueues one `automation.run` job per enabled
automation of that form and trigger, keyed by automation, event and record version, so
the same change never runs an automation twice. An update only carries the fields whose
value changed, and an update that changes nothing raises no event: it triggers nothing.
A record_updated trigger with `fields` runs only when one of them is among the changed.

The job's payload carries the fields' old values (as formula values in JSON: the
condition's `old.*`) and the chain depth: the depth of the unit of work writing (0 for a
person or a command, n + 1 inside the actions of a depth-n run). A run that would go past
MAX_DEPTH is not enqueued: a `stopped` run is logged instead, naming the chain.
"""
from __future__ import annotations

from typing import Any

from engine.fields.base import ValueContext
from engine.formula import to_json
from engine.storage import system
from runtime.automations.compiled import MAX_DEPTH, RUN_KIND, automations_for
from runtime.jobs.outbox import utcnow
from runtime.records.events import Batch, EventKind, RecordChange, RecordEvent

TRIGGER_OF_EVENT = {EventKind.CREATED: "record_created", EventKind.UPDATED: "record_updated",
                    EventKind.DELETED: "record_deleted"}


def automation_listener(uow):
    """The listener enqueueing the automations of `uow`'s writes."""

    def listen(batch: Batch) -> None:
        automations = automations_for(batch.app)
        if not automations.by_trigger:
            return
        for event in batch.events:
            trigger = TRIGGER_OF_EVENT.get(event.kind)
            if trigger is None:
                continue
            for automation in automations.triggered(event.form_key, trigger):
                for change in event.changes:
                    if _watched(automation, change):
                        enqueue_run(uow, batch.app, automation, trigger, change.record_id,
                                    key=f"{change.version}", old=_old_values(batch.app, event, change))
    return listen


def _watched(automation, change: RecordChange) -> bool:
    fields = automation.trigger.option("fields")
    return not fields or any(key in change.new for key in fields)


def _old_values(app, event: RecordEvent, change: RecordChange) -> dict[str, Any]:
    if event.kind is not EventKind.UPDATED:
        return {}
    form = app.require_form(event.form_key)
    ctx = ValueContext()
    old = {}
    for key, value in change.old.items():
        fdef = form.field(key)
        if fdef is not None:
            try:
                old[key] = to_json(app.types.of(fdef).formula_value(value, ctx))
            except Exception:       # a value no formula reads (a subform): old.* cannot name it
                continue
    return old


def enqueue_run(uow, app, automation, trigger: str, record_id: int | None, *, key: str,
                old: dict | None = None, payload: dict | None = None, as_actor: bool = False,
                extra: dict | None = None) -> int | None:
    """Enqueue one run of `automation` (or log it stopped past MAX_DEPTH). `key` makes the
    job's idempotency key unique per triggering occurrence."""
    depth = uow.automation_depth
    inputs = {"app": app.key, "automation": automation.key, "trigger": trigger, "record": record_id,
              "old": old or {}, "payload": payload, "depth": depth,
              "chain": list(uow.automation_chain), **(extra or {})}
    if depth >= MAX_DEPTH:
        log_stopped(uow.conn, inputs, uow.automation_chain)
        return None
    return uow.enqueue(RUN_KIND, inputs, as_actor=as_actor,
                       key=f"automation:{app.key}:{automation.key}:{trigger}:{record_id}:{key}")


def log_stopped(conn, inputs: dict, chain: tuple[str, ...]) -> None:
    path = " -> ".join([*chain, inputs["automation"]])
    conn.execute(system.automation_runs.insert().values(
        app_key=inputs["app"], automation_key=inputs["automation"], trigger=inputs["trigger"],
        record_id=inputs["record"], inputs=inputs, actions=[], status="stopped", depth=inputs["depth"],
        error=f"stopped: the chain of automations reached the depth limit of {MAX_DEPTH} ({path}); an "
              "automation's actions keep triggering automations, probably in a loop: give one of them a "
              "condition or a `fields` list that the other's writes do not meet",
        created_at=utcnow()))
