"""Several OS processes allocate serial numbers on one database at the same moment,
while they also update one shared record: no number is handed out twice, none is
skipped (a rolled-back create gives its numbers back), no update is lost.

The approach of tests/runtime/records/test_records_concurrency.py: spawned processes, each with its
own engine, released together by a barrier once all are ready.
"""
import multiprocessing as mp
import time

import pytest

from engine.errors import ConflictError
from engine.storage.db import make_engine
from runtime.apps import load_installed
from runtime.records import Records
from tests.support.fields import NOW, Lab, L

WORKERS = 3
ROUNDS = 25            # per worker: a create, a batch of BATCH creates and a rolled-back create
BATCH = 3
FIELDS = [
    {"key": "title", "type": "text", "label": L("标题", "Title")},
    {"key": "no", "type": "serial", "label": L("编号", "No."), "pattern": "HT{YYYY}{MM}-{counter:4}"},
    {"key": "hits", "type": "number", "label": L("次数", "Hits"), "precision": 0},
]


class Abandoned(Exception):
    """Raised inside a transaction to roll it back after it allocated numbers."""


def _worker(url: str, shared_id: int, name: str, start, queue) -> None:
    engine = make_engine(url)
    with engine.connect() as conn:
        app = load_installed(conn, "lab")
    start.wait(timeout=120)    # every process is ready: go together
    numbers, conflicts = [], 0
    for i in range(ROUNDS):
        with engine.begin() as conn:
            numbers.append(Records(conn, app, now=NOW).create("items", {"title": f"{name}-{i}"})["fields"]["no"])
        with engine.begin() as conn:
            batch = Records(conn, app, now=NOW).bulk_create("items", [{"title": name}] * BATCH)
            numbers += [r["fields"]["no"] for r in batch]
        try:
            with engine.begin() as conn:
                Records(conn, app, now=NOW).create("items", {"title": "abandoned"})
                raise Abandoned
        except Abandoned:
            pass
        conflicts += _increment(engine, app, shared_id)
        # A pause between rounds, as between real users' saves: SQLite's busy handler lets
        # a waiting writer sleep while the one that just committed begins again at once,
        # so in a tight loop one process could do all its rounds before the others start.
        time.sleep(0.02)
    engine.dispose()
    queue.put((numbers, conflicts))


def _increment(engine, app, record_id: int) -> int:
    """Read-modify-write `hits` with optimistic locking; the number of conflicts met."""
    conflicts = 0
    while True:
        with engine.connect() as conn:
            current = Records(conn, app).get("items", record_id)
        try:
            with engine.begin() as conn:
                Records(conn, app, now=NOW).update("items", record_id, {"hits": current["fields"]["hits"] + 1},
                                                   expected_version=current["version"])
            return conflicts
        except ConflictError:
            conflicts += 1


@pytest.mark.slow
def test_processes_allocating_at_once_never_duplicate_or_skip(db, db_url):
    lab = Lab(db, FIELDS)
    shared = lab.create(title="共享", hits=0)
    assert shared["fields"]["no"] == "HT202503-0001"
    ctx = mp.get_context("spawn")
    start, queue = ctx.Barrier(WORKERS + 1), ctx.Queue()
    workers = [ctx.Process(target=_worker, args=(db_url, shared["id"], f"w{i}", start, queue))
               for i in range(WORKERS)]
    for w in workers:
        w.start()
    start.wait(timeout=120)
    results = [queue.get(timeout=300) for _ in workers]
    for w in workers:
        w.join(timeout=60)
        assert w.exitcode == 0
    allocated = [n for numbers, _ in results for n in numbers]
    per_worker = ROUNDS * (1 + BATCH)
    assert all(len(numbers) == per_worker for numbers, _ in results)
    assert len(set(allocated)) == len(allocated), "a serial number was handed out twice"
    expected = {f"HT202503-{n:04d}" for n in range(2, 2 + WORKERS * per_worker)}
    assert set(allocated) == expected, "numbers were skipped"
    for numbers, _ in results:    # each process saw its own numbers rise
        assert numbers == sorted(numbers)
    interleaved = [numbers for numbers, _ in results
                   if int(numbers[-1][-4:]) - int(numbers[0][-4:]) + 1 > len(numbers)]
    assert interleaved, "the processes did not run at the same time, so nothing was tested"
    with db.connect() as conn:
        records = Records(conn, lab.app)
        assert records.count("items").value == 1 + WORKERS * per_worker
        final = records.get("items", shared["id"])
        stored = {r["fields"]["no"] for r in records.list("items", page_size=500).records}
    assert final["fields"]["hits"] == WORKERS * ROUNDS
    assert final["version"] == 1 + WORKERS * ROUNDS
    assert "HT202503-0001" in stored
