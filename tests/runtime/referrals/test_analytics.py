"""Referral analytics: the tree below a customer and every referrer's chain, each one
statement whatever the depth, equal to hand-written recursive SQL on the sample data,
and counting only what the reader may see."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from engine.dialect import Dialect
from engine.errors import NotFound
from engine.validation import load_definition
from engine.storage import system
from runtime.actor import actor_for
from runtime.apps import apply_app, load_installed
from runtime.permissions import ROLE_POLICY
from runtime.records import Records
from runtime.referrals.analytics import ReferralAnalytics
from runtime.seed import seed_app
from runtime.session import Session
from tests.support.paths import FLAGSHIP_APP

APP = "crm_referral"


@pytest.fixture
def crm(db):
    apply_app(db, load_definition(FLAGSHIP_APP))
    return db


def chain(crm):
    """老王 -> 小李 -> 小张 -> 小陈, and 老王 -> 小赵; 小张 pays a 10,000 元 contract."""
    def make(uow):
        records = uow.records(APP)
        made = {}
        for name, referrer in (("老王", None), ("小李", "老王"), ("小张", "小李"), ("小陈", "小张"), ("小赵", "老王")):
            made[name] = records.create("customers", {"name": name, "kind": "person",
                                                      "phone": f"138000000{len(made):02d}",
                                                      "referrer": made.get(referrer)})["id"]
        contract = records.create("contracts", {
            "title": "首单", "customer": made["小张"], "amount": Decimal(10000),
            "signed_on": date.today() - timedelta(days=2),
            "items": [{"product": "专业版", "quantity": 1, "unit_price": Decimal(10000)}]})["id"]
        records.create("payments", {"contract": contract, "amount": Decimal(10000), "paid_on": date.today()})
        return made
    return Session(crm).write(make)


def test_the_tree_below_a_customer_is_one_statement_depth_first(crm, count_statements):
    ids = chain(crm)
    with Session(crm).read() as uow:
        analytics = ReferralAnalytics(uow.records(APP))
        with count_statements(crm) as counted:
            nodes = analytics.tree(ids["老王"])
        assert counted.count == 1, counted.statements
    assert [(n.name, n.depth, n.parent_id) for n in nodes] == [
        ("老王", 0, None), ("小李", 1, ids["老王"]), ("小张", 2, ids["小李"]), ("小陈", 3, ids["小张"]),
        ("小赵", 1, ids["老王"])]
    assert nodes[3].path == "/".join(str(ids[n]) for n in ("老王", "小李", "小张", "小陈"))
    zhang = nodes[2]
    assert zhang.value == Decimal(10000) and zhang.first_deal == date.today() - timedelta(days=2)
    with Session(crm).read() as uow:
        assert [n.name for n in ReferralAnalytics(uow.records(APP)).tree(ids["小张"])] == ["小张", "小陈"]
        with pytest.raises(NotFound):
            ReferralAnalytics(uow.records(APP)).tree(999999)


def test_every_referrers_chain_value(crm, count_statements):
    chain(crm)
    with Session(crm).read() as uow:
        analytics = ReferralAnalytics(uow.records(APP))
        with count_statements(crm) as counted:
            found = analytics.referrers(top=10)
        assert counted.count == 1, counted.statements
    assert [(c.name, c.direct, c.indirect, c.converted, c.value) for c in found] == [
        ("老王", 2, 2, 1, Decimal(10000)), ("小李", 1, 1, 1, Decimal(10000)), ("小张", 1, 0, 0, Decimal(0))]
    with Session(crm).read() as uow:
        assert [c.name for c in ReferralAnalytics(uow.records(APP)).referrers(top=1)] == ["老王"]


def test_a_cycle_written_around_the_validation_ends(crm):
    ids = chain(crm)
    with Session(crm).read() as uow:
        table = uow.app(APP).tables.form_table("customers")
    with crm.begin() as conn:
        conn.execute(table.update().where(table.c.id == ids["老王"]).values(referrer=ids["小陈"]))
    with Session(crm).read() as uow:
        analytics = ReferralAnalytics(uow.records(APP))
        assert len(analytics.tree(ids["老王"])) == 5
        assert {c.name: c.direct + c.indirect for c in analytics.referrers()}["老王"] == 4


HAND_CHAINS = """
WITH RECURSIVE chains(ancestor, id, depth) AS (
  SELECT referrer, id, 1 FROM {t} WHERE referrer IS NOT NULL AND deleted_at IS NULL
  UNION ALL
  SELECT chains.ancestor, f.id, chains.depth + 1 FROM {t} f JOIN chains ON f.referrer = chains.id
  WHERE f.deleted_at IS NULL AND f.id <> chains.ancestor AND chains.depth < 50)
SELECT chains.ancestor, SUM(CASE WHEN depth = 1 THEN 1 ELSE 0 END), SUM(CASE WHEN depth > 1 THEN 1 ELSE 0 END),
       COUNT(m.first_deal_date), COALESCE(SUM(m.lifetime_value), 0)
FROM chains JOIN {t} m ON m.id = chains.id JOIN {t} h ON h.id = chains.ancestor WHERE h.deleted_at IS NULL
GROUP BY chains.ancestor ORDER BY 5 DESC, 1
"""


def test_the_sample_datas_chains_equal_hand_written_sql(crm):
    seed_app(crm, APP, 60)
    with Session(crm).read() as uow:
        table = uow.app(APP).tables.form_table("customers")
        found = ReferralAnalytics(uow.records(APP)).referrers(top=1000)
        hand = uow.conn.execute(sa.text(HAND_CHAINS.format(t=table.name))).all()
        scale = Decimal(100) if Dialect.of(uow.conn).scaled_numbers else Decimal(1)   # SQLite keeps fen
    assert len(found) > 5 and any(c.indirect for c in found)
    assert [(c.referrer_id, c.direct, c.indirect, c.converted, c.value) for c in found] == \
        [(r[0], int(r[1]), int(r[2]), int(r[3]), Decimal(str(r[4])) / scale) for r in hand]


def test_a_salesperson_counts_only_their_own_customers(crm):
    seed_app(crm, APP, 60, seed=7)
    with crm.connect() as conn:
        app = load_installed(conn, APP)
        seller = next(a for a in (actor_for(conn, account) for account in conn.execute(
            sa.select(system.users.c.account).order_by(system.users.c.id)).scalars()) if a.roles == {"sales"})
        everyone = ReferralAnalytics(Records(conn, app)).referrers(top=1000)
        mine = ReferralAnalytics(Records(conn, app, actor=seller, policy=ROLE_POLICY)).referrers(top=1000)
        table = app.tables.form_table("customers")
        own = set(conn.execute(sa.select(table.c.id).where(table.c.owner == seller.user_id)).scalars())
        hidden = next(c.referrer_id for c in everyone if c.referrer_id not in own)
        with pytest.raises(NotFound):
            ReferralAnalytics(Records(conn, app, actor=seller, policy=ROLE_POLICY)).tree(hidden)
    assert mine and len(mine) < len(everyone) and {c.referrer_id for c in mine} <= own
    full = {c.referrer_id: c for c in everyone}
    assert all(c.direct + c.indirect <= full[c.referrer_id].direct + full[c.referrer_id].indirect for c in mine)
