"""Two processes updating one record at once: optimistic locking loses nothing."""
import multiprocessing as mp

import pytest

from engine.errors import ConflictError
from engine.storage.db import make_engine
from runtime.apps import load_installed
from runtime.records import Records
from tests.support.records_app import install_shop

ROUNDS = 40


def _worker(url: str, record_id: int, name: str, queue) -> None:
    """Read-modify-write the credit `ROUNDS` times, retrying on conflicts."""
    engine = make_engine(url)
    conflicts = 0
    done = 0
    while done < ROUNDS:
        with engine.connect() as conn:
            app = load_installed(conn, "shop")
            current = Records(conn, app).get("customers", record_id)
        try:
            with engine.begin() as conn:
                Records(conn, app).update("customers", record_id,
                                          {"credit": current["fields"]["credit"] + 1, "note": name},
                                          expected_version=current["version"])
            done += 1
        except ConflictError:
            conflicts += 1
    engine.dispose()
    queue.put(conflicts)


@pytest.mark.slow
def test_concurrent_increments_are_never_lost(db, db_url):
    app = install_shop(db)
    with db.begin() as conn:
        rec = Records(conn, app).create("customers", {"name": "并发", "credit": 0})
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    workers = [ctx.Process(target=_worker, args=(db_url, rec["id"], f"w{i}", queue)) for i in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=240)
        assert w.exitcode == 0
    conflicts = [queue.get(timeout=5) for _ in workers]
    with db.connect() as conn:
        final = Records(conn, app).get("customers", rec["id"])
        log = Records(conn, app).history("customers", rec["id"])
    assert final["fields"]["credit"] == 2 * ROUNDS
    assert final["version"] == 1 + 2 * ROUNDS
    assert len([h for h in log if h["action"] == "update"]) == 2 * ROUNDS
