"""The JSON Schema (draft 2020-12) of app definitions, generated from the field-type
registry so that each type's own options are part of it. The generated schema is
committed as formwork.schema.json for editors; a test keeps the two equal.

Regenerate: .venv/bin/formwork schema > engine/definition/formwork.schema.json
"""
from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from engine.automations.kinds import automation_schema
from engine.dashboards.schema import dashboard_defs
from engine.definition.identifiers import APP_KEY_MAX, FIELD_KEY_MAX, FORM_KEY_MAX, KEY_PATTERN
from engine.definition.model import FORMAT_VERSION
from engine.definition.permissions import ACTIONS, PRESETS
from engine.fields.registry import all_types
from engine.referrals.schema import referrals_schema
from engine.rewards.schema import reward_schema
from engine.workflow.schema import workflow_defs

SCHEMA_ID = "https://formwork.dev/schema/definition-1.json"


def _key(max_length: int, what: str) -> dict:
    return {"type": "string", "pattern": KEY_PATTERN, "maxLength": max_length,
            "description": f"The stable identifier of the {what}: snake_case, at most {max_length} characters. "
                           "Data is stored under it, so never reuse or change it (see renamed_from)."}


def _renamed_from(max_length: int, what: str) -> dict:
    return {**_key(max_length, what), "description": f"The key this {what} had before, when its key changes: "
            "its data is kept and moved to the new key."}


# Descriptions (the "description" keyword) are shown by editors on hover.
_LABEL = {"$ref": "#/$defs/label", "description": "The name shown to people, in Chinese and English."}
_DESCRIPTION = {"$ref": "#/$defs/text", "description": "A longer explanation, in Chinese and English."}


def common_field_properties() -> dict[str, Any]:
    return {
        "key": _key(FIELD_KEY_MAX, "field"),
        "type": {"type": "string", "description": "The field type (docs/field-types.md)."},
        "label": _LABEL,
        "description": _DESCRIPTION,
        "required": {"type": "boolean", "description": "A record cannot be saved without a value."},
        "unique": {"type": "boolean", "description": "No two records of the form may have the same value."},
        "default": {"description": "The value a new record starts with; it must be valid for the type."},
        "renamed_from": _renamed_from(FIELD_KEY_MAX, "field"),
        "placeholder": {"$ref": "#/$defs/label", "description": "The hint shown in an empty input."},
        "index": {"type": "boolean", "description": "Ask for a database index, for filters and sorts on "
                                                    "large forms."},
        "default_formula": {"type": "string", "minLength": 1, "maxLength": 2000,
                            "description": "A formula giving a new record's value, e.g. TODAY() + 30 "
                                           "(docs/formula-fields.md)."},
        "visible_if": {"type": "string", "minLength": 1, "maxLength": 2000,
                       "description": "A formula: the field is shown (and may be required) only when it is "
                                      "TRUE, e.g. stage <> \"lost\" (docs/formula-fields.md)."},
    }


@lru_cache(maxsize=1)
def _cached() -> str:
    return json.dumps(build_schema(), ensure_ascii=False, indent=2, sort_keys=True)


def definition_schema() -> dict[str, Any]:
    return json.loads(_cached())


