"""Shared helpers for the benchmarks: databases to run on, timing, printing."""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
import uuid
from dataclasses import dataclass, field

import sqlalchemy as sa

from engine.storage.db import make_engine
from engine.storage.system_upgrade import upgrade_system

PG_URL = os.environ.get("FORMWORK_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def L(text: str) -> dict:
    """A label in both languages (benchmark apps need no translation)."""
    return {"zh": text, "en": text}


def rows_and_databases(description: str, default_rows: int) -> tuple[int, str]:
    """The command line every record benchmark takes: --rows N and --db both|sqlite|postgresql."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--rows", type=int, default=default_rows)
    parser.add_argument("--db", default="both", choices=["both", "sqlite", "postgresql"])
    args = parser.parse_args()
    return args.rows, args.db


def databases(which: str = "both"):
    """Yield (name, engine) for a fresh SQLite file and a fresh PostgreSQL schema."""
    if which in ("both", "sqlite"):
        folder = tempfile.mkdtemp(prefix="formwork-bench-")
        engine = make_engine(f"sqlite:///{folder}/bench.db")
        try:
            upgrade_system(engine)
            yield "sqlite", engine
        finally:   # a million-record database is hundreds of megabytes
            engine.dispose()
            shutil.rmtree(folder, ignore_errors=True)
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


@dataclass
class Paired:
    """Timings (ms) of our code and of a baseline, measured alternately: wall-clock, and
    this process's CPU time (what a loaded machine disturbs least; it leaves out the time
    spent waiting for the database, which another process spends)."""

    ours: list[float]
    base: list[float]
    ours_cpu: list[float] = field(default_factory=list)
    base_cpu: list[float] = field(default_factory=list)

    def describe_cpu(self, baseline: str) -> str:
        ours, base = statistics.median(self.ours_cpu), statistics.median(self.base_cpu)
        return f"CPU in this process: median {ours:.2f} ms; {baseline} {base:.2f} ms; ratio {ours / base:.2f}x"

    def describe(self, baseline: str) -> str:
        ours, base = statistics.median(self.ours), statistics.median(self.base)
        return (f"median {ours:.2f} ms; {baseline} {base:.2f} ms; ratio {ours / base:.2f}x "
                f"(best of {len(self.ours)}: {min(self.ours):.2f} vs {min(self.base):.2f} ms, "
                f"{min(self.ours) / min(self.base):.2f}x)")


def paired(ours, baseline, repeat: int = 41, warmup: int = 3) -> Paired:
    """Time two functions alternately, so that noise from other processes on a shared
    machine hits both alike; the best times are the least disturbed ones."""
    for _ in range(warmup):
        ours(), baseline()
    result = Paired([], [])
    for _ in range(repeat):
        for func, bucket, cpu in ((ours, result.ours, result.ours_cpu), (baseline, result.base, result.base_cpu)):
            start, start_cpu = time.perf_counter(), time.process_time()
            func()
            bucket.append((time.perf_counter() - start) * 1000)
            cpu.append((time.process_time() - start_cpu) * 1000)
    return result


def paired_medians(ours, baseline, repeat: int = 31, warmup: int = 3) -> tuple[float, float]:
    """Median ms of two functions measured alternately (see `paired`)."""
    timings = paired(ours, baseline, repeat, warmup)
    return statistics.median(timings.ours), statistics.median(timings.base)


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
