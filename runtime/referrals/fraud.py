"""The fraud checks run on every referral (docs/referrals.md, "Fraud checks").

`fraud_listener(enqueue)` is a record listener (runtime/records/events.py). When referral
records are created, whatever the origin (the landing page, a staff form, the API: all
write through the session; an import: the importer attaches it too), it runs the
programme's checks on all the new referrals of the write at once, in the write's own
transaction:

    1 statement   (PostgreSQL only) pg_advisory_xact_lock on each referrer, friend phone
                  and client IP of the batch, in key order: two writers of referrals of
                  one referrer (or one phone, one IP) check one after the other, each
                  seeing what the other committed
    1 statement   one SELECT over the new referrals, each check a column of it (a join
                  or a correlated subquery): self-referral, already a customer, already
                  referred, the counts of the last hour and day by the referrer and of
                  the day from the IP
    0 or 1        one UPDATE (executemany) of fraud_status and fraud_reasons of the new
                  referrals whose verdict is not what they were inserted with
    0 or 1        one INSERT of their history rows (the verdict is a change the system
                  made, after the user's `create` row)

The disposable-email check reads the email the SELECT returns and looks its domain up in
the built-in list (disposable_domains.txt) and the programme's `disposable_domains`: a
set lookup in the process, no statement. So a bulk create of N referrals costs the same
statements as one. Counting checks count the new referrals among themselves in id order
(the 6th of six created at once is the 6th).

The verdict: `blocked` when a check whose action is block fires, else `flagged` when a
flag check fires, else `clear`; fraud_reasons says what fired, with the numbers, in
Chinese then English (one line each). The flagged referrals of a write get one
`referrals.review` job (runtime/referrals/review.py, one INSERT) that starts the
programme's review workflow on each.

On an update of a referral's fraud_status away from `flagged` (the review decided), the
listener enqueues the settlement of the friend's reward source records again, so a
reward that waited for the decision is entered (clear) or never (blocked).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterable

import sqlalchemy as sa

from engine.compiled.app import App
from engine.dialect import Dialect
from engine.referrals.model import ReferralProgramme
from engine.referrals.schema import CAMPAIGN_LIMITS
from runtime.records import history
from runtime.records.events import Batch, EventKind
from runtime.referrals.compiled import BLOCKED, CLEAR, FLAGGED, part_column as _col, programme_for
from runtime.rewards.compiled import SETTLE_KIND, rewards_for

REVIEW_KIND = "referrals.review"
DOMAINS_FILE = Path(__file__).with_name("disposable_domains.txt")

Enqueue = Callable[..., Any]       # enqueue(kind, payload, key=...) as UnitOfWork.enqueue


@lru_cache(maxsize=1)
def builtin_disposable_domains() -> frozenset[str]:
    lines = DOMAINS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


def is_disposable(email: str | None, programme: ReferralProgramme) -> str | None:
    """The disposable domain of `email` (or of a parent domain: a.mailinator.com), else None."""
    if not email or "@" not in email:
        return None
    domain = email.rsplit("@", 1)[1].strip().lower().rstrip(".")
    listed = builtin_disposable_domains() | set(programme.disposable_domains)
    parts = domain.split(".")
    for i in range(len(parts) - 1):
        candidate = ".".join(parts[i:])
        if candidate in listed:
            return candidate
    return None


# ---- reasons -----------------------------------------------------------------------------

def _reason(check: str, **n) -> tuple[str, str]:
    texts = {
        "self_phone": ("被推荐人电话与推荐人本人电话相同（自我推荐）",
                       "the friend's phone is the referrer's own (self-referral)"),
        "self_email": ("被推荐人邮箱与推荐人本人邮箱相同（自我推荐）",
                       "the friend's email is the referrer's own (self-referral)"),
        "self_device": ("被推荐人设备与推荐人本人曾用设备相同（自我推荐）",
                        "the friend's device is one the referrer used (self-referral)"),
        "self_ip": ("被推荐人 IP 与推荐人本人曾用 IP 相同（自我推荐）",
                    "the friend's IP address is one the referrer used (self-referral)"),
        "already_customer": ("被推荐人已是客户（{name}）", "the friend is already a customer ({name})"),
        "already_referred": ("该电话已被推荐过 {count} 次", "this phone was referred {count} time(s) before"),
        "per_hour": ("同一推荐人 1 小时内第 {count} 次推荐（上限 {limit}）",
                     "the referrer's referral no. {count} within 1 hour (limit {limit})"),
        "per_day": ("同一推荐人 24 小时内第 {count} 次推荐（上限 {limit}）",
                    "the referrer's referral no. {count} within 24 hours (limit {limit})"),
        "same_ip_per_day": ("同一 IP（{ip}）24 小时内第 {count} 次推荐（上限 {limit}）",
                            "referral no. {count} from IP {ip} within 24 hours (limit {limit})"),
        "disposable_email": ("被推荐人使用一次性邮箱（{domain}）",
                             "the friend's email is a disposable address ({domain})"),
    }
    zh, en = texts[check]
    return zh.format(**n), en.format(**n)


@dataclass(frozen=True)
class Verdict:
    status: str
    fired: tuple[tuple[str, str, str, str], ...]      # (check, action, zh, en)

    @property
    def reasons(self) -> str | None:
        if not self.fired:
            return None
        zh = "；".join(f"{z}（{_ACTION_ZH[a]}）" for _c, a, z, _e in self.fired)
        en = "; ".join(f"{e} ({_ACTION_EN[a]})" for _c, a, _z, e in self.fired)
        return f"{zh}\n{en}"


_ACTION_ZH = {BLOCKED: "拦截", FLAGGED: "待复核"}
_ACTION_EN = {BLOCKED: "blocked", FLAGGED: "flagged"}


def decide(programme: ReferralProgramme, fired: Iterable[tuple[str, str, str]]) -> Verdict:
    """`fired`: (check, zh, en) of the checks that caught the referral; their actions decide."""
    kept = []
    for name, zh, en in fired:
        action = programme.check(name).action
        if action != "off":
            kept.append((name, BLOCKED if action == "block" else FLAGGED, zh, en))
    status = BLOCKED if any(a == BLOCKED for _n, a, _z, _e in kept) else FLAGGED if kept else CLEAR
    return Verdict(status, tuple(kept))


# ---- SQL -----------------------------------------------------------------------------------

def _aliased(column: sa.ColumnElement | None, alias: sa.Alias) -> sa.ColumnElement | None:
    return None if column is None else alias.c[column.name]


def check_query(app: App, programme: ReferralProgramme, ids: list[int], at) -> sa.Select:
    """One SELECT giving, per new referral, what each check needs."""
    r_map, c_map = programme.referrals, programme.customers
    R = app.tables.form_table(r_map.form)
    C = app.tables.form_table(c_map.form)
    n = R.alias("n")           # the new referrals
    p = R.alias("p")           # other referrals
    me = C.alias("me")         # the referrer's own customer record
    other = C.alias("other")   # any customer

    def rc(part, alias):       # a referral column on an alias
        return _aliased(_col(app, r_map, part), alias)

    def cc(part, alias):
        return _aliased(_col(app, c_map, part), alias)

    referrer_n, phone_n, email_n = rc("referrer", n), rc("friend_phone", n), rc("friend_email", n)
    ip_n, device_n, friend_n = rc("client_ip", n), rc("device", n), rc("friend_customer", n)
    hour_ago, day_ago = at - timedelta(hours=1), at - timedelta(days=1)
    live_p = [p.c.deleted_at.is_(None)]
    if rc("fraud_status", p) is not None:
        live_p.append(sa.func.coalesce(rc("fraud_status", p), CLEAR) != BLOCKED)

    columns: list[sa.ColumnElement] = [n.c.id, n.c.created_at]
    columns.append(sa.and_(cc("phone", me).is_not(None), cc("phone", me) == phone_n).label("self_phone"))
    if email_n is not None and cc("email", me) is not None:
        columns.append(sa.and_(email_n.is_not(None),
                               sa.func.lower(cc("email", me)) == sa.func.lower(email_n)).label("self_email"))
    # The referrer's own earlier devices and IPs: the referrals in which they were the friend.
    own = [rc("friend_phone", p) == cc("phone", me)]
    if rc("friend_customer", p) is not None:
        own.append(rc("friend_customer", p) == referrer_n)
    for part, label, value in (("device", "self_device", device_n), ("client_ip", "self_ip", ip_n)):
        if value is None:
            continue
        columns.append(sa.and_(value.is_not(None), sa.exists().where(
            p.c.id != n.c.id, p.c.deleted_at.is_(None), rc(part, p) == value, sa.or_(*own))).label(label))
    # Already a customer: a customer with the friend's phone or email, other than the
    # friend's own record of this referral and the referrer (that is a self-referral).
    matches = [cc("phone", other) == phone_n]
    if email_n is not None and cc("email", other) is not None:
        matches.append(sa.and_(email_n.is_not(None), sa.func.lower(cc("email", other)) == sa.func.lower(email_n)))
    not_them = [other.c.id != referrer_n]
    if friend_n is not None:
        not_them.append(sa.or_(friend_n.is_(None), other.c.id != friend_n))
    name_other = cc("name", other)
    columns.append(sa.select(name_other).where(other.c.deleted_at.is_(None), sa.or_(*matches), *not_them)
                   .order_by(other.c.id).limit(1).scalar_subquery().label("customer_name"))
    # Already referred: earlier live referrals of the same phone, in any campaign.
    columns.append(sa.select(sa.func.count()).select_from(p).where(
        *live_p, p.c.id < n.c.id, rc("friend_phone", p) == phone_n).scalar_subquery().label("referred"))
    # Velocity: the referrer's referrals up to this one within the hour and the day.
    for label, since in (("per_hour", hour_ago), ("per_day", day_ago)):
        columns.append(sa.select(sa.func.count()).select_from(p).where(
            p.c.deleted_at.is_(None), p.c.id <= n.c.id, rc("referrer", p) == referrer_n,
            p.c.created_at >= since).scalar_subquery().label(label))
    if ip_n is not None:
        columns.append(ip_n.label("ip"))
        columns.append(sa.select(sa.func.count()).select_from(p).where(
            p.c.deleted_at.is_(None), p.c.id <= n.c.id, rc("client_ip", p) == ip_n,
            p.c.created_at >= day_ago).scalar_subquery().label("same_ip"))
    if email_n is not None:
        columns.append(email_n.label("email"))
    for part in ("fraud_status", "fraud_reasons"):
        if rc(part, n) is not None:
            columns.append(rc(part, n).label(f"old_{part}"))
    # A campaign's own limits (a mapped number field; empty: the programme's).
    source = n.outerjoin(me, me.c.id == referrer_n)
    k_map, campaign_n = programme.campaigns, rc("campaign", n)
    overrides = [(check, _col(app, k_map, part)) for check, part in CAMPAIGN_LIMITS.items()]
    overrides = [(check, column) for check, column in overrides if column is not None]
    if overrides and campaign_n is not None:
        k = app.tables.form_table(k_map.form).alias("k")
        source = source.outerjoin(k, sa.and_(k.c.id == campaign_n, k.c.deleted_at.is_(None)))
        columns += [k.c[column.name].label(f"limit_{check}") for check, column in overrides]
    return sa.select(*columns).select_from(source).where(n.c.id.in_(ids)).order_by(n.c.id)


def limit_of(programme: ReferralProgramme, check: str, campaign_limit) -> int:
    """The campaign's own limit when it sets one (a whole number from 1), else the programme's."""
    if campaign_limit is not None and not isinstance(campaign_limit, bool):
        try:
            value = int(campaign_limit)
        except (TypeError, ValueError, ArithmeticError):
            value = 0
        if value >= 1:
            return value
    return programme.check(check).limit


def verdict_of(programme: ReferralProgramme, row: sa.Row) -> Verdict:
    m = row._mapping
    fired: list[tuple[str, str, str]] = []
    for flag in ("self_phone", "self_email", "self_device", "self_ip"):
        if m.get(flag):
            fired.append(("self_referral", *_reason(flag)))
    if m.get("customer_name") is not None:
        fired.append(("already_customer", *_reason("already_customer", name=m["customer_name"])))
    if m.get("referred"):
        fired.append(("already_referred", *_reason("already_referred", count=m["referred"])))
    for name, label in (("per_hour", "per_hour"), ("per_day", "per_day"), ("same_ip_per_day", "same_ip")):
        count, limit = m.get(label) or 0, limit_of(programme, name, m.get(f"limit_{name}"))
        if count > limit:
            fired.append((name, *_reason(name, count=count, limit=limit, ip=m.get("ip"))))
    domain = is_disposable(m.get("email"), programme)
    if domain:
        fired.append(("disposable_email", *_reason("disposable_email", domain=domain)))
    return decide(programme, fired)


def lock_keys(app: App, programme: ReferralProgramme, news: list[dict]) -> list[int]:
    """The advisory lock keys of a batch: one per referrer, friend phone and IP, sorted."""
    parts = {"referrer": programme.referrals["referrer"], "phone": programme.referrals["friend_phone"],
             "ip": programme.referrals["client_ip"]}
    keys = set()
    for values in news:
        for kind, field in parts.items():
            value = values.get(field) if field else None
            if value not in (None, ""):
                digest = hashlib.blake2b(f"fraud:{app.key}:{kind}:{value}".encode(), digest_size=8).digest()
                keys.add(int.from_bytes(digest, "big", signed=True))
    return sorted(keys)


_LOCKS = sa.text("SELECT pg_advisory_xact_lock(k) FROM unnest(CAST(:keys AS bigint[])) AS t(k)")


def check_referrals(conn: sa.Connection, app: App, ids: list[int], at, news: list[dict]) -> dict[int, Verdict]:
    """Run the checks on the new referrals `ids` (created at `at`, with values `news`)
    and write their verdicts. {id: Verdict} of every referral checked."""
    programme = programme_for(app)
    if not ids or programme is None:
        return {}
    if Dialect.of(conn).advisory_locks:
        keys = lock_keys(app, programme, news)
        if keys:
            conn.execute(_LOCKS, {"keys": keys})
    verdicts, changed = {}, []
    for row in conn.execute(check_query(app, programme, ids, at)):
        verdict = verdict_of(programme, row)
        verdicts[row.id] = verdict
        m = row._mapping
        if "old_fraud_status" in m and (m["old_fraud_status"] != verdict.status
                                        or m.get("old_fraud_reasons") != verdict.reasons):
            changed.append((row.id, m["old_fraud_status"], m.get("old_fraud_reasons"), verdict))
    if changed:
        _write(conn, app, programme, changed, at)
    return verdicts


def _write(conn, app: App, programme: ReferralProgramme, changed, at) -> None:
    r_map = programme.referrals
    table = app.tables.form_table(r_map.form)
    status_col, reasons_col = _col(app, r_map, "fraud_status"), _col(app, r_map, "fraud_reasons")
    values = {status_col.name: sa.bindparam("b_status")}
    if reasons_col is not None:
        values[reasons_col.name] = sa.bindparam("b_reasons")
    conn.execute(table.update().where(table.c.id == sa.bindparam("b_id")).values(values),
                 [{"b_id": rid, "b_status": v.status, "b_reasons": v.reasons} for rid, _s, _r, v in changed])
    entries = []
    for rid, old_status, old_reasons, verdict in changed:
        changes = {r_map["fraud_status"]: {"from": old_status, "to": verdict.status}}
        if reasons_col is not None:
            changes[r_map["fraud_reasons"]] = {"from": old_reasons, "to": verdict.reasons}
        entries.append(history.entry(app.key, r_map.form, rid, 1, "update", changes, None, at))
    history.write(conn, entries)


# ---- what a review decision releases ----------------------------------------------------

def released(programme: ReferralProgramme, event) -> list[int]:
    """The referrals whose fraud_status an update moved away from flagged."""
    status = programme.referrals["fraud_status"]
    return [c.record_id for c in event.changes if status and status in c.new and c.old.get(status) == FLAGGED]


def settle_again(conn, app: App, programme: ReferralProgramme, referral_ids: list[int], enqueue: Enqueue) -> int:
    """Enqueue the settlement of every reward source record of these referrals' friends
    (one SELECT per source form): their rewards waited for the review."""
    friend = _col(app, programme.referrals, "friend_customer")
    if not referral_ids or friend is None:
        return 0
    R = app.tables.form_table(programme.referrals.form)
    friends = sa.select(friend).where(R.c.id.in_(referral_ids), friend.is_not(None)).scalar_subquery()
    count = 0
    for form_key, rules in rewards_for(app).by_source.items():
        form = app.require_form(form_key)
        fields = {rule.customer for rule in rules if rule.customer and form.field(rule.customer) is not None}
        table = app.tables.form_table(form_key)
        cols = [table.c[app.types.of(form.field(f)).columns()[0].name] for f in sorted(fields)]
        if not cols:
            continue
        rows = conn.execute(sa.select(table.c.id, table.c.version).where(
            table.c.deleted_at.is_(None), sa.or_(*(c.in_(friends) for c in cols))).order_by(table.c.id))
        for record_id, version in rows:
            enqueue(SETTLE_KIND, {"app": app.key, "form": form_key, "record": record_id},
                    key=f"rewards:{app.key}:{form_key}:{record_id}:{version}:review")
            count += 1
    return count


def fraud_status_field(app: App, form_key: str) -> str | None:
    """The fraud verdict field of `form_key` when it is the programme's referrals form."""
    programme = programme_for(app)
    if programme is None or programme.referrals.form != form_key:
        return None
    return programme.referrals["fraud_status"]


