"""The unit of work: one transaction for one actor, through which callers reach the
runtime services.

    session = Session(engine, actor_for_request)

    # A write that is run again when the database aborts it for other writers
    # (deadlock, serialization failure: runtime/records/transactions.py):
    order = session.write(lambda uow: uow.records("crm").create("orders", values))

    # A write that is not run again (it prints, or decides itself what to do on failure):
    with session.write() as uow:
        uow.org.users.add("li.lei", "李雷")
        uow.after_commit(lambda: print("added"))

    # Reads: a read-only transaction (engine/storage/db.py read_connection), which never
    # makes a writer wait; a write through it is refused (ReadOnlyTransactionError).
    with session.read() as uow:
        page = uow.records("crm").list("orders")

Which retries: `session.write(work)` runs `work(uow)` in a transaction of its own, and
when the database aborts that transaction for other writers it runs `work` again from
the start, in a new transaction with a new unit of work, up to ATTEMPTS times; so `work`
must only change the database (and register after-commit work). `with session.write()`
runs its block once: an abort is reported as ConcurrentWriteError (safe to try again),
as is a SQLite lock wait that ran out on both forms.

A unit of work gives `uow.records(app_key)` (the record service of the installed app,
compiled once per process by runtime.apps.load_installed, one per unit of work),
`uow.org` (runtime/org), `uow.actor` and `uow.conn`. `uow.after_commit(fn)` runs `fn()`
once the transaction has committed: never after a rollback, and only for the attempt
that committed (the callbacks of an aborted attempt go with it). They run in the order
given; when one raises, the others still run and the first error is raised (the data
stays committed). Work that must not be lost belongs in the outbox instead:

    with session.write() as uow:
        order = uow.records("crm").create("orders", values)
        uow.enqueue("notify_sales", {"order": order.id}, key=f"notify_sales:{order.id}")

`uow.enqueue` writes the job row in this transaction (one INSERT; a key already used is
a no-op), so a rollback takes the job with it and a commit keeps it even if the process
dies next; after the commit the job runs in-process (no REDIS_URL) or goes to RQ, and
its errors are recorded on the job, never raised here (runtime/jobs, docs/jobs.md).
"""
from __future__ import annotations

import time
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Callable, Iterator, Mapping, TypeVar
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from engine.compiled.app import App
from engine.errors import CodedError, ConcurrentWriteError, FormworkError, NotFound
from engine.fields.base import DEFAULT_TZ
from engine.i18n import register_messages
from engine.storage.db import Connections, read_connection
from runtime.actor import Actor, actor_for
from runtime.automations.listener import automation_listener
from runtime.rewards.listener import reward_listener
from runtime.referrals.fraud import fraud_listener
from runtime.automations.triggers import on_workflow_event
from runtime.dashboards import Dashboards, dashboard_listener
from runtime.apps import InstalledStamp, installed_as_seen, load_installed
from runtime.jobs import outbox
from runtime.jobs.dispatch import hand_over
from runtime.jobs.registry import kind_named
from runtime.org import Org, UserRef
from runtime.permissions import FULL_ACCESS, Policy, policy_for
from runtime.records import DEFAULT_LISTENERS, Records
from runtime.referrals.analytics import ReferralAnalytics
from runtime.records.transactions import ATTEMPTS, contention_reason, run_again_on_contention
from runtime.workflow import Workflows

T = TypeVar("T")

register_messages({
    "app_not_installed": {
        "zh": "应用“{app}”尚未安装；请先运行 `formwork apply 文件` 安装它",
        "en": "app '{app}' is not installed; run `formwork apply FILE` first"},
})


class AppNotInstalled(CodedError, NotFound):
    def __init__(self, app_key: str):
        super().__init__("app_not_installed", app=app_key)


