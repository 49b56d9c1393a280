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
