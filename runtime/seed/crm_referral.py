"""Sample data for the CRM + referral app, deterministic for a given seed.

`scale` is the number of customers. Around it: a sales organisation (departments
and staff), referral campaigns, referral chains up to five levels deep (A referred
B, B referred C...), a plausible funnel (most referrals never convert), leads,
opportunities, contracts with line items, payments, follow-ups, after-sales
tickets, two years of orders (repurchases) and the reward ledger.
"""
from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, Callable

import sqlalchemy as sa
from faker import Faker

from engine.errors import FormworkError
from engine.fields.base import DEFAULT_TZ
from engine.storage import system
from engine.storage.db import read_connection
from runtime.actor import Actor
from runtime.apps import load_installed
from runtime.org import Org
from runtime.records import Records
from runtime.rewards import approve, pay, settle_records
from runtime.rewards.settle import vest_due
from runtime.session import Session

ANCHOR = date(2026, 6, 30)      # "today" of the sample data, so a seed always gives the same data
BATCH = 2000
MAX_CHAIN_DEPTH = 5
# The showcase friends' contracts (docs/rewards.md): paid in full `back` days before ANCHOR,
# their amount and status (refunded: paid back afterwards). The 3rd, 5th and 10th earn a
# milestone bonus, the 5th on earn 8%; the five of one March week reach the referral cap
# (5,000) and then the month's (20,000); the 2nd is refunded after it was paid out
# (clawback), the 11th within its hold (cancelled).
SHOWCASE = [(175, 30000, "completed"), (160, 50000, "refunded"), (140, 40000, "completed"),
            (100, 100000, "completed"), (99, 100000, "completed"), (98, 100000, "executing"),
            (97, 100000, "completed"), (96, 100000, "completed"), (45, 60000, "completed"),
            (20, 30000, "executing"), (10, 80000, "refunded")]

# Valid (province, city, district) triples of the administrative-division data set.
PLACES = [
    ("上海市", "上海市", "浦东新区"), ("上海市", "上海市", "徐汇区"), ("北京市", "北京市", "朝阳区"),
    ("北京市", "北京市", "海淀区"), ("广东省", "深圳市", "南山区"), ("广东省", "广州市", "天河区"),
    ("浙江省", "杭州市", "西湖区"), ("江苏省", "南京市", "鼓楼区"), ("江苏省", "苏州市", "姑苏区"),
    ("四川省", "成都市", "武侯区"), ("湖北省", "武汉市", "洪山区"), ("山东省", "青岛市", "市南区"),
]
DEPARTMENTS = [("总部", None), ("销售部", "总部"), ("华东大区", "销售部"), ("华南大区", "销售部"),
               ("华北大区", "销售部"), ("客户成功部", "总部")]
REGIONS = ("华东大区", "华南大区", "华北大区")     # where the sales staff work
ROLES = [("sales", "销售"), ("sales_manager", "销售经理"), ("finance", "财务"), ("crm_manager", "CRM 管理员")]
STAGES = [("initial", 10), ("needs", 30), ("proposal", 60), ("negotiation", 80), ("won", 100), ("lost", 0)]
PRODUCTS = [("标准版软件授权", 9800), ("专业版软件授权", 19800), ("实施服务（人天）", 2500),
            ("年度运维服务", 6800), ("培训课程", 3200), ("硬件终端", 1500)]


class _Writer:
    """Creates records in batches through the record service, one transaction per batch."""

    def __init__(self, engine, app, user_id, progress):
        self.engine, self.app, self.user_id, self.progress = engine, app, user_id, progress
        self.counts: dict[str, int] = {}

    def create(self, form_key: str, rows: list[dict[str, Any]], *, as_user: Callable[[int], int] | None = None
               ) -> list[int]:
        ids: list[int] = []
        for start in range(0, len(rows), BATCH):
            chunk = rows[start:start + BATCH]
            with self.engine.begin() as conn:
                new, _ = Records(conn, self.app, actor=Actor(user_id=self.user_id), now=_at(ANCHOR)).create_many(
                    form_key, chunk, skip_invalid=False)
            ids.extend(new)
            self.counts[form_key] = self.counts.get(form_key, 0) + len(new)
            if self.progress:
                self.progress(form_key, self.counts[form_key])
        return ids


