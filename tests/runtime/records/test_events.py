"""Record events (runtime/records/events.py), on SQLite and PostgreSQL: each write raises
one batch to the listeners, inside its transaction, with the old and new values of what
it changed and the derived changes upkeep made; a listener that raises undoes the write;
history is the first listener and nothing costs a statement more."""
from dataclasses import FrozenInstanceError
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
import sqlalchemy as sa

from engine.errors import FormworkError
from engine.storage import system
from runtime.actor import Actor
from runtime.records import DEFAULT_LISTENERS, EventKind, Listeners, Records, record_history
from runtime.records import history
from tests.support.computed_app import install_sales
from tests.support.records_app import install_shop

NOW = datetime(2025, 9, 15, 2, 30, tzinfo=timezone.utc)


class Recorder:
    """A listener keeping every batch, and what it could see of the write's transaction."""

    def __init__(self):
        self.batches = []
        self.seen_history: list[int] = []

    def __call__(self, batch):
        self.batches.append(batch)
        first = batch.events[0]
        self.seen_history.append(len(history.read(batch.conn, first.app_key, first.form_key,
                                                  first.changes[0].record_id)))

    def only(self):
        """The one batch raised since the last call, its events by (kind, form)."""
        (batch,) = self.batches
        self.batches.clear()
        return {(event.kind, event.form_key): event for event in batch.events}


class Refuse:
    def __call__(self, batch):
        raise FormworkError("refused by the test listener")


@pytest.fixture
def shop(db):
    return db, install_shop(db)


@pytest.fixture
def sales(db):
    return db, install_sales(db)


def _history_rows(conn) -> int:
    return conn.execute(sa.select(sa.func.count()).select_from(system.record_history)).scalar_one()


# ---- the write's own events -------------------------------------------------------------
def test_create_raises_the_new_values_inside_the_transaction(shop):
    db, app = shop
    recorder = Recorder()
    with db.begin() as conn:
        r = Records(conn, app, actor=Actor(user_id=5), now=NOW, listeners=DEFAULT_LISTENERS.then(recorder))
        rec = r.create("customers", {"name": "甲", "code": "E1"})
        (batch,) = recorder.batches
        assert batch.conn is conn and batch.app is r.app
        (event,) = recorder.only().values()
    assert (event.kind, event.app_key, event.form_key, event.user_id, event.at) == \
        (EventKind.CREATED, "shop", "customers", 5, NOW)
    (change,) = event.changes
    assert (change.record_id, change.version, dict(change.old)) == (rec["id"], 1, {})
    assert change.new["name"] == "甲" and change.new["code"] == "E1"
    assert change.new["credit"] == Decimal("100.00")          # the default, as a Decimal
    assert change.new["referrer"] is None
    assert event.record_ids == [rec["id"]] and {"name", "code", "credit"} <= event.fields
    assert recorder.seen_history == [1]       # history, the first listener, already wrote its row


def test_update_raises_only_the_changed_fields(shop):
    db, app = shop
    recorder = Recorder()
    with db.begin() as conn:
        r = Records(conn, app, actor=Actor(user_id=3), now=NOW, listeners=DEFAULT_LISTENERS.then(recorder))
        rec = r.create("customers", {"name": "甲", "code": "U1"})
        recorder.batches.clear()
        r.update("customers", rec["id"], {"name": "甲", "credit": "250", "note": None}, expected_version=1)
        (event,) = recorder.only().values()
        r.update("customers", rec["id"], {"credit": "250.00"})       # nothing changes
        assert recorder.batches == []
    assert (event.kind, event.user_id) == (EventKind.UPDATED, 3)
    (change,) = event.changes
    assert change.version == 2
    assert dict(change.old) == {"credit": Decimal("100.00")}
    assert dict(change.new) == {"credit": Decimal("250.00")}


def test_relations_and_subforms_carry_their_old_and_new_values(shop):
    db, app = shop
    recorder = Recorder()
    with db.begin() as conn:
        r = Records(conn, app, listeners=DEFAULT_LISTENERS.then(recorder))
        customer = r.create("customers", {"name": "王五"})
        t1, t2 = r.bulk_create("tags", [{"name": "新"}, {"name": "大"}])
        order = r.create("orders", {"title": "O1", "customer": customer["id"], "tags": [t1["id"]],
                                    "items": [{"product": "笔", "qty": 2}]})
        recorder.batches.clear()
        r.update("orders", order["id"], {"tags": [t2["id"], t1["id"]], "items": [{"product": "墨", "qty": 1}]})
        (event,) = recorder.only().values()
    (change,) = event.changes
    assert dict(change.old) == {"tags": [t1["id"]], "items": [{"product": "笔", "qty": Decimal(2)}]}
    assert dict(change.new) == {"tags": [t2["id"], t1["id"]], "items": [{"product": "墨", "qty": Decimal(1)}]}


