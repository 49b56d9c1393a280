"""Automation actions per second: the same automation runs (a record created -> two
actions: update the triggering record, create a log record) run by the inline runner
(in the committing process, right after each commit) and through RQ by 2 `formwork
worker` processes, in the same run, on the same database kind. The figure is actions
done per second of wall time, from the first write to the last run logged.

    .venv/bin/python bench/bench_automations.py [--runs 2000] [--batch 50] [--workers 2] [--db postgresql|sqlite|both]

Needs Redis (FORMWORK_BENCH_REDIS_URL, default redis://127.0.0.1:6379/0) for the RQ side.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import redis  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from bench._common import L, databases  # noqa: E402
from engine.storage import system  # noqa: E402
from engine.storage.db import read_connection  # noqa: E402
from engine.validation import load_definition  # noqa: E402
from runtime.apps import apply_app  # noqa: E402
from runtime.session import Session  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = os.environ.get("FORMWORK_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
ACTIONS_PER_RUN = 2

DEFINITION = {
    "format_version": 1, "app": {"key": "bench_auto", "label": L("自动化基准")},
    "forms": [
        {"key": "orders", "label": L("订单"), "fields": [
            {"key": "title", "type": "text", "label": L("标题")},
            {"key": "amount", "type": "number", "label": L("金额"), "precision": 2},
            {"key": "status", "type": "text", "label": L("状态")}]},
        {"key": "audit", "label": L("记录"), "fields": [
            {"key": "note", "type": "text", "label": L("说明")},
            {"key": "amount", "type": "number", "label": L("金额"), "precision": 2}]}],
    "automations": [{
        "key": "on_order", "label": L("新订单"), "form": "orders", "trigger": {"kind": "record_created"},
        "condition": "amount > 0",
        "actions": [{"kind": "update_record", "values": {"status": '"seen"'}},
                    {"kind": "create_record", "form": "audit",
                     "values": {"note": '"order " & title', "amount": "amount * 2"}}]}],
}


def write_orders(engine, runs: int, batch: int) -> None:
    session = Session(engine)
    for start in range(0, runs, batch):
        rows = [{"title": f"o{i}", "amount": i + 1} for i in range(start, min(runs, start + batch))]
        session.write(lambda uow, rows=rows: uow.records("bench_auto").bulk_create("orders", rows))


def runs_logged(engine) -> int:
    with read_connection(engine) as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(system.automation_runs)
                            .where(system.automation_runs.c.status == "done")).scalar()


def reset(engine) -> None:
    with engine.begin() as conn:
        for table in ("bench_auto__audit", "bench_auto__orders"):
            conn.execute(sa.text(f"DELETE FROM {table}"))
        conn.execute(system.automation_runs.delete())
        conn.execute(system.jobs.delete())


def inline(engine, runs: int, batch: int) -> float:
    os.environ.pop("REDIS_URL", None)
    started = time.perf_counter()
    write_orders(engine, runs, batch)
    elapsed = time.perf_counter() - started
    assert runs_logged(engine) == runs, runs_logged(engine)
    return elapsed


def through_rq(engine, url: str, runs: int, batch: int, workers: int) -> float:
    queue = f"formwork-bench-{uuid.uuid4().hex[:8]}"
    env = dict(os.environ, DATABASE_URL=url, REDIS_URL=REDIS_URL, FORMWORK_RQ_QUEUE=queue, PYTHONPATH=str(ROOT))
    code = "import sys; from web.cli import main; sys.exit(main(sys.argv[1:]))"
    procs = [subprocess.Popen([sys.executable, "-c", code, "worker", "--name", f"{queue}-{i}"], env=env, cwd=ROOT)
             for i in range(workers)]
    client = redis.Redis.from_url(REDIS_URL)
    try:
        deadline = time.time() + 60
        while len([w for w in client.smembers("rq:workers") if queue.encode() in w]) < workers:
            if time.time() > deadline:
                raise RuntimeError("the workers did not start")
            time.sleep(0.1)
        os.environ["REDIS_URL"], os.environ["FORMWORK_RQ_QUEUE"] = REDIS_URL, queue
        started = time.perf_counter()
        write_orders(engine, runs, batch)
        while runs_logged(engine) < runs:
            if time.perf_counter() - started > 600:
                raise RuntimeError(f"only {runs_logged(engine)} of {runs} runs after 10 minutes")
            time.sleep(0.02)
        return time.perf_counter() - started
    finally:
        os.environ.pop("REDIS_URL", None)
        os.environ.pop("FORMWORK_RQ_QUEUE", None)
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(30)
        keys = list(client.scan_iter(match=f"rq:*{queue}*", count=1000))
        if keys:
            client.delete(*keys)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=2000, help="automation runs (each does 2 actions)")
    parser.add_argument("--batch", type=int, default=50, help="records created per transaction")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--db", default="postgresql", choices=["both", "sqlite", "postgresql"])
    args = parser.parse_args()
    redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    results = {}
    for name, engine in databases(args.db):
        apply_app(engine, load_definition(json.dumps(DEFINITION)))
        url = engine.url.render_as_string(hide_password=False)
        write_orders(engine, 50, args.batch)           # warm: compile the app, parse the formulas
        reset(engine)
        inline_s = inline(engine, args.runs, args.batch)
        reset(engine)
        rq_s = through_rq(engine, url, args.runs, args.batch, args.workers)
        actions = args.runs * ACTIONS_PER_RUN
        results[name] = (actions / inline_s, actions / rq_s)
        print(f"{name}: {args.runs} runs x {ACTIONS_PER_RUN} actions  inline {actions / inline_s:,.0f} actions/s "
              f"({inline_s:.2f} s)  RQ with {args.workers} workers {actions / rq_s:,.0f} actions/s ({rq_s:.2f} s)  "
              f"RQ/inline {inline_s / rq_s:.2f}x")


if __name__ == "__main__":
    main()
