"""Settling rewards: the `rewards.settle` job (one source record, every rule of its form)
and the `rewards.vest` job (a held reward whose hold is over).

For each rule of the record's form:

- its `refunded` formula TRUE: every reward the record earned is reversed: a pending
  one (still held) is cancelled, a vested, approved or paid one is clawed back by a
  clawback entry of the opposite amount linked to it (`original_id`), and the counters it
  used are given back (a refunded referral is no longer a successful one);
- else its `when` formula TRUE: the friend is the record's `customer`, the chain of
  referrers is followed from them (any depth, kept in the explanation), the beneficiary
  is the friend (level 0), the referrer (1) or the referrer's referrer (2). Then, under
  the locks of the rule's counters (one row each: the tier count of the period, each cap,
  the budget; SELECT ... FOR UPDATE in key order on PostgreSQL, the database's write lock
  on SQLite), the entry is looked for by its unique key (rule, beneficiary, once_key,
  kind) and, if absent, computed (engine/rewards/compute.py) with the counters' values,
  inserted with INSERT ... ON CONFLICT DO NOTHING, and the counters moved. Concurrent
  workers settling the same event wait on the same counter rows, find the entry and enter
  nothing; two events of one beneficiary are settled one after the other, so no cap is
  exceeded and no nth is given twice.

A held reward is `pending` until `vests_on` (the earned date + hold_days): from that day
the scheduler's due source `rewards.vesting` enqueues its `rewards.vest` job (keyed by the
entry), which makes it `vested`; with approval it waits for `approve`, then `pay` (runtime/rewards/ledger.py).
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from engine.dialect import Dialect
from engine.errors import NotFound
from engine.formula import compile_formula
from engine.computed.env import evaluation_context
from engine.formula.values import EvalContext, to_bool
from engine.rewards.compute import CapRoom, compute, describe
from engine.rewards.model import RewardRule
from engine.storage import system
from engine.storage.types import utcnow
from runtime import jobs
from runtime.automations.scope import record_inputs, value_context
from runtime.rewards.compiled import SETTLE_KIND, VEST_KIND, rewards_for
from runtime.referrals.verdicts import verdicts

PENDING, VESTED, APPROVED, PAID = "pending", "vested", "approved", "paid"
CANCELLED, CLAWED_BACK, ZERO = "cancelled", "clawed_back", "zero"
REWARD, CLAWBACK = "reward", "clawback"
MAX_CHAIN = 50          # a chain is followed this far at most (and never round a loop)
ENTRIES, COUNTERS = system.reward_entries, system.reward_counters


def cents(amount: Decimal) -> int:
    return int((amount * 100).to_integral_value())


def settle_job(ctx, payload: dict) -> dict:
    return settle_record(ctx.uow, payload["app"], payload["form"], payload["record"])


def settle_record(uow, app_key: str, form_key: str, record_id: int) -> dict:
    """Settle every rule of `form_key` for one record; {"entered": [ids], "reversed": [ids]}."""
    app = uow.app(app_key)
    rules = rewards_for(app).by_source.get(form_key, [])
    done: dict[str, list[int]] = {"entered": [], "reversed": []}
    if not rules:
        return done
    try:
        record = uow.records(app_key).get(form_key, record_id, include_deleted=True)
    except NotFound:
        return done
    values = value_context(uow)
    inputs = record_inputs(app, form_key, record, values)
    today = values.today()
    ctx = evaluation_context(values)            # the workspace's zone and clock, the acting user
    chains: dict[tuple, list[int]] = {}         # the rules of a form share the walk up the chain
    for rule in rules:
        if rule.refunded and _holds(app, rule.refunded, inputs, ctx):
            done["reversed"] += reverse(uow.conn, app_key, rule, form_key, record_id, today)
        elif record["deleted_at"] is None and rule.when and _holds(app, rule.when, inputs, ctx):
            entry = earn(uow, app, rule, form_key, record, inputs, today, chains)
            if entry is not None:
                done["entered"].append(entry)
    return done


def _holds(app, text: str, inputs: dict, ctx: EvalContext) -> bool:
    return to_bool(compile_formula(rewards_for(app).formula(text))(inputs, ctx)) is True


def referral_chain(conn, app, customers_form: str, referrer_field: str, friend_id: int) -> list[int]:
    """[friend, their referrer, that one's referrer, ...]: the whole chain, any depth."""
    form = app.require_form(customers_form)
    table = app.tables.form_table(form.key)
    column = table.c[app.types.of(form.field(referrer_field)).columns()[0].name]
    chain = [friend_id]
    while len(chain) < MAX_CHAIN:
        up = conn.execute(sa.select(column).where(table.c.id == chain[-1])).scalar()
        if up is None or up in chain:
            break
        chain.append(up)
    return chain


def earn(uow, app, rule: RewardRule, form_key: str, record: dict, inputs: dict, today: date,
         chains: dict[tuple, list[int]]) -> int | None:
    conn = uow.conn
    friend = record["fields"].get(rule.customer)
    if friend is None:
        return None
    if verdicts(conn, app, [friend]).get(friend, "clear") != "clear":
        return None                 # flagged: waits for the review (which settles again); blocked: never
    customers = app.require_form(form_key).field(rule.customer).config["target"]
    walk = (customers, rule.referrer_field, friend)
    chain = chains.get(walk)
    if chain is None:
        chain = chains[walk] = referral_chain(conn, app, customers, rule.referrer_field, friend)
    if len(chain) <= rule.level:
        return None
    beneficiary = chain[rule.level]
    once_key = f"friend:{friend}" if rule.once_per == "friend" else f"{form_key}:{record['id']}"
    unique = (ENTRIES.c.app_key == app.key, ENTRIES.c.rule_key == rule.key,
              ENTRIES.c.beneficiary_id == beneficiary, ENTRIES.c.once_key == once_key, ENTRIES.c.kind == REWARD)
    if conn.execute(sa.select(ENTRIES.c.id).where(*unique)).first() is not None:
        return None                 # entered already: a retry, a re-run, another change
    earned = _date_of(inputs.get(rule.date), uow.session.tz) if rule.date else None
    earned = earned or today
    campaign = record["fields"].get(rule.campaign) if rule.campaign else None
    nth_key, caps = counter_keys(rule, beneficiary, friend, earned, campaign)
    used = lock_counters(conn, app.key, [nth_key, *caps.values()])
    if conn.execute(sa.select(ENTRIES.c.id).where(*unique)).first() is not None:
        return None                 # another worker entered it while we waited for the locks
    nth = used[nth_key][1] + 1
    rooms = [CapRoom(name, rule.caps[name], Decimal(used[key][0]) / 100) for name, key in caps.items()]
    referenced = {path[0] for path in rewards_for(app).formula(rule.amount).references}
    explanation = compute(rule, {k: v for k, v in inputs.items() if k in referenced}, nth, rooms)
    vests_on = earned + timedelta(days=rule.hold_days)
    explanation.update(earned_on=earned.isoformat(), hold_days=rule.hold_days, vests_on=vests_on.isoformat(),
                       source={"form": form_key, "id": record["id"]}, friend=friend, beneficiary_id=beneficiary,
                       chain=chain, period=_period(rule, earned), approval=rule.approval)
    explanation["text"] = describe(explanation)
    amount = cents(Decimal(explanation["amount"]))
    status = ZERO if amount == 0 else PENDING if rule.hold_days > 0 else VESTED
    now = utcnow()
    entry_id = conn.execute(
        Dialect.of(conn).insert(ENTRIES).values(
            app_key=app.key, rule_key=rule.key, kind=REWARD, beneficiary_id=beneficiary, level=rule.level,
            once_key=once_key, source_form=form_key, source_id=record["id"], friend_id=friend,
            reward_kind=rule.reward_kind, coupon=rule.coupon, amount_cents=amount, status=status,
            earned_on=earned.isoformat(), vests_on=vests_on.isoformat(), counters=[nth_key, *caps.values()],
            explanation=explanation, created_at=now, updated_at=now)
        .on_conflict_do_nothing().returning(ENTRIES.c.id)).scalar()
    if entry_id is None:
        return None
    move_counters(conn, app.key, [nth_key, *caps.values()], amount, 1)
    return entry_id


def _date_of(value: Any, tz) -> date | None:
    if isinstance(value, datetime):
        return value.astimezone(tz).date()
    return value if isinstance(value, date) else None


def _period(rule: RewardRule, on: date) -> str:
    return {"month": f"{on:%Y-%m}", "year": f"{on:%Y}"}.get(rule.period, "all")


def counter_keys(rule: RewardRule, beneficiary: int, friend: int, on: date, campaign: Any
                 ) -> tuple[str, dict[str, str]]:
    """The tier count's key, and each cap's counter key by cap name."""
    nth = f"{rule.key}:nth:{beneficiary}:{_period(rule, on)}"
    keys = {"per_referral": f"{rule.key}:referral:{beneficiary}:{friend}",
            "per_month": f"{rule.key}:month:{beneficiary}:{on:%Y-%m}",
            "per_campaign": f"{rule.key}:campaign:{beneficiary}:{campaign}",
            "budget": f"{rule.key}:budget:{campaign if campaign is not None else '*'}"}
    return nth, {name: keys[name] for name in ("per_referral", "per_month", "per_campaign", "budget")
                 if name in rule.caps}


def lock_counters(conn, app_key: str, keys: list[str]) -> dict[str, tuple[int, int]]:
    """(used cents, count) of each counter, its row made if new and locked (key order)."""
    ordered = sorted(set(keys))
    dialect = Dialect.of(conn)
    conn.execute(dialect.insert(COUNTERS).values([{"app_key": app_key, "counter_key": k, "used_cents": 0,
                                                   "count": 0} for k in ordered]).on_conflict_do_nothing())
    query = sa.select(COUNTERS.c.counter_key, COUNTERS.c.used_cents, COUNTERS.c.count).where(
        COUNTERS.c.app_key == app_key, COUNTERS.c.counter_key.in_(ordered)).order_by(COUNTERS.c.counter_key)
    if dialect.row_locks:
        query = query.with_for_update()
    return {key: (used, count) for key, used, count in conn.execute(query)}


def move_counters(conn, app_key: str, keys: list[str], amount: int, count: int) -> None:
    conn.execute(COUNTERS.update().where(COUNTERS.c.app_key == app_key, COUNTERS.c.counter_key.in_(set(keys)))
                 .values(used_cents=COUNTERS.c.used_cents + amount, count=COUNTERS.c["count"] + count))


def reverse(conn, app_key: str, rule: RewardRule, form_key: str, record_id: int, today: date) -> list[int]:
    """Cancel (held) or claw back (vested, approved, paid) what `record_id` earned by `rule`;
    the ids of the entries cancelled and of the clawbacks entered (dated `today`, the
    workspace's date)."""
    earned = conn.execute(sa.select(ENTRIES).where(
        ENTRIES.c.app_key == app_key, ENTRIES.c.rule_key == rule.key, ENTRIES.c.source_form == form_key,
        ENTRIES.c.source_id == record_id, ENTRIES.c.kind == REWARD,
        ENTRIES.c.status.in_((PENDING, VESTED, APPROVED, PAID)))).mappings().all()
    done = []
    for entry in earned:
        lock_counters(conn, app_key, entry["counters"])
        now = utcnow()
        cancelled = conn.execute(ENTRIES.update().where(ENTRIES.c.id == entry["id"], ENTRIES.c.status == PENDING)
                                 .values(status=CANCELLED, updated_at=now)).rowcount
        if cancelled:
            done.append(entry["id"])
        else:
            clawback = _claw_back(conn, entry, now, today)
            if clawback is None:
                continue
            done.append(clawback)
        move_counters(conn, app_key, entry["counters"], -entry["amount_cents"], -1)
    return done


def _claw_back(conn, entry, now: datetime, today: date) -> int | None:
    """The clawback of a vested, approved or paid entry (its status taken as it is now)."""
    moved = conn.execute(ENTRIES.update().where(ENTRIES.c.id == entry["id"],
                                                ENTRIES.c.status.in_((VESTED, APPROVED, PAID)))
                         .values(status=CLAWED_BACK, updated_at=now).returning(ENTRIES.c.status)).first()
    if moved is None:
        return None
    amount = Decimal(entry["amount_cents"]) / 100
    explanation = {"clawback_of": entry["id"], "amount": str(-amount), "rule": entry["rule_key"],
                   "original": entry["explanation"],
                   "text": {"zh": f"退款追回奖励 #{entry['id']}（{amount}），原状态 {entry['status']}。",
                            "en": f"Clawback of reward #{entry['id']} ({amount}) on a refund; it was "
                                  f"{entry['status']}."}}
    return conn.execute(Dialect.of(conn).insert(ENTRIES).values(
        app_key=entry["app_key"], rule_key=entry["rule_key"], kind=CLAWBACK, beneficiary_id=entry["beneficiary_id"],
        level=entry["level"], once_key=entry["once_key"], source_form=entry["source_form"],
        source_id=entry["source_id"], friend_id=entry["friend_id"], reward_kind=entry["reward_kind"],
        coupon=entry["coupon"], amount_cents=-entry["amount_cents"], status=VESTED, earned_on=today.isoformat(),
        vests_on=today.isoformat(), counters=entry["counters"], explanation=explanation, original_id=entry["id"],
        created_at=now, updated_at=now).on_conflict_do_nothing().returning(ENTRIES.c.id)).scalar()


VEST_BATCH = 1000


def due_vesting(uow, now: datetime) -> int:
    """The due source: a rewards.vest job for each held reward whose vests_on is today or
    past (in the workspace time zone), keyed by the entry, so two schedulers enqueue one."""
    today = now.astimezone(uow.session.tz).date().isoformat()
    due = uow.conn.execute(sa.select(ENTRIES.c.id, ENTRIES.c.app_key)
                           .where(ENTRIES.c.status == PENDING, ENTRIES.c.vests_on <= today)
                           .order_by(ENTRIES.c.id).limit(VEST_BATCH)).all()
    enqueued = 0
    for entry_id, app_key in due:
        enqueued += uow.enqueue(VEST_KIND, {"app": app_key, "entry": entry_id},
                                key=f"rewards:vest:{app_key}:{entry_id}") is not None
    return enqueued


def vest_job(ctx, payload: dict) -> dict:
    """A held reward's hold is over (the scheduler's due source enqueued this job on
    vests_on): pending -> vested; a reward cancelled in the meantime stays cancelled."""
    return {"vested": bool(_vest(ctx.uow.conn, ENTRIES.c.id == payload["entry"]))}


def vest_due(conn, today: date) -> int:
    """Vest at once every held reward due by `today` (what the jobs of the due source do one
    by one; for sample data and a scheduler's catch-up)."""
    return _vest(conn, ENTRIES.c.vests_on <= today.isoformat())


def _vest(conn, where) -> int:
    return conn.execute(ENTRIES.update().where(where, ENTRIES.c.status == PENDING)
                        .values(status=VESTED, updated_at=utcnow())).rowcount


jobs.register(SETTLE_KIND, settle_job, max_attempts=5, backoff=5.0)
jobs.register(VEST_KIND, vest_job, max_attempts=5, backoff=60.0)
jobs.register_due_source("rewards.vesting", due_vesting)