# ---- the listener -------------------------------------------------------------------------

def fraud_listener(enqueue: Enqueue, *, verdict_given: Callable[[], bool] | None = None
                   ) -> Callable[[Batch], None]:
    """The record listener running the checks on created referrals. `enqueue(kind,
    payload, key=...)` writes a job in the write's transaction (UnitOfWork.enqueue).
    `verdict_given()` TRUE says the writer supplies the verdict itself (an import whose
    file has the fraud_status column: a restore or a move from another system, judged
    already): the checks leave those referrals as given."""

    def listen(batch: Batch) -> None:
        if verdict_given is not None and verdict_given():
            return
        programme = programme_for(batch.app)
        if programme is None or not programme.referrals.form:
            return
        form = programme.referrals.form
        for event in batch.events:
            if event.form_key != form:
                continue
            if event.kind is EventKind.CREATED:
                ids = event.record_ids
                verdicts = check_referrals(batch.conn, batch.app, ids, event.at,
                                           [dict(c.new) for c in event.changes])
                flagged = sorted(rid for rid, v in verdicts.items() if v.status == FLAGGED)
                if flagged and programme.review_workflow:      # one job for the write's flagged referrals
                    enqueue(REVIEW_KIND, {"app": batch.app.key, "form": form, "records": flagged},
                            key=f"referral_review:{batch.app.key}:{flagged[0]}:{len(flagged)}")
            elif event.kind is EventKind.UPDATED:
                settle_again(batch.conn, batch.app, programme, released(programme, event), enqueue)
    return listen
