"""The ledger form (a rule's `ledger:`, the flagship's 奖励台账): finance's view of
fw_reward_entries in the web app, where they see, filter, export and approve rewards with
the form's pages and its payout workflow (docs/rewards.md).

fw_reward_entries stays the one source of truth (the unique key, the counters, the
explanation); the form mirrors it:

- the settlement writes one row per reward entered, in its own transaction, through the
  record service (history, events, permissions as for any record): entry_id, the
  beneficiary, the amount, the status and, when the form has them, kind, level, rule,
  vests_on, explanation and the relation to the source record;
- a status the settlement moves (vested, cancelled, clawed back) is set on the mirrored
  rows by one UPDATE per status (a system field, like a computed one: no history row);
- finance's `approved` and `paid` (by hand or by the payout workflow's set_fields) flow
  back: the reward listener moves the entry in the write's transaction, or refuses the
  write when the entry is not in a state that allows it (a held reward cannot be paid).
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Iterable

import sqlalchemy as sa

from engine.compiled.app import App
from engine.errors import FormworkError
from engine.rewards.model import RewardRule
from engine.storage import system
from engine.storage.types import utcnow
from runtime.rewards.compiled import rewards_for

ENTRIES = system.reward_entries
FLOWING_BACK = {"approved": ("vested",), "paid": ("vested", "approved")}
KINDS = {"referrer": "referrer", "friend": "friend", "indirect": "indirect"}


class LedgerWriteRefused(FormworkError):
    """A ledger form row was given a status its entry cannot take."""


def ledger_forms(app: App) -> dict[str, list[RewardRule]]:
    """The mirroring forms of the app's rules: form key -> the rules mirrored there."""
    found: dict[str, list[RewardRule]] = {}
    for rule in rewards_for(app).by_key.values():
        if rule.ledger and app.definition.form(rule.ledger) is not None:
            found.setdefault(rule.ledger, []).append(rule)
    return found


def mirror_entered(uow, app: App, form_key: str, rows: list[dict], ids: dict[tuple, int]) -> None:
    """Rows of the ledger forms for the entries just entered (`rows` as inserted, `ids` their
    ids by unique key): one create_many per ledger form."""
    by_form: dict[str, list[dict]] = {}
    rules = rewards_for(app).by_key
    for row in rows:
        entry_id = ids.get((row["rule_key"], row["beneficiary_id"], row["once_key"]))
        rule = rules[row["rule_key"]]
        if entry_id is None or not rule.ledger:
            continue
        by_form.setdefault(rule.ledger, []).append(_ledger_values(app, rule, form_key, row, entry_id))
    for ledger, values in by_form.items():
        uow.records(app.key).create_many(ledger, values, skip_invalid=False)


def _ledger_values(app: App, rule: RewardRule, source_form: str, row: dict, entry_id: int) -> dict:
    form = app.require_form(rule.ledger)
    text = row["explanation"].get("text") or {}
    values = {"entry_id": entry_id, "beneficiary": row["beneficiary_id"], "status": row["status"],
              "amount": Decimal(row["amount_cents"]) / 100}
    optional = {"kind": KINDS.get(rule.beneficiary), "level": row["level"] or None, "rule": rule.key,
                "vests_on": date.fromisoformat(row["vests_on"]),
                "explanation": "\n".join(t for t in (text.get("zh"), text.get("en")) if t)}
    values.update({key: value for key, value in optional.items() if form.field(key) is not None})
    for fdef in form.fields:            # the relation to the source record (a contract)
        if fdef.type == "relation" and fdef.config.get("target") == source_form:
            values[fdef.key] = row["source_id"]
            break
    return values


def mirror_status(conn, app: App, entry_ids: Iterable[int], status: str, paid_on: date | None = None) -> None:
    """Set `status` (and paid_on) on the ledger form rows of these entries: one UPDATE per
    ledger form."""
    ids = sorted(set(entry_ids))
    if not ids:
        return
    for ledger in ledger_forms(app):
        form = app.require_form(ledger)
        table = app.tables.form_table(ledger)
        values = {_column(app, form, "status"): status, table.c.version: table.c.version + 1,
                  table.c.updated_at: utcnow()}
        if paid_on is not None and form.field("paid_on") is not None:
            values[_column(app, form, "paid_on")] = paid_on
        conn.execute(table.update().where(_column(app, form, "entry_id").in_(ids)).values(values))


def _column(app: App, form, key: str):
    table = app.tables.form_table(form.key)
    return table.c[app.types.of(form.field(key)).columns()[0].name]


def flow_back(conn, app: App, form_key: str, changes, today: date) -> None:
    """Finance set `approved` or `paid` (and paid_on) on ledger form rows: the entries follow,
    in the same transaction; any other status is the settlement's to set, and a status the
    entry cannot take refuses the write, saying why."""
    wanted = {c.record_id: c.new for c in changes if "status" in c.new or "paid_on" in c.new}
    if not wanted:
        return
    form = app.require_form(form_key)
    table = app.tables.form_table(form_key)
    linked = dict(conn.execute(sa.select(table.c.id, _column(app, form, "entry_id"))
                               .where(table.c.id.in_(sorted(wanted)))).all())
    for record_id, new in sorted(wanted.items()):
        entry_id = linked.get(record_id)
        status = new.get("status")
        if entry_id is None or status is None:
            continue                        # a row typed in by hand, or only its paid_on corrected
        entry_id = int(entry_id)
        if status not in FLOWING_BACK:
            raise LedgerWriteRefused(
                f"reward ledger row #{record_id}: the status {status!r} is set by the settlement (entry "
                f"#{entry_id}); here finance sets approved or paid only "
                f"(奖励台账 #{record_id}：状态 {status!r} 由结算维护，这里只能设为已审批或已发放)")
        paid_on = new.get("paid_on") or today
        values = {"status": status, "updated_at": utcnow()}
        if status == "paid":
            values["paid_on"] = paid_on.isoformat() if isinstance(paid_on, date) else str(paid_on)
        moved = conn.execute(ENTRIES.update().where(ENTRIES.c.id == entry_id, ENTRIES.c.app_key == app.key,
                                                    ENTRIES.c.status.in_(FLOWING_BACK[status]))
                             .values(**values)).rowcount
        if not moved:
            current = conn.execute(sa.select(ENTRIES.c.status, ENTRIES.c.vests_on)
                                   .where(ENTRIES.c.id == entry_id)).first()
            state = f"{current.status}, vests on {current.vests_on}" if current else "gone"
            raise LedgerWriteRefused(
                f"reward ledger row #{record_id}: entry #{entry_id} is {state}; only "
                f"{'/'.join(FLOWING_BACK[status])} rewards can be {status}: wait until it vests, or leave it "
                f"(奖励台账 #{record_id}：条目 #{entry_id} 当前为 {state}，只有 {'/'.join(FLOWING_BACK[status])} "
                f"状态的奖励可以设为 {status}，请等待生效)")
