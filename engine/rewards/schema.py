"""The JSON Schema of one reward rule of the definition's `rewards` list (docs/rewards.md).
engine/validation/schema.py puts it into the definition's schema, so what a rule editor
renders and what the validator accepts are one text."""
from __future__ import annotations

from typing import Any

FORMULA = {"type": "string", "minLength": 1, "maxLength": 2000}
KEY = {"type": "string", "pattern": "^[a-z][a-z0-9_]*$", "maxLength": 64}
MONEY = {"type": "number", "minimum": 0, "maximum": 1e12}

BENEFICIARIES = ("friend", "referrer", "indirect")
REWARD_KINDS = ("cash", "points", "coupon")
PERIODS = ("month", "year", "all")
ONCE_PER = ("source", "friend")
CAPS = ("per_referral", "per_month", "per_campaign", "budget")


def reward_schema() -> dict[str, Any]:
    return {
        "type": "object", "additionalProperties": False,
        "required": ["key", "label", "source", "customer", "when", "beneficiary", "amount"],
        "properties": {
            "key": {**KEY, "description": "The rule's stable identifier: ledger entries are kept under it."},
            "label": {"$ref": "#/$defs/label"},
            "enabled": {"type": "boolean", "description": "false: settles nothing (default true)."},
            "source": {**KEY, "description": "The form whose records earn the reward (contracts, orders)."},
            "customer": {"type": "string", "description": "The relation field of the source form to the "
                         "customer who bought: the referred friend."},
            "referrer_field": {"type": "string", "description": "The self-relation of the customer form "
                               "naming who referred a customer (default: referrer)."},
            "when": {**FORMULA, "description": "TRUE when the source record earns the reward, e.g. "
                     "net_paid >= amount."},
            "refunded": {**FORMULA, "description": "TRUE when the source deal is refunded: a pending reward "
                         "is cancelled, a vested one clawed back."},
            "date": {"type": "string", "description": "A date field of the source form: the day the reward "
                     "is earned (default: the day it is settled)."},
            "account_field": {"type": "string", "description": "A member field of the customer form naming "
                              "the member who is that customer (a referrer with a login): they may read "
                              "the ledger entries they are the beneficiary of."},
            "ledger": {"type": "string", "description": "A form of the app that mirrors this rule's ledger "
                       "entries for finance (docs/rewards.md): the settlement writes a row per entry (fields "
                       "entry_id, beneficiary, amount, status and, when it has them, kind, level, rule, "
                       "vests_on, paid_on, explanation and a relation to the source form) and keeps its status; "
                       "approved and paid set on the row flow back to the entry."},
            "campaign": {"type": "string", "description": "A field of the source form naming its campaign "
                         "(for per_campaign caps and budgets)."},
            "beneficiary": {"enum": list(BENEFICIARIES), "description": "friend: the buyer; referrer: who "
                            "referred them; indirect: the referrer's referrer (needs allow_indirect)."},
            "allow_indirect": {"type": "boolean", "description": "Say explicitly that this rule rewards the "
                               "referrer's referrer (one indirect level, no more)."},
            "once_per": {"enum": list(ONCE_PER), "description": "source (default): one entry per source "
                         "record; friend: one per referred friend (their first deal only)."},
            "reward": {"type": "object", "additionalProperties": False, "properties": {
                "kind": {"enum": list(REWARD_KINDS)},
                "coupon": {"type": "string", "minLength": 1, "maxLength": 64,
                           "description": "The coupon's code or template (kind coupon)."}}},
            "amount": {**FORMULA, "description": "The amount: a formula over the source record's fields, "
                       "`rate` (the tier's value) and `nth` (the beneficiary's nth reward of the period)."},
            "tiers": {"type": "object", "additionalProperties": False, "required": ["steps"], "properties": {
                "period": {"enum": list(PERIODS), "description": "Where nth is counted (default year)."},
                "steps": {"type": "array", "minItems": 1, "maxItems": 20, "items": {
                    "type": "object", "additionalProperties": False, "required": ["from", "rate"],
                    "properties": {"from": {"type": "integer", "minimum": 1, "maximum": 100000},
                                   "rate": {"type": "number", "minimum": 0, "maximum": 1e9}}}}}},
            "milestones": {"type": "array", "maxItems": 20, "items": {
                "type": "object", "additionalProperties": False, "required": ["at", "bonus"],
                "properties": {"at": {"type": "integer", "minimum": 1, "maximum": 100000}, "bonus": MONEY}}},
            "caps": {"type": "object", "additionalProperties": False, "minProperties": 1,
                     "properties": {name: MONEY for name in CAPS}},
            "hold_days": {"type": "integer", "minimum": 0, "maximum": 3650,
                          "description": "Days before the reward vests; a refund within them cancels it."},
            "approval": {"type": "boolean", "description": "A vested reward waits for approval before payout "
                         "(default true)."},
        },
    }
