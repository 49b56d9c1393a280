"""The web tests of the data table and record pages: the small CRM app of
tests/support/record_pages_app.py installed, 李雷 and 韩梅梅 able to sign in, and a
client signed in as one of them (full access, or the Salesperson policy)."""
from __future__ import annotations

import json

from runtime.org import Org
from runtime.permissions import FULL_ACCESS
from tests.support.record_pages_app import Crm, Salesperson, install_crm
from tests.support.web import PASSWORD, csrf_from, make_app, sign_in

XSS = ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>', "{{7*7}}"]


def crm_site(engine, *, salesperson: bool = False):
    """(flask app, Crm): the app under FULL_ACCESS, or under Salesperson (own customers,
    `note` hidden, `level` read-only)."""
    crm = install_crm(engine)
    with engine.begin() as conn:
        users = Org(conn).users
        users.set_password(crm.li.user_id, PASSWORD)
        users.set_password(crm.han.user_id, PASSWORD)
    config = {"FORMWORK_POLICY": Salesperson()} if salesperson else {}
    return make_app(engine, **config), crm


def signed_in(app, account: str = "li.lei"):
    client = app.test_client()
    answer = sign_in(client, account)
    assert answer.status_code in (302, 303), answer.get_data(as_text=True)[:300]
    return client


def post_json(client, path: str, body: dict):
    token = csrf_from(client, "/")
    return client.post(path, data=json.dumps(body), content_type="application/json",
                       headers={"X-CSRF-Token": token, "Accept": "application/json"})


def add_customers(crm: Crm, rows: list[dict], actor=None) -> list[dict]:
    with crm.engine.begin() as conn:
        records = crm.records(conn, actor or crm.li, policy=FULL_ACCESS)
        return [records.create("customers", row) for row in rows]


# The customers table of crm_site, and reading its page and its JSON.
BASE = "/apps/crm/forms/customers"


def html(answer) -> str:
    assert answer.status_code == 200, answer.get_data(as_text=True)[-2000:]
    return answer.get_data(as_text=True)


def names(client, query: str = "") -> list[str]:
    answer = client.get(f"{BASE}/table.json{query}")
    assert answer.status_code == 200, answer.get_json()
    return [row["display"]["name"] for row in answer.get_json()["rows"]]
