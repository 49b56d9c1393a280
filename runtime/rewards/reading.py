"""Reading the reward ledger as an actor (the CLI, the API): who may see which entries,
the entries filtered and paged by keyset, one entry with its explanation in the
caller's language, checked against its stored inputs.

Who sees what (docs/rewards.md):
- workspace administrators, the app's administrators and members of the `finance` role:
  every entry of the app;
- a referrer with a login: the entries they are the beneficiary of, when the rules say
  which user field of the customer form is the customer's login (`account_field`);
- anybody else: nothing (RewardsDenied, 403 in the API).
"""
from __future__ import annotations

import base64
import json
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from engine.errors import CodedError, NotFound
from engine.i18n import register_messages
from engine.rewards import recompute
from engine.storage import system
from runtime.permissions.errors import PermissionDenied
from runtime.permissions.roles import ROLE_POLICY
from runtime.rewards.compiled import rewards_for

ENTRIES = system.reward_entries
FINANCE_ROLE = "finance"
STATUSES = ("pending", "vested", "approved", "paid", "cancelled", "clawed_back", "zero")
MAX_PAGE = 500

register_messages({
    "permission_rewards_denied": {
        "zh": "你无权查看应用 {app} 的奖励台账：需要财务角色（finance）或应用管理员；推荐人只能查看自己的奖励"
              "（奖励规则须用 account_field 指明客户表中的成员字段）",
        "en": "you may not read the reward ledger of app {app}: it takes the finance role or an app "
              "administrator; a referrer reads only their own rewards (the rules must name the customer "
              "form's user field with account_field)"},
    "rewards_bad_status": {
        "zh": "status 参数“{status}”不是奖励状态；可用：{known}",
        "en": "status '{status}' is not a reward status; use one of: {known}"},
    "rewards_bad_number": {
        "zh": "参数 {name} 须为正整数，而不是“{value}”",
        "en": "{name} must be a positive whole number, not '{value}'"},
    "rewards_bad_cursor": {
        "zh": "cursor 参数无效：请使用上一页响应中的 next_cursor",
        "en": "the cursor is not valid: pass the next_cursor of the previous page"},
    "rewards_entry_missing": {
        "zh": "应用 {app} 的奖励台账中没有 #{id}，或你无权查看它",
        "en": "there is no entry #{id} in the reward ledger of app {app}, or you may not see it"},
})


class RewardsDenied(PermissionDenied):
    def __init__(self, app_key: str):
        CodedError.__init__(self, "permission_rewards_denied", app=app_key)


class RewardsQueryError(CodedError):
    """A filter or page parameter that is not valid (400 in the API)."""


class EntryMissing(CodedError, NotFound):
    def __init__(self, app_key: str, entry_id: int):
        super().__init__("rewards_entry_missing", app=app_key, id=entry_id)


def visible_scope(uow, app_key: str) -> sa.ColumnElement:
    """The condition on fw_reward_entries of what this unit of work's actor may read."""
    app = uow.app(app_key)
    actor = uow.actor
    if actor.is_admin or FINANCE_ROLE in actor.roles or ROLE_POLICY.is_app_admin(app, actor):
        return ENTRIES.c.app_key == app_key
    fields = {(rule_form(app, rule), rule.account_field) for rule in rewards_for(app).by_key.values()
              if rule.account_field}
    if actor.user_id is None or not fields:
        raise RewardsDenied(app_key)
    mine = []
    for form_key, field in sorted(fields):
        form = app.require_form(form_key)
        table = app.tables.form_table(form_key)
        column = table.c[app.types.of(form.field(field)).columns()[0].name]
        mine.append(sa.select(table.c.id).where(column == actor.user_id, table.c.deleted_at.is_(None)))
    return sa.and_(ENTRIES.c.app_key == app_key, ENTRIES.c.beneficiary_id.in_(sa.union(*mine)))


def rule_form(app, rule) -> str:
    """The customer form of a rule (the target of its `customer` relation)."""
    return app.require_form(rule.source).field(rule.customer).config["target"]


