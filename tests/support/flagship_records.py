"""Records of the flagship written by the tests themselves (not the seeded sample data), so
a test's figures come from rows it can read: customers, their contracts and their orders.

    made = write_records(db, customers=[...], contracts=[...], orders=[...])
    made["customers"]["甲"]           # the id of customer 甲

A contract or an order names its customer by name; a contract gets one line of items
worth its amount.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from runtime.apps import load_installed
from runtime.records import Records

NOW = datetime(2026, 3, 20, 4, tzinfo=timezone.utc)


def write_records(db, customers: list[dict[str, Any]], contracts: list[dict[str, Any]] = (),
                  orders: list[dict[str, Any]] = (), now: datetime = NOW) -> dict[str, dict[str, int]]:
    made: dict[str, dict[str, int]] = {"customers": {}, "contracts": {}, "orders": {}}
    with db.begin() as conn:
        records = Records(conn, load_installed(conn, "crm_referral"), now=now)
        for values in customers:
            made["customers"][values["name"]] = records.create("customers", {"kind": "company", **values})["id"]
        for values in contracts:
            row = {**values, "customer": made["customers"][values["customer"]]}
            row.setdefault("items", [{"product": "软件", "quantity": 1, "unit_price": row["amount"]}])
            made["contracts"][row["title"]] = records.create("contracts", row)["id"]
        for values in orders:
            row = {**values, "customer": made["customers"][values["customer"]]}
            made["orders"][row["order_no"]] = records.create("orders", row)["id"]
    return made
