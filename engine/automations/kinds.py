"""The trigger kinds and action kinds of automations, each with the JSON Schema of its
options. The definition's JSON Schema is built from these (engine/validation/schema.py),
so what a builder renders for an action and what the validator accepts are one text.

A trigger says when an automation runs and which record (if any) it runs with:

    record_created / record_updated / record_deleted    a record of `form`
    workflow_node / workflow_ended                      a record of `form` whose workflow
                                                        reached `node` / ended (with `outcome`)
    date                                                `offset_days` from the date in `field`
                                                        of a record of `form` (-3: three days before)
    schedule                                            a cron expression, no record
    webhook                                             an incoming call with the secret
                                                        (from the environment), its JSON as payload.*
    button                                              a button on the record page of `form`
"""
from __future__ import annotations

from typing import Any

FORMULA = {"type": "string", "minLength": 1, "maxLength": 2000}
LABEL_REF = {"$ref": "#/$defs/label"}
KEY = {"type": "string", "pattern": "^[a-z][a-z0-9_]*$", "maxLength": 64}
# Values by formula: {field key: formula}.
VALUES = {"type": "object", "minProperties": 1, "maxProperties": 200,
          "additionalProperties": FORMULA,
          "description": "Field key -> formula over the triggering record, e.g. {status: '\"contacted\"'}."}

RECORD_TRIGGERS = ("record_created", "record_updated", "record_deleted")
WORKFLOW_TRIGGERS = ("workflow_node", "workflow_ended")

TRIGGER_KINDS: dict[str, dict[str, Any]] = {
    "record_created": {},
    "record_updated": {
        "fields": {"type": "array", "minItems": 1, "maxItems": 100, "items": {"type": "string"},
                   "description": "Run only when one of these fields changed (none: any change)."}},
    "record_deleted": {},
    "workflow_node": {"node": {"type": "string", "minLength": 1, "maxLength": 64,
                               "description": "The workflow node reached."}},
    "workflow_ended": {"outcome": {"enum": ["approved", "rejected", "withdrawn", "any"],
                                   "description": "Which ending (default any)."}},
    "date": {
        "field": {"type": "string", "description": "A date or datetime field of the form."},
        "offset_days": {"type": "integer", "minimum": -3650, "maximum": 3650,
                        "description": "Days from the date: -3 fires three days before, 1 a day after."}},
    "schedule": {"cron": {"type": "string", "minLength": 9, "maxLength": 100,
                          "description": "Five-field cron, in the workspace time zone: '0 9 * * 1'."}},
    "webhook": {"secret_env": {"type": "string", "pattern": "^[A-Z][A-Z0-9_]*$",
                               "description": "The environment variable holding the shared secret."}},
    "button": {"label": LABEL_REF},
}
TRIGGER_REQUIRED = {"workflow_node": ["node"], "date": ["field", "offset_days"], "schedule": ["cron"],
                    "webhook": ["secret_env"], "button": ["label"]}
# Triggers that run with a record of `form` (the others may name no form).
TRIGGERS_WITH_RECORD = frozenset({*RECORD_TRIGGERS, *WORKFLOW_TRIGGERS, "date", "button"})

RECIPIENTS = {
    "type": "object", "additionalProperties": False, "minProperties": 1,
    "properties": {
        "users": {"type": "array", "items": {"type": "string"}, "maxItems": 100,
                  "description": "Accounts of users."},
        "fields": {"type": "array", "items": {"type": "string"}, "maxItems": 20,
                   "description": "Member fields of the triggering record."},
        "roles": {"type": "array", "items": {"type": "string"}, "maxItems": 20},
    },
}
ROBOT = {"type": "object", "additionalProperties": False, "required": ["format", "url_env"],
         "properties": {"format": {"enum": ["dingtalk", "wecom", "feishu"]},
                        "url_env": {"type": "string", "pattern": "^[A-Z][A-Z0-9_]*$"}}}

