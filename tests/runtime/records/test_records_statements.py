"""Statement counts: no query per row, whatever the page or batch size."""
import pytest
import sqlalchemy as sa

from engine.errors import ConflictError, RecordValidationError
from engine.storage import system
from runtime.records import Records, service
from tests.support.records_app import install_shop


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


def test_bulk_update_statements_do_not_grow_with_records(shop, count_statements):
    engine, app = shop
    counts = {}
    for n in (3, 120):
        with engine.begin() as conn:
            records = Records(conn, app)
            made = records.bulk_create("customers", [{"name": f"b{n}-{i}"} for i in range(n)])
            # Two shapes of change: the name of every record, the credit of every other one.
            updates = [{"id": r["id"], "version": r["version"],
                        "changes": {"name": f"B{i}", **({"credit": 5} if i % 2 else {})}}
                       for i, r in enumerate(made)]
            with count_statements(engine) as counter:
                updated = records.bulk_update("customers", updates)
            counts[n] = counter.count
            assert [r["fields"]["name"] for r in updated] == [f"B{i}" for i in range(n)]
            assert all(r["version"] == 2 for r in updated)
    assert counts[3] == counts[120]


def test_bulk_update_conflict_names_the_record_and_writes_nothing(shop):
    engine, app = shop
    with engine.begin() as conn:
        made = Records(conn, app).bulk_create("customers", [{"name": "x1"}, {"name": "x2"}])
    with engine.begin() as conn:
        Records(conn, app).update("customers", made[1]["id"], {"name": "someone else"})
    with pytest.raises(ConflictError, match=f"customers#{made[1]['id']}"):
        with engine.begin() as conn:
            Records(conn, app).bulk_update("customers", [
                {"id": r["id"], "version": r["version"], "changes": {"name": "mine"}} for r in made])
    with engine.connect() as conn:
        names = [r["fields"]["name"] for r in Records(conn, app).list("customers").records]
    assert sorted(names) == ["someone else", "x1"]


class _Savepoints:
    """Counts the SAVEPOINT statements sent on an engine."""

    def __init__(self, engine):
        self.engine, self.count = engine, 0

    def _hook(self, conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("SAVEPOINT"):
            self.count += 1

    def __enter__(self):
        sa.event.listen(self.engine, "before_cursor_execute", self._hook)
        return self

    def __exit__(self, *exc):
        sa.event.remove(self.engine, "before_cursor_execute", self._hook)


def test_a_create_and_an_update_each_open_one_savepoint(shop):
    db, app = shop
    with db.begin() as conn:
        r = Records(conn, app)
        with _Savepoints(db) as created:
            rec = r.create("customers", {"name": "甲", "code": "S1"})
        with _Savepoints(db) as bulk:
            r.bulk_create("customers", [{"name": f"n{i}", "code": f"S{i + 10}"} for i in range(50)])
        with _Savepoints(db) as updated:
            r.update("customers", rec["id"], {"name": "乙"}, expected_version=1)
    assert created.count == bulk.count == updated.count == 1


def test_a_unique_value_written_meanwhile_refuses_the_create_and_the_transaction_goes_on(shop, monkeypatch):
    """Another transaction wrote the value between the service's unique check and its
    insert (the check is skipped here to stand for that): the database's unique index
    refuses the insert, the caller gets the unique issue, the refused write leaves
    nothing behind (its one savepoint), and the caller's transaction goes on."""
    db, app = shop
    with db.begin() as conn:
        Records(conn, app).create("customers", {"name": "甲", "code": "U1"})
    monkeypatch.setattr(service, "check_unique", lambda *args, **kwargs: None)
    with db.begin() as conn:
        r = Records(conn, app)
        with pytest.raises(RecordValidationError) as refused:
            r.create("customers", {"name": "乙", "code": "U1"})
        assert [issue.code for issue in refused.value.issues] == ["unique"]
        later = r.create("customers", {"name": "丙", "code": "U2"})
    with db.connect() as conn:
        codes = sorted(rec["fields"]["code"] for rec in Records(conn, app).list("customers").records)
        history = conn.execute(sa.select(sa.func.count()).select_from(system.record_history)
                               .where(system.record_history.c.form_key == "customers")).scalar()
    assert codes == ["U1", "U2"] and later["fields"]["code"] == "U2"
    assert history == 2


def test_the_references_of_a_write_are_checked_in_one_statement_whatever_their_targets(shop, count_statements):
    db, app = shop
    with db.begin() as conn:
        r = Records(conn, app)
        customer = r.create("customers", {"name": "甲", "code": "R1"})
        tag = r.create("tags", {"name": "新"})
        with count_statements(db) as counter:
            r.create("orders", {"title": "o", "customer": customer["id"], "tags": [tag["id"]]})
        checks = [s for s in counter.statements[:counter.statements.index(
            next(s for s in counter.statements if s.lstrip().upper().startswith("INSERT")))]]
        assert len(checks) == 1 and "UNION ALL" in checks[0].upper(), counter.statements
        with pytest.raises(RecordValidationError) as refused:
            r.create("orders", {"title": "o", "customer": customer["id"], "tags": [tag["id"], 999_999]})
        assert [(issue.field, issue.params["id"]) for issue in refused.value.issues] == [("tags", 999_999)]
        with pytest.raises(RecordValidationError) as refused:
            r.create("orders", {"title": "o", "customer": 888_888, "tags": [tag["id"]]})
        assert [(issue.field, issue.params["id"]) for issue in refused.value.issues] == [("customer", 888_888)]