def _at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour)).replace(tzinfo=DEFAULT_TZ)


def generate(engine, scale: int, *, seed: int = 42, progress=None) -> dict[str, int]:
    rnd = random.Random(seed)
    fake = Faker("zh_CN")
    fake.seed_instance(seed)
    with read_connection(engine) as conn:
        app = load_installed(conn, "crm_referral")
    if app is None:
        raise FormworkError("app 'crm_referral' is not installed; run `formwork apply apps/crm_referral.yaml`")
    staff, departments = _organisation(engine, fake, rnd, scale, seed)
    writer = _Writer(engine, app, staff[0], progress)
    day = lambda back: ANCHOR - timedelta(days=back)                     # noqa: E731

    campaigns = writer.create("referral_campaigns", [
        {"name": name, "code_prefix": prefix, "status": status, "starts_on": day(start),
         "ends_on": day(end) if end is not None else None, "referrer_reward": reward,
         "friend_reward": friend, "rules": "老客户推荐新客户成交后，双方各得奖励；奖励在回款后 30 天生效。"}
        for name, prefix, status, start, end, reward, friend in [
            ("2025 春季老带新", "SPR25", "ended", 450, 360, 500, 200),
            ("2025 金秋推荐有礼", "AUT25", "ended", 280, 200, 800, 300),
            ("2026 全年推荐计划", "ALL26", "running", 180, None, 1000, 500)]])

    # Customers in creation order; about a third were referred by an earlier customer,
    # which builds chains (depth kept to MAX_CHAIN_DEPTH).
    customers: list[dict] = []
    depth: list[int] = []
    referrer_of: list[int | None] = []
    phones: set[str] = set()
    showcase = SHOWCASE if scale >= 2 * len(SHOWCASE) else []
    for i in range(scale - len(showcase)):
        ref = None
        if i > 3 and rnd.random() < 0.35:
            candidate = rnd.randrange(i)
            if depth[candidate] < MAX_CHAIN_DEPTH - 1:
                ref = candidate
        depth.append(0 if ref is None else depth[ref] + 1)
        referrer_of.append(ref)
        phone = _unique_phone(rnd, phones)
        place = rnd.choice(PLACES)
        company = rnd.random() < 0.7
        customers.append({
            "name": fake.company() if company else fake.name(),
            "kind": "company" if company else "person",
            "phone": phone, "email": fake.email(),
            "level": rnd.choices(["vip", "key", "normal"], [1, 3, 12])[0],
            "industry": rnd.choice(["manufacturing", "retail", "education", "healthcare", "internet",
                                    "finance", "other"]),
            "source": "referral" if ref is not None else rnd.choice(["website", "exhibition", "cold_call", "ad"]),
            "owner": rnd.choice(staff), "department": rnd.choice(departments[2:5]),
            "address": {"province": place[0], "city": place[1], "district": place[2],
                        "detail": fake.street_address()},
            "tags": rnd.sample(["high_intent", "price_sensitive", "decision_maker", "promoter"], rnd.randint(0, 2)),
            "remark": None,
        })
    # The programme's showcase: the first customer refers the last len(SHOWCASE) customers
    # (of a scale of at least twice that), who all buy this year, so the seed exercises every reward rule (tiers, milestones, caps, hold,
    # approval, cancel and clawback).
    showcase_friends = []
    for _ in showcase:
        showcase_friends.append(len(customers))
        place = rnd.choice(PLACES)
        customers.append({"name": fake.name(), "kind": "person", "phone": _unique_phone(rnd, phones),
                          "email": fake.email(), "level": "normal", "industry": "other", "source": "referral",
                          "owner": rnd.choice(staff), "department": rnd.choice(departments[2:5]),
                          "address": {"province": place[0], "city": place[1], "district": place[2],
                                      "detail": fake.street_address()}, "tags": [], "remark": None})
        referrer_of.append(0)
        depth.append(1)
    customer_ids = _customers(engine, app, writer, customers, referrer_of, staff[0])
    codes = _referral_codes(engine, app)
    if progress:
        progress("customers", writer.counts["customers"])   # the referrers are set too

    writer.create("contacts", [
        {"name": fake.name(), "customer": customer_ids[i], "title": rnd.choice(["总经理", "采购经理", "IT 主管", "财务总监"]),
         "mobile": _unique_phone(rnd, phones), "email": fake.email(), "is_decision_maker": rnd.random() < 0.3}
        for i, c in enumerate(customers) if c["kind"] == "company" for _ in range(rnd.randint(1, 2))])

    # Referrals: every referred customer came through one (converted); many more never did.
    referral_rows, referral_meta = [], []
    for i, ref in enumerate(referrer_of):
        if ref is not None:
            back = rnd.randint(30, 700)
            referral_rows.append(_referral(rnd, fake, customer_ids[ref], codes, customers[i]["name"],
                                           customers[i]["phone"], customer_ids[i], campaigns, back, "converted",
                                           customers[ref]["owner"]))
            referral_meta.append((ref, i, back))
    for _ in range(int(scale * 0.9)):
        ref = rnd.randrange(scale)
        status = rnd.choices(["submitted", "contacted", "lost", "invalid"], [2, 3, 5, 1])[0]
        referral_rows.append(_referral(rnd, fake, customer_ids[ref], codes, fake.name(), _unique_phone(rnd, phones),
                                       None, campaigns, rnd.randint(1, 700), status, customers[ref]["owner"]))
    referral_ids = writer.create("referrals", referral_rows)

    writer.create("leads", [
        {"name": f"{fake.company()}咨询", "contact_name": fake.name(), "phone": _unique_phone(rnd, phones),
         "source": rnd.choice(["referral", "website", "exhibition", "ad", "other"]),
         "status": rnd.choices(["new", "contacted", "qualified", "invalid"], [3, 4, 2, 1])[0],
         "owner": rnd.choice(staff)} for _ in range(max(1, scale // 2))])

    opportunity_rows, won = [], []
    for n in range(max(1, int(scale * 0.5))):
        i = rnd.randrange(scale - len(showcase))   # the showcase friends buy only theirs
        stage, probability = rnd.choices(STAGES, [3, 3, 2, 2, 3, 3])[0]
        amount = Decimal(rnd.randrange(5_000, 500_000, 100))
        opportunity_rows.append({"name": f"{customers[i]['name']} 采购项目", "customer": customer_ids[i],
                                 "stage": stage, "probability": probability, "amount": amount,
                                 "expected_close": day(rnd.randint(-60, 600)), "owner": rnd.choice(staff)})
        if stage == "won":
            won.append((n, i, amount))
    opportunity_ids = writer.create("opportunities", opportunity_rows)

    contract_rows = []
    for n, i, _estimate in won:
        signed = day(rnd.randint(10, 700))
        lines = [{"product": p, "quantity": rnd.randint(1, 20), "unit_price": price}
                 for p, price in rnd.sample(PRODUCTS, rnd.randint(1, 3))]
        # The contract is signed for its lines (the opportunity's estimate was negotiated).
        amount = Decimal(sum(line["quantity"] * line["unit_price"] for line in lines))
        contract_rows.append({
            "title": f"{customers[i]['name']} 合同", "customer": customer_ids[i],
            "opportunity": opportunity_ids[n], "amount": amount, "signed_on": signed,
            "starts_on": signed, "ends_on": signed + timedelta(days=365),
            "status": rnd.choices(["executing", "completed", "refunded"], [5, 4, 1])[0],
            "items": lines,
            "signer": rnd.choice(staff)})
    for friend, (back, amount, status) in zip(showcase_friends, showcase):
        signed = day(back + 20)
        contract_rows.append({
            "title": f"{customers[friend]['name']} 合同", "customer": customer_ids[friend],
            "amount": Decimal(amount), "signed_on": signed, "starts_on": signed,
            "ends_on": signed + timedelta(days=365), "status": status,
            "items": [{"product": PRODUCTS[1][0], "quantity": 1, "unit_price": Decimal(amount)}],
            "signer": rnd.choice(staff)})
    # A refunded contract was first paid in full (and earned its referral rewards), then
    # refunded: its last instalment is paid back, and it is marked refunded afterwards.
    refunded = [row["status"] == "refunded" for row in contract_rows]
    for row, was_refunded in zip(contract_rows, refunded):
        if was_refunded:
            row["status"] = "completed"
    contract_ids = writer.create("contracts", contract_rows)
    payment_rows, refund_rows = [], []
    for cid, row, was_refunded in zip(contract_ids, contract_rows, refunded):
        regular = "opportunity" in row      # a showcase contract is paid at once, 20 days after signing
        parts = rnd.randint(1, 3) if regular else 1
        instalment = (row["amount"] / parts).quantize(Decimal("0.01"), rounding="ROUND_DOWN")
        for k in range(parts):
            paid = min(ANCHOR, row["signed_on"] + timedelta(days=30 * (k + 1) if regular else 20))
            # the last instalment is what is left, so the payments add up to the amount exactly
            amount = instalment if k < parts - 1 else row["amount"] - instalment * (parts - 1)
            payment_rows.append({"contract": cid, "customer": row["customer"], "amount": amount,
                                 "paid_on": paid, "method": rnd.choice(["bank", "wechat", "alipay"]),
                                 "is_refund": False})
        if was_refunded:
            refund_rows.append({**payment_rows[-1], "is_refund": True,
                                "paid_on": min(ANCHOR, payment_rows[-1]["paid_on"] + timedelta(days=rnd.randint(5, 60)))})
    writer.create("payments", payment_rows)
    # The referral programme (the app's reward rules) settled on the paid contracts as its
    # jobs would: rewards held 30 days vest by the sample data's today, finance approves
    # and pays those that vested more than a month ago; then the refunds come in, which
    # cancel the rewards still held and claw back the others.
    writer.counts["reward_ledger"] = writer.counts.get("reward_ledger", 0) + _settle(engine, contract_ids)
    with engine.begin() as conn:
        vest_due(conn, ANCHOR)
    _approve_and_pay(engine, ANCHOR - timedelta(days=30))
    writer.create("payments", refund_rows)
    refunded_ids = [cid for cid, was_refunded in zip(contract_ids, refunded) if was_refunded]
    with engine.begin() as conn:
        records = Records(conn, app, actor=Actor(user_id=staff[0]), now=_at(ANCHOR))
        for cid in refunded_ids:
            records.update("contracts", cid, {"status": "refunded"})
    _settle(engine, refunded_ids)

    writer.create("followups", [
        {"customer": customer_ids[i], "method": rnd.choice(["call", "visit", "wechat", "email"]),
         "followed_at": _at(day(rnd.randint(0, 700)), rnd.randint(9, 18)),
         "content": rnd.choice(["电话沟通需求，客户关注价格", "上门演示产品，客户反馈良好",
                                "微信发送方案与报价", "确认合同条款，预计下月签约"]),
         "next_followup": day(rnd.randint(-30, 0)) if rnd.random() < 0.5 else None,
         "by": rnd.choice(staff)}
        for i in (rnd.randrange(scale) for _ in range(int(scale * 1.5)))])

    ticket_rows = []
    for i in (rnd.randrange(scale) for _ in range(max(1, scale // 10))):
        status = rnd.choice(["open", "in_progress", "resolved", "closed"])
        done = status in ("resolved", "closed")
        ticket_rows.append({
            "customer": customer_ids[i], "category": rnd.choice(["install", "fault", "consult", "complaint"]),
            "priority": rnd.choice(["urgent", "high", "normal"]), "description": "客户反馈系统使用问题，需要上门处理",
            "status": status, "satisfaction": rnd.randint(3, 5) if done else None, "handler": rnd.choice(staff),
            "resolved_at": _at(day(rnd.randint(1, 700)), rnd.randint(9, 18)) if done else None})
    writer.create("tickets", ticket_rows)
    writer.create("orders", _orders(rnd, customer_ids, day))

    ledger = []
    converted = [(k, meta) for k, meta in enumerate(referral_meta)]
    for k, (ref, friend, back) in converted:
        campaign = referral_rows[k]["campaign"]
        vests = day(back) + timedelta(days=30)
        status = "paid" if vests < ANCHOR - timedelta(days=30) else ("vested" if vests <= ANCHOR else "pending")
        paid = {"paid_on": vests + timedelta(days=15)} if status == "paid" else {}
        ledger.append({"beneficiary": customer_ids[ref], "referral": referral_ids[k], "campaign": campaign,
                       "kind": "referrer", "level": 1, "amount": Decimal(500), "status": status, "vests_on": vests,
                       "explanation": "直接推荐成交：活动推荐人奖励 500 元", **paid})
        ledger.append({"beneficiary": customer_ids[friend], "referral": referral_ids[k], "campaign": campaign,
                       "kind": "friend", "level": 1, "amount": Decimal(200), "status": status, "vests_on": vests,
                       "explanation": "被推荐人首单奖励 200 元", **paid})
        grand = referrer_of[ref]
        if grand is not None:
            ledger.append({"beneficiary": customer_ids[grand], "referral": referral_ids[k], "campaign": campaign,
                           "kind": "indirect", "level": 2, "amount": Decimal(100), "status": status,
                           "vests_on": vests, "explanation": "二级间接推荐奖励 100 元（上限 1 层）", **paid})
    writer.create("reward_ledger", ledger)
    writer.counts["users"] = len(staff)
    return writer.counts


def _settle(engine, contract_ids: list[int]) -> int:
    """Settle the contracts' rewards; the number of rewards entered (each is mirrored by a
    row of the reward ledger form)."""
    session = Session(engine, now=_at(ANCHOR))
    entered = 0
    for start in range(0, len(contract_ids), BATCH):
        chunk = contract_ids[start:start + BATCH]
        entered += len(session.write(lambda uow: settle_records(uow, "crm_referral", "contracts", chunk))["entered"])
    return entered


def _approve_and_pay(engine, vested_by: date) -> None:
    entries = system.reward_entries
    session = Session(engine, now=_at(ANCHOR))

    def move(uow):
        due = list(uow.conn.execute(sa.select(entries.c.id).where(
            entries.c.app_key == "crm_referral", entries.c.kind == "reward", entries.c.status == "vested",
            entries.c.vests_on <= vested_by.isoformat())).scalars())
        if due:
            approve(uow, "crm_referral", due)
            pay(uow, "crm_referral", due)
    session.write(move)


def _customers(engine, app, writer: _Writer, customers: list[dict], referrer_of: list[int | None],
               user_id: int) -> list[int]:
    """Write the customers batch by batch. A referrer is always an earlier customer:
    one written in an earlier batch is set at once; one in the same batch (not yet
    written, so without an id) is set afterwards by a recorded update."""
    ids: list[int] = []
    later = []
    for start in range(0, len(customers), BATCH):
        rows = []
        for i in range(start, min(start + BATCH, len(customers))):
            ref = referrer_of[i]
            if ref is not None and ref < start:
                rows.append({**customers[i], "referrer": ids[ref]})
            else:
                rows.append(customers[i])
                if ref is not None:
                    later.append((i, ref))
        ids += writer.create("customers", rows)
    with engine.begin() as conn:
        records = Records(conn, app, actor=Actor(user_id=user_id), now=_at(ANCHOR))
        updates = [{"id": ids[i], "changes": {"referrer": ids[ref]}} for i, ref in later]
        for start in range(0, len(updates), BATCH):
            records.bulk_update("customers", updates[start:start + BATCH])
    return ids


def _orders(rnd: random.Random, customer_ids: list[int], day) -> list[dict[str, Any]]:
    """Two years of orders: about 60% of customers buy, most once or twice, a few again
    and again (a Pareto tail). Numbered in date order; a customer's later orders are
    repurchases (复购)."""
    placed = []
    for customer in customer_ids:
        if rnd.random() < 0.6:
            count = min(int(rnd.paretovariate(1.2)), 24)
            placed += [(day(rnd.randint(0, 730)), customer) for _ in range(count)]
    placed.sort()
    seen: set[int] = set()
    rows = []
    for n, (ordered_on, customer) in enumerate(placed, start=1):
        rows.append({"order_no": f"DD{ordered_on:%Y%m%d}{n:07d}", "customer": customer, "ordered_on": ordered_on,
                     "amount": Decimal(rnd.randrange(99, 20000)), "channel": rnd.choice(["online", "store", "sales"]),
                     "is_repurchase": customer in seen})
        seen.add(customer)
    return rows


CAMPAIGN_PREFIXES = ("SPR25", "AUT25", "ALL26")


def _referral_codes(engine, app) -> dict[int, str]:
    """Each customer's own referral code (a serial number the engine assigned), by id."""
    table = app.tables.form_table("customers")
    with read_connection(engine) as conn:
        return dict(conn.execute(sa.select(table.c.id, table.c.referral_code)).all())


def _referral(rnd, fake, referrer_id, codes, friend_name, friend_phone, friend_customer, campaigns, back,
              status, owner):
    which = 0 if back > 360 else (1 if back > 200 else 2)
    referred_at = ANCHOR - timedelta(days=back)
    # Friends who were never reached may not have agreed to be contacted yet.
    consent = status != "submitted" or rnd.random() < 0.5
    return {"referrer": referrer_id, "friend_name": friend_name, "friend_phone": friend_phone,
            "friend_customer": friend_customer, "campaign": campaigns[which],
            # the friend came with the code the referrer shares in this campaign (its share_code)
            "referral_code": f"{CAMPAIGN_PREFIXES[which]}-{codes[referrer_id]}",
            "channel": rnd.choice(["wechat", "poster", "link", "offline"]), "consent": consent,
            "consent_at": _at(referred_at, rnd.randint(9, 21)) if consent else None, "owner": owner,
            "status": status, "converted_on": (ANCHOR - timedelta(days=back - 20)) if status == "converted" else None}


def _unique_phone(rnd: random.Random, used: set[str]) -> str:
    while True:
        phone = rnd.choice(["138", "139", "135", "186", "187", "158", "177", "199"]) + f"{rnd.randrange(10**8):08d}"
        if phone not in used:
            used.add(phone)
            return phone


def _organisation(engine, fake: Faker, rnd: random.Random, scale: int, seed: int) -> tuple[list[int], list[int]]:
    """Departments and sales staff, made through the org service. Whatever exists already
    (an organisation the user built, or an earlier seed) is reused, so seeding never
    collides with it. Returns (staff ids, department ids in DEPARTMENTS order)."""
    with engine.begin() as conn:
        org = Org(conn)
        index = org.departments.index()
        existing = {index.path(i): i for i in index.by_id}
        paths: dict[str, str] = {}
        dept_ids: dict[str, int] = {}
        for name, parent in DEPARTMENTS:
            paths[name] = f"{paths[parent]}/{name}" if parent else name
            dept_ids[name] = existing.get(paths[name]) or org.departments.create(name, dept_ids.get(parent)).id
        rows, homes = [], []
        for n in range(max(5, min(200, scale // 100))):
            account = f"sales{n + 1:03d}"
            rows.append({"account": account, "name": fake.name(), "email": f"{account}@example.com"})
            homes.append(rnd.choice(REGIONS))
        known, _ = org.users.lookup([row["account"] for row in rows])
        created = {u.account: u.id for u in org.users.add_many([r for r in rows if r["account"] not in known])}
        staff = [known.get(row["account"]) or created[row["account"]] for row in rows]
        for region in REGIONS:
            org.departments.add_members(dept_ids[region], [uid for uid, home, row in zip(staff, homes, rows)
                                                           if home == region and row["account"] in created])
        for region in REGIONS:
            drawn = rnd.randrange(len(staff))     # drawn always, so the data stays the same
            team = [uid for uid, home in zip(staff, homes) if home == region]
            head = team[drawn % len(team)] if team else staff[drawn]   # a region is led by one of its own
            if org.departments.get(dept_ids[region]).head_user_id is None:
                org.departments.set_head(dept_ids[region], head)
        if org.departments.get(dept_ids["销售部"]).head_user_id is None:
            org.departments.set_head(dept_ids["销售部"], staff[0])   # the sales director, above the regions
        _roles(org, staff, [org.departments.get(dept_ids[name]).head_user_id for name in ("销售部", *REGIONS)])
        return staff, list(dept_ids.values())


def _roles(org: Org, staff: list[int], heads: list[int]) -> None:
    """The roles the app's permission sets name (apps/crm_referral.yaml): every salesperson
    holds `sales` (their own customers), the heads of the sales department and its regions
    `sales_manager` too (their departments and below). finance and crm_manager are made,
    for an administrator to give."""
    existing = {role.key for role, _count in org.roles.list()}
    for key, name in ROLES:
        if key not in existing:
            org.roles.create(key, name)
    org.roles.assign("sales", staff)
    org.roles.assign("sales_manager", heads)
