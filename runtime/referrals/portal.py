"""The referrer's portal (docs/referrals.md, "The referrer's portal"): one-time sign-in
links, the portal session they start, and what a referrer (or staff, from the customer's
record page) sees: codes and links, referrals, rewards and their totals.

Links. A link is `/portal/login/<token>`: the token is signed (itsdangerous, with the web
app's secret and the app's key inside), expires after LINK_MINUTES, is used once, and
only its SHA-256 is stored (fw_portal_links). A used link starts a portal session of
SESSION_DAYS, which is the link's row: checked on every portal request (`visitor`), ended
by sign-out (`end_visit`).

    issue_link(conn, app_key, customer_id, secret=..., channel=...)    a new link's token
    check_link(conn, app_key, token, secret=...)        the link's row, or PortalLinkRefused
    redeem_link(conn, app_key, token, secret=...)       used now: the portal visit it starts
    visitor(conn, app_key, link_id)                     the customer of a live visit, or None
    request_link(uow, app_key, phone, ...)              the referrer asks with their phone
    staff_link(uow, app_key, customer_id, ...)          staff copy or send a customer's link
    portal_view(conn, app, customer_id, ...)            the portal page's data, masked
    StaffPanel(uow, app_key).view(customer_id, ...)     the record page's panel, by permission

Every list is one statement filtered by the customer's id in SQL; nothing is read per row.
There is no SMS gateway: a link "sent" is a `referrals.portal_message` job in the outbox,
whose handler logs the message (masked phone) until a gateway is configured.
"""
from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from engine.compiled.app import App
from engine.definition.model import FieldDef
from engine.errors import CodedError, NotFound
from engine.i18n import register_messages
from engine.referrals.model import FormMap, ReferralProgramme
from engine.rewards.compute import describe
from engine.storage import system
from engine.storage.types import utcnow
from runtime import jobs
from runtime.apps import installed_apps, load_installed
from runtime.permissions import EDIT, VIEW, PermissionDenied
from runtime.referrals.codes import codes_of, poster_path, share_path
from runtime.referrals.compiled import programme_for
from runtime.referrals.masking import mask_name, mask_phone

LINK_MINUTES = 30
SESSION_DAYS = 7
RESEND_MINUTES = 5          # a referrer asking again within this gets no second message
LIST_LIMIT = 200            # the newest referrals and rewards a page shows
SALT = "formwork.portal.link"
MESSAGE_KIND = "referrals.portal_message"
LINKS, ENTRIES = system.portal_links, system.reward_entries
STAFF_COPY, STAFF_SEND, SELF = "staff_copy", "staff_send", "self"

log = logging.getLogger(__name__)

# The ledger's statuses in words (runtime/rewards/settle.py), and which count where.
REWARD_STATUS = {
    "pending": ("冷静期中", "Held"), "vested": ("已生效", "Vested"), "approved": ("已审批", "Approved"),
    "paid": ("已发放", "Paid"), "cancelled": ("已取消", "Cancelled"), "clawed_back": ("已追回", "Clawed back"),
    "zero": ("无奖励", "No reward"),
}
EARNED = ("pending", "vested", "approved", "paid")
CANCELLED = ("cancelled", "clawed_back")
KIND_WORDS = {"cash": ("现金", "Cash"), "points": ("积分", "Points"), "coupon": ("优惠券", "Coupon")}

register_messages({
    "portal_link_invalid": {
        "zh": "此登录链接无效（可能不完整或被改动过）。请复制短信中的完整链接，或在 /portal 输入手机号重新获取",
        "en": "this sign-in link is not valid (it may be cut short or altered). Copy the whole link from the "
              "message, or ask for a new one at /portal with your phone number"},
    "portal_link_expired": {
        "zh": "此登录链接已过期（有效期 {minutes} 分钟）。请在 /portal 输入手机号重新获取，或联系您的顾问",
        "en": "this sign-in link has expired (links last {minutes} minutes). Ask for a new one at /portal "
              "with your phone number, or ask your adviser"},
    "portal_link_used": {
        "zh": "此登录链接已使用过（每个链接只能使用一次）。请在 /portal 输入手机号重新获取",
        "en": "this sign-in link has been used already (each link works once). Ask for a new one at /portal "
              "with your phone number"},
    "portal_link_other_app": {
        "zh": "此登录链接属于另一个应用，不能在这里使用。请使用本活动发给您的链接",
        "en": "this sign-in link belongs to another app and does not work here. Use the link of this "
              "programme"},
    "portal_no_programme": {
        "zh": "应用“{app}”没有声明推荐计划（定义中的 referrals 块），因此没有推荐人门户",
        "en": "app '{app}' declares no referral programme (a `referrals` block), so it has no referrer's portal"},
    "portal_not_a_customer": {
        "zh": "推荐人门户链接只能发给“{form}”表单中的客户",
        "en": "portal links are for the customers of form '{form}' only"},
    "portal_no_phone": {
        "zh": "该客户没有手机号，无法发送链接；请改用“复制门户链接”",
        "en": "this customer has no phone to send the link to; use \"copy portal link\" instead"},
    "portal_link_denied": {
        "zh": "您无权为该客户生成门户链接：需要编辑该客户记录的权限",
        "en": "you may not make portal links for this customer: it needs the right to edit the customer's record"},
})


