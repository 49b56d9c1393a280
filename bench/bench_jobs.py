"""Jobs through the outbox (runtime/jobs): jobs per second through RQ with worker
processes against the inline runner, and the scheduler's lag on many due timers, on
SQLite and PostgreSQL, in the same run.

    .venv/bin/python bench/bench_jobs.py [--jobs 2000] [--timers 10000] [--workers 2]
                                         [--db both|sqlite|postgresql]

- baseline: one-row write transactions per second without any job (what the disk and
  the server allow on this machine).
- inline: N units of work, each enqueueing one job that writes a row (an automation
  action's size); the job runs in-process after each commit. Jobs per second, end to end.
- RQ: the same N units of work with REDIS_URL; `--workers` `formwork worker` processes
  (already started) run the jobs. Jobs per second from the first commit until the last
  job is done, and the rate of the writes alone (commit + hand-over to Redis).
- timers: T jobs due at one moment, run by one `formwork scheduler` loop (inline,
  interval 0.1 s) and, with RQ, handed to the workers; the lag of each job from its
  run_at to its hand-over (dispatched_at: the scheduler's own lag) and to its claim by
  a runner (started_at: with the runners' throughput): median, 95th percentile, max.

Needs Redis at REDIS_URL (default redis://127.0.0.1:6379/0) for the RQ figures; uses a
queue of its own, deleted afterwards.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import databases  # noqa: E402
from runtime import jobs  # noqa: E402
from runtime.jobs import outbox  # noqa: E402
from runtime.jobs.scheduler import run_scheduler  # noqa: E402
from runtime.session import Session  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
BENCH_KIND = "bench.write_row"
effects_metadata = sa.MetaData()
bench_effects = sa.Table("bench_job_effects", effects_metadata,
                         sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
                         sa.Column("job_id", sa.Integer, nullable=False))


def write_row(ctx, payload):
    ctx.uow.conn.execute(bench_effects.insert().values(job_id=ctx.job.id))


jobs.register(BENCH_KIND, write_row)


def enqueue_each(engine, count: int, tag: str) -> None:
    session = Session(engine)
    for n in range(count):
        with session.write() as uow:
            uow.enqueue(BENCH_KIND, {"n": n}, key=f"{tag}:{n}")


def done_count(engine, tag: str) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(outbox._j).where(
            outbox._j.c.key.like(f"{tag}:%"), outbox._j.c.status == "done")).scalar()


def wait_done(engine, tag: str, count: int, timeout: float = 900) -> None:
    deadline = time.monotonic() + timeout
    while done_count(engine, tag) < count:
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {done_count(engine, tag)} of {count} jobs done after {timeout}s")
        time.sleep(0.05)


def start_workers(engine, count: int, queue: str, redis_url: str) -> list[subprocess.Popen]:
    env = dict(os.environ, DATABASE_URL=engine.url.render_as_string(hide_password=False), REDIS_URL=redis_url,
               FORMWORK_RQ_QUEUE=queue, PYTHONPATH=str(REPO))
    code = "import sys, bench.bench_jobs; from web.cli import main; sys.exit(main(sys.argv[1:]))"
    return [subprocess.Popen([sys.executable, "-c", code, "worker", "--name", f"{queue}-{n}"], env=env, cwd=REPO,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for n in range(count)]


def stop(processes) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def plain_commit_rate(engine, count: int) -> float:
    """The baseline: transactions per second that each insert one row and commit, no job."""
    start = time.perf_counter()
    for _ in range(count):
        with engine.begin() as conn:
            conn.execute(bench_effects.insert().values(job_id=0))
    return count / (time.perf_counter() - start)


def inline_rate(engine, count: int) -> float:
    os.environ.pop("REDIS_URL", None)
    tag = f"inline-{uuid.uuid4().hex[:6]}"
    start = time.perf_counter()
    enqueue_each(engine, count, tag)
    elapsed = time.perf_counter() - start
    assert done_count(engine, tag) == count
    return count / elapsed


def rq_rates(engine, count: int, workers: int, redis_url: str) -> tuple[float, float]:
    queue = f"formwork-bench-{uuid.uuid4().hex[:8]}"
    os.environ.update(REDIS_URL=redis_url, FORMWORK_RQ_QUEUE=queue)
    processes = start_workers(engine, workers, queue, redis_url)
    try:
        time.sleep(3)                   # the workers start (imports, connections)
        tag = f"rq-{uuid.uuid4().hex[:6]}"
        start = time.perf_counter()
        enqueue_each(engine, count, tag)
        writes = time.perf_counter() - start
        wait_done(engine, tag, count)
        total = time.perf_counter() - start
    finally:
        stop(processes)
        delete_queue(redis_url, queue)
        os.environ.pop("REDIS_URL", None)
    return count / total, count / writes


def timer_lag(engine, timers: int, redis_url: str | None, workers: int) -> dict[str, float]:
    """Lag (ms) from run_at to the hand-over (dispatched_at: the start of the tick that
    took the job) and to the claim (started_at) of `timers` jobs all due at one moment."""
    processes, queue = [], None
    if redis_url:
        queue = f"formwork-bench-{uuid.uuid4().hex[:8]}"
        os.environ.update(REDIS_URL=redis_url, FORMWORK_RQ_QUEUE=queue)
        processes = start_workers(engine, workers, queue, redis_url)
    else:
        os.environ.pop("REDIS_URL", None)
    tag = f"timer-{uuid.uuid4().hex[:6]}"
    try:
        with Session(engine).write() as uow:
            for n in range(timers):
                uow.enqueue(BENCH_KIND, {"n": n}, key=f"{tag}:{n}", run_at=outbox.utcnow() + timedelta(days=1))
        due = outbox.utcnow() + timedelta(seconds=1)      # all due at one moment, a second from now
        with engine.begin() as conn:
            conn.execute(outbox._j.update().where(outbox._j.c.key.like(f"{tag}:%")).values(run_at=due))
        stop_event = threading.Event()
        scheduler = threading.Thread(target=run_scheduler, args=(engine,), kwargs=dict(interval=0.1, stop=stop_event))
        scheduler.start()
        wait_done(engine, tag, timers)
        stop_event.set()
        scheduler.join()
    finally:
        stop(processes)
        if queue:
            delete_queue(redis_url, queue)
        os.environ.pop("REDIS_URL", None)
    with engine.connect() as conn:
        rows = conn.execute(sa.select(outbox._j.c.run_at, outbox._j.c.dispatched_at, outbox._j.c.started_at)
                            .where(outbox._j.c.key.like(f"{tag}:%"))).all()
    return {"handed over": _spread([(handed - run_at).total_seconds() * 1000 for run_at, handed, _ in rows]),
            "claimed": _spread([(started - run_at).total_seconds() * 1000 for run_at, _, started in rows])}


def _spread(lags: list[float]) -> str:
    lags = sorted(lags)
    return (f"median {statistics.median(lags):,.0f} ms, p95 {lags[int(len(lags) * 0.95)]:,.0f} ms, "
            f"max {lags[-1]:,.0f} ms")


def delete_queue(redis_url: str, queue: str) -> None:
    import redis
    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(match=f"rq:*{queue}*", count=1000))
    for worker in client.smembers("rq:workers"):
        if queue in (client.hget(worker, "queues") or b"").decode():
            keys += [worker, worker + b":executions"]
            client.srem("rq:workers", worker)
    client.srem("rq:queues", f"rq:queue:{queue}")
    if keys:
        client.delete(*keys)


def redis_reachable(url: str) -> bool:
    import redis
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--timers", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--db", default="both", choices=["both", "sqlite", "postgresql"])
    args = parser.parse_args()
    redis_url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    has_redis = redis_reachable(redis_url)
    if not has_redis:
        print(f"!! Redis not reachable at {redis_url}: the RQ figures are skipped")
    for name, engine in databases(args.db):
        effects_metadata.create_all(engine)
        print(f"== {name}")
        plain = plain_commit_rate(engine, min(args.jobs, 500))
        inline = inline_rate(engine, args.jobs)
        print(f"baseline: {plain:,.0f} one-row write transactions/s (no job)")
        print(f"inline runner: {inline:,.0f} jobs/s ({args.jobs:,} writes, each enqueueing one job run after its "
              f"commit); ratio to the baseline {inline / plain:.2f}x (a job is its write + a claim + its own "
              "transaction)")
        if has_redis:
            end_to_end, writes = rq_rates(engine, args.jobs, args.workers, redis_url)
            print(f"RQ, {args.workers} workers: {end_to_end:,.0f} jobs/s end to end; the writes alone "
                  f"(commit + hand-over) {writes:,.0f}/s; ratio RQ/inline {end_to_end / inline:.2f}x")
        lag = timer_lag(engine, args.timers, None, args.workers)
        print(f"scheduler lag, {args.timers:,} timers due at once, run inline by the scheduler: "
              f"due -> handed over {lag['handed over']}; due -> claimed {lag['claimed']}")
        if has_redis and name == "sqlite":
            print("scheduler lag through RQ: not measured on SQLite (one writer at a time: worker processes "
                  "queue for its lock, see the RQ figure above; an embedded installation runs jobs inline)")
        elif has_redis:
            lag = timer_lag(engine, args.timers, redis_url, args.workers)
            print(f"scheduler lag, {args.timers:,} timers, handed to RQ, {args.workers} workers: "
                  f"due -> handed over {lag['handed over']}; due -> claimed {lag['claimed']}")


if __name__ == "__main__":
    main()
