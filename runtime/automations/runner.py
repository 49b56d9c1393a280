"""The `automation.run` job: one run of one automation.

It reads the triggering record as committed (a deleted one from the recycle bin), builds
the formula inputs (runtime/automations/scope.py), evaluates the condition and, when it
is TRUE, runs the actions in order in the job's unit of work, one level deeper in the
chain (so what they write triggers automations at depth + 1). The actions succeed or
fail together: the first that raises rolls back what the run wrote (a savepoint) and the
others are not run, so running a failed run again is safe. Every run leaves one row of
fw_automation_runs (written before the commit, with the other runs of the same batch of
jobs in one INSERT) (status done, skipped, failed; `stopped` rows are written by the
listener): the trigger, the inputs, each action's result or error, the depth and the
duration. A failed run does not fail its job (the run log holds it; `formwork
automations rerun RUN_ID` runs it again).
"""
from __future__ import annotations

import time
from typing import Any

from engine.errors import FormworkError, NotFound
from engine.storage import system
from runtime import jobs
from runtime.automations.actions import ACTIONS
from runtime.automations.compiled import RUN_KIND, automations_for
from runtime.automations.scope import build_scope
from runtime.jobs.outbox import utcnow
from runtime.records.transactions import atomic_block

DONE, SKIPPED, FAILED, STOPPED = "done", "skipped", "failed", "stopped"


def run_automation(ctx, payload: dict) -> dict:
    started = time.perf_counter()
    uow = ctx.uow
    run = {"app_key": payload["app"], "automation_key": payload["automation"], "trigger": payload["trigger"],
           "record_id": payload.get("record"), "inputs": payload, "actions": [], "depth": payload.get("depth", 0),
           "job_id": ctx.job.id, "rerun_of": payload.get("rerun_of")}
    status, error = _run(uow, payload, ctx.job.key, run["actions"])
    run.update(status=status, error=error, duration_ms=(time.perf_counter() - started) * 1000,
               created_at=utcnow())
    # Written with the other runs of the job's batch, in one statement, before the commit.
    uow.insert_before_commit(system.automation_runs, run)
    return {"status": status}


def _run(uow, payload: dict, run_key: str, results: list[dict]) -> tuple[str, str | None]:
    app = uow.app(payload["app"])
    automation = automations_for(app).by_key.get(payload["automation"])
    if automation is None or not automation.enabled:
        return SKIPPED, f"automation {payload['automation']!r} is no longer an enabled automation of the app"
    record = None
    if payload.get("record") is not None and automation.form:
        try:
            record = uow.records(app.key).get(automation.form, payload["record"], include_deleted=True)
        except NotFound:
            return SKIPPED, f"{automation.form} record #{payload['record']} no longer exists"
    scope = build_scope(uow, app, automation, record, payload, run_key)
    if not scope.condition_holds():
        return SKIPPED, None
    depth, chain = uow.automation_depth, uow.automation_chain
    uow.automation_depth, uow.automation_chain = payload.get("depth", 0) + 1, (*payload.get("chain", ()),
                                                                             automation.key)
    try:
        return _actions(uow, scope, automation, results)
    finally:
        uow.automation_depth, uow.automation_chain = depth, chain


def _actions(uow, scope, automation, results: list[dict]) -> tuple[str, str | None]:
    current = None
    try:
        with atomic_block(uow.conn):        # all or nothing, one savepoint for every write
            for current in automation.actions:
                result = ACTIONS[current.kind].run(scope, current)
                results.append({"kind": current.kind, "status": DONE, "result": _jsonable(result)})
    except Exception as exc:        # the run log says what failed; the job itself is done
        message = describe(exc)
        for earlier in results:
            earlier["status"] = "rolled_back"
        results.append({"kind": current.kind, "status": FAILED, "error": message})
        return FAILED, f"{current.path} ({current.kind}): {message}"
    return DONE, None


def describe(exc: Exception) -> str:
    if isinstance(exc, FormworkError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


jobs.register(RUN_KIND, run_automation, max_attempts=3, backoff=5.0)