def test_bulk_writes_raise_one_batch_per_call(shop):
    db, app = shop
    recorder = Recorder()
    with db.begin() as conn:
        r = Records(conn, app, now=NOW, listeners=DEFAULT_LISTENERS.then(recorder))
        made = r.bulk_create("customers", [{"name": f"b{i}"} for i in range(5)])
        (created,) = recorder.only().values()
        r.bulk_update("customers", [{"id": rec["id"], "version": 1,
                                     "changes": {"name": f"B{i}" if i % 2 else f"b{i}"}}
                                    for i, rec in enumerate(made)])
        (updated,) = recorder.only().values()
    assert created.record_ids == [rec["id"] for rec in made]
    assert [c.new["name"] for c in created.changes] == [f"b{i}" for i in range(5)]
    # Only the records whose name changed, in the order of the call.
    assert updated.record_ids == [made[1]["id"], made[3]["id"]]
    assert [(dict(c.old), dict(c.new), c.version) for c in updated.changes] == [
        ({"name": "b1"}, {"name": "B1"}, 2), ({"name": "b3"}, {"name": "B3"}, 2)]


def test_delete_restore_and_purge(shop):
    db, app = shop
    recorder = Recorder()
    with db.begin() as conn:
        r = Records(conn, app, actor=Actor(user_id=9), now=NOW, listeners=DEFAULT_LISTENERS.then(recorder))
        a, b = r.bulk_create("customers", [{"name": "甲"}, {"name": "乙"}])
        recorder.batches.clear()
        r.delete("customers", [a["id"], b["id"]])
        deleted = recorder.only()[(EventKind.DELETED, "customers")]
        r.restore("customers", b["id"])
        restored = recorder.only()[(EventKind.RESTORED, "customers")]
        r.purge("customers", a["id"])
        purged = recorder.only()[(EventKind.PURGED, "customers")]
    for event, expected in [(deleted, [(a["id"], 2), (b["id"], 2)]), (restored, [(b["id"], 3)]),
                            (purged, [(a["id"], 0)])]:
        assert [(c.record_id, c.version) for c in event.changes] == expected
        assert all(not c.old and not c.new for c in event.changes)
        assert (event.user_id, event.at) == (9, NOW)


def test_event_values_cannot_be_changed(shop):
    db, app = shop
    recorder = Recorder()
    with db.begin() as conn:
        Records(conn, app, listeners=DEFAULT_LISTENERS.then(recorder)).create("customers", {"name": "甲"})
        (event,) = recorder.only().values()
    with pytest.raises(FrozenInstanceError):
        event.kind = EventKind.DELETED
    with pytest.raises(TypeError):
        event.changes[0].new["name"] = "乙"


# ---- derived changes ----------------------------------------------------------------------
def _world(r):
    """Customers A (vip) and B (referred by A), a contract of A for 1000, paid 300 + 200."""
    a = r.create("customers", {"name": "甲公司", "level": "vip"})
    b = r.create("customers", {"name": "乙公司", "referrer": a["id"]})
    tag = r.create("tags", {"name": "重点"})
    contract = r.create("contracts", {"title": "K1", "customer": a["id"], "amount": "1000",
                                      "tags": [tag["id"]]})
    payments = r.bulk_create("payments", [
        {"contract": contract["id"], "customer": a["id"], "amount": amount, "paid_on": paid_on}
        for amount, paid_on in [(300, "2025-09-01"), (200, "2025-09-10")]])
    return a["id"], b["id"], tag["id"], contract["id"], [p["id"] for p in payments]


def _derived(events, form_key):
    event = events[(EventKind.DERIVED, form_key)]
    return {c.record_id: (dict(c.old), dict(c.new)) for c in event.changes}


