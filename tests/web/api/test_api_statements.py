"""The SQL statements of an API request do not grow with the page: a page of 10 and of
200 customers (each pointing at a referrer, with the member who owns it) take the same
statements, and so do the related records of a customer."""
from __future__ import annotations

from runtime.session import Session
from tests.support.web_api import CUSTOMERS


def _seed(world, count: int) -> int:
    """`count` customers, each but the first referred by the one before; returns the first's id."""
    with Session(world.engine).write() as uow:
        records = uow.records("crm_referral")
        first = records.create("customers", {"name": "客户0000", "kind": "企业", "owner": world.users["li"]})
        rows = [{"name": f"客户{i:04}", "kind": "个人", "referrer": first["id"], "owner": world.users["han"]}
                for i in range(1, count)]
        records.bulk_create("customers", rows)
    return first["id"]


def _statements(world, count_statements, path: str, **query) -> tuple[int, dict]:
    engine = world.app.extensions["formwork"].engine
    with count_statements(engine) as counter:
        answer = world.client.get(path, query_string=query, headers=world.headers())
    assert answer.status_code == 200, answer.json
    return counter.count, answer.json


def test_a_page_costs_the_same_statements_for_10_and_200_rows(world, count_statements):
    first = _seed(world, 210)
    world.client.get(CUSTOMERS, headers=world.headers())          # warm: compiled app, last use noted
    small, page10 = _statements(world, count_statements, CUSTOMERS, limit=10, sort="name")
    large, page200 = _statements(world, count_statements, CUSTOMERS, limit=200, sort="name")
    assert len(page10["items"]) == 10 and len(page200["items"]) == 200
    assert page200["items"][5]["titles"]["referrer"][str(first)]["title"] == "客户0000"
    assert small == large
    related = f"{CUSTOMERS}/{first}/related/customers.referrer"
    small, rel10 = _statements(world, count_statements, related, limit=10)
    large, rel200 = _statements(world, count_statements, related, limit=200)
    assert len(rel10["items"]) == 10 and len(rel200["items"]) == 200 and small == large
