"""Two writes at once whose computed fields propagate into each other's records.

Customers refer each other (a `referrer` self-relation) and add up what the customers
they referred did. When A refers B and B refers A, a write to A updates B's rollups and
a write to B updates A's. On PostgreSQL two such writes at the same time used to lock
the two customers in opposite orders, and one of them failed with "deadlock detected"
(the write was lost). Each race below holds both writers at the point where they had
taken their first locks, so the interleaving that deadlocked happens every time; the
writes must both apply, and every rollup must equal a recomputation from scratch.

On SQLite a writer holds the whole database from BEGIN IMMEDIATE, so the second writer
waits at BEGIN: the same races run there too and must give the same results.
"""
from __future__ import annotations

import threading
import time
from decimal import Decimal

import pytest
import sqlalchemy as sa

from engine.errors import ConcurrentWriteError, RecordValidationError
from engine.storage.db import make_engine
from engine.storage.system_upgrade import upgrade_system
from engine.upkeep.upkeep import Upkeep
from engine.validation.validate import check_text
from runtime.recompute import recompute_app
from runtime.records import Records, write_transaction
from runtime.records.transactions import BACKOFF
from web.cli import main

DEFINITION = """
format_version: 1
app: {key: refs, label: {zh: 转介绍, en: Referrals}}
forms:
  - key: customers
    label: {zh: 客户, en: Customers}
    title_field: name
    fields:
      - {key: name, type: text, label: {zh: 名称, en: Name}, required: true}
      - {key: referrer, type: relation, target: customers, label: {zh: 推荐人, en: Referrer}}
      - {key: points, type: number, precision: 0, label: {zh: 积分, en: Points}}
      - {key: level, type: number, precision: 0, label: {zh: 等级, en: Level}}
      - {key: referrer_level, type: formula, formula: 'referrer.level',
         label: {zh: 推荐人等级, en: Referrer level}}
      - {key: ltv, type: rollup, source: contracts, via: customer, aggregate: sum, field: paid,
         label: {zh: 累计回款, en: Lifetime value}}
      - {key: referrals, type: rollup, source: customers, via: referrer, aggregate: count,
         label: {zh: 推荐客户数, en: Referred}}
      - {key: referred_points, type: rollup, source: customers, via: referrer, aggregate: sum,
         field: points, label: {zh: 被推荐人积分, en: Points of the referred}}
      - {key: referred_ltv, type: rollup, source: customers, via: referrer, aggregate: sum,
         field: ltv, label: {zh: 被推荐人回款, en: Value of the referred}}
  - key: contracts
    label: {zh: 合同, en: Contracts}
    title_field: title
    fields:
      - {key: title, type: text, label: {zh: 标题, en: Title}, required: true}
      - {key: customer, type: relation, target: customers, label: {zh: 客户, en: Customer}}
      - {key: paid, type: rollup, source: payments, via: contract, aggregate: sum, field: amount,
         label: {zh: 已回款, en: Paid}}
  - key: payments
    label: {zh: 回款, en: Payments}
    fields:
      - {key: contract, type: relation, target: contracts, label: {zh: 合同, en: Contract}}
      - {key: amount, type: number, precision: 2, label: {zh: 金额, en: Amount}}
"""


def install_refs(engine):
    from runtime.apps import apply_app
    app, problems = check_text(DEFINITION, "refs.yaml")
    assert not problems, "\n".join(p.format() for p in problems)
    apply_app(engine, app)
    return app