class PortalLinkRefused(CodedError):
    """A sign-in link that does not sign in: `reason` is invalid, expired, used or other_app."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(f"portal_link_{reason}", minutes=LINK_MINUTES)


class NoProgramme(CodedError, NotFound):
    def __init__(self, app_key: str):
        super().__init__("portal_no_programme", app=app_key)


class NoPhone(CodedError):
    def __init__(self):
        super().__init__("portal_no_phone")


@dataclass(frozen=True)
class PortalLink:
    token: str
    link_id: int
    customer_id: int
    expires_at: datetime

    @property
    def path(self) -> str:
        return f"/portal/login/{self.token}"


@dataclass(frozen=True)
class PortalVisit:
    link_id: int
    customer_id: int
    app_key: str
    session_expires_at: datetime


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=SALT)


def programme_of(app: App) -> ReferralProgramme:
    programme = programme_for(app)
    if programme is None:
        raise NoProgramme(app.key)
    return programme


# ---- links and visits ---------------------------------------------------------------

def issue_link(conn: sa.Connection, app_key: str, customer_id: int, *, secret: str, channel: str,
               created_by: int | None = None, now: datetime | None = None) -> PortalLink:
    """A new one-time link for the customer: the token is returned once and never stored."""
    now = now or utcnow()
    token = _serializer(secret).dumps({"a": app_key, "n": secrets.token_urlsafe(16)})
    expires = now + timedelta(minutes=LINK_MINUTES)
    link_id = conn.execute(LINKS.insert().values(
        app_key=app_key, customer_id=customer_id, token_hash=token_hash(token), channel=channel,
        created_by=created_by, created_at=now, expires_at=expires)).inserted_primary_key[0]
    return PortalLink(token, link_id, customer_id, expires)


def check_link(conn: sa.Connection, app_key: str, token: str, *, secret: str,
               now: datetime | None = None) -> sa.Row:
    """The link's row when the token would sign in to `app_key` now; else PortalLinkRefused."""
    now = now or utcnow()
    try:
        payload = _serializer(secret).loads(token or "", max_age=LINK_MINUTES * 60)
    except SignatureExpired:
        raise PortalLinkRefused("expired")
    except BadSignature:
        raise PortalLinkRefused("invalid")
    if not isinstance(payload, dict):
        raise PortalLinkRefused("invalid")
    if payload.get("a") != app_key:
        raise PortalLinkRefused("other_app")
    row = conn.execute(sa.select(LINKS).where(LINKS.c.token_hash == token_hash(token))).first()
    if row is None or row.app_key != app_key:
        raise PortalLinkRefused("invalid")
    if row.used_at is not None:
        raise PortalLinkRefused("used")
    if row.expires_at <= now:
        raise PortalLinkRefused("expired")
    return row


def redeem_link(conn: sa.Connection, app_key: str, token: str, *, secret: str,
                now: datetime | None = None) -> PortalVisit:
    """Use the link (once: of two requests at the same moment one wins, the other is
    told it was used) and start the portal visit."""
    now = now or utcnow()
    row = check_link(conn, app_key, token, secret=secret, now=now)
    ends = now + timedelta(days=SESSION_DAYS)
    used = conn.execute(LINKS.update().where(LINKS.c.id == row.id, LINKS.c.used_at.is_(None))
                        .values(used_at=now, session_expires_at=ends)).rowcount
    if used != 1:
        raise PortalLinkRefused("used")
    return PortalVisit(row.id, row.customer_id, app_key, ends)


