"""`formwork seed`: deterministic, realistic sample data for the CRM + referral app,
written through the record service, on SQLite and PostgreSQL."""
from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from datetime import timedelta

import pytest
import sqlalchemy as sa

from engine.compiled.app import compiled
from engine.errors import FormworkError
from engine.fields import ValueContext
from engine.storage import system
from engine.validation import load_definition
from runtime.apps import apply_app
from runtime.org import Org
from runtime.records import Records
from runtime.seed import seed_app
from runtime.seed.crm_referral import ANCHOR, MAX_CHAIN_DEPTH
from tests.support.databases import second_db  # noqa: F401  (a fixture)
from tests.support.paths import FLAGSHIP_APP as APP_FILE
from web.cli import main

SCALE, SEED = 120, 11


def install(engine):
    app = load_definition(APP_FILE)
    apply_app(engine, app)
    return app


def all_records(engine, app, form_key) -> list[dict]:
    out = []
    with engine.connect() as conn:
        records, cursor = Records(conn, app), None
        while True:
            page = records.list(form_key, sort="id", page_size=500, cursor=cursor, with_count=False)
            out += page.records
            cursor = page.next_cursor
            if not cursor:
                return out


def digest(engine, app) -> str:
    """A fingerprint of every record's values (and of the org), form by form."""
    sha = hashlib.sha256()
    for form in app.forms:
        for record in all_records(engine, app, form.key):
            sha.update(json.dumps([record["id"], record["fields"]], sort_keys=True, default=str).encode())
    with engine.connect() as conn:
        for row in conn.execute(sa.select(system.users.c.account, system.users.c.name).order_by(system.users.c.id)):
            sha.update(f"{row.account}:{row.name}".encode())
    return sha.hexdigest()


@pytest.fixture
def seeded(db):
    app = install(db)
    counts = seed_app(db, "crm_referral", SCALE, seed=SEED)
    return db, app, counts


def test_the_same_seed_gives_the_same_data(seeded, second_db):
    db, app, counts = seeded
    install(second_db)
    assert seed_app(second_db, "crm_referral", SCALE, seed=SEED) == counts
    assert digest(second_db, app) == digest(db, app)


def test_another_seed_gives_other_data(db, second_db):
    app = install(db)
    install(second_db)
    seed_app(db, "crm_referral", 30, seed=1)
    seed_app(second_db, "crm_referral", 30, seed=2)
    assert digest(db, app) != digest(second_db, app)


def test_referral_chains_up_to_five_levels_and_a_plausible_funnel(seeded):
    db, app, counts = seeded
    customers = all_records(db, app, "customers")
    assert len(customers) == SCALE == counts["customers"]
    referrer = {c["id"]: c["fields"]["referrer"] for c in customers}

    def depth(cid):
        level = 1
        while referrer[cid] is not None:
            cid, level = referrer[cid], level + 1
        return level
    depths = Counter(depth(c) for c in referrer)
    assert max(depths) == MAX_CHAIN_DEPTH and depths[1] > SCALE / 2
    referred = [c for c in customers if c["fields"]["referrer"] is not None]
    assert all(c["fields"]["source"] == "referral" for c in referred)
    referrals = all_records(db, app, "referrals")
    statuses = Counter(r["fields"]["status"] for r in referrals)
    assert set(statuses) == {"submitted", "contacted", "converted", "lost", "invalid"}
    assert 0.1 < statuses["converted"] / len(referrals) < 0.5    # most referrals do not convert
    converted = [r for r in referrals if r["fields"]["status"] == "converted"]
    assert {r["fields"]["friend_customer"] for r in converted} == {c["id"] for c in referred}
    assert all(r["fields"]["consent"] and r["fields"]["consent_at"] for r in converted)
    assert all(r["fields"]["referral_code"].split("-")[0] in ("SPR25", "AUT25", "ALL26") for r in referrals)
    # each friend came with the code their referrer shares in that campaign (a formula field)
    assert all(r["fields"]["referral_code"] == r["fields"]["share_code"] for r in referrals)
    ledger = all_records(db, app, "reward_ledger")
    assert {e["fields"]["kind"] for e in ledger} == {"referrer", "friend", "indirect"}
    assert all(e["fields"]["explanation"] for e in ledger)


