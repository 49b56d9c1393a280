"""The flagship's permission sets (apps/crm_referral.yaml) on seeded data: a salesperson
sees only the customers they are in charge of or entered, a region's head those of
their region's salespeople, finance only the customer fields it is given and no leads,
and nobody without a role anything."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from engine.compiled.app import compiled
from engine.storage import system
from engine.validation import load_definition
from runtime.actor import actor_for
from runtime.apps import apply_app
from runtime.org import Org
from runtime.permissions import ROLE_POLICY, PermissionDenied
from runtime.records import Records
from runtime.seed import seed_app
from tests.support.paths import FLAGSHIP_APP


@pytest.fixture
def crm(db):
    app = compiled(load_definition(FLAGSHIP_APP))
    apply_app(db, app.definition)
    seed_app(db, "crm_referral", 60, seed=5)
    return db, app


def _all(records, form_key) -> list[dict]:
    return records.list(form_key, page_size=500).records


def _region_head(conn):
    """A region's head and the ids of the members of that region."""
    org = Org(conn)
    region = next(d for d in org.departments.index().by_id.values() if d.name == "华东大区")
    return region.head_user_id, {u.id for u in org.departments.members(region.id)}


def test_a_salesperson_sees_only_their_own_customers(crm):
    db, app = crm
    with db.connect() as conn:
        everyone = _all(Records(conn, app), "customers")
        me = next(a for a in (actor_for(conn, account) for account in conn.execute(
            sa.select(system.users.c.account).order_by(system.users.c.id)).scalars()) if a.roles == {"sales"})
        mine = _all(Records(conn, app, actor=me, policy=ROLE_POLICY), "customers")
    expected = {r["id"] for r in everyone if me.user_id in (r["fields"]["owner"], r["owner_id"])}
    assert expected and {r["id"] for r in mine} == expected and len(mine) < len(everyone)


def test_a_region_head_sees_the_customers_of_their_departments(crm):
    db, app = crm
    with db.connect() as conn:
        head, _ = _region_head(conn)
        manager = actor_for(conn, head)
        # "my departments" are those the manager is a member of, and all below them
        team = {u.id for d in manager.department_ids for u in Org(conn).departments.members(d, recursive=True)}
        assert {"sales", "sales_manager"} <= manager.roles
        everyone = _all(Records(conn, app), "customers")
        seen = {r["id"] for r in _all(Records(conn, app, actor=manager, policy=ROLE_POLICY), "customers")}
    expected = {r["id"] for r in everyone if r["fields"]["owner"] in team or r["owner_id"] == head}
    assert seen == expected and len(seen) < len(everyone)


def test_finance_sees_the_fields_it_is_given_and_no_leads(crm):
    db, app = crm
    with db.begin() as conn:
        org = Org(conn)
        clerk = org.users.add("cai.wu", "蔡务").id
        org.roles.assign("finance", [clerk])
    with db.connect() as conn:
        finance = Records(conn, app, actor=actor_for(conn, clerk), policy=ROLE_POLICY)
        customer = _all(finance, "customers")[0]
        assert set(customer["fields"]) == {"name", "kind", "phone", "email", "level", "owner", "department",
                                           "referral_code", "contract_revenue"}
        assert finance.access("payments").can("edit") and not finance.access("contracts").can("edit")
        with pytest.raises(PermissionDenied):
            finance.list("leads")
        campaign = _all(Records(conn, app, actor=actor_for(conn, clerk), policy=ROLE_POLICY),
                        "referral_campaigns")[0]
        assert "referrer_reward" in campaign["fields"]


def test_a_salesperson_never_sees_reward_amounts(crm):
    db, app = crm
    with db.connect() as conn:
        salespeople = [actor_for(conn, account) for account in conn.execute(
            sa.select(system.users.c.account).order_by(system.users.c.id)).scalars()]
        seller = next(a for a in salespeople if a.roles == {"sales"})
        sales = Records(conn, app, actor=seller, policy=ROLE_POLICY)
        campaigns = _all(sales, "referral_campaigns")
        assert campaigns and all("referrer_reward" not in c["fields"] and "friend_reward" not in c["fields"]
                                 for c in campaigns)
        with pytest.raises(PermissionDenied):
            sales.list("reward_ledger")