def visitor(conn: sa.Connection, app_key: str, link_id: Any, now: datetime | None = None) -> int | None:
    """The customer id of a live portal visit (used, not signed out, not over), else None."""
    if not isinstance(link_id, int) or isinstance(link_id, bool):
        return None
    now = now or utcnow()
    return conn.execute(sa.select(LINKS.c.customer_id).where(
        LINKS.c.id == link_id, LINKS.c.app_key == app_key, LINKS.c.used_at.is_not(None),
        LINKS.c.ended_at.is_(None), LINKS.c.session_expires_at > now)).scalar()


def end_visit(conn: sa.Connection, link_id: Any, now: datetime | None = None) -> None:
    if isinstance(link_id, int) and not isinstance(link_id, bool):
        conn.execute(LINKS.update().where(LINKS.c.id == link_id, LINKS.c.ended_at.is_(None))
                     .values(ended_at=now or utcnow()))


# ---- asking for a link --------------------------------------------------------------

def normal_phone(text: str | None) -> str:
    """A phone as the customers' phone field keeps it: separators dropped, +86 left off."""
    kept = "".join(ch for ch in (text or "").strip() if ch.isdigit() or ch == "+")
    for prefix in ("+86", "0086"):
        if kept.startswith(prefix) and len(kept) == len(prefix) + 11:
            return kept[len(prefix):]
    return kept


def _column(app: App, mapping: FormMap, part: str) -> sa.ColumnElement | None:
    key = mapping[part]
    if not key:
        return None
    fdef = app.definition.form(mapping.form).field(key)
    return app.tables.form_table(mapping.form).c[app.types.of(fdef).columns()[0].name]


def customer_by_phone(conn: sa.Connection, app: App, phone: str) -> int | None:
    programme = programme_of(app)
    wanted = normal_phone(phone)
    if len(wanted) < 5:
        return None
    table = app.tables.form_table(programme.customers.form)
    column = _column(app, programme.customers, "phone")
    return conn.execute(sa.select(table.c.id).where(column == wanted, table.c.deleted_at.is_(None))
                        .order_by(table.c.id).limit(1)).scalar()


def message_text(app: App, url: str) -> dict[str, str]:
    label = app.definition.label
    return {"zh": f"【{label.zh}】您的推荐人门户登录链接（{LINK_MINUTES} 分钟内有效，仅可使用一次）：{url}",
            "en": f"[{label.en}] Your referrer's portal sign-in link (valid {LINK_MINUTES} minutes, works once): {url}"}


