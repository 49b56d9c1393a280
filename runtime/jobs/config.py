"""Where jobs run: inline in the process that committed them (the embedded default), or
on RQ when REDIS_URL is set (queue FORMWORK_RQ_QUEUE, default "formwork")."""
from __future__ import annotations

import os
import socket
import threading

DEFAULT_QUEUE = "formwork"
RQ_FUNCTION = "runtime.jobs.worker.perform"     # what an RQ job calls with the job's id


DEFAULT_LEASE = 300.0


def lease_seconds() -> float:
    """How long a claimed job is its runner's (FORMWORK_JOB_LEASE seconds, default 300):
    a job still running after that is taken to have lost its runner and is run again, so
    it should exceed the longest job."""
    try:
        return float(os.environ.get("FORMWORK_JOB_LEASE") or DEFAULT_LEASE)
    except ValueError:
        return DEFAULT_LEASE


def redis_url() -> str | None:
    return os.environ.get("REDIS_URL") or None


def queue_name() -> str:
    return os.environ.get("FORMWORK_RQ_QUEUE") or DEFAULT_QUEUE


def runner_name() -> str:
    """Who holds a lease: host, process and thread, so a lease names one runner."""
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"
