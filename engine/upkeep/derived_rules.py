"""Rules of records that a write changed indirectly.

A form's rules are judged when one of its records is saved (record_rules.py). A rule may
also read computed fields that other records keep current: a contract's rule
`received <= amount` reads the rollup of its payments. When saving a payment changes
that rollup, the contract's rule is judged again, and if the contract now breaks it the
payment is refused with the contract's message:

    This change would break a rule of Contracts "HT-2025-0001": the payments received
    cannot be more than the contract amount

Which records are judged: those whose computed fields (rollups and formulas) the write
changed through relations, for the rules that read one of those fields of the record
itself; a rule is broken by the write when it fails with the values after it and held
with the values before (a record already breaking it does not block the write). A rule reading a related record's own field (`contract.amount` in a payment's
rule) is judged when its record is saved; put a rule that must hold whenever either side
changes on the record that aggregates the other (the contract, over a rollup).

The cost is one query per form with such rules (the records, what the rules read), and
none for a write that changes no computed field a rule reads.
"""
from __future__ import annotations

from typing import Any

from engine.computed.record_rules import Rule
from engine.definition.model import AppDef
from engine.errors import FieldIssue, RecordValidationError
from engine.i18n import register_messages
from engine.upkeep.idsets import among
from engine.upkeep.inputs import plan_levels

register_messages({
    "related_rule_failed": {
        "zh": "这次修改会使{form_zh}“{record}”不满足规则：{message_zh}",
        "en": "This change would break a rule of {form_en} \"{record}\": {message_en}"},
    "related_rules_more": {"zh": "另有 {count} 条记录的规则也不满足",
                           "en": "and {count} more records would break their rules"},
})

MAX_REPORTED = 20       # records named in one refusal; the rest are counted


class ChangedRecords:
    """The records whose computed fields a write changed, by form, with each changed
    field's value before the write (the first one seen, when a field changed twice) in
    `by_form` and after it (the last one) in `after`."""

    def __init__(self) -> None:
        self.by_form: dict[str, dict[int, dict[str, Any]]] = {}
        self.after: dict[str, dict[int, dict[str, Any]]] = {}

    def add(self, form_key: str, before: dict[int, dict[str, Any]],
            after: dict[int, dict[str, Any]] | None = None) -> None:
        records = self.by_form.setdefault(form_key, {})
        for rid, values in before.items():
            known = records.setdefault(rid, {})
            for key, value in values.items():
                known.setdefault(key, value)
        now = self.after.setdefault(form_key, {})
        for rid, values in (after or {}).items():
            now.setdefault(rid, {}).update(values)


def rules_reading(app: AppDef, form_key: str, fields: set[str]) -> list[Rule]:
    """The rules of `form_key` that read one of `fields` of the record itself."""
    form = app.require_form(form_key)
    return [rule for rule in app.record_formulas(form.key).rules
            if any(not path.hops and path.field.key in fields for path in rule.paths)]


def judge_changed(upkeep, changed: ChangedRecords) -> None:
    """Judge the rules that read what `changed` holds; raise RecordValidationError,
    naming each record and its rule's message, for the rules the write breaks.

    A rule the record already broke before the write (a credit limit lowered by an
    upgrade, a record from before the rule existed) is not the write's doing: the write
    goes through, so a payment that lowers an over-limit customer's debt is accepted."""
    issues: list[FieldIssue] = []
    for form_key, records in sorted(changed.by_form.items()):
        fields = set().union(*records.values()) if records else set()
        rules = rules_reading(upkeep.app, form_key, fields)
        if rules:
            issues += _broken(upkeep, form_key, records, rules)
    if issues:
        shown = issues[:MAX_REPORTED]
        if len(issues) > MAX_REPORTED:
            shown.append(FieldIssue("*", "related_rules_more", {"count": len(issues) - MAX_REPORTED}))
        raise RecordValidationError(shown)


def _broken(upkeep, form_key: str, records: dict[int, dict[str, Any]], rules: list[Rule]) -> list[FieldIssue]:
    """The rules the change breaks: failing with the values after it, not before."""
    form = upkeep.app.require_form(form_key)
    table = upkeep.tables.form_table(form_key)
    root = plan_levels(upkeep.app, form_key, [p for r in rules for p in r.paths])
    title = form.title_field if form.title_field and form.field(form.title_field) else None
    columns = root.columns | ({title} if title else set())
    rows = upkeep.loader.load_rows(form_key, among(table.c.id, set(records), upkeep.dialect), columns)
    failed = upkeep.evaluate_rules(form_key, rows, rules)
    if not failed:
        return []
    # The same records as they were: only the failures need it (no query when all pass).
    before = {rid: {**rows[rid], **records[rid]} for rid in failed}
    failed_before = upkeep.evaluate_rules(form_key, before, rules)
    issues = []
    for rid in sorted(failed):
        record = rows[rid].get(title) if title else None
        already = {rule.key for rule in failed_before.get(rid, ())}
        for rule in failed[rid]:
            if rule.key in already:
                continue
            issues.append(FieldIssue("*", "related_rule_failed", {
                "rule": rule.key, "form": form_key, "record_id": rid,
                "record": str(record) if record not in (None, "") else f"#{rid}",
                "form_zh": form.label.zh, "form_en": form.label.en,
                "message_zh": rule.message.zh, "message_en": rule.message.en}))
    return issues
