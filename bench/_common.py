"""Shared helpers for the benchmarks: databases to run on, timing, printing."""
from __future__ import annotations

import os
import statistics
import tempfile
import time
import uuid

import sqlalchemy as sa

from engine.storage.db import make_engine
from engine.storage.migrate import upgrade_system

PG_URL = os.environ.get("FORMWORK_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def databases(which: str = "both"):
    """Yield (name, engine) for a fresh SQLite file and a fresh PostgreSQL schema."""
    if which in ("both", "sqlite"):
        folder = tempfile.mkdtemp(prefix="formwork-bench-")
        engine = make_engine(f"sqlite:///{folder}/bench.db")
        upgrade_system(engine)
        yield "sqlite", engine
        engine.dispose()
    if which in ("both", "postgresql"):
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        admin = sa.create_engine(PG_URL)
        try:
            with admin.begin() as conn:
                conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        except Exception as exc:  # no server: say so and go on
            print(f"!! PostgreSQL not reachable ({exc.__class__.__name__}); skipping it")
            return
        engine = make_engine(f"{PG_URL}?options=-csearch_path%3D{schema}")
        upgrade_system(engine)
        try:
            yield "postgresql", engine
        finally:
            engine.dispose()
            with admin.begin() as conn:
                conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
            admin.dispose()


def median_ms(func, repeat: int = 15, warmup: int = 2) -> float:
    for _ in range(warmup):
        func()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def paired_medians(ours, baseline, repeat: int = 31, warmup: int = 3) -> tuple[float, float]:
    """Median ms of two functions measured alternately, so that noise from other processes
    on a shared machine hits both alike and their ratio stays meaningful."""
    for _ in range(warmup):
        ours(), baseline()
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeat):
        for func, bucket in ((ours, times[0]), (baseline, times[1])):
            start = time.perf_counter()
            func()
            bucket.append((time.perf_counter() - start) * 1000)
    return statistics.median(times[0]), statistics.median(times[1])


class Counter:
    def __init__(self, engine):
        self.engine, self.count = engine, 0

    def _hook(self, *args):
        statement = args[2]
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "BEGIN", "PRAGMA")):
            self.count += 1

    def __enter__(self):
        sa.event.listen(self.engine, "before_cursor_execute", self._hook)
        return self

    def __exit__(self, *exc):
        sa.event.remove(self.engine, "before_cursor_execute", self._hook)
