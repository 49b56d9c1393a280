"""The fixed SQL cost of a request, counted exactly so that a regression fails: who is
asking is one SELECT (web/auth/identity.py, runtime/auth/requester.py), which also reads
the installed version of the app the URL names, a key's last use is written only when
the one noted is over a minute old, then the work itself."""
from __future__ import annotations

import copy
from datetime import timedelta

import sqlalchemy as sa

from engine.definition.model import AppDef
from engine.storage import system
from engine.storage.db import make_engine
from engine.storage.types import utcnow
from engine.validation import load_definition
from runtime.apps import apply_app
from tests.support.paths import FLAGSHIP_APP
from tests.support.web import sign_in
from tests.support.web_api import CUSTOMERS

TABLE_PAGE = "/apps/crm_referral/forms/customers"
# Who is asking and the installed version (1), the owner checked (1), the serial number (1),
# the insert (1), its history (1), the record read back (1).
API_CREATE = 6
# Who is asking and the installed version (1), the page (1), its capped count (1).
API_LIST = 3
# Who is asking and the installed version (1), the default view (1), the page (1), its
# count (1), the owners' names (1), the saved views (1); the top bar's pending tasks and
# unread notifications together (1) (web/inbox topbar_counts, runtime/notifications badge_counts).
TABLE = 7


def _counted(world, count_statements, send):
    with count_statements(world.app.extensions["formwork"].engine) as counter:
        answer = send()
    assert answer.status_code in (200, 201), answer.data[:300]
    return counter.statements


def _create(world, name: str):
    return lambda: world.client.post(CUSTOMERS, json={"name": name, "kind": "企业"}, headers=world.headers())


def _is_identity(statement: str) -> bool:
    return "fw_users" in statement and ("fw_session_epochs" in statement or "fw_api_keys" in statement)


def test_an_api_create_costs_a_fixed_few_statements(world, count_statements):
    world.create({"name": "warm: compiled app, last use noted", "kind": "企业"})
    statements = _counted(world, count_statements, _create(world, "客户A"))
    assert len(statements) == API_CREATE, statements
    assert _is_identity(statements[0]) and sum(map(_is_identity, statements)) == 1
    assert not any(s.lstrip().upper().startswith("UPDATE FW_API_KEYS") for s in statements)


def test_a_keys_last_use_is_written_only_when_over_a_minute_old(world, count_statements):
    world.create({"name": "warm", "kind": "企业"})
    keys = system.api_keys
    with world.engine.begin() as conn:
        conn.execute(sa.update(keys).values(last_used_at=utcnow() - timedelta(minutes=2)))
    due = _counted(world, count_statements, _create(world, "客户B"))
    assert len(due) == API_CREATE + 1
    assert sum(s.lstrip().upper().startswith("UPDATE FW_API_KEYS") for s in due) == 1
    assert len(_counted(world, count_statements, _create(world, "客户C"))) == API_CREATE
    with world.engine.connect() as conn:
        noted = conn.execute(sa.select(keys.c.last_used_at).where(keys.c.user_id == world.users["li"])).scalar()
    assert utcnow() - noted < timedelta(minutes=1)


def test_a_signed_in_list_costs_a_fixed_few_statements(world, count_statements):
    world.create({"name": "客户D", "kind": "企业"})                 # a row, so an owner's name to show
    client = world.app.test_client()
    assert sign_in(client).status_code == 302
    client.get(TABLE_PAGE)                                          # warm: the compiled app
    page = _counted(world, count_statements, lambda: client.get(TABLE_PAGE))
    assert len(page) == TABLE, page
    api = _counted(world, count_statements, lambda: client.get(CUSTOMERS, headers={"Accept": "application/json"}))
    assert len(api) == API_LIST, api
    assert _is_identity(page[0]) and _is_identity(api[0])


def _upgraded_flagship():
    """The flagship with one more field on customers (an upgrade: a new installed version)."""
    raw = copy.deepcopy(load_definition(FLAGSHIP_APP).raw)
    customers = next(form for form in raw["forms"] if form["key"] == "customers")
    customers["fields"].append({"key": "nickname", "type": "text", "label": {"zh": "昵称", "en": "Nickname"}})
    return AppDef.from_dict(raw)


def test_the_request_after_an_upgrade_in_another_connection_works_from_the_new_version(world, count_statements):
    """The installed version is read with who is asking on every request: once another
    connection has committed an upgrade, the very next request of a warm process works
    from the new version (here: a field that did not exist before), by API key and by
    session alike, and loads that version once."""
    refused = world.client.post(CUSTOMERS, json={"name": "客户E", "kind": "企业", "nickname": "小E"},
                                headers=world.headers())
    assert refused.status_code == 422 and "nickname" in refused.get_data(as_text=True)
    client = world.app.test_client()
    assert sign_in(client).status_code == 302
    assert "昵称" not in client.get(TABLE_PAGE).get_data(as_text=True)

    other = make_engine(world.engine.url.render_as_string(hide_password=False))
    try:
        assert apply_app(other, _upgraded_flagship())["changed"]
    finally:
        other.dispose()

    with count_statements(world.app.extensions["formwork"].engine) as counter:
        created = world.client.post(CUSTOMERS, json={"name": "客户E", "kind": "企业", "nickname": "小E"},
                                    headers=world.headers())
    assert created.status_code == 201, created.data[:300]
    assert created.json["fields"]["nickname"] == "小E"
    # The new version loaded once (its row, its definition), unless this process compiled it before.
    assert len(counter.statements) in (API_CREATE, API_CREATE + 2)
    listed = world.client.get(CUSTOMERS, headers=world.headers())
    assert listed.status_code == 200 and any(r["fields"].get("nickname") == "小E" for r in listed.json["items"])
    assert "昵称" in client.get(TABLE_PAGE).get_data(as_text=True)
    assert len(_counted(world, count_statements, _create(world, "客户F"))) == API_CREATE


def test_an_app_not_installed_answers_404_as_before(world):
    answer = world.client.get("/api/v1/apps/no_such_app/forms/customers/records", headers=world.headers())
    assert answer.status_code == 404 and "no_such_app" in answer.get_data(as_text=True)
    answer = world.client.post("/api/v1/apps/no_such_app/forms/customers/records", json={"name": "x"},
                               headers=world.headers())
    assert answer.status_code == 404