ACTION_KINDS: dict[str, dict[str, Any]] = {
    "create_record": {"required": ["form", "values"], "properties": {"form": KEY, "values": VALUES}},
    "update_record": {"required": ["values"], "properties": {
        "form": KEY, "values": VALUES,
        "record": {**FORMULA, "description": "A formula giving the id to update (default: the triggering record)."}}},
    "upsert_record": {"required": ["form", "match", "values"], "properties": {
        "form": KEY, "values": VALUES,
        "match": {"type": "array", "minItems": 1, "maxItems": 5, "items": {"type": "string"},
                  "description": "Fields of `values` that find the record to update; none found: created."}}},
    "delete_record": {"properties": {"form": KEY, "record": FORMULA}},
    "update_batch": {"required": ["form", "filter", "values"], "properties": {
        "form": KEY, "values": VALUES,
        "filter": {"type": "object", "description": "A filter document (docs/filters.md) choosing the records."}}},
    "start_workflow": {"required": ["workflow"], "properties": {
        "workflow": KEY, "form": KEY, "record": FORMULA}},
    "notify": {"required": ["to", "title"], "properties": {
        "to": RECIPIENTS, "title": {"type": "string", "minLength": 1, "maxLength": 200},
        "body": {"type": "string", "maxLength": 4000}, "link": {"type": "string", "maxLength": 500},
        "category": {**KEY, "description": "The kind of notification users set preferences for (default: "
                                           "the automation's key)."},
        "channels": {"type": "array", "items": {"enum": ["in_app", "email"]}, "uniqueItems": True},
        "robot": ROBOT}},
    "call_webhook": {"required": ["url_env"], "properties": {
        "url_env": {"type": "string", "pattern": "^[A-Z][A-Z0-9_]*$",
                    "description": "The environment variable holding the URL; unset: the action is skipped."},
        "secret_env": {"type": "string", "pattern": "^[A-Z][A-Z0-9_]*$"},
        "event": {"type": "string", "maxLength": 64}}},
    "assign_round_robin": {"required": ["field", "department"], "properties": {
        "field": {"type": "string", "description": "The member field of the triggering record to fill."},
        "department": {"type": "string", "minLength": 1, "maxLength": 200,
                       "description": "The department (its name or path) whose members take turns."},
        "include_subdepartments": {"type": "boolean",
                                   "description": "The members of the departments below it take turns too."},
        "only_if_empty": {"type": "boolean",
                          "description": "Leave a record that has someone already (default true)."}}},
}


def action_schema(kind: str) -> dict[str, Any]:
    """The JSON Schema of one action kind (with its `kind`)."""
    spec = ACTION_KINDS[kind]
    return {"type": "object", "additionalProperties": False, "required": ["kind", *spec.get("required", [])],
            "properties": {"kind": {"const": kind}, **spec["properties"]}}


def trigger_schema(kind: str) -> dict[str, Any]:
    return {"type": "object", "additionalProperties": False, "required": ["kind", *TRIGGER_REQUIRED.get(kind, [])],
            "properties": {"kind": {"const": kind}, **TRIGGER_KINDS[kind]}}


def _by_kind(kinds: dict, schema_of) -> dict[str, Any]:
    return {"type": "object", "required": ["kind"],
            "properties": {"kind": {"enum": sorted(kinds)}},
            "allOf": [{"if": {"properties": {"kind": {"const": k}}, "required": ["kind"]},
                       "then": schema_of(k)} for k in sorted(kinds)]}


def automation_schema() -> dict[str, Any]:
    """The JSON Schema of one automation of the definition's `automations` list."""
    return {
        "type": "object", "required": ["key", "label", "trigger", "actions"], "additionalProperties": False,
        "properties": {
            "key": {**KEY, "description": "The automation's stable identifier (its runs are kept under it)."},
            "label": LABEL_REF,
            "enabled": {"type": "boolean", "description": "false: never runs (default true)."},
            "form": {**KEY, "description": "The form whose records trigger it."},
            "trigger": _by_kind(TRIGGER_KINDS, trigger_schema),
            "condition": {**FORMULA, "description": "Run the actions only when TRUE, e.g. old.stage <> stage."},
            "actions": {"type": "array", "minItems": 1, "maxItems": 20,
                        "items": _by_kind(ACTION_KINDS, action_schema)},
        },
    }