def test_a_payment_raises_the_rollups_and_formulas_it_recomputed(sales):
    db, app = sales
    recorder = Recorder()
    with db.begin() as conn:
        a, _, _, contract, _ = _world(Records(conn, app, now=NOW))
        r = Records(conn, app, now=NOW, listeners=DEFAULT_LISTENERS.then(recorder))
        payment = r.create("payments", {"contract": contract, "customer": a, "amount": 100,
                                        "paid_on": "2025-09-12"})
        events = recorder.only()
    assert events[(EventKind.CREATED, "payments")].record_ids == [payment["id"]]
    assert set(events) == {(EventKind.CREATED, "payments"), (EventKind.DERIVED, "contracts"),
                           (EventKind.DERIVED, "customers")}
    # The contract's rollup and the formulas reading it...
    assert _derived(events, "contracts") == {contract: (
        {"paid": Decimal("500.00"), "unpaid": Decimal("500.00"), "paid_share": Decimal("0.5000")},
        {"paid": Decimal("600.00"), "unpaid": Decimal("400.00"), "paid_share": Decimal("0.6000")})}
    # ...and the customer's rollups, one of them over the contract's formula.
    assert _derived(events, "customers") == {a: (
        {"ltv": Decimal("500.00"), "unpaid_total": Decimal("500.00"), "last_paid_on": date(2025, 9, 10)},
        {"ltv": Decimal("600.00"), "unpaid_total": Decimal("400.00"), "last_paid_on": date(2025, 9, 12)})}
    derived = events[(EventKind.DERIVED, "customers")]
    assert (derived.at, derived.changes[0].version) == (NOW, None)
    assert derived.fields == {"ltv", "unpaid_total", "last_paid_on"}


def test_an_update_raises_the_formulas_of_related_records(sales):
    db, app = sales
    recorder = Recorder()
    with db.begin() as conn:
        a, b, _, contract, _ = _world(Records(conn, app, now=NOW))
        r = Records(conn, app, actor=Actor(user_id=4), now=NOW, listeners=DEFAULT_LISTENERS.then(recorder))
        r.update("customers", a, {"level": "normal"})
        events = recorder.only()
    (change,) = events[(EventKind.UPDATED, "customers")].changes
    # The record's own formula is part of its update...
    assert (dict(change.old), dict(change.new)) == ({"level": "vip", "tier": "silver-vip"},
                                                    {"level": "normal", "tier": "silver-normal"})
    # ...the formulas of the records reading it through a relation are derived.
    assert _derived(events, "customers") == {b: ({"referrer_level": "vip"}, {"referrer_level": "normal"})}
    assert _derived(events, "contracts") == {contract: ({"customer_tier": "silver-vip / vip"},
                                                        {"customer_tier": "silver-normal / normal"})}
    assert events[(EventKind.DERIVED, "contracts")].user_id == 4


def test_delete_restore_and_purge_raise_their_derived_changes(sales):
    db, app = sales
    recorder = Recorder()
    with db.begin() as conn:
        a, _, tag, contract, (p1, _) = _world(Records(conn, app, now=NOW))
        r = Records(conn, app, now=NOW, listeners=DEFAULT_LISTENERS.then(recorder))
        r.delete("payments", p1)
        deleted = recorder.only()
        r.restore("payments", p1)
        restored = recorder.only()
        r.delete("tags", tag)
        recorder.batches.clear()
        r.purge("tags", tag)
        purged = recorder.only()
    assert _derived(deleted, "contracts")[contract][1]["paid"] == Decimal("200.00")
    assert _derived(deleted, "customers")[a] == ({"ltv": Decimal("500.00"), "unpaid_total": Decimal("500.00")},
                                                 {"ltv": Decimal("200.00"), "unpaid_total": Decimal("800.00")})
    assert _derived(restored, "customers")[a][1]["ltv"] == Decimal("500.00")
    # Purging a tag clears the contract's relation to it, and the formula reading it.
    assert [c.record_id for c in purged[(EventKind.PURGED, "tags")].changes] == [tag]
    assert _derived(purged, "contracts") == {contract: ({"tag_names": "重点"}, {"tag_names": None})}


