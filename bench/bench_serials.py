"""What serial numbers cost: creating records into a form with two serial fields
(one resetting daily) against the same form without them, in the same run, as
batches (one allocation statement per serial field per batch) and one by one (one
transaction per record, as form submissions come), plus several processes
allocating at once (numbers per second, checked for duplicates and gaps).

    .venv/bin/python bench/bench_serials.py [--batch 500] [--singles 200] [--workers 2] [--db both|sqlite|postgresql]
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import L, databases, paired_medians  # noqa: E402
from engine.definition.model import AppDef  # noqa: E402
from runtime.apps import apply_app, load_installed  # noqa: E402
from runtime.records import Records  # noqa: E402


BASE = [{"key": "title", "type": "text", "label": L("标题")},
        {"key": "amount", "type": "number", "label": L("金额"), "precision": 2}]
SERIALS = [{"key": "no", "type": "serial", "label": L("编号"), "pattern": "HT{YYYY}{MM}{DD}-{counter:6}"},
           {"key": "seq", "type": "serial", "label": L("序号"), "pattern": "{counter:8}"}]


def app() -> AppDef:
    return AppDef.from_dict({"format_version": 1, "app": {"key": "bench", "label": L("基准")}, "forms": [
        {"key": "numbered", "label": L("有流水号"), "fields": BASE + SERIALS},
        {"key": "plain", "label": L("无流水号"), "fields": BASE}]})


def creator(engine, definition, form: str, count: int, batch: bool):
    rows = [{"title": f"记录{i}", "amount": i} for i in range(count)]

    def run():
        if batch:
            with engine.begin() as conn:
                Records(conn, definition).bulk_create(form, rows)
            return
        for row in rows:
            with engine.begin() as conn:
                Records(conn, definition).create(form, row)
    return run


def _worker(url: str, count: int, start, queue) -> None:
    from engine.storage.db import make_engine
    engine = make_engine(url)
    with engine.connect() as conn:
        definition = load_installed(conn, "bench")
    start.wait()
    numbers = []
    for i in range(count):
        with engine.begin() as conn:
            numbers.append(Records(conn, definition).create("numbered", {"title": f"p{i}"})["fields"]["seq"])
    queue.put(numbers)
    engine.dispose()


def concurrent(engine, workers: int, count: int) -> tuple[float, int, bool]:
    """(numbers per second, numbers allocated, all distinct and without gaps)."""
    with engine.connect() as conn:
        before = Records(conn, load_installed(conn, "bench")).count("numbered").value
    ctx = mp.get_context("spawn")
    start, queue = ctx.Barrier(workers + 1), ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(engine.url.render_as_string(hide_password=False), count, start, queue))
             for _ in range(workers)]
    for p in procs:
        p.start()
    start.wait()
    began = time.perf_counter()
    results = [queue.get() for _ in procs]
    elapsed = time.perf_counter() - began
    for p in procs:
        p.join()
    numbers = sorted(int(n) for r in results for n in r)
    expected = list(range(before + 1, before + 1 + workers * count))
    return len(numbers) / elapsed, len(numbers), numbers == expected


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--singles", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--db", default="both", choices=["both", "sqlite", "postgresql"])
    args = parser.parse_args()
    for name, engine in databases(args.db):
        definition = app()
        apply_app(engine, definition)
        print(f"== {name}")
        ours, base = paired_medians(creator(engine, definition, "numbered", args.batch, True),
                                    creator(engine, definition, "plain", args.batch, True), repeat=9, warmup=1)
        print(f"bulk_create of {args.batch}: with 2 serial fields {ours:.1f} ms "
              f"({ours * 1000 / args.batch:.0f} µs/record), without {base:.1f} ms; ratio {ours / base:.2f}")
        ours, base = paired_medians(creator(engine, definition, "numbered", args.singles, False),
                                    creator(engine, definition, "plain", args.singles, False), repeat=5, warmup=1)
        print(f"{args.singles} creates, one transaction each: with serials {ours / args.singles:.2f} ms/record, "
              f"without {base / args.singles:.2f} ms/record; ratio {ours / base:.2f}")
        rate, total, exact = concurrent(engine, args.workers, args.singles)
        print(f"{args.workers} processes creating at once: {total} numbers, {rate:.0f} records/s, "
              f"{'no duplicate and no gap' if exact else 'DUPLICATES OR GAPS'}")


if __name__ == "__main__":
    main()