def list_entries(uow, app_key: str, *, beneficiary: Any = None, status: Any = None, rule: str | None = None,
                 cursor: str | None = None, limit: Any = 50) -> dict:
    """A page of entries the actor may read, newest first, keyset-paged by id:
    {"entries": [...], "next_cursor": str | None}."""
    where = [visible_scope(uow, app_key)]
    if beneficiary not in (None, ""):
        where.append(ENTRIES.c.beneficiary_id == _number("beneficiary", beneficiary))
    if status not in (None, ""):
        wanted = str(status).split(",")
        unknown = [s for s in wanted if s not in STATUSES]
        if unknown:
            raise RewardsQueryError("rewards_bad_status", status=unknown[0], known=", ".join(STATUSES))
        where.append(ENTRIES.c.status.in_(wanted))
    if rule:
        where.append(ENTRIES.c.rule_key == rule)
    if cursor:
        where.append(ENTRIES.c.id < _cursor(cursor))
    size = min(_number("limit", limit), MAX_PAGE)
    rows = uow.conn.execute(sa.select(ENTRIES).where(*where).order_by(ENTRIES.c.id.desc())
                            .limit(size + 1)).mappings().all()
    page = [entry_body(dict(r)) for r in rows[:size]]
    more = len(rows) > size
    return {"entries": page, "next_cursor": _encode(page[-1]["id"]) if more and page else None}


def get_entry(uow, app_key: str, entry_id: int, *, lang: str = "zh") -> dict:
    """One entry the actor may read, with its explanation in `lang` and whether it
    recomputes from its stored inputs to its stored amount."""
    row = uow.conn.execute(sa.select(ENTRIES).where(visible_scope(uow, app_key), ENTRIES.c.id == entry_id)
                           ).mappings().first()
    if row is None:
        raise EntryMissing(app_key, entry_id)
    body = entry_body(dict(row))
    explanation = row["explanation"] or {}
    lang = "en" if lang == "en" else "zh"
    body["explanation"] = explanation
    body["text"] = (explanation.get("text") or {}).get(lang)
    if row["kind"] == "reward" and "formula" in explanation:
        again = recompute(explanation)
        body["recomputed"] = str(again)
        body["recomputes"] = again == Decimal(row["amount_cents"]) / 100
    return body


def entry_body(row: dict) -> dict:
    return {"id": row["id"], "rule": row["rule_key"], "kind": row["kind"], "beneficiary": row["beneficiary_id"],
            "friend": row["friend_id"], "level": row["level"],
            "source": {"form": row["source_form"], "id": row["source_id"]},
            "reward_kind": row["reward_kind"], "coupon": row["coupon"],
            "amount": str((Decimal(row["amount_cents"]) / 100).quantize(
                Decimal(1) if row["reward_kind"] == "points" else Decimal("0.01"))), "status": row["status"],
            "earned_on": row["earned_on"], "vests_on": row["vests_on"], "paid_on": row["paid_on"],
            "original_id": row["original_id"]}


def _number(name: str, value: Any) -> int:
    try:
        number = int(str(value))
    except ValueError:
        number = 0
    if number <= 0:
        raise RewardsQueryError("rewards_bad_number", name=name, value=value)
    return number


def _encode(entry_id: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"id": entry_id}).encode()).decode().rstrip("=")


def _cursor(text: str) -> int:
    try:
        found = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))["id"]
    except (ValueError, KeyError, TypeError):
        found = None
    if not isinstance(found, int) or isinstance(found, bool) or found <= 0:
        raise RewardsQueryError("rewards_bad_cursor")
    return found


def entry_app(conn, entry_id: int) -> str:
    """The app of a ledger entry (the CLI names an entry by id alone)."""
    found = conn.execute(sa.select(ENTRIES.c.app_key).where(ENTRIES.c.id == entry_id)).scalar()
    if found is None:
        raise EntryMissing("-", entry_id)
    return found