class Rendezvous:
    """Holds each of two writers, inside its transaction, at one point of its write
    until the other writer has reached that point too, is waiting for a row lock, or
    has finished. On PostgreSQL both writers then hold the locks they took before
    that point at the same time. On SQLite it holds nobody: the second writer cannot
    be inside its transaction while the first one is."""

    def __init__(self, engine):
        self.engine = engine
        self.pg = engine.dialect.name == "postgresql"
        self.pids: dict[int, int] = {}
        self.reached = [threading.Event(), threading.Event()]
        self.finished = [threading.Event(), threading.Event()]
        self.local = threading.local()

    def arrive(self) -> None:
        me = getattr(self.local, "index", None)
        if me is None or not self.pg or self.reached[me].is_set():
            return
        self.reached[me].set()
        other = 1 - me
        deadline = time.monotonic() + 60
        while not (self.reached[other].is_set() or self.finished[other].is_set()
                   or self._waits_for_lock(other)):
            assert time.monotonic() < deadline, "the other writer neither arrived nor waited for a lock"
            time.sleep(0.01)

    def _waits_for_lock(self, index: int) -> bool:
        pid = self.pids.get(index)
        if pid is None:
            return False
        with self.engine.connect() as conn:
            state = conn.execute(sa.text("SELECT wait_event_type FROM pg_stat_activity WHERE pid = :pid"),
                                 {"pid": pid}).scalar()
            conn.rollback()
        return state == "Lock"

    def run(self, *works, retry: bool = False) -> list[BaseException]:
        """Run two units of work, each in a transaction of its own thread (through
        write_transaction with `retry`); their errors. `self.attempts` counts the runs."""
        errors: list[BaseException] = []
        self.attempts = [0, 0]

        def attempt(index, work, conn):
            self.attempts[index] += 1
            if self.pg:
                self.pids[index] = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
            return work(conn)

        def run(index, work):
            self.local.index = index
            try:
                if retry:
                    write_transaction(self.engine, lambda conn: attempt(index, work, conn))
                else:
                    with self.engine.begin() as conn:
                        attempt(index, work, conn)
            except BaseException as exc:      # reported by the test's thread
                errors.append(exc)
            finally:
                self.finished[index].set()

        threads = [threading.Thread(target=run, args=(i, w)) for i, w in enumerate(works)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        assert not any(t.is_alive() for t in threads), "a writer is still running after two minutes"
        return errors


@pytest.fixture
def refs(db):
    """Customers A and B who referred each other, a contract of each."""
    app = install_refs(db)
    with db.begin() as conn:
        r = Records(conn, app)
        a = r.create("customers", {"name": "A"})["id"]
        b = r.create("customers", {"name": "B", "referrer": a})["id"]
        r.update("customers", a, {"referrer": b})
        x = r.create("contracts", {"title": "X", "customer": a})["id"]
        y = r.create("contracts", {"title": "Y", "customer": b})["id"]
    return db, app, {"A": a, "B": b, "X": x, "Y": y}


def _fields(engine, app, form, record_id):
    with engine.connect() as conn:
        return Records(conn, app).get(form, record_id)["fields"]


def _assert_nothing_to_recompute(engine):
    report = recompute_app(engine, "refs")
    assert set(report["changed"].values()) == {0}, report["changed"]


def _hold_after_update(monkeypatch, meeting):
    after_update = Upkeep.after_update

    def held(self, *args, **kwargs):
        meeting.arrive()      # both customers written (and locked), what reads them not yet
        return after_update(self, *args, **kwargs)
    monkeypatch.setattr(Upkeep, "after_update", held)


def test_mutual_referrers_updated_at_once_both_apply(refs, monkeypatch):
    """A's new points go into B's rollups and B's into A's, at the same time."""
    engine, app, ids = refs
    meeting = Rendezvous(engine)
    _hold_after_update(monkeypatch, meeting)
    errors = meeting.run(
        lambda conn: Records(conn, app).update("customers", ids["A"], {"points": 5}),
        lambda conn: Records(conn, app).update("customers", ids["B"], {"points": 7}))
    assert not errors, errors
    a, b = _fields(engine, app, "customers", ids["A"]), _fields(engine, app, "customers", ids["B"])
    assert (a["points"], b["points"]) == (5, 7)
    assert (a["referred_points"], b["referred_points"]) == (7, 5)
    _assert_nothing_to_recompute(engine)


def test_mutual_referrers_changing_referrer_at_once_both_apply(db, monkeypatch):
    """C and D had no referrer; each now names the other. Their new referrers are not
    stored yet when the writes start, and are locked ahead all the same."""
    app = install_refs(db)
    with db.begin() as conn:
        r = Records(conn, app)
        c, d = (r.create("customers", {"name": name})["id"] for name in ("C", "D"))
    meeting = Rendezvous(db)
    _hold_after_update(monkeypatch, meeting)
    errors = meeting.run(
        lambda conn: Records(conn, app).update("customers", c, {"referrer": d, "points": 3}),
        lambda conn: Records(conn, app).update("customers", d, {"referrer": c, "points": 4}))
    assert not errors, errors
    assert meeting.attempts == [1, 1]
    c_fields, d_fields = _fields(db, app, "customers", c), _fields(db, app, "customers", d)
    assert (c_fields["referrals"], c_fields["referred_points"]) == (1, 4)
    assert (d_fields["referrals"], d_fields["referred_points"]) == (1, 3)
    _assert_nothing_to_recompute(db)


def test_a_deadlock_through_formulas_reading_down_is_run_again(refs, monkeypatch):
    """`referrer_level` reads the referrer's level through the relation: a new level of
    A is recomputed in B (whom A referred), of B in A. Records read downwards are not
    locked ahead, so on PostgreSQL the two writes really deadlock; through
    write_transaction the aborted one runs again and both apply."""
    engine, app, ids = refs
    meeting = Rendezvous(engine)
    _hold_after_update(monkeypatch, meeting)
    errors = meeting.run(
        lambda conn: Records(conn, app).update("customers", ids["A"], {"level": 2}),
        lambda conn: Records(conn, app).update("customers", ids["B"], {"level": 3}), retry=True)
    assert not errors, errors
    assert sum(meeting.attempts) == (3 if engine.dialect.name == "postgresql" else 2)
    a, b = _fields(engine, app, "customers", ids["A"]), _fields(engine, app, "customers", ids["B"])
    assert (a["level"], a["referrer_level"], b["level"], b["referrer_level"]) == (2, 3, 3, 2)
    with engine.connect() as conn:
        assert [len(Records(conn, app).history("customers", ids[k])) for k in "AB"] == [3, 2]
    _assert_nothing_to_recompute(engine)


def test_payments_of_mutual_referrers_at_once_both_count(refs, monkeypatch):
    """Two levels up: a payment updates its contract, the contract its customer, the
    customer the customer who referred them (who is the other payment's customer)."""
    engine, app, ids = refs
    meeting = Rendezvous(engine)
    recompute = Upkeep.recompute

    def held(self, group, where):
        if any(node.field == "referred_ltv" for node in group):
            meeting.arrive()  # contract and customer updated (and locked), the referrer not yet
        return recompute(self, group, where)
    monkeypatch.setattr(Upkeep, "recompute", held)

    errors = meeting.run(
        lambda conn: Records(conn, app).create("payments", {"contract": ids["X"], "amount": 100}),
        lambda conn: Records(conn, app).create("payments", {"contract": ids["Y"], "amount": 200}))
    assert not errors, errors
    a, b = _fields(engine, app, "customers", ids["A"]), _fields(engine, app, "customers", ids["B"])
    assert (a["ltv"], b["ltv"]) == (Decimal("100.00"), Decimal("200.00"))
    assert (a["referred_ltv"], b["referred_ltv"]) == (Decimal("200.00"), Decimal("100.00"))
    with engine.connect() as conn:
        assert Records(conn, app).count("payments").value == 2
    _assert_nothing_to_recompute(engine)


# ---- the retry at the transaction boundary -------------------------------------------------

def _abort_like_a_deadlock(conn) -> None:
    """Make the database abort the transaction the way a deadlock does (SQLSTATE 40P01):
    for real on PostgreSQL; SQLite cannot deadlock, so there the error is made by hand."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("DO $$ BEGIN RAISE EXCEPTION 'deadlock detected (injected by the test)' "
                             "USING ERRCODE = '40P01'; END $$")

    class DeadlockDetected(Exception):
        sqlstate = "40P01"
    raise sa.exc.OperationalError("(injected by the test)", {}, DeadlockDetected("deadlock detected"))


def _payments(engine, app):
    with engine.connect() as conn:
        r = Records(conn, app)
        found = r.list("payments").records
        return found, {p["id"]: r.history("payments", p["id"]) for p in found}


def _check_pauses(pauses, count):
    assert len(pauses) == count
    assert all(0 <= pause <= BACKOFF * 2 ** i for i, pause in enumerate(pauses))


def test_a_unit_of_work_aborted_at_its_end_runs_again_and_applies_once(refs):
    """Everything written (record, rollups two levels up, history), then aborted: the
    second run starts from scratch and nothing is counted twice."""
    engine, app, ids = refs
    runs, pauses = [], []

    def work(conn):
        runs.append(1)
        payment = Records(conn, app).create("payments", {"contract": ids["X"], "amount": 100})
        if len(runs) == 1:
            _abort_like_a_deadlock(conn)
        return payment

    payment = write_transaction(engine, work, sleep=pauses.append)
    assert len(runs) == 2
    _check_pauses(pauses, 1)
    found, history = _payments(engine, app)
    assert [p["id"] for p in found] == [payment["id"]]
    assert [entry["action"] for entry in history[payment["id"]]] == ["create"]
    assert _fields(engine, app, "contracts", ids["X"])["paid"] == Decimal("100.00")
    assert _fields(engine, app, "customers", ids["A"])["ltv"] == Decimal("100.00")
    assert _fields(engine, app, "customers", ids["B"])["referred_ltv"] == Decimal("100.00")
    _assert_nothing_to_recompute(engine)


def test_a_write_aborted_halfway_runs_again_and_applies_once(refs, monkeypatch):
    """Aborted after the INSERT, before the rollups and the history: nothing of the
    first run stays."""
    engine, app, ids = refs
    after_create, aborted = Upkeep.after_create, []

    def abort_once(self, form, new_ids):
        if form.key == "payments" and not aborted:
            aborted.extend(new_ids)
            _abort_like_a_deadlock(self.conn)
        return after_create(self, form, new_ids)
    monkeypatch.setattr(Upkeep, "after_create", abort_once)

    payment = write_transaction(engine, lambda conn: Records(conn, app).create(
        "payments", {"contract": ids["Y"], "amount": "200"}), sleep=lambda pause: None)
    assert aborted
    found, history = _payments(engine, app)
    assert [p["id"] for p in found] == [payment["id"]]
    assert [entry["action"] for entry in history[payment["id"]]] == ["create"]
    assert _fields(engine, app, "customers", ids["B"])["ltv"] == Decimal("200.00")
    assert _fields(engine, app, "customers", ids["A"])["referred_ltv"] == Decimal("200.00")
    _assert_nothing_to_recompute(engine)


def test_a_write_that_keeps_deadlocking_gives_up_with_a_clear_error(refs):
    engine, app, ids = refs
    pauses = []

    def work(conn):
        Records(conn, app).update("customers", ids["A"], {"points": 9})
        _abort_like_a_deadlock(conn)

    with pytest.raises(ConcurrentWriteError) as caught:
        write_transaction(engine, work, attempts=3, sleep=pauses.append)
    assert str(caught.value) == ("the record could not be saved because another change was saving the same "
                                 "records at the same time; try again")
    assert "请重试" in caught.value.message("zh")
    assert (caught.value.attempts, caught.value.reason) == (3, "deadlock detected")
    _check_pauses(pauses, 2)
    assert _fields(engine, app, "customers", ids["A"])["points"] is None
    assert _fields(engine, app, "customers", ids["B"])["referred_points"] == 0
    with pytest.raises(ValueError, match="at least 1"):
        write_transaction(engine, work, attempts=0)


def test_other_errors_are_not_run_again(refs):
    engine, app, ids = refs
    runs = []

    def refused(conn):
        runs.append(1)
        Records(conn, app).create("payments", {"contract": 999_999, "amount": 1})

    with pytest.raises(RecordValidationError):
        write_transaction(engine, refused, sleep=lambda pause: pytest.fail("no pause expected"))

    def broken(conn):
        runs.append(1)
        conn.exec_driver_sql("SELECT * FROM no_such_table")

    with pytest.raises(sa.exc.DBAPIError):
        write_transaction(engine, broken, sleep=lambda pause: pytest.fail("no pause expected"))
    assert len(runs) == 2


def test_cli_write_that_keeps_deadlocking_says_try_again(refs, db_url, monkeypatch, capsys):
    engine, app, ids = refs
    monkeypatch.setattr(Upkeep, "after_create", lambda self, form, new_ids: _abort_like_a_deadlock(self.conn))
    code = main(["--database-url", db_url, "records", "create", "refs", "payments",
                 "--data", f'{{"contract": {ids["X"]}, "amount": 5}}'])
    err = capsys.readouterr().err
    assert code == 2
    assert err.strip() == ("error: the record could not be saved because another change was saving the same "
                           "records at the same time; try again")
    assert _payments(engine, app)[0] == []


def test_sqlite_locked_too_long_says_try_again_without_running_again(tmp_path):
    """SQLite: a second writer waits for the first up to its busy timeout (made short
    here); when that runs out it is told to try again, and not run again."""
    engine = make_engine(f"sqlite:///{tmp_path / 'busy.db'}")
    sa.event.listen(engine, "connect", lambda dbapi_conn, _: dbapi_conn.execute("PRAGMA busy_timeout=50"))
    upgrade_system(engine)
    app = install_refs(engine)
    runs = []

    def work(conn):
        runs.append(1)
        return Records(conn, app).create("customers", {"name": "E"})

    with engine.begin() as holder:
        Records(holder, app).create("customers", {"name": "F"})
        with pytest.raises(ConcurrentWriteError) as caught:
            write_transaction(engine, work, sleep=lambda pause: pytest.fail("no pause expected"))
    assert (caught.value.attempts, caught.value.reason, len(runs)) == (1, "database is locked", 0)
    assert write_transaction(engine, work)["fields"]["name"] == "E"
    engine.dispose()


# ---- what locking ahead costs ---------------------------------------------------------------

def test_locking_ahead_costs_a_few_statements_whatever_the_batch(refs, count_statements, monkeypatch):
    """Statements to create payments, with and without locking ahead: on PostgreSQL one
    query per relation and level (contract, customer, referrer) and one lock per form
    (contracts, customers); on SQLite nothing."""
    engine, app, ids = refs
    lock_ahead = Upkeep.lock_ahead
    counts = {}
    for ahead in (False, True):
        monkeypatch.setattr(Upkeep, "lock_ahead", lock_ahead if ahead else lambda *args, **kwargs: None)
        for n in (1, 40):
            rows = [{"contract": ids["X" if i % 2 else "Y"], "amount": 1} for i in range(n)]
            with engine.begin() as conn, count_statements(engine) as counter:
                Records(conn, app).bulk_create("payments", rows)
            counts[ahead, n] = counter.count
    assert counts[False, 1] == counts[False, 40]
    extra = 5 if engine.dialect.name == "postgresql" else 0
    assert counts[True, 1] == counts[True, 40] == counts[False, 1] + extra
    _assert_nothing_to_recompute(engine)


def test_payments_of_mutual_referrers_deleted_at_once_both_uncount(refs, monkeypatch):
    """The same two levels up when the payments go to the recycle bin."""
    engine, app, ids = refs
    with engine.begin() as conn:
        made = Records(conn, app).bulk_create("payments", [{"contract": ids["X"], "amount": 100},
                                                           {"contract": ids["Y"], "amount": 200}])
    meeting = Rendezvous(engine)
    recompute = Upkeep.recompute

    def held(self, group, where):
        if any(node.field == "referred_ltv" for node in group):
            meeting.arrive()
        return recompute(self, group, where)
    monkeypatch.setattr(Upkeep, "recompute", held)

    errors = meeting.run(*(lambda conn, p=p: Records(conn, app).delete("payments", p["id"]) for p in made))
    assert not errors, errors
    a, b = _fields(engine, app, "customers", ids["A"]), _fields(engine, app, "customers", ids["B"])
    assert (a["ltv"], b["ltv"], a["referred_ltv"], b["referred_ltv"]) == (0, 0, 0, 0)
    _assert_nothing_to_recompute(engine)