def _send(uow, app: App, customer_id: int, phone: str, link: PortalLink, base_url: str, now: datetime) -> bool:
    """The message in the outbox, at most one per customer every RESEND_MINUTES."""
    window = int(now.timestamp() // (RESEND_MINUTES * 60))
    payload = {"app": app.key, "customer": customer_id, "phone": phone,
               "text": message_text(app, base_url.rstrip("/") + link.path), "expires_at": link.expires_at.isoformat()}
    if uow.enqueue(MESSAGE_KIND, payload, key=f"portal:{app.key}:{customer_id}:{window}") is None:
        uow.conn.execute(LINKS.delete().where(LINKS.c.id == link.link_id))   # sent already: no second live link
        return False
    return True


def request_link(uow, app_key: str, phone: str, *, secret: str, base_url: str,
                 now: datetime | None = None) -> None:
    """The referrer asks for a link with their phone. Whatever the phone, nothing is
    returned (the page must not tell whether a customer has it); when it is a customer's,
    a link is issued and its message goes to the outbox."""
    now = now or utcnow()
    app = uow.installed(app_key)
    if app is None or programme_for(app) is None:
        return
    customer_id = customer_by_phone(uow.conn, app, phone)
    if customer_id is None:
        return
    link = issue_link(uow.conn, app_key, customer_id, secret=secret, channel=SELF, now=now)
    _send(uow, app, customer_id, normal_phone(phone), link, base_url, now)


def staff_link(uow, app_key: str, customer_id: int, *, secret: str, base_url: str, send: bool,
               now: datetime | None = None) -> dict[str, Any]:
    """Staff make a customer's link: to copy (the URL is returned, once) or to send (to the
    customer's phone, through the outbox; the URL is not returned). The staff member must
    be allowed to edit the customer's record (its row within their edit scope)."""
    now = now or utcnow()
    records = uow.records(app_key)
    app = records.app
    programme = programme_of(app)
    form_key = programme.customers.form
    form = app.require_form(form_key)
    table = app.tables.form_table(form_key)
    access = records.access(form)
    scope = access.scope(EDIT)
    phone_column = _column(app, programme.customers, "phone")
    query = sa.select(table.c.id, phone_column).where(table.c.id == customer_id, table.c.deleted_at.is_(None))
    row = uow.conn.execute(query.where(scope) if scope is not None else query).first()
    if row is None:
        records.get(form_key, customer_id)          # outside the view scope: NotFound first
    if row is None or not access.can(EDIT):
        raise PermissionDenied("portal_link_denied")
    if send and not row[1]:
        raise NoPhone()
    link = issue_link(uow.conn, app_key, customer_id, secret=secret, channel=STAFF_SEND if send else STAFF_COPY,
                      created_by=uow.actor.user_id, now=now)
    url = base_url.rstrip("/") + link.path
    if send:
        sent = _send(uow, app, customer_id, row[1], link, base_url, now)
        return {"sent": sent, "phone": mask_phone(row[1]), "expires_at": link.expires_at.isoformat()}
    return {"url": url, "expires_at": link.expires_at.isoformat()}


def deliver_message(ctx, payload) -> None:
    """The `referrals.portal_message` job. No SMS gateway is configured: the message is
    logged with the phone masked, and the job is done (its payload keeps the text)."""
    log.warning("no SMS gateway configured: portal link for %s not sent by SMS: %s",
                mask_phone(payload.get("phone")), payload.get("text", {}).get("zh"))


jobs.register(MESSAGE_KIND, deliver_message, max_attempts=1, in_transaction=False)


# ---- what a referrer sees -----------------------------------------------------------

def _labels(fdef: FieldDef | None, lang: str) -> dict[str, str]:
    if fdef is None:
        return {}
    found = {}
    for option in fdef.option("options") or []:
        if isinstance(option, dict) and "value" in option:
            label = option.get("label")
            found[str(option["value"])] = (label.get(lang) or label.get("zh")) if isinstance(label, dict) \
                else str(label if label is not None else option["value"])
    return found


def _field(app: App, mapping: FormMap, part: str) -> FieldDef | None:
    key = mapping[part]
    return app.definition.form(mapping.form).field(key) if key else None


def codes_view(conn: sa.Connection, app: App, customer_id: int, *, on: date, lang: str,
               base_url: str) -> list[dict[str, Any]]:
    """The referrer's codes for the open campaigns with absolute links: two statements
    (the codes, the campaigns' names)."""
    programme = programme_of(app)
    codes = codes_of(conn, app, customer_id, on=on)
    if not codes:
        return []
    campaigns = app.tables.form_table(programme.campaigns.form)
    title = app.definition.form(programme.campaigns.form).title_key()
    names: dict[int, Any] = {}
    if title:
        fdef = app.definition.form(programme.campaigns.form).field(title)
        column = campaigns.c[app.types.of(fdef).columns()[0].name]
        names = dict(conn.execute(sa.select(campaigns.c.id, column)
                                  .where(campaigns.c.id.in_([c.campaign_id for c in codes]))).all())
    root = base_url.rstrip("/")
    return [{"code": c.code, "campaign_id": c.campaign_id, "campaign": str(names.get(c.campaign_id) or c.prefix),
             "url": root + share_path(c.code), "poster_url": root + poster_path(c.code)} for c in codes]


def referrals_view(conn: sa.Connection, app: App, customer_id: int, *, lang: str, masked: bool,
                   scope: sa.ColumnElement | None = None, hidden: frozenset[str] = frozenset(),
                   limit: int = LIST_LIMIT) -> list[dict[str, Any]]:
    """The customer's referrals, newest first, in one statement; names and phones masked
    when `masked` (or when the reader may not see those fields)."""
    programme = programme_of(app)
    mapping = programme.referrals
    table = app.tables.form_table(mapping.form)
    campaigns = app.tables.form_table(programme.campaigns.form)
    name, phone = _column(app, mapping, "friend_name"), _column(app, mapping, "friend_phone")
    status, campaign = _column(app, mapping, "status"), _column(app, mapping, "campaign")
    channel = _column(app, mapping, "channel")
    title = app.definition.form(programme.campaigns.form).title_key()
    campaign_name = (campaigns.c[app.types.of(app.definition.form(programme.campaigns.form).field(title))
                                 .columns()[0].name] if title else campaigns.c.id)
    columns = [table.c.id, table.c.created_at, name.label("friend_name"), phone.label("friend_phone"),
               (status if status is not None else sa.null()).label("status"),
               (channel if channel is not None else sa.null()).label("channel"),
               campaign_name.label("campaign")]
    query = (sa.select(*columns)
             .select_from(table.outerjoin(campaigns, sa.and_(campaigns.c.id == campaign,
                                                            campaigns.c.deleted_at.is_(None))))
             .where(_column(app, mapping, "referrer") == customer_id, table.c.deleted_at.is_(None))
             .order_by(table.c.id.desc()).limit(limit))
    if scope is not None:
        query = query.where(scope)
    statuses = _labels(_field(app, mapping, "status"), lang)
    channels = _labels(_field(app, mapping, "channel"), lang)
    hide_name = masked or mapping["friend_name"] in hidden
    hide_phone = masked or mapping["friend_phone"] in hidden
    found = []
    for row in conn.execute(query).mappings():
        found.append({
            "id": row["id"], "created_on": row["created_at"].date().isoformat() if row["created_at"] else None,
            "friend_name": mask_name(row["friend_name"]) if hide_name else (row["friend_name"] or ""),
            "friend_phone": mask_phone(row["friend_phone"]) if hide_phone else (row["friend_phone"] or ""),
            "status": row["status"], "status_label": statuses.get(str(row["status"]), row["status"] or ""),
            "channel": row["channel"], "channel_label": channels.get(str(row["channel"]), row["channel"] or ""),
            "campaign": str(row["campaign"]) if row["campaign"] is not None else ""})
    return found


def _money(cents: int, kind: str) -> str:
    value = Decimal(cents) / 100
    return f"{value:,.0f}" if kind == "points" else f"{value:,.2f}"


def rewards_view(conn: sa.Connection, app: App, customer_id: int, *, lang: str, masked: bool,
                 limit: int = LIST_LIMIT) -> list[dict[str, Any]]:
    """The customer's rewards (not the clawback entries: a clawed-back reward says so),
    newest first, each with its explanation in `lang`, in one statement."""
    programme = programme_of(app)
    customers = app.tables.form_table(programme.customers.form)
    friend_name = _column(app, programme.customers, "name")
    query = (sa.select(ENTRIES, friend_name.label("friend_name"))
             .select_from(ENTRIES.outerjoin(customers, customers.c.id == ENTRIES.c.friend_id))
             .where(ENTRIES.c.app_key == app.key, ENTRIES.c.beneficiary_id == customer_id,
                    ENTRIES.c.kind == "reward")
             .order_by(ENTRIES.c.id.desc()).limit(limit))
    index = 1 if lang == "en" else 0
    found = []
    for row in conn.execute(query).mappings():
        explanation = row["explanation"] or {}
        label = explanation.get("label") or {}
        try:
            explained = describe(explanation)[lang]
        except (KeyError, TypeError):           # an entry written before explanations had every part
            explained = ""
        is_self = row["friend_id"] == customer_id
        friend = row["friend_name"] or ""
        found.append({
            "id": row["id"], "rule": label.get(lang) or row["rule_key"], "status": row["status"],
            "status_label": REWARD_STATUS.get(row["status"], (row["status"],) * 2)[index],
            "kind": row["reward_kind"], "kind_label": KIND_WORDS.get(row["reward_kind"], (row["reward_kind"],) * 2)[index],
            "coupon": row["coupon"], "amount": Decimal(row["amount_cents"]) / 100,
            "amount_text": _money(row["amount_cents"], row["reward_kind"]),
            "earned_on": row["earned_on"], "vests_on": row["vests_on"], "paid_on": row["paid_on"],
            "friend": "" if is_self else (mask_name(friend) if masked else friend),
            "explanation": explained})
    return found


def totals_view(conn: sa.Connection, app_key: str, customer_id: int) -> list[dict[str, Any]]:
    """Earned (held, vested, approved or paid), pending (held), paid and cancelled (cancelled
    or clawed back), per kind of reward (cash, points, coupon), in one statement."""
    rows = conn.execute(sa.select(ENTRIES.c.reward_kind, ENTRIES.c.status, sa.func.sum(ENTRIES.c.amount_cents))
                        .where(ENTRIES.c.app_key == app_key, ENTRIES.c.beneficiary_id == customer_id,
                               ENTRIES.c.kind == "reward")
                        .group_by(ENTRIES.c.reward_kind, ENTRIES.c.status)).all()
    kinds: dict[str, dict[str, int]] = {}
    for kind, status, cents in rows:
        sums = kinds.setdefault(kind, {"earned": 0, "pending": 0, "paid": 0, "cancelled": 0})
        cents = int(cents or 0)
        if status in EARNED:
            sums["earned"] += cents
        if status == "pending":
            sums["pending"] += cents
        if status == "paid":
            sums["paid"] += cents
        if status in CANCELLED:
            sums["cancelled"] += cents
    order = list(KIND_WORDS)
    return [{"kind": kind, **{k: Decimal(v) / 100 for k, v in sums.items()},
             **{f"{k}_text": _money(v, kind) for k, v in sums.items()}}
            for kind, sums in sorted(kinds.items(), key=lambda item: order.index(item[0]) if item[0] in order else 9)]


def _customer(conn: sa.Connection, app: App, customer_id: int) -> dict[str, Any] | None:
    programme = programme_of(app)
    table = app.tables.form_table(programme.customers.form)
    row = conn.execute(sa.select(_column(app, programme.customers, "name"), _column(app, programme.customers, "code"))
                       .where(table.c.id == customer_id, table.c.deleted_at.is_(None))).first()
    return None if row is None else {"id": customer_id, "name": row[0] or "", "code": row[1] or ""}


def portal_view(conn: sa.Connection, app: App, customer_id: int, *, on: date, lang: str,
                base_url: str) -> dict[str, Any] | None:
    """Everything the signed-in referrer sees, masked; None when the customer is gone."""
    customer = _customer(conn, app, customer_id)
    if customer is None:
        return None
    return {"customer": customer,
            "codes": codes_view(conn, app, customer_id, on=on, lang=lang, base_url=base_url),
            "referrals": referrals_view(conn, app, customer_id, lang=lang, masked=True),
            "rewards": rewards_view(conn, app, customer_id, lang=lang, masked=True),
            "totals": totals_view(conn, app.key, customer_id)}


class StaffPanel:
    """The "referrals & rewards" panel of a customer's record page, under the reader's
    permissions: the customer must be within their view scope (else NotFound); referrals
    and rewards are shown to who may view the referrals form, only the referrals within
    its row scope, unmasked unless the friend's name or phone is a field hidden from them."""

    def __init__(self, uow, app_key: str):
        self.uow, self.records = uow, uow.records(app_key)

    def applies(self, form_key: str) -> bool:
        programme = programme_for(self.records.app)
        return programme is not None and programme.customers.form == form_key

    def view(self, customer_id: int, *, lang: str, on: date, base_url: str) -> dict[str, Any]:
        app = self.records.app
        programme = programme_of(app)
        self.records.get(programme.customers.form, customer_id)        # the scope, or NotFound
        access = self.records.access(app.require_form(programme.referrals.form))
        customers = self.records.access(app.require_form(programme.customers.form))
        panel: dict[str, Any] = {
            "codes": codes_view(self.uow.conn, app, customer_id, on=on, lang=lang, base_url=base_url),
            "can_link": customers.can(EDIT), "can_view": access.can(VIEW),
            "referrals": None, "rewards": None, "totals": None}
        if access.can(VIEW):
            panel["referrals"] = referrals_view(self.uow.conn, app, customer_id, lang=lang, masked=False,
                                                scope=access.scope(VIEW), hidden=access.hidden_fields)
            masked = programme.customers["name"] in customers.hidden_fields
            panel["rewards"] = rewards_view(self.uow.conn, app, customer_id, lang=lang, masked=masked)
            panel["totals"] = totals_view(self.uow.conn, app.key, customer_id)
        return panel


def workspace_today(uow) -> date:
    """Today in the workspace's zone (the day campaigns are open on)."""
    return (uow.session.now or utcnow()).astimezone(uow.session.tz).date()


def portal_app_key(conn: sa.Connection, preferred: str | None = None) -> str | None:
    """The app the portal at /portal serves: `preferred` (FORMWORK_PORTAL_APP), else the
    first installed app (by key) that declares a referral programme."""
    keys = [preferred] if preferred else [row["key"] for row in installed_apps(conn)]
    for key in keys:
        app = load_installed(conn, key)
        if app is not None and programme_for(app) is not None:
            return key
    return None
