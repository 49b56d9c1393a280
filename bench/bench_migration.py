"""A retype migration on N (default 1,000,000) records, on SQLite and PostgreSQL:
`formwork apply` changing a text field to a number (1% of the values cannot convert)
and back (number -> text), against a hand-written SQL baseline in the same run (one
`UPDATE ... SET new = CAST(old ...)` into a scratch column).

Each migration runs in a fresh child process, so that its peak memory is its own:
printed are the time, rows/s, the process's peak RSS (resource.getrusage) above what it
held before migrating, and the tracemalloc peak (measured in a second, traced run,
since tracing slows Python down). Memory must not grow with the table: run with two
sizes (the default) and compare.

    .venv/bin/python bench/bench_migration.py [--rows 200000,1000000] [--db both|sqlite|postgresql]
"""
from __future__ import annotations

import argparse
import copy
import gc
import json
import random
import resource
import subprocess
import sys
import time
import tracemalloc
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


from bench._common import L, databases  # noqa: E402
from engine.compiled import compiled  # noqa: E402
from engine.definition.model import AppDef  # noqa: E402
from engine.storage.db import make_engine  # noqa: E402
from runtime.apps import apply_app, plan_app  # noqa: E402


AS_TEXT = {
    "format_version": 1, "app": {"key": "mig", "label": L("迁移")},
    "forms": [{"key": "items", "label": L("条目"), "fields": [
        {"key": "code", "type": "text", "label": L("编码")},
        {"key": "price", "type": "text", "label": L("价格")},
        {"key": "qty", "type": "number", "label": L("数量"), "precision": 0},
    ]}],
}


def as_number() -> dict:
    doc = copy.deepcopy(AS_TEXT)
    price = doc["forms"][0]["fields"][1]
    price.update(type="number", precision=2)
    return doc


CHUNK = 20_000


def populate(engine, rows: int) -> None:
    app = AppDef.from_dict(AS_TEXT)
    apply_app(engine, app)
    items = compiled(app).tables.form_table("items")
    now = datetime.now(timezone.utc)
    rnd = random.Random(11)
    for start in range(0, rows, CHUNK):
        with engine.begin() as conn:
            conn.execute(items.insert(), [
                {"created_at": now, "updated_at": now, "version": 1, "code": f"C{i:07d}",
                 "price": "n/a" if i % 100 == 7 else f"{rnd.randint(0, 99_999_999) / 100:.2f}",
                 "qty": rnd.randint(0, 500)}
                for i in range(start, min(rows, start + CHUNK))])
    with engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")


# ---- the hand-written baseline ------------------------------------------------------------
def baseline_sql(dialect: str, direction: str) -> str:
    """One UPDATE converting every value in SQL, as a developer would write it by hand
    (text -> number leaves the values that are not numbers empty)."""
    if dialect == "postgresql":
        if direction == "to_number":
            return ("UPDATE mig__items SET scratch = CASE WHEN price ~ '^[+-]?[0-9]+(\\.[0-9]+)?$' "
                    "THEN CAST(price AS NUMERIC(38, 2)) END")
        return "UPDATE mig__items SET scratch = CAST(price AS TEXT)"
    if direction == "to_number":   # SQLite stores numbers as scaled integers (see ExactDecimal)
        return ("UPDATE mig__items SET scratch = CASE WHEN price GLOB '[0-9]*' AND price NOT GLOB '*[^0-9.]*' "
                "THEN CAST(ROUND(CAST(price AS REAL) * 100) AS INTEGER) END")
    return "UPDATE mig__items SET scratch = printf('%.2f', price / 100.0)"


def run_baseline(engine, direction: str) -> float:
    scratch_type = {"to_number": "NUMERIC(38, 2)" if engine.dialect.name == "postgresql" else "BIGINT",
                    "to_text": "TEXT"}[direction]
    with engine.begin() as conn:
        conn.exec_driver_sql(f"ALTER TABLE mig__items ADD COLUMN scratch {scratch_type}")
    start = time.perf_counter()
    with engine.begin() as conn:
        conn.exec_driver_sql(baseline_sql(engine.dialect.name, direction))
    elapsed = time.perf_counter() - start
    with engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE mig__items DROP COLUMN scratch")
    return elapsed