class UnitOfWork:
    """One transaction of a session: the services of its actor on one connection."""

    def __init__(self, session: "Session", conn: sa.Connection, *, writable: bool):
        self.session, self.conn, self.writable = session, conn, writable
        self.actor = session.actor
        self._records: dict[str, Records] = {}
        self._installed: dict[str, App | None] = {}
        self._org: Org | None = None
        self._after_commit: list[Callable[[], Any]] = []
        self._jobs: list[int] = []          # handed to a runner once this commits
        self._inserts: list[tuple[sa.Table, dict]] = []     # written just before the commit
        # The chain of automations this unit of work runs the actions of (runtime/automations):
        # 0 for a person or a command; the writes here enqueue automations at this depth.
        self.automation_depth = 0
        self.automation_chain: tuple[str, ...] = ()

    def records(self, app_key: str) -> Records:
        """The record service of an installed app, for this unit of work's actor."""
        found = self._records.get(app_key)
        if found is None:
            app = self.installed(app_key)
            if app is None:
                raise AppNotInstalled(app_key)
            # A write's record events run the fraud checks on new referrals, enqueue the
            # app's automations and reward settlements (after history), and once committed
            # make the dashboards' cached widgets over the forms written stale.
            listeners = (DEFAULT_LISTENERS.then(fraud_listener(self.enqueue), automation_listener(self),
                                                reward_listener(self),
                                                dashboard_listener(self.after_commit))
                         if self.writable else None)
            found = self._records[app_key] = Records(
                self.conn, app, actor=self.actor, policy=self.session.policy,
                tz=self.session.tz, now=self.session.now, listeners=listeners)
        return found

    def installed(self, app_key: str) -> App | None:
        """The compiled installed app, or None: loaded once per unit of work (its records,
        workflows and automations share it), by the version the session was told is
        installed (`seen_installed`, read with who is asking) when it was told one."""
        if app_key not in self._installed:
            seen = self.session.seen_installed
            self._installed[app_key] = (installed_as_seen(self.conn, app_key, seen[app_key])
                                        if app_key in seen else load_installed(self.conn, app_key))
        return self._installed[app_key]

    def dashboards(self, app_key: str) -> Dashboards:
        """The dashboards of an installed app, for this unit of work's actor (runtime/dashboards)."""
        return Dashboards(self.records(app_key))

    def referral_analytics(self, app_key: str) -> ReferralAnalytics:
        """The referral analytics of an installed app, for this unit of work's actor
        (runtime/referrals/analytics.py; NotFound when the app has no programme)."""
        return ReferralAnalytics(self.records(app_key))

    def app(self, app_key: str) -> App:
        """The compiled installed app (what `records(app_key)` works from)."""
        return self.records(app_key).app

    @property
    def workflows(self) -> Workflows:
        """The workflow service for this unit of work's actor (runtime/workflow)."""
        return Workflows(self.conn, self.actor, tz=self.session.tz, now=self.session.now,
                         on_event=self._workflow_event, apps=self.installed)

    def _workflow_event(self, app_key: str, form_key: str, record_id: int, event: str, **details) -> None:
        """A workflow reached a human node or ended: its automations are enqueued here."""
        if self.writable:
            on_workflow_event(self, app_key, form_key, record_id, event, **details)

    @property
    def org(self) -> Org:
        if self._org is None:
            self._org = Org(self.conn, now=self.session.now)
        return self._org

    def after_commit(self, fn: Callable[[], Any]) -> Callable[[], Any]:
        """Run `fn()` after this unit of work commits (returns `fn`, so it decorates)."""
        if not self.writable:
            raise FormworkError("after_commit belongs to a unit of work that writes: a read "
                                "(session.read) never commits anything; open it with session.write")
        self._after_commit.append(fn)
        return fn

    def enqueue(self, kind: str, payload: Any = None, *, key: str | None = None,
                run_at: datetime | None = None, as_actor: bool = False) -> int | None:
        """Write a job of `kind` (registered: runtime/jobs/registry.py) in this
        transaction; after the commit it runs (inline, or on RQ with REDIS_URL), or at
        `run_at` (an aware datetime) from the scheduler. `payload` is JSON. `key` is the
        idempotency key: a job with that key already written makes this a no-op (None is
        returned instead of the new job's id); without one the job is unique. The job acts
        as the system, or with `as_actor` as this unit of work's user."""
        if not self.writable:
            raise FormworkError("enqueue belongs to a unit of work that writes: open it with session.write")
        job_kind = kind_named(kind)
        now = outbox.utcnow()
        due_now = run_at is None or run_at <= now
        job_id = outbox.insert(self.conn, kind, payload, key=key, run_at=run_at, now=now, dispatched=due_now,
                               actor_id=self.actor.user_id if as_actor else None,
                               max_attempts=job_kind.max_attempts)
        if job_id is not None and due_now:
            self._jobs.append(job_id)
        return job_id

    def insert_before_commit(self, table: sa.Table, row: dict) -> None:
        """Insert `row` into `table` in this transaction, just before it commits, with the
        other rows given for that table in one statement (a log row per job of a batch:
        the automation run log). For rows nothing reads back before the commit."""
        if not self.writable:
            raise FormworkError("insert_before_commit belongs to a unit of work that writes")
        self._inserts.append((table, row))

    def _flush_inserts(self) -> None:
        inserts, self._inserts = self._inserts, []
        by_table: dict[sa.Table, list[dict]] = {}
        for table, row in inserts:
            by_table.setdefault(table, []).append(row)
        for table, rows in by_table.items():
            self.conn.execute(table.insert(), rows)

    def hand_over_after_commit(self, job_ids: list[int]) -> None:
        """Give these queued jobs to a runner once this commits (`jobs retry` uses it)."""
        self._jobs.extend(job_ids)

    def _committed(self) -> None:
        """The transaction committed: hand its jobs to a runner, then run the
        after-commit work, each callback once."""
        jobs, self._jobs = self._jobs, []
        hand_over(self.session.engine, jobs, self.session.job_session)   # never raises
        callbacks, self._after_commit = self._after_commit, []
        errors = []
        for fn in callbacks:
            try:
                fn()
            except Exception as exc:     # the others still run; the first error is raised
                errors.append(exc)
        if errors:
            if len(errors) > 1:
                errors[0].add_note(f"{len(errors) - 1} more after-commit callback(s) failed too: "
                                   + "; ".join(repr(e) for e in errors[1:]))
            raise errors[0]


