"""Counts stay cheap on big tables: exact up to a cap, then estimated (PostgreSQL) or a
lower bound (SQLite); computed once, on the first page, never again for later pages.
bench/bench_records_page.py shows the same on 1,000,000 records."""
import pytest

import runtime.records.service as service
from runtime.records import Records
from tests.support.records_app import install_shop


@pytest.fixture
def shop(db):
    app = install_shop(db)
    with db.begin() as conn:
        Records(conn, app).bulk_create("tags", [{"name": f"t{i:02d}"} for i in range(12)])
    return db, app


def test_counts_are_exact_below_the_cap(shop):
    db, app = shop
    with db.connect() as conn:
        count = Records(conn, app).count("tags", filter={"field": "name", "op": "starts_with", "value": "t0"})
    assert (count.value, count.exact, count.estimated) == (10, True, False)


def test_beyond_the_cap_a_count_is_estimated_or_a_lower_bound(shop, monkeypatch):
    db, app = shop
    monkeypatch.setattr(service, "COUNT_CAP", 5)
    with db.begin() as conn:
        conn.exec_driver_sql("ANALYZE")
    with db.connect() as conn:
        count = Records(conn, app).list("tags", page_size=3).count
    if db.dialect.name == "postgresql":   # the planner's estimate: no scan
        assert (count.value, count.exact, count.estimated) == (12, False, True)
    else:                                 # "more than 5"
        assert (count.value, count.exact, count.estimated) == (5, False, False)


def test_the_count_query_is_bounded_and_runs_on_the_first_page_only(shop, count_statements, monkeypatch):
    db, app = shop
    monkeypatch.setattr(service, "COUNT_CAP", 5)
    with db.connect() as conn:
        records = Records(conn, app)
        with count_statements(db) as first:
            page = records.list("tags", page_size=3)
        with count_statements(db) as second:
            records.list("tags", page_size=3, cursor=page.next_cursor)
    counts = [s for s in first.statements if "count(" in s.lower()]
    assert len(counts) == 1 and "LIMIT" in counts[0].upper()   # stops after COUNT_CAP + 1 rows
    assert second.count == 1 and "count(" not in second.statements[0].lower()