# ---- one migration in a child process ------------------------------------------------------
def child(url: str, target: str, trace: bool) -> dict:
    """Apply `target` ("number" or "text") to the installed app; report figures as JSON."""
    engine = make_engine(url)
    app = AppDef.from_dict(as_number() if target == "number" else AS_TEXT)
    with engine.connect() as conn:   # connect and import everything before measuring memory
        conn.exec_driver_sql("SELECT 1")
    gc.collect()
    rss_before = current_rss_kb()
    batches = []
    if trace:
        tracemalloc.start()
    start = time.perf_counter()
    result = apply_app(engine, app, progress=lambda what, done, total: batches.append(done))
    elapsed = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1] if trace else None
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    step = result["results"][0]
    return {"seconds": elapsed, "rows": step["rows"], "converted": step["converted"],
            "not_converted": step["not_converted"], "batches": len(batches),
            "rss_growth_mb": max(rss_after - rss_before, 0) / 1024, "rss_peak_mb": rss_after / 1024,
            "traced_peak_mb": None if peak is None else peak / 2**20}


def current_rss_kb() -> int:
    """The resident set size now, after resetting the process's peak (Linux: clear_refs),
    so that ru_maxrss afterwards is the peak of what follows, not of importing."""
    try:
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * resource.getpagesize() // 1024
    except OSError:   # elsewhere: the peak so far, which makes the growth an underestimate
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def in_child(url: str, target: str, trace: bool) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", url, target] + (["--trace"] if trace else []),
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def plan_seconds(engine, target: str) -> tuple[float, dict]:
    start = time.perf_counter()
    report = plan_app(engine, AppDef.from_dict(as_number() if target == "number" else AS_TEXT))
    return time.perf_counter() - start, report.previews.get(0, {})


def measure(name: str, engine, rows: int) -> dict:
    start = time.perf_counter()
    populate(engine, rows)
    print(f"[{name}] {rows:,} rows populated in {time.perf_counter() - start:.1f}s")
    url = engine.url.render_as_string(hide_password=False)
    figures: dict[str, dict] = {"number": {}, "text": {}}
    # text -> number, number -> text, then the same two traced: each run starts where the
    # previous one left the table.
    for trace in (False, True):
        for target, direction in (("number", "to_number"), ("text", "to_text")):
            if not trace:
                figures[target]["baseline"] = run_baseline(engine, direction)
                figures[target]["plan"], figures[target]["preview"] = plan_seconds(engine, target)
            figures[target]["traced" if trace else "timed"] = in_child(url, target, trace)
    for target, label in (("number", "text -> number"), ("text", "number -> text")):
        f = figures[target]
        timed, base, preview = f["timed"], f["baseline"], f["preview"]
        print(f"[{name}] {label}: apply {timed['seconds']:.1f}s ({rows / timed['seconds']:,.0f} rows/s, "
              f"{timed['batches']} batches, {timed['converted']:,} converted, {timed['not_converted']:,} "
              f"cannot); hand-written UPDATE {base:.1f}s; ratio {timed['seconds'] / base:.1f}x")
        print(f"[{name}] {label}: plan with conversion preview {f['plan']:.1f}s "
              f"({preview.get('convert', 0):,} convert, {preview.get('cannot', 0):,} cannot)")
        print(f"[{name}] {label}: peak RSS {timed['rss_peak_mb']:.0f} MB (+{timed['rss_growth_mb']:.1f} MB over "
              f"the RSS before migrating); tracemalloc peak {f['traced']['traced_peak_mb']:.1f} MB")
    return {target: dict(f["timed"], traced_peak_mb=f["traced"]["traced_peak_mb"]) for target, f in figures.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", default="200000,1000000", help="comma-separated table sizes")
    parser.add_argument("--db", default="both", choices=["both", "sqlite", "postgresql"])
    parser.add_argument("--child", nargs=2, metavar=("URL", "TARGET"), help=argparse.SUPPRESS)
    parser.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(*args.child, args.trace)))
        return
    sizes = [int(n) for n in args.rows.split(",")]
    results: dict[int, dict] = {}
    for size in sizes:
        by_db = {}
        for name, engine in databases(args.db):
            by_db[name] = measure(name, engine, size)
        results[size] = by_db
    if len(sizes) > 1:
        small, large = sizes[0], sizes[-1]
        for name in results[large]:
            for target in ("number", "text"):
                a, b = results[small][name][target], results[large][name][target]
                print(f"[{name}] memory, {large:,} vs {small:,} rows ({target}): tracemalloc peak "
                      f"{b['traced_peak_mb']:.1f} vs {a['traced_peak_mb']:.1f} MB "
                      f"({b['traced_peak_mb'] / a['traced_peak_mb']:.2f}x); RSS growth "
                      f"{b['rss_growth_mb']:.1f} vs {a['rss_growth_mb']:.1f} MB; "
                      f"time {b['seconds'] / a['seconds']:.2f}x for {large / small:.0f}x the rows")

if __name__ == "__main__":
    main()
