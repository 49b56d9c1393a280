"""Statement counts: no query per row, whatever the page or batch size."""
import pytest

from runtime.records import Records
from tests.records_app import install_shop


@pytest.fixture
def shop(db):
    return db, install_shop(db)


def _seed(conn, app, n):
    r = Records(conn, app)
    customers = r.bulk_create("customers", [{"name": f"c{i}", "code": f"C{i}"} for i in range(n)])
    tags = r.bulk_create("tags", [{"name": f"t{i}"} for i in range(3)])
    r.bulk_create("orders", [{"title": f"o{i}", "customer": customers[i % n]["id"],
                              "tags": [tags[i % 3]["id"]], "amount": i,
                              "items": [{"product": "p", "qty": 1}, {"product": "q", "qty": 2}]}
                             for i in range(n)])


def test_page_statements_do_not_grow_with_page_size(shop, count_statements):
    db, app = shop
    with db.begin() as conn:
        _seed(conn, app, 60)
    counts = {}
    for size in (5, 50):
        with db.connect() as conn, count_statements(db) as counter:
            page = Records(conn, app).list("orders", page_size=size,
                                           filter={"field": "amount", "op": "gte", "value": 0},
                                           sort=[{"field": "amount", "dir": "desc"}])
            assert len(page.records) == size
            assert all(r["fields"]["customer_code"] for r in page.records)
        counts[size] = counter.count
    # page (customers joined for titles and the lookup) + count + tags (links and titles) + items
    assert counts[5] == counts[50] == 4


def test_create_and_update_statement_counts(shop, count_statements):
    db, app = shop
    with db.begin() as conn:
        r = Records(conn, app)
        with count_statements(db) as created:
            rec = r.create("customers", {"name": "甲", "code": "X1"})
        with count_statements(db) as updated:
            r.update("customers", rec["id"], {"name": "乙"}, expected_version=1)
        with count_statements(db) as bulk:
            r.bulk_create("customers", [{"name": f"n{i}", "code": f"B{i}"} for i in range(200)])
    # unique check, insert, history, read back
    assert created.count == 4
    # locked read, unique check on the changed... none, update, history, read back
    assert updated.count == 4
    assert bulk.count == 4   # the same statements for 200 records as for one