def test_two_years_of_orders_with_repurchases(seeded):
    db, app, _ = seeded
    orders = all_records(db, app, "orders")
    days = sorted(o["fields"]["ordered_on"] for o in orders)
    assert days[0] >= ANCHOR - timedelta(days=730) and days[-1] <= ANCHOR
    assert (days[-1] - days[0]).days > 650
    by_customer = defaultdict(list)
    for order in sorted(orders, key=lambda o: o["fields"]["order_no"]):
        by_customer[order["fields"]["customer"]].append(order["fields"])
    for placed in by_customer.values():
        assert [o["is_repurchase"] for o in placed] == [False] + [True] * (len(placed) - 1)
        assert [o["ordered_on"] for o in placed] == sorted(o["ordered_on"] for o in placed)
    assert sum(o["fields"]["is_repurchase"] for o in orders) > len(orders) / 4
    assert len(by_customer) < SCALE    # not every customer buys


def test_chinese_data_that_passes_the_field_rules(seeded):
    db, app, _ = seeded
    form = app.require_form("customers")
    phone = compiled(app).types.of(form.field("phone"))
    customers = all_records(db, app, "customers")
    for c in customers[:50]:
        assert phone.clean(c["fields"]["phone"], ValueContext()) == c["fields"]["phone"]
        assert any("\u4e00" <= ch <= "\u9fff" for ch in c["fields"]["name"])
        assert c["fields"]["address"]["province"].endswith(("省", "市")) and c["fields"]["owner"]
    contracts = all_records(db, app, "contracts")
    assert contracts and all(c["fields"]["items"] and c["fields"]["contract_no"].startswith("HT") for c in contracts)


def test_sales_staff_in_a_department_tree_with_heads(seeded):
    db, _, counts = seeded
    with db.connect() as conn:
        org = Org(conn)
        index = org.departments.index()
        regions = [d for d in index.by_id.values() if d.name.endswith("大区")]
        assert len(regions) == 3 and all(index.path(d.id).startswith("总部/销售部/") for d in regions)
        assert all(d.head_user_id is not None for d in regions)
        members = {d.id: org.departments.members(d.id) for d in regions}
    assert len({u.id for m in members.values() for u in m}) == counts["users"]   # every salesperson has a team


def test_records_go_through_the_record_service(seeded):
    db, app, counts = seeded
    history = system.record_history
    with db.connect() as conn:
        created = dict(conn.execute(sa.select(history.c.form_key, sa.func.count()).where(
            history.c.action == "create").group_by(history.c.form_key)).all())
        referrer_changes = conn.execute(sa.select(history.c.changes).where(
            history.c.form_key == "customers")).scalars().all()
    assert created == {k: v for k, v in counts.items() if k != "users" and v}
    referred = sum(1 for c in all_records(db, app, "customers") if c["fields"]["referrer"])
    # Each referrer is in the history: set at creation, or (when in the same batch) by an update.
    assert sum(1 for changes in referrer_changes if "referrer" in changes) == referred


def test_the_seed_command(db, db_url, capsys):
    install(db)
    assert main(["--database-url", db_url, "seed", "crm_referral", "--scale", "10", "--seed", "3"]) == 0
    out = capsys.readouterr().out
    assert "customers" in out and "10" in out
    assert main(["--database-url", db_url, "seed", "shop", "--scale", "10"]) == 2
    assert "no sample-data generator for app 'shop'" in capsys.readouterr().err
    with pytest.raises(FormworkError, match="between 1 and"):
        seed_app(db, "crm_referral", 0)
    # A second seed into the same app is refused before anything is written.
    assert main(["--database-url", db_url, "seed", "crm_referral", "--scale", "10"]) == 2
    assert "already has records (form 'customers')" in capsys.readouterr().err
