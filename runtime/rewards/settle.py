"""Settling rewards: the `rewards.settle` job (one source record, every rule of its form),
`settle_records` (a batch of source records, set-based: one statement per step per batch,
never one per record) and the `rewards.vest_due` job (the held rewards whose hold is over).

For each rule of a record's form:

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
the scheduler's due source `rewards.vesting` enqueues a `rewards.vest_due` job (keyed by
the day and the highest due id), which vests the due rewards one UPDATE per batch; with
approval it waits for `approve`, then `pay` (runtime/rewards/ledger.py). A rule's ledger
form mirrors the entries (runtime/rewards/mirror.py).
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from engine.dialect import Dialect
from engine.formula import compile_formula
from engine.computed.env import evaluation_context
from engine.formula.values import EvalContext, to_bool
from engine.rewards.compute import CapRoom, compute, describe
from engine.rewards.model import RewardRule
from engine.storage import system
from engine.storage.types import utcnow
from runtime import jobs
from runtime.apps import load_installed
from runtime.automations.scope import record_inputs, value_context
from runtime.referrals.compiled import CLEAR
from runtime.referrals.verdicts import verdicts
from runtime.rewards.compiled import SETTLE_KIND, VEST_DUE_KIND, VEST_KIND, rewards_for
from runtime.rewards.mirror import ledger_forms, mirror_entered, mirror_status

PENDING, VESTED, APPROVED, PAID = "pending", "vested", "approved", "paid"
CANCELLED, CLAWED_BACK, ZERO = "cancelled", "clawed_back", "zero"
REWARD, CLAWBACK = "reward", "clawback"
MAX_CHAIN = 50          # a chain is followed this far at most (and never round a loop)
ENTRIES, COUNTERS = system.reward_entries, system.reward_counters
BATCH = 1000            # records settled per set of statements


def cents(amount: Decimal) -> int:
    return int((amount * 100).to_integral_value())


def settle_job(ctx, payload: dict) -> dict:
    return settle_record(ctx.uow, payload["app"], payload["form"], payload["record"])


def settle_record(uow, app_key: str, form_key: str, record_id: int) -> dict:
    """Settle every rule of `form_key` for one record; {"entered": [ids], "reversed": [ids]}."""
    return settle_records(uow, app_key, form_key, [record_id])


def settle_records(uow, app_key: str, form_key: str, record_ids: list[int]) -> dict:
    """Settle every rule of `form_key` for these records, set-based: the records read in one
    statement, the chains walked by one recursive CTE, the entries looked up, the counters
    made and locked, the entries inserted and the counters moved each by one statement per
    batch of BATCH records (never one per record). The records are settled in the order
    given (which decides each beneficiary's nth): {"entered": [ids], "reversed": [ids]}."""
    done: dict[str, list[int]] = {"entered": [], "reversed": []}
    ids = list(dict.fromkeys(record_ids))
    for start in range(0, len(ids), BATCH):
        part = _settle_batch(uow, app_key, form_key, ids[start:start + BATCH])
        done["entered"] += part["entered"]
        done["reversed"] += part["reversed"]
    return done


def settle_form(uow, app_key: str, form_key: str | None = None, *, after: int = 0, limit: int = BATCH) -> dict:
    """Settle a batch of a programme's source records (the due source events): the ids of
    up to `limit` live records of each source form (or of `form_key`) after `after`, selected
    in one statement per form, settled by settle_records. {"entered", "reversed", "last"}:
    `last` is the highest id settled (page on with after=last), None when none was left."""
    app = uow.app(app_key)
    forms = [form_key] if form_key else sorted(rewards_for(app).by_source)
    done: dict[str, Any] = {"entered": [], "reversed": [], "last": None}
    for key in forms:
        if key not in rewards_for(app).by_source:
            continue
        table = app.tables.form_table(key)
        ids = list(uow.conn.execute(sa.select(table.c.id).where(table.c.id > after)
                                    .order_by(table.c.id).limit(limit)).scalars())
        if ids:
            part = settle_records(uow, app_key, key, ids)
            done["entered"] += part["entered"]
            done["reversed"] += part["reversed"]
            done["last"] = max(done["last"] or 0, ids[-1])
    return done


def _settle_batch(uow, app_key: str, form_key: str, ids: list[int]) -> dict:
    app = uow.app(app_key)
    rules = rewards_for(app).by_source.get(form_key, [])
    done: dict[str, list[int]] = {"entered": [], "reversed": []}
    if not rules or not ids:
        return done
    records = uow.records(app_key).get_many(form_key, ids, include_deleted=True)
    values = value_context(uow)
    today = values.today()
    ctx = evaluation_context(values)            # the workspace's zone and clock, the acting user
    refunds: list[tuple[RewardRule, int]] = []
    earning: list[tuple[RewardRule, dict, dict]] = []
    for record in records:
        inputs = record_inputs(app, form_key, record, values)
        for rule in rules:
            if rule.refunded and _holds(app, rule.refunded, inputs, ctx):
                refunds.append((rule, record["id"]))
            elif record["deleted_at"] is None and rule.when and _holds(app, rule.when, inputs, ctx):
                earning.append((rule, record, inputs))
    if refunds:
        done["reversed"] = reverse_many(uow.conn, app, form_key, refunds, today)
    if earning:
        done["entered"] = earn_many(uow, app, form_key, earning, today)
    return done


def _holds(app, text: str, inputs: dict, ctx: EvalContext) -> bool:
    return to_bool(compile_formula(rewards_for(app).formula(text))(inputs, ctx)) is True


def referral_chain(conn, app, customers_form: str, referrer_field: str, friend_id: int) -> list[int]:
    """[friend, their referrer, that one's referrer, ...]: the whole chain, any depth."""
    return referral_chains(conn, app, customers_form, referrer_field, [friend_id])[friend_id]


def chains_select(app, customers_form: str, referrer_field: str, friend_ids) -> sa.CTE:
    """A recursive CTE walking up the referrer self-relation from each friend: one row per
    (friend, customer above them) with its depth (0: the friend), at most MAX_CHAIN deep
    (the house style of runtime/org/tree.py's ancestors_select)."""
    form = app.require_form(customers_form)
    table = app.tables.form_table(form.key)
    column = table.c[app.types.of(form.field(referrer_field)).columns()[0].name]
    start = sa.select(table.c.id.label("friend"), table.c.id.label("id"), column.label("up"),
                      sa.literal(0).label("depth")).where(table.c.id.in_(friend_ids))
    chain = start.cte("fw_referral_chain", recursive=True)
    parent = table.alias("fw_referrer")
    return chain.union_all(sa.select(chain.c.friend, parent.c.id, parent.c[column.name], chain.c.depth + 1)
                           .where(parent.c.id == chain.c.up, chain.c.depth < MAX_CHAIN - 1))


def referral_chains(conn, app, customers_form: str, referrer_field: str, friend_ids) -> dict[int, list[int]]:
    """Each friend's chain [friend, referrer, ...], all read by one statement; a loop in the
    data ends a chain where it would come round again."""
    friends = sorted(set(friend_ids))
    chains: dict[int, list[int]] = {friend: [friend] for friend in friends}
    if not friends:
        return chains
    cte = chains_select(app, customers_form, referrer_field, friends)
    walked: dict[int, list[int]] = {friend: [] for friend in friends}
    for friend, customer, depth in conn.execute(sa.select(cte.c.friend, cte.c.id, cte.c.depth)
                                                .order_by(cte.c.friend, cte.c.depth)):
        walked[friend].append(customer)
    for friend, steps in walked.items():
        chain = chains[friend]
        for customer in steps[1:]:
            if customer in chain:
                break
            chain.append(customer)
    return chains


def earn_many(uow, app, form_key: str, earning: list[tuple[RewardRule, dict, dict]], today: date) -> list[int]:
    """The rewards these (rule, record, inputs) earn, each entered at most once: looked up by
    the unique key, then under the locks of every counter they use looked up again,
    computed in order (each one's nth and caps see the ones before), inserted in one
    statement (ON CONFLICT DO NOTHING) and the counters moved in one."""
    conn = uow.conn
    programme = rewards_for(app)
    walks: dict[tuple[str, str], set[int]] = {}
    for rule, record, _inputs in earning:
        friend = record["fields"].get(rule.customer)
        if friend is not None:
            customers = app.require_form(form_key).field(rule.customer).config["target"]
            walks.setdefault((customers, rule.referrer_field), set()).add(friend)
    chains = {walk: referral_chains(conn, app, walk[0], walk[1], friends) for walk, friends in walks.items()}
    # A friend whose referral the fraud checks flagged waits for the review (its decision
    # settles them again); a blocked one never earns (runtime/referrals/verdicts.py).
    held = {friend for friend, verdict in verdicts(conn, app, set().union(*walks.values())).items()
            if verdict != CLEAR}
    candidates: dict[tuple[str, int, str], dict] = {}
    for rule, record, inputs in earning:
        friend = record["fields"].get(rule.customer)
        if friend is None or friend in held:
            continue
        customers = app.require_form(form_key).field(rule.customer).config["target"]
        chain = chains[(customers, rule.referrer_field)][friend]
        if len(chain) <= rule.level:
            continue
        beneficiary = chain[rule.level]
        once_key = f"friend:{friend}" if rule.once_per == "friend" else f"{form_key}:{record['id']}"
        unique = (rule.key, beneficiary, once_key)
        if unique in candidates:
            continue                # the friend's second deal in this batch: once per friend
        earned = (_date_of(inputs.get(rule.date), uow.session.tz) if rule.date else None) or today
        campaign = record["fields"].get(rule.campaign) if rule.campaign else None
        nth_key, caps = counter_keys(rule, beneficiary, friend, earned, campaign)
        candidates[unique] = {"rule": rule, "record": record, "inputs": inputs, "friend": friend, "chain": chain,
                              "beneficiary": beneficiary, "once_key": once_key, "earned": earned,
                              "nth_key": nth_key, "caps": caps}
    for unique in _entered(conn, app.key, list(candidates)):
        del candidates[unique]      # entered already: a retry, a re-run, another change
    if not candidates:
        return []
    keys = sorted({k for c in candidates.values() for k in (c["nth_key"], *c["caps"].values())})
    state = lock_counters(conn, app.key, keys)
    for unique in _entered(conn, app.key, list(candidates)):
        del candidates[unique]      # another worker entered it while we waited for the locks
    if not candidates:
        return []
    now = utcnow()
    rows = []
    for c in candidates.values():
        rule = c["rule"]
        nth = state[c["nth_key"]][1] + 1
        rooms = [CapRoom(name, rule.caps[name], Decimal(state[key][0]) / 100) for name, key in c["caps"].items()]
        referenced = {path[0] for path in programme.formula(rule.amount).references}
        explanation = compute(rule, {k: v for k, v in c["inputs"].items() if k in referenced}, nth, rooms)
        vests_on = c["earned"] + timedelta(days=rule.hold_days)
        explanation.update(earned_on=c["earned"].isoformat(), hold_days=rule.hold_days,
                           vests_on=vests_on.isoformat(), source={"form": form_key, "id": c["record"]["id"]},
                           friend=c["friend"], beneficiary_id=c["beneficiary"], chain=c["chain"],
                           period=_period(rule, c["earned"]), approval=rule.approval)
        explanation["text"] = describe(explanation)
        amount = cents(Decimal(explanation["amount"]))
        counters = [c["nth_key"], *c["caps"].values()]
        for key in counters:
            used, count = state[key]
            state[key] = (used + amount, count + 1)
        rows.append(dict(
            app_key=app.key, rule_key=rule.key, kind=REWARD, beneficiary_id=c["beneficiary"], level=rule.level,
            once_key=c["once_key"], source_form=form_key, source_id=c["record"]["id"], friend_id=c["friend"],
            reward_kind=rule.reward_kind, coupon=rule.coupon, amount_cents=amount,
            status=ZERO if amount == 0 else PENDING if rule.hold_days > 0 else VESTED,
            earned_on=c["earned"].isoformat(), vests_on=vests_on.isoformat(), counters=counters,
            explanation=explanation, created_at=now, updated_at=now))
    inserted = {(r.rule_key, r.beneficiary_id, r.once_key): r.id for r in conn.execute(
        Dialect.of(conn).insert(ENTRIES).on_conflict_do_nothing()
        .returning(ENTRIES.c.id, ENTRIES.c.rule_key, ENTRIES.c.beneficiary_id, ENTRIES.c.once_key), rows)}
    for row in rows:                # under the locks none conflicts; if one did, it moves nothing
        if (row["rule_key"], row["beneficiary_id"], row["once_key"]) not in inserted:
            for key in row["counters"]:
                used, count = state[key]
                state[key] = (used - row["amount_cents"], count - 1)
    write_counters(conn, app.key, state)
    if any(c["rule"].ledger for c in candidates.values()):
        mirror_entered(uow, app, form_key, rows, inserted)
    return [inserted[(r["rule_key"], r["beneficiary_id"], r["once_key"])] for r in rows
            if (r["rule_key"], r["beneficiary_id"], r["once_key"]) in inserted]


def _entered(conn, app_key: str, uniques: list[tuple[str, int, str]]) -> list[tuple[str, int, str]]:
    """Which of these (rule, beneficiary, once_key) have their reward entered: one statement
    (each column IN its values, which the unique index serves, then the exact triples)."""
    if not uniques:
        return []
    wanted = set(uniques)
    found = conn.execute(sa.select(ENTRIES.c.rule_key, ENTRIES.c.beneficiary_id, ENTRIES.c.once_key).where(
        ENTRIES.c.app_key == app_key, ENTRIES.c.kind == REWARD,
        ENTRIES.c.rule_key.in_(sorted({u[0] for u in wanted})),
        ENTRIES.c.beneficiary_id.in_(sorted({u[1] for u in wanted})),
        ENTRIES.c.once_key.in_(sorted({u[2] for u in wanted}))))
    return [tuple(r) for r in found if tuple(r) in wanted]


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
    """(used cents, count) of each counter, its row made if new and locked (key order):
    two statements whatever the number of keys."""
    ordered = sorted(set(keys))
    dialect = Dialect.of(conn)
    conn.execute(dialect.insert(COUNTERS).on_conflict_do_nothing(),
                 [{"app_key": app_key, "counter_key": k, "used_cents": 0, "count": 0} for k in ordered])
    query = sa.select(COUNTERS.c.counter_key, COUNTERS.c.used_cents, COUNTERS.c.count).where(
        COUNTERS.c.app_key == app_key, COUNTERS.c.counter_key.in_(ordered)).order_by(COUNTERS.c.counter_key)
    if dialect.row_locks:
        query = query.with_for_update()
    return {key: (used, count) for key, used, count in conn.execute(query)}


def write_counters(conn, app_key: str, state: dict[str, tuple[int, int]]) -> None:
    """Set locked counters to their new values: one executemany statement."""
    if not state:
        return
    conn.execute(COUNTERS.update().where(COUNTERS.c.app_key == app_key,
                                         COUNTERS.c.counter_key == sa.bindparam("k"))
                 .values(used_cents=sa.bindparam("u"), count=sa.bindparam("n")),
                 [{"k": key, "u": used, "n": count} for key, (used, count) in sorted(state.items())])


def reverse_many(conn, app, form_key: str, refunds: list[tuple[RewardRule, int]], today: date) -> list[int]:
    """Cancel (held) or claw back (vested, approved, paid) what these (rule, record) earned;
    the ids of the entries cancelled and of the clawbacks entered (dated `today`, the
    workspace's date). One statement each to find them, lock their counters, cancel,
    mark clawed back, enter the clawbacks and move the counters (and one per status for the
    ledger form's rows)."""
    app_key = app.key
    pairs = sorted({(rule.key, record_id) for rule, record_id in refunds})
    earned = conn.execute(sa.select(ENTRIES).where(
        ENTRIES.c.app_key == app_key, ENTRIES.c.source_form == form_key, ENTRIES.c.kind == REWARD,
        sa.tuple_(ENTRIES.c.rule_key, ENTRIES.c.source_id).in_(pairs),
        ENTRIES.c.status.in_((PENDING, VESTED, APPROVED, PAID))).order_by(ENTRIES.c.id)).mappings().all()
    if not earned:
        return []
    state = lock_counters(conn, app_key, [k for e in earned for k in e["counters"]])
    now = utcnow()
    ids = [e["id"] for e in earned]
    cancelled = set(conn.execute(ENTRIES.update().where(ENTRIES.c.id.in_(ids), ENTRIES.c.status == PENDING)
                                 .values(status=CANCELLED, updated_at=now).returning(ENTRIES.c.id)).scalars())
    rest = [i for i in ids if i not in cancelled]
    clawed = set(conn.execute(ENTRIES.update().where(ENTRIES.c.id.in_(rest),
                                                     ENTRIES.c.status.in_((VESTED, APPROVED, PAID)))
                              .values(status=CLAWED_BACK, updated_at=now).returning(ENTRIES.c.id)).scalars()) \
        if rest else set()
    clawbacks = [_clawback_row(e, now, today) for e in earned if e["id"] in clawed]
    entered: dict[int, int] = {}
    if clawbacks:
        entered = {r.original_id: r.id for r in conn.execute(
            Dialect.of(conn).insert(ENTRIES).on_conflict_do_nothing()
            .returning(ENTRIES.c.id, ENTRIES.c.original_id), clawbacks)}
    done = []
    for entry in earned:
        if entry["id"] in cancelled:
            done.append(entry["id"])
        elif entry["id"] in entered:
            done.append(entered[entry["id"]])
        else:
            continue
        for key in set(entry["counters"]):
            used, count = state[key]
            state[key] = (used - entry["amount_cents"], count - 1)
    write_counters(conn, app_key, state)
    mirror_status(conn, app, cancelled, CANCELLED)
    mirror_status(conn, app, clawed, CLAWED_BACK)
    return done


def _clawback_row(entry, now: datetime, today: date) -> dict:
    """The clawback of a vested, approved or paid entry."""
    amount = Decimal(entry["amount_cents"]) / 100
    explanation = {"clawback_of": entry["id"], "amount": str(-amount), "rule": entry["rule_key"],
                   "original": entry["explanation"],
                   "text": {"zh": f"退款追回奖励 #{entry['id']}（{amount}），原状态 {entry['status']}。",
                            "en": f"Clawback of reward #{entry['id']} ({amount}) on a refund; it was "
                                  f"{entry['status']}."}}
    return dict(
        app_key=entry["app_key"], rule_key=entry["rule_key"], kind=CLAWBACK, beneficiary_id=entry["beneficiary_id"],
        level=entry["level"], once_key=entry["once_key"], source_form=entry["source_form"],
        source_id=entry["source_id"], friend_id=entry["friend_id"], reward_kind=entry["reward_kind"],
        coupon=entry["coupon"], amount_cents=-entry["amount_cents"], status=VESTED, earned_on=today.isoformat(),
        vests_on=today.isoformat(), counters=entry["counters"], explanation=explanation, original_id=entry["id"],
        created_at=now, updated_at=now)


VEST_BATCH = 1000


def due_vesting(uow, now: datetime) -> int:
    """The due source: one rewards.vest_due job when some held reward is due by today (in
    the workspace time zone). It reads one aggregate, never the due ids: the job is keyed
    by the day and the highest due id, so ticks while it waits or runs enqueue nothing, and
    a reward that comes due later the same day (settled with an earlier date) gets a job."""
    today = now.astimezone(uow.session.tz).date().isoformat()
    highest = uow.conn.execute(sa.select(sa.func.max(ENTRIES.c.id))
                               .where(ENTRIES.c.status == PENDING, ENTRIES.c.vests_on <= today)).scalar()
    if highest is None:
        return 0
    return int(uow.enqueue(VEST_DUE_KIND, {"today": today, "upto": highest},
                           key=f"rewards:vest:{today}:{highest}") is not None)


def vest_due_job(ctx, payload: dict) -> dict:
    """Vest every held reward due by payload["today"] (ids up to payload["upto"]): one
    UPDATE per batch of VEST_BATCH, walking the ids upward (a batch never selects an id
    again); a reward cancelled or clawed back in the meantime is no longer pending and
    stays as it is."""
    return {"vested": vest_due(ctx.uow.conn, date.fromisoformat(payload["today"]), upto=payload.get("upto"))}


def vest_due(conn, today: date, *, upto: int | None = None, batch: int = VEST_BATCH) -> int:
    """Vest every held reward due by `today`, in batches of one statement each: UPDATE ...
    WHERE id IN (the next `batch` due ids after the last batch's) RETURNING id."""
    vested, after = 0, 0
    apps: dict[str, Any] = {}           # the compiled apps whose ledger forms mirror the entries
    while True:
        due = sa.select(ENTRIES.c.id).where(ENTRIES.c.status == PENDING, ENTRIES.c.vests_on <= today.isoformat(),
                                            ENTRIES.c.id > after)
        if upto is not None:
            due = due.where(ENTRIES.c.id <= upto)
        returned = conn.execute(ENTRIES.update().where(ENTRIES.c.id.in_(due.order_by(ENTRIES.c.id).limit(batch)
                                                                          .scalar_subquery()))
                                .values(status=VESTED, updated_at=utcnow())
                                .returning(ENTRIES.c.id, ENTRIES.c.app_key)).all()
        moved = [r.id for r in returned]
        for app_key in sorted({r.app_key for r in returned}):
            app = apps.get(app_key) or apps.setdefault(app_key, load_installed(conn, app_key))
            if app is not None and ledger_forms(app):
                mirror_status(conn, app, [r.id for r in returned if r.app_key == app_key], VESTED)
        vested += len(moved)
        if len(moved) < batch:
            return vested
        after = max(moved)


def vest_job(ctx, payload: dict) -> dict:
    """One held reward's hold is over (jobs of this kind were enqueued per entry by earlier
    releases; kept so those still in an outbox run): pending -> vested."""
    return {"vested": bool(ctx.uow.conn.execute(
        ENTRIES.update().where(ENTRIES.c.id == payload["entry"], ENTRIES.c.status == PENDING)
        .values(status=VESTED, updated_at=utcnow())).rowcount)}


jobs.register(SETTLE_KIND, settle_job, max_attempts=5, backoff=5.0)
jobs.register(VEST_KIND, vest_job, max_attempts=5, backoff=60.0)
jobs.register(VEST_DUE_KIND, vest_due_job, max_attempts=5, backoff=60.0)
jobs.register_due_source("rewards.vesting", due_vesting)
