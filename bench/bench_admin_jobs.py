"""The admin jobs page on a large outbox: the first page, a deep page (keyset: ?before=)
and the failed filter, with `--rows` done jobs and a few failed ones spread among them,
each page through runtime/jobs/manage.py job_page as the admin view calls it. Prints the
median milliseconds of each page and the statements it sent (one SELECT each).

    .venv/bin/python bench/bench_admin_jobs.py [--rows 200000] [--db both|sqlite|postgresql]
"""
from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402

from bench._common import databases, rows_and_databases  # noqa: E402
from engine.storage import system  # noqa: E402
from runtime.jobs import outbox  # noqa: E402
from runtime.jobs.manage import job_page  # noqa: E402
from runtime.session import Session  # noqa: E402

CHUNK = 10_000
FAILED_EVERY = 5_000


def fill(engine, rows: int) -> None:
    now = outbox.utcnow()
    for start in range(0, rows, CHUNK):
        batch = [{"kind": "automation.run" if n % 3 else "notification.deliver", "payload": {"n": n},
                  "key": f"bench:{n}", "status": outbox.FAILED if n % FAILED_EVERY == 0 else outbox.DONE,
                  "attempts": 1, "max_attempts": 5, "run_at": now, "created_at": now, "finished_at": now,
                  "last_error": "RuntimeError: bench" if n % FAILED_EVERY == 0 else None}
                 for n in range(start, min(rows, start + CHUNK))]
        with engine.begin() as conn:
            conn.execute(system.jobs.insert(), batch)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE fw_jobs")


def timed(engine, **query) -> tuple[float, int]:
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)
    sa.event.listen(engine, "before_cursor_execute", count)
    times = []
    try:
        for _ in range(7):
            statements.clear()
            started = time.perf_counter()
            with Session(engine).read() as uow:
                job_page(uow, **query)
            times.append((time.perf_counter() - started) * 1000)
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    return statistics.median(times), len(statements)


def main() -> None:
    rows, which = rows_and_databases(__doc__.splitlines()[0], 200_000)
    for name, engine in databases(which):
        fill(engine, rows)
        deep = rows // 10          # a page far down: ids below 10% of the table
        for label, query in [("first page", {}), (f"deep page (before={deep})", {"before": deep}),
                             ("failed only", {"status": "failed"}),
                             ("kind notification.deliver, deep", {"kind": "notification.deliver", "before": deep})]:
            ms, selects = timed(engine, **query)
            print(f"{name:<10} {rows:>8} jobs  {label:<36} {ms:8.2f} ms  {selects} SELECT")


if __name__ == "__main__":
    main()