def build_schema() -> dict[str, Any]:
    types = all_types()
    common = common_field_properties()
    per_type, type_defs = [], {}
    for name, cls in sorted(types.items()):
        # The common keys are checked on every field, whatever its type (even a misspelt
        # one); here they are only allowed, beside the type's own options.
        properties: dict[str, Any] = {key: True for key in common}
        for option, spec in cls.config_schema.items():
            # A subform's columns are field definitions themselves.
            properties[option] = {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/field"}} \
                if option == "fields" else spec
        type_defs[type_def_name(name)] = {"properties": properties, "additionalProperties": False,
                                          "required": ["key", "type", "label", *cls.config_required]}
        per_type.append({"if": {"properties": {"type": {"const": name}}, "required": ["type"]},
                         "then": {"$ref": f"#/$defs/{type_def_name(name)}"}})
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "Formwork app definition",
        "type": "object",
        "required": ["format_version", "app", "forms"],
        "additionalProperties": False,
        "properties": {
            "format_version": {"const": FORMAT_VERSION,
                               "description": "The version of the definition language this file is written in."},
            "app": {
                "type": "object", "required": ["key", "label"], "additionalProperties": False,
                "properties": {"key": _key(APP_KEY_MAX, "app"), "label": _LABEL,
                               "version": {"type": ["string", "number"],
                                           "description": "The author's version of the app, shown only."},
                               "description": _DESCRIPTION},
            },
            "forms": {"type": "array", "items": {"$ref": "#/$defs/form"}, "maxItems": 500},
            "admins": {"type": "array", "maxItems": 50, "uniqueItems": True, "items": _role_key(),
                       "description": "Roles whose members administer this app: every action on every "
                                      "form, every field (docs/permissions.md)."},
            "permissions": {"type": "array", "maxItems": 200, "items": {"$ref": "#/$defs/permission_set"},
                            "description": "Permission sets: what the members of roles may do with each "
                                           "form (docs/permissions.md)."},
            "automations": {"type": "array", "items": {"$ref": "#/$defs/automation"}, "maxItems": 500,
                            "description": "Automations (智能助手): trigger, condition, actions "
                                           "(docs/automations.md)."},
            "rewards": {"type": "array", "items": {"$ref": "#/$defs/reward"}, "maxItems": 200,
                        "description": "Reward rules (奖励规则): when a deal earns a referral reward, for whom, "
                                       "how much, caps, hold and approval (docs/rewards.md)."},
            "referrals": {**referrals_schema(),
                          "description": "The referral programme (转介绍): its forms, attribution, consent and "
                                         "fraud checks (docs/referrals.md)."},
            "dashboards": {"type": "array", "items": {"$ref": "#/$defs/dashboard"}, "maxItems": 100,
                           "description": "Dashboards (仪表盘): widgets over the forms, with controls "
                                          "(docs/dashboards.md)."},
        },
        "$defs": {
            **_permission_defs(),
            **dashboard_defs(),
            "label": {
                "type": "object", "required": ["zh", "en"], "additionalProperties": False,
                "properties": {"zh": {"type": "string", "minLength": 1, "maxLength": 100},
                               "en": {"type": "string", "minLength": 1, "maxLength": 100}},
            },
            "text": {
                "type": "object", "required": ["zh", "en"], "additionalProperties": False,
                "properties": {"zh": {"type": "string", "minLength": 1, "maxLength": 2000},
                               "en": {"type": "string", "minLength": 1, "maxLength": 2000}},
            },
            "form": {
                "type": "object", "required": ["key", "label", "fields"], "additionalProperties": False,
                "properties": {
                    "key": _key(FORM_KEY_MAX, "form"), "label": _LABEL, "description": _DESCRIPTION,
                    "title_field": {"type": "string", "description": "The field that names a record where "
                                                                     "it is referred to (a relation)."},
                    "renamed_from": _renamed_from(FORM_KEY_MAX, "form"),
                    "default_sort": {"type": "array", "maxItems": 5, "items": {
                        "type": "object", "required": ["field"], "additionalProperties": False,
                        "properties": {"field": {"type": "string"}, "dir": {"enum": ["asc", "desc"]}}}},
                    "fields": {"type": "array", "items": {"$ref": "#/$defs/field"}, "maxItems": 1000},
                    "rules": {"type": "array", "maxItems": 200, "description": "Validation rules: a record whose "
                              "rule formula gives FALSE is refused with the message (docs/formula-fields.md).",
                              "items": {"$ref": "#/$defs/rule"}},
                    "workflows": {"type": "array", "maxItems": 20, "description": "Approval flows of the "
                                  "form's records (docs/workflows.md).", "items": {"$ref": "#/$defs/workflow"}},
                },
            },
            "rule": {
                "type": "object", "required": ["key", "formula", "message"], "additionalProperties": False,
                "properties": {
                    "key": _key(FIELD_KEY_MAX, "rule"),
                    "formula": {"type": "string", "minLength": 1, "maxLength": 2000,
                                "description": "TRUE when the record is valid, e.g. end_date >= start_date."},
                    "message": {**_LABEL, "description": "What is wrong and how to fix it, in Chinese and English."},
                    "fields": {"type": "array", "maxItems": 50, "items": {"type": "string"},
                               "description": "The fields the message is shown on (none: the whole record)."},
                },
            },
            "field": {
                "type": "object", "required": ["key", "type", "label"],
                "properties": {**common, "type": {"enum": sorted(types),
                                                  "description": common["type"]["description"]}},
                "allOf": per_type,
            },
            "automation": automation_schema(),
            "reward": reward_schema(),
            **type_defs,
            **workflow_defs(),
        },
    }


def _role_key() -> dict:
    return {"type": "string", "pattern": KEY_PATTERN, "maxLength": 50,
            "description": "The key of a role of the workspace (formwork roles)."}


def _field_keys(description: str) -> dict:
    return {"type": "array", "maxItems": 1000, "uniqueItems": True, "items": {"type": "string"},
            "description": description}


def _permission_defs() -> dict[str, Any]:
    preset = {"enum": sorted(PRESETS), "description": "submit_only, manage_own, view_all or manage_all "
                                                      "(docs/permissions.md)."}
    return {
        "permission_set": {
            "type": "object", "required": ["key", "forms"], "additionalProperties": False,
            "anyOf": [{"required": ["roles"]}, {"required": ["users"]}],
            "properties": {
                "key": _key(FIELD_KEY_MAX, "permission set"), "label": _LABEL, "description": _DESCRIPTION,
                "roles": {"type": "array", "minItems": 1, "maxItems": 50, "uniqueItems": True,
                          "items": _role_key(), "description": "The roles whose members hold this set."},
                "users": {"type": "array", "minItems": 1, "maxItems": 200, "uniqueItems": True,
                          "items": {"type": "string", "minLength": 1, "maxLength": 100},
                          "description": "Users who hold this set whatever their roles, by account "
                                         "(an account the workspace does not have matches nobody)."},
                "forms": {"type": "object", "minProperties": 1, "maxProperties": 500,
                          "additionalProperties": {"$ref": "#/$defs/form_permission"},
                          "description": "By form key: a preset name, or what the set allows on the form."},
            },
        },
        "form_permission": {
            "oneOf": [{"type": "string", **preset}, {
                "type": "object", "additionalProperties": False,
                "properties": {
                    "preset": preset,
                    "actions": {"type": "array", "maxItems": len(ACTIONS), "uniqueItems": True,
                                "items": {"enum": list(ACTIONS)},
                                "description": "What the set allows: " + ", ".join(ACTIONS) + "."},
                    "filter": {"description": "The records the set reaches, in the filter language; $me is "
                                              "the current user, $my_departments their departments and below."},
                    "visible": _field_keys("The only fields shown (default: all)."),
                    "hidden": _field_keys("Fields not shown."),
                    "editable": _field_keys("The only fields that may be set (default: all shown)."),
                    "read_only": _field_keys("Fields shown but not set."),
                },
            }],
        },
    }


def type_def_name(type_name: str) -> str:
    """The name in `$defs` of the options of one field type."""
    return f"{type_name}_field"
