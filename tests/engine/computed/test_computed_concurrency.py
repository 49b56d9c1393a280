"""Two transactions adding payments to one contract at the same time, on PostgreSQL:
both payments count (the upkeep locks the parents before it adds up their children, so
the second transaction's sum sees the first one's committed payment)."""
import threading
from decimal import Decimal

from engine.storage.db import make_engine
from engine.storage.system_upgrade import upgrade_system
from runtime.records import Records
from tests.support.computed_app import install_sales


def test_concurrent_payments_on_one_contract_both_count(pg_schema):
    engine = make_engine(pg_schema)
    upgrade_system(engine)
    app = install_sales(engine)
    with engine.begin() as conn:
        r = Records(conn, app)
        customer = r.create("customers", {"name": "甲"})["id"]
        contract = r.create("contracts", {"title": "K", "customer": customer, "amount": 1000})["id"]
    first_written, second_started = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def first():
        try:
            with engine.begin() as conn:
                Records(conn, app).create("payments", {"contract": contract, "customer": customer, "amount": 100})
                first_written.set()
                # Keep the transaction open while the second one runs into the lock.
                second_started.wait(10)
                threading.Event().wait(0.3)
        except BaseException as exc:      # reported by the main thread
            errors.append(exc)
            first_written.set()

    def second():
        try:
            first_written.wait(10)
            second_started.set()
            with engine.begin() as conn:
                Records(conn, app).create("payments", {"contract": contract, "customer": customer, "amount": 200})
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    with engine.connect() as conn:
        r = Records(conn, app)
        contract_fields = r.get("contracts", contract)["fields"]
        assert (contract_fields["paid"], contract_fields["unpaid"]) == (Decimal("300.00"), Decimal("700.00"))
        assert r.get("customers", customer)["fields"]["ltv"] == Decimal("300.00")
    engine.dispose()
