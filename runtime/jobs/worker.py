"""The RQ side: `formwork worker` and the function RQ jobs call.

Each RQ job carries only job ids; `perform(*job_ids)` claims each fw_jobs row and runs it
(runtime/jobs/runner.py), so a job put on RQ twice, or picked by two workers, runs once.
It also tops its batch up with jobs handed to RQ whose RQ jobs are still in the queue
(up to 50 in one transaction; runner.run_jobs top_up), so a queue of one-job RQ jobs
costs one commit per fifty jobs, and those RQ jobs then find their rows taken.
The worker is RQ's SimpleWorker: jobs run in the worker process itself (no fork per
job), sharing its database connection pool; run several workers for parallelism.
"""
from __future__ import annotations

import threading

import rq
from sqlalchemy.engine import Engine

from engine.storage.db import database_url, make_engine
from runtime.jobs.config import queue_name
from runtime.jobs.dispatch import redis_client
from runtime.jobs.runner import run_jobs
from runtime.session import Session

_engines: dict[str, Engine] = {}
_lock = threading.Lock()
_worker_engine: Engine | None = None


def perform(*job_ids: int) -> list[str | None]:
    """What an RQ job runs: the fw_jobs rows `job_ids`, one after another, in this
    worker's database; their new statuses (None for one another runner had)."""
    engine = _worker_engine or _engine_for(database_url())
    statuses = run_jobs(engine, list(job_ids), Session(engine).job_session, top_up=True)
    return [statuses[job_id] for job_id in job_ids]


def run_worker(engine: Engine, redis_url: str, *, queue: str | None = None, burst: bool = False,
               name: str | None = None) -> bool:
    """Work the RQ queue (default FORMWORK_RQ_QUEUE or "formwork") until stopped, or with
    `burst` until it is empty. Returns whether any job was run."""
    global _worker_engine
    before, _worker_engine = _worker_engine, engine
    worker = rq.SimpleWorker([rq.Queue(queue or queue_name(), connection=redis_client(redis_url))],
                             connection=redis_client(redis_url), name=name)
    try:
        return worker.work(burst=burst, logging_level="WARNING", with_scheduler=False)
    finally:
        _worker_engine = before


def _engine_for(url: str) -> Engine:
    with _lock:
        engine = _engines.get(url)
        if engine is None:
            engine = _engines[url] = make_engine(url)
        return engine