# ---- a listener that raises -----------------------------------------------------------------
def test_a_listener_that_raises_undoes_the_write(sales):
    db, app = sales
    with db.begin() as conn:
        a, _, _, contract, (p1, _) = _world(Records(conn, app, now=NOW))
        plain = Records(conn, app, now=NOW)
        rows_before = _history_rows(conn)
        before = {form: plain.list(form).records for form in ("payments", "contracts", "customers")}
        refusing = Records(conn, app, now=NOW, listeners=DEFAULT_LISTENERS.then(Refuse()))
        writes = [lambda: refusing.create("payments", {"contract": contract, "customer": a, "amount": 100}),
                  lambda: refusing.update("payments", p1, {"amount": 50}),
                  lambda: refusing.delete("payments", p1)]
        for write in writes:
            with pytest.raises(FormworkError, match="refused by the test listener"):
                write()
        # The caller's transaction goes on, with nothing of the refused writes in it.
        assert {form: plain.list(form).records for form in before} == before
        assert _history_rows(conn) == rows_before
    with db.connect() as conn:      # and committed: still nothing
        assert _history_rows(conn) == rows_before
        assert Records(conn, app).get("contracts", contract)["fields"]["paid"] == Decimal("500.00")
        assert Records(conn, app).count("payments").value == 2


def test_a_listener_that_raises_aborts_the_whole_transaction_when_not_caught(shop):
    db, app = shop
    with pytest.raises(FormworkError):
        with db.begin() as conn:
            Records(conn, app, listeners=DEFAULT_LISTENERS.then(Refuse())).create("customers", {"name": "甲"})
    with db.connect() as conn:
        assert Records(conn, app).count("customers").value == 0
        assert _history_rows(conn) == 0


# ---- the registry -----------------------------------------------------------------------------
def test_listeners_are_called_in_order_history_first(shop):
    db, app = shop
    calls = []
    listeners = DEFAULT_LISTENERS.then(lambda batch: calls.append("first"), lambda batch: calls.append("second"))
    assert list(listeners)[0] is record_history and len(listeners) == 3
    assert list(DEFAULT_LISTENERS) == [record_history]     # `then` made a new registry
    with db.begin() as conn:
        Records(conn, app, listeners=listeners).create("customers", {"name": "甲"})
    assert calls == ["first", "second"]


def test_a_registry_without_history_first_is_refused(shop):
    db, app = shop
    with db.connect() as conn:
        for wrong in (Listeners(Recorder()), Listeners(Recorder(), record_history), [record_history]):
            with pytest.raises(FormworkError, match=r"must start with the history listener.*"
                                                    r"DEFAULT_LISTENERS\.then\(your_listener\)"):
                Records(conn, app, listeners=wrong)
    with pytest.raises(FormworkError, match="must be callable with a Batch"):
        Listeners("not a function")


# ---- history and statements unchanged --------------------------------------------------------
def test_history_rows_are_written_from_the_events(shop):
    db, app = shop
    with db.begin() as conn:
        r = Records(conn, app, actor=Actor(user_id=2), now=NOW)
        rec = r.create("customers", {"name": "甲", "code": "H1"})
        r.update("customers", rec["id"], {"credit": "7"})
        r.delete("customers", rec["id"])
        r.restore("customers", rec["id"])
        log = r.history("customers", rec["id"])
    assert [(h["action"], h["version"], h["user_id"]) for h in log] == [
        ("create", 1, 2), ("update", 2, 2), ("delete", 3, 2), ("restore", 4, 2)]
    assert log[0]["changes"]["credit"] == {"from": None, "to": "100.00"}
    assert log[1]["changes"] == {"credit": {"from": "100.00", "to": "7.00"}}
    assert log[2]["changes"] == log[3]["changes"] == {}


def test_listeners_cost_no_statement(sales, count_statements):
    db, app = sales
    counts: dict[str, list[int]] = {"default": [], "listening": []}
    heard = []      # a listener that only keeps the batches (Recorder reads the history)
    for name, listeners in [("default", None), ("listening", DEFAULT_LISTENERS.then(heard.append))]:
        with db.begin() as conn:
            a, _, _, contract, (p1, _) = _world(Records(conn, app, now=NOW))
            r = Records(conn, app, now=NOW, listeners=listeners)
            for write in [lambda: r.create("payments", {"contract": contract, "customer": a, "amount": 1}),
                          lambda: r.update("payments", p1, {"amount": 2}),
                          lambda: r.delete("payments", p1),
                          lambda: r.restore("payments", p1)]:
                with count_statements(db) as counter:
                    write()
                counts[name].append(counter.count)
    assert counts["default"] == counts["listening"], counts
    assert [batch.events[0].kind for batch in heard] == [EventKind.CREATED, EventKind.UPDATED,
                                                         EventKind.DELETED, EventKind.RESTORED]
