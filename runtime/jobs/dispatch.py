"""Handing committed jobs to a runner: after the unit of work that wrote them commits
(runtime/session.py), and from a drain (the scheduler, `formwork jobs drain`).

- No REDIS_URL: the jobs run here, in this process, after the commit, in transactions
  of their own (runtime/jobs/runner.py run_jobs).
- REDIS_URL: the jobs' ids are put on the RQ queue (one pipeline for all of them, up to
  PER_MESSAGE ids per RQ job) and a `formwork worker` runs them. When Redis cannot be reached the jobs stay queued in the
  database, marked not handed over, and the next drain hands them over; the write that
  made them has committed and is not disturbed. After a failure Redis is not tried
  again for REDIS_RETRY_AFTER seconds, so writes do not each wait for a dead server.

Nothing here raises: an error is logged (logger "formwork.jobs") and left to the drain.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable, Iterable

import redis
import rq
from sqlalchemy.engine import Engine

from runtime.jobs import outbox
from runtime.jobs.config import RQ_FUNCTION, queue_name, redis_url
from runtime.jobs.runner import run_jobs

log = logging.getLogger("formwork.jobs")

REDIS_TIMEOUT = 1.0             # seconds to connect to Redis before giving up on it
REDIS_RETRY_AFTER = 5.0
PER_MESSAGE = 20                # fw_jobs ids per RQ job: a drain's thousand due jobs are 50 RQ jobs

_clients: dict[str, Any] = {}
_down_until: dict[str, float] = {}
_lock = threading.Lock()


def hand_over(engine: Engine, job_ids: Iterable[int], make_session: Callable[[int | None], Any]) -> bool:
    """Run the jobs here or put them on RQ (see the module's docstring); False when Redis
    could not take them (they are left to the next drain). Never raises."""
    ids = list(job_ids)
    if not ids:
        return True
    url = redis_url()
    if url:
        if push(url, ids):
            return True
        _forget_hand_over(engine, ids)
        return False
    try:
        run_jobs(engine, ids, make_session)
    except Exception:               # the database itself failed: the drain runs them later
        log.exception("jobs %s could not be run after the commit; they stay queued", ids)
    return True


def push(url: str, ids: list[int], queue: str | None = None) -> bool:
    """Put the jobs on RQ, up to PER_MESSAGE of them in one RQ job (RQ's own bookkeeping,
    some twenty Redis commands per RQ job, costs more than a small job itself); False when
    Redis cannot be reached (nothing raised)."""
    if time.monotonic() < _down_until.get(url, 0.0):
        return False
    try:
        rq_queue = _queue(url, queue or queue_name())
        # RQ job ids name the queue and the first fw_jobs row; a row handed over again gets a new one.
        rq_queue.enqueue_many([
            rq_queue.prepare_data(RQ_FUNCTION, args=tuple(chunk), result_ttl=0, failure_ttl=86400,
                                  job_id=f"{rq_queue.name}-job-{chunk[0]}-{time.time_ns()}")
            for chunk in (ids[n:n + PER_MESSAGE] for n in range(0, len(ids), PER_MESSAGE))])
        return True
    except Exception as exc:        # redis.ConnectionError, TimeoutError, ...
        _down_until[url] = time.monotonic() + REDIS_RETRY_AFTER
        log.warning("Redis at %s is not reachable (%s: %s); %d job(s) stay queued until a drain",
                    _redacted(url), type(exc).__name__, exc, len(ids))
        return False


def redis_client(url: str):
    """One client (and connection pool) per URL per process."""
    with _lock:
        client = _clients.get(url)
        if client is None:
            client = _clients[url] = redis.Redis.from_url(url, socket_connect_timeout=REDIS_TIMEOUT,
                                                         socket_timeout=10)
        return client


def _queue(url: str, name: str):
    return rq.Queue(name, connection=redis_client(url))


def _forget_hand_over(engine: Engine, ids: list[int]) -> None:
    try:
        with engine.begin() as conn:
            outbox.undispatch(conn, ids)
    except Exception:   # they will be handed over again after outbox redispatch time
        log.exception("could not mark jobs %s as not handed over", ids)


def _redacted(url: str) -> str:
    head, sep, tail = url.rpartition("@")
    return f"redis://***@{tail}" if sep else url

