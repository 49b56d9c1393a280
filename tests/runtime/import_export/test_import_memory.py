"""A 50 MB CSV is imported in constant memory: the rows are read, checked and written
one batch at a time, so the Python heap never holds more than a batch, whatever the
size of the file. (Memory, not time, is asserted; the database is SQLite, because the
bound is about the importer's own memory.)"""
from __future__ import annotations

import csv
import tracemalloc

import pytest

from engine.storage.db import make_engine
from engine.storage.system_upgrade import upgrade_system
from runtime.import_export import import_file
from tests.support.records_app import install_shop

FILE_BYTES = 50 * 1024 * 1024
# A batch of 1,000 rows of about 2.5 KB, held a few times over (cells, parsed values,
# database rows, history): about 10 MB. Holding the file would take far more than 50 MB.
PEAK_BOUND = 20 * 1024 * 1024


def write_big_csv(path) -> int:
    note = "这是一段较长的备注，用来把文件撑到五十兆字节。" * 36   # rows of about 2.5 KB
    rows = 0
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["名称", "编码", "额度", "备注"])
        while fh.tell() < FILE_BYTES:
            writer.writerow([f"客户{rows}", f"C{rows:09d}", f"{rows % 100000:,}.50", note])
            rows += 1
    return rows


@pytest.mark.slow   # about 20-30 s: 50 MB of rows, traced by tracemalloc (it runs in the suite)
def test_a_50_mb_file_is_checked_in_constant_memory(tmp_path):
    path = tmp_path / "big.csv"
    rows = write_big_csv(path)
    assert path.stat().st_size >= FILE_BYTES
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    upgrade_system(engine)
    install_shop(engine)
    shares = []
    tracemalloc.start()
    try:
        report = import_file(engine, "shop", "customers", path, dry_run=True,
                             progress=lambda done, share: shares.append(share))
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        engine.dispose()
    assert report.rows_read == rows and report.rows_valid == rows and report.problem_count == 0
    assert not report.committed
    assert peak < PEAK_BOUND, f"peak {peak / 2**20:.1f} MB for a {path.stat().st_size / 2**20:.0f} MB file"
    assert len(shares) > 10 and shares == sorted(shares) and shares[-1] == 1.0