class Session:
    """Opens units of work for one actor (default the system actor: the command line,
    admin tasks, jobs) under one permission policy (runtime/permissions). Without a
    policy given, the actor's: everything for the system (FullAccess, no statement),
    the app's permission sets for a user (ROLE_POLICY, runtime/permissions/roles.py)."""

    def __init__(self, engine: Engine, actor: Actor | None = None, *, policy: Policy | None = None,
                 tz: ZoneInfo = DEFAULT_TZ, now=None, connections: Connections | None = None,
                 seen_installed: Mapping[str, InstalledStamp | None] | None = None):
        """`connections`: where its transactions get their connection (engine/storage/db.py);
        by default a pooled one each, a web request lends its one (OneConnection).
        `seen_installed`: the installed version of apps (None: not installed) as the
        caller read them a moment ago in the same sequence of transactions (a web request,
        with who is asking: runtime/auth/requester.py); its units of work take those
        versions' compiled apps without asking the database again. Only for a short
        sequence: an upgrade committed after that read is seen by the next request (a
        request that upgrades an app itself, runtime.apps.apply_app, and then works from
        it must open its session without them)."""
        self.engine, self.actor = engine, actor or Actor.system()
        self.seen_installed = dict(seen_installed or {})
        self.connections = connections or Connections(engine)
        self.policy = policy or policy_for(self.actor)
        self.tz, self.now = tz, now

    @classmethod
    def for_user(cls, engine: Engine, user: UserRef | None, *, lang: str | None = None,
                 policy: Policy | None = None) -> "Session":
        """A session acting as the user named by id, account or unique name (read from the
        org model in a read transaction of its own), or as the system when `user` is None;
        a user's session runs under the role-based policy unless `policy` says otherwise."""
        if user is None:
            return cls(engine, Actor.system(lang), policy=policy)
        with read_connection(engine) as conn:
            return cls(engine, actor_for(conn, user, lang=lang), policy=policy)

    def job_session(self, actor_id: int | None) -> "Session":
        """The session a job runs through: as the system, or as user `actor_id`, with
        full access (the job was allowed when it was enqueued)."""
        if actor_id is None:
            return Session(self.engine, tz=self.tz)
        return Session.for_user(self.engine, actor_id, policy=FULL_ACCESS)

    # ---- writing --------------------------------------------------------------------
    def write(self, work: Callable[[UnitOfWork], T] | None = None, *, attempts: int = ATTEMPTS,
              sleep: Callable[[float], None] = time.sleep):
        """`write(work)`: `work(uow)` committed, run again on contention; returns its
        result. `write()`: a context manager giving the unit of work, run once."""
        if work is None:
            return self._write_once()

        def attempt() -> tuple[UnitOfWork, T]:
            with self.connections.write() as conn:
                uow = UnitOfWork(self, conn, writable=True)
                result = work(uow)      # its jobs (uow.enqueue) are written in this transaction
                uow._flush_inserts()
            return uow, result
        uow, result = run_again_on_contention(attempt, attempts=attempts, sleep=sleep)
        uow._committed()        # outside the retry: committed work is never run again
        return result

    @contextmanager
    def _write_once(self) -> Iterator[UnitOfWork]:
        try:
            with self.connections.write() as conn:
                uow = UnitOfWork(self, conn, writable=True)
                yield uow
                uow._flush_inserts()
        except sa.exc.DBAPIError as exc:
            reason = contention_reason(exc)
            if reason is None:
                raise
            raise ConcurrentWriteError(1, reason) from exc
        uow._committed()

    # ---- reading --------------------------------------------------------------------
    def read(self, work: Callable[[UnitOfWork], T] | None = None):
        """`read(work)`: `work(uow)` in a read-only transaction, its result returned.
        `read()`: a context manager giving the read-only unit of work."""
        if work is None:
            return self._read_once()
        with self._read_once() as uow:
            return work(uow)

    @contextmanager
    def _read_once(self) -> Iterator[UnitOfWork]:
        with self.connections.read() as conn:
            yield UnitOfWork(self, conn, writable=False)
