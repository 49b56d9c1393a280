"""What jobs exist: job kinds (a name and its handler), due sources and built-in cron
schedules, each registered by the runtime module that owns it:

    # runtime/workflow/timeouts.py (say)
    from runtime import jobs

    def remind(ctx, payload):
        ctx.uow.records(payload["app"]).update(...)

    jobs.register("workflow_remind", remind, max_attempts=3)
    jobs.register_due_source("workflow_timeouts", claim_due_timeouts)

The modules that register are named in KIND_MODULES, imported by `load_kinds()` before
anything looks a kind up (enqueueing, running, scheduling), so every process (web,
worker, scheduler, command) knows the same kinds without a hidden import. A module that
registers kinds adds its name to KIND_MODULES.
"""
from __future__ import annotations

import importlib
import threading
from dataclasses import dataclass, field
from typing import Any, Callable

from engine.errors import CodedError, NotFound
from engine.i18n import register_messages
from engine.suggest import did_you_mean

# Every module that registers job kinds, due sources or schedules, in import order.
KIND_MODULES: list[str] = [
    "runtime.jobs.builtin",
    "runtime.workflow.scheduling",
    "runtime.automations.runner",
    "runtime.automations.triggers",
    "runtime.notifications.jobs",
    "runtime.webhooks.deliver",
    "runtime.import_export.runs",
    "runtime.rewards.settle",
    "runtime.referrals.review",
    "runtime.referrals.portal",
]

DEFAULT_MAX_ATTEMPTS = 5
DEFAULT_BACKOFF = 10.0          # seconds before the 2nd attempt; doubled for each next one
MAX_BACKOFF = 3600.0            # a retry waits at most an hour

register_messages({
    "unknown_job_kind": {
        "zh": "没有名为“{kind}”的任务类型；已注册的有：{known}",
        "en": "there is no job kind '{kind}'; the registered kinds are: {known}"},
})


class UnknownJobKind(CodedError, NotFound):
    def __init__(self, kind: str, known: list[str]):
        super().__init__("unknown_job_kind", kind=kind, known=", ".join(sorted(known)) or "-",
                         suggestion=did_you_mean(kind, known))


@dataclass(frozen=True)
class JobKind:
    """A kind of job. `handler(ctx, payload)` does the work (runtime/jobs/context.py).

    - in_transaction (default): the handler runs in the transaction that marks the job
      done (ctx.uow), so what it writes and the job's status commit together: a process
      killed mid-job leaves nothing half done, and the job runs again. Use it for work
      that only writes to the database.
    - in_transaction=False: the handler runs outside any transaction (ctx.uow is None;
      ctx.session opens its own) and the job is marked done afterwards: at least once,
      for work that calls the outside world (webhooks, mail) or commits in parts (a
      recompute), which must then be idempotent itself (a delivery id, a unique key).
    - max_attempts: runs before it is left `failed`; attempt n+1 waits
      backoff * 2**(n-1) seconds (at most MAX_BACKOFF).
    """
    name: str
    handler: Callable[[Any, Any], Any]
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    backoff: float = DEFAULT_BACKOFF
    in_transaction: bool = True

    def delay_after(self, attempt: int) -> float:
        """Seconds to wait before the attempt after `attempt` (1-based)."""
        return min(MAX_BACKOFF, self.backoff * 2 ** max(0, attempt - 1))


@dataclass(frozen=True)
class Schedule:
    """A built-in cron schedule (synced into fw_job_schedules by the scheduler)."""
    name: str
    cron: str
    kind: str
    payload: dict = field(default_factory=dict)


_lock = threading.Lock()
_kinds: dict[str, JobKind] = {}
_due_sources: dict[str, Callable[[Any, Any], int]] = {}
_schedules: dict[str, Schedule] = {}
_loaded = False


def register(name: str, handler: Callable[[Any, Any], Any] | None = None, *,
             max_attempts: int = DEFAULT_MAX_ATTEMPTS, backoff: float = DEFAULT_BACKOFF,
             in_transaction: bool = True):
    """Register job kind `name` with `handler(ctx, payload)`; returns the handler, so it
    also decorates (`@jobs.register("name")`). Registering a name again with another
    handler raises ValueError (two modules claiming one name is a bug)."""
    if handler is None:
        return lambda fn: register(name, fn, max_attempts=max_attempts, backoff=backoff,
                                   in_transaction=in_transaction)
    if max_attempts < 1:
        raise ValueError(f"job kind {name!r}: max_attempts is at least 1, not {max_attempts}")
    kind = JobKind(name, handler, max_attempts, backoff, in_transaction)
    with _lock:
        found = _kinds.get(name)
        if found is not None and found.handler is not handler:
            raise ValueError(f"job kind {name!r} is registered already (by {found.handler.__module__}); "
                             "pick another name")
        _kinds[name] = kind
    return handler


def unregister(name: str) -> None:
    """Forget a kind (tests that register kinds of their own)."""
    with _lock:
        _kinds.pop(name, None)


def register_due_source(name: str, source: Callable[[Any, Any], int]) -> Callable[[Any, Any], int]:
    """Register `source(uow, now) -> int`, called by every scheduler tick in a write
    transaction of its own: it claims the items due at `now` (a workflow timeout, a date
    trigger) so that another scheduler cannot claim them too (an UPDATE ... WHERE the
    item is still unclaimed, or a lease), enqueues their jobs with `uow.enqueue(...,
    key=...)` (a key per item and due time, so a claim made twice still makes one job)
    and returns how many it enqueued."""
    with _lock:
        _due_sources[name] = source
    return source


def unregister_due_source(name: str) -> None:
    with _lock:
        _due_sources.pop(name, None)


def builtin_schedule(name: str, cron: str, kind: str, payload: dict | None = None) -> Schedule:
    """Declare a cron schedule that every installation has (the nightly recompute); the
    scheduler adds it to fw_job_schedules when it is missing (an admin may then disable
    it or change its cron there)."""
    schedule = Schedule(name, cron, kind, dict(payload or {}))
    with _lock:
        _schedules[name] = schedule
    return schedule


def load_kinds() -> None:
    """Import every module of KIND_MODULES (once per process)."""
    global _loaded
    if _loaded:
        return
    for module in KIND_MODULES:
        importlib.import_module(module)
    _loaded = True


def find_kind(name: str) -> JobKind | None:
    load_kinds()
    return _kinds.get(name)


def kind_named(name: str) -> JobKind:
    """The kind called `name`; UnknownJobKind (with a did-you-mean) when there is none."""
    found = find_kind(name)
    if found is None:
        raise UnknownJobKind(name, list(_kinds))
    return found


def kinds() -> dict[str, JobKind]:
    load_kinds()
    return dict(_kinds)


def due_sources() -> dict[str, Callable[[Any, Any], int]]:
    load_kinds()
    return dict(_due_sources)


def builtin_schedules() -> dict[str, Schedule]:
    load_kinds()
    return dict(_schedules)
