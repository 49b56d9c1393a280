"""What the job tests share: an effects table a test job writes to (so a test counts how
many times a job's effect happened), the test job kinds, a clock to move, Redis.

The kinds are registered when this module is imported, so a worker subprocess that
imports it (`worker_command`) knows them too.
"""
from __future__ import annotations

import os
import sys
import time
import uuid
import warnings
from datetime import datetime, timedelta, timezone

import pytest
import redis
import sqlalchemy as sa

from engine.storage.db import read_connection
from runtime import jobs
from tests.support.paths import REPO_ROOT

IN_CI = os.environ.get("CI", "").lower() == "true"
REDIS_URL = os.environ.get("FORMWORK_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
CLOSED_PORT_URL = "redis://127.0.0.1:1/0"        # nothing listens there

effects_metadata = sa.MetaData()
effects = sa.Table(
    "test_job_effects", effects_metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("job_id", sa.Integer, nullable=False),
    sa.Column("tag", sa.String(100), nullable=False),
    sa.Column("attempt", sa.Integer, nullable=False),
)

EFFECT = "test.effect"          # writes one effect row in the job's transaction
FLAKY = "test.flaky"            # fails while attempt <= payload["fail_until"]
OUTSIDE = "test.outside"        # in_transaction=False: writes through a session of its own


def effect(ctx, payload):
    """Write an effect row; sleep first on attempt payload["sleep_on"] (the row is then
    written but not committed, so a process killed meanwhile leaves no effect)."""
    ctx.uow.conn.execute(effects.insert().values(job_id=ctx.job.id, tag=payload["tag"], attempt=ctx.attempt))
    if payload.get("sleep_on") == ctx.attempt:
        time.sleep(payload.get("sleep", 60))
    if payload.get("check_table"):      # the data its change committed is visible
        count = ctx.uow.conn.execute(sa.select(sa.func.count()).select_from(sa.table(payload["check_table"])))
        if count.scalar() < 1:
            raise AssertionError("the job ran before the data of its change was committed")


def flaky(ctx, payload):
    if ctx.attempt <= payload.get("fail_until", 10**6):
        raise RuntimeError(f"flaky failure on attempt {ctx.attempt}")
    ctx.uow.conn.execute(effects.insert().values(job_id=ctx.job.id, tag=payload["tag"], attempt=ctx.attempt))


def outside(ctx, payload):
    assert ctx.uow is None
    with ctx.session.write() as uow:
        uow.conn.execute(effects.insert().values(job_id=ctx.job.id, tag=payload["tag"], attempt=ctx.attempt))


jobs.register(EFFECT, effect)
jobs.register(FLAKY, flaky, max_attempts=3, backoff=10.0)
jobs.register(OUTSIDE, outside, in_transaction=False)


def create_effects(engine) -> None:
    effects_metadata.create_all(engine)


def effect_tags(engine) -> list[str]:
    with read_connection(engine) as conn:      # never waits for a writer (SQLite)
        return sorted(conn.execute(sa.select(effects.c.tag)).scalars())


class Clock:
    """A clock for runtime.jobs.outbox.utcnow that moves only when told."""

    def __init__(self, start: datetime | None = None):
        self.now = start or datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


def require_redis() -> None:
    """Skip loudly without Redis; under CI=true a missing Redis fails."""
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError as exc:
        why = f"Redis at {REDIS_URL} is not reachable: {exc}"
        if IN_CI:
            pytest.fail(f"CI=true requires Redis: {why}", pytrace=False)
        warnings.warn(f"SKIPPING Redis tests: {why}")
        pytest.skip(f"SKIPPED LOUDLY: {why}")


def unique_queue() -> str:
    return f"formwork-test-{uuid.uuid4().hex[:10]}"


def delete_queue(name: str) -> None:
    """Remove every key RQ made for queue `name`: the queue, its registries, its jobs and
    their executions (RQ job ids start with the queue's name, runtime/jobs/dispatch.py),
    and the workers that worked it (a killed worker leaves its registration behind)."""
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(match=f"rq:*{name}*", count=1000))
    for worker in client.smembers("rq:workers"):
        if name in (client.hget(worker, "queues") or b"").decode():
            keys += [worker, worker + b":executions"]
            client.srem("rq:workers", worker)
    client.srem("rq:queues", f"rq:queue:{name}")
    if keys:
        client.delete(*keys)


def worker_command(*args: str) -> list[str]:
    """`formwork worker ARGS` in a new Python process that knows the test kinds."""
    code = ("import sys, tests.support.jobs; from web.cli import main; "
            "sys.exit(main(sys.argv[1:]))")
    return [sys.executable, "-c", code, "worker", *args]


def subprocess_env(database_url: str, queue: str, **extra: str) -> dict[str, str]:
    env = dict(os.environ, DATABASE_URL=database_url, REDIS_URL=REDIS_URL, FORMWORK_RQ_QUEUE=queue,
               PYTHONPATH=str(REPO_ROOT), **extra)
    return env
