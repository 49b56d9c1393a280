"""The JSON Schema of `workflows:` in a form, built from the node-type registry so that
each type's own keys are part of it (as engine/validation/schema.py does for field
types); engine/validation/schema.py puts it into the definition's schema."""
from __future__ import annotations

from typing import Any

from engine.definition.identifiers import FIELD_KEY_MAX, KEY_PATTERN
from engine.workflow.model import FIELD_ACCESS, IF_NONE, MODES, START_ON, TIMEOUT_ACTIONS, ApproverRule
from engine.workflow.nodes import COMMON_NODE_KEYS, node_types

DURATION = {"type": "string", "pattern": r"^[0-9]{1,4}(m|h|d|w)$",
            "description": "A duration: 30m, 4h, 2d, 1w."}


def _key(what: str) -> dict:
    return {"type": "string", "pattern": KEY_PATTERN, "maxLength": FIELD_KEY_MAX,
            "description": f"The stable identifier of the {what} (snake_case)."}


def _one_rule(kind: str) -> dict:
    shapes = {
        "users": {"type": "array", "minItems": 1, "maxItems": 100, "items": {"type": "string", "minLength": 1},
                  "description": "Named people, by account."},
        "role": {"type": "string", "minLength": 1, "description": "Every active member of the role."},
        "department_head": {"type": "string", "minLength": 1, "description": "`submitter`: the head of the "
                            "submitter's primary department; or a department field of the record."},
        "manager": {"type": "object", "additionalProperties": False, "minProperties": 1, "maxProperties": 1,
                    "properties": {"levels": {"type": "integer", "minimum": 1, "maximum": 20},
                                   "up_to_role": {"type": "string", "minLength": 1}},
                    "description": "The submitter's managers, nearest first: N levels, or up to the first "
                                   "one holding a role."},
        "field": {"type": "string", "minLength": 1, "description": "A member field (its people) or a "
                  "department field (its head) of the record."},
        "chosen": {"const": True, "description": "Chosen by the submitter when starting."},
    }
    return {"type": "object", "required": [kind], "additionalProperties": False, "properties": {kind: shapes[kind]}}


def workflow_defs() -> dict[str, Any]:
    """The `$defs` entries of workflows; the form's `workflows` property refers to them."""
    common = {
        "key": _key("node"), "type": {"enum": sorted(node_types())},
        "label": {"$ref": "#/$defs/label"}, "description": {"$ref": "#/$defs/text"},
    }
    per_type = []
    own: dict[str, Any] = {
        "next": {"type": "string"},
        "approvers": {"type": "array", "minItems": 1, "maxItems": 20, "items": {"$ref": "#/$defs/approver_rule"}},
        "mode": {"enum": list(MODES)},
        "share": {"type": "integer", "minimum": 1, "maximum": 100,
                  "description": "With mode share: the percentage of approvers that must approve."},
        "if_none": {"enum": list(IF_NONE), "description": "When no approver is found: the admins, skip the "
                    "node, or stop the flow with if_none_message."},
        "if_none_message": {"$ref": "#/$defs/label"},
        "allow_self": {"type": "boolean", "description": "The submitter may approve their own submission."},
        "signature": {"type": "boolean", "description": "Approving asks for a signature (a file id)."},
        "fields": {"type": "object", "maxProperties": 1000,
                   "additionalProperties": {"enum": list(FIELD_ACCESS)},
                   "description": "Field permissions at this node: hidden, visible (read-only, the default), "
                                  "editable, required."},
        "timeout": {"$ref": "#/$defs/workflow_timeout"},
        "branches": {"type": "array", "minItems": 1, "maxItems": 50},
        "default": {"type": "string"},
        "join": {"type": "string"},
        "action": {"type": "string", "minLength": 1, "maxLength": 100},
        "params": {"type": "object"},
        "set": {"type": "object", "minProperties": 1, "additionalProperties": {"type": "string", "minLength": 1}},
        "form": {"type": "string"}, "via": {"type": "string"}, "workflow": {"type": "string"},
        "wait": {"type": "boolean"},
    }
    for name, cls in sorted(node_types().items()):
        allowed = {key: True for key in COMMON_NODE_KEYS}
        allowed.update({key: own[key] for key in cls.keys})
        if name == "exclusive":
            allowed["branches"] = {**own["branches"], "items": {
                "type": "object", "required": ["when", "next"], "additionalProperties": False,
                "properties": {"when": {"type": "string", "minLength": 1, "maxLength": 2000},
                               "next": {"type": "string"}}}}
        elif name == "parallel":
            allowed["branches"] = {**own["branches"], "minItems": 2, "items": {"type": "string"}}
        per_type.append({"if": {"properties": {"type": {"const": name}}, "required": ["type"]},
                         "then": {"properties": allowed, "additionalProperties": False,
                                  "required": ["key", "type", *cls.required]}})
    return {
        "workflow": {
            "type": "object", "required": ["key", "label", "nodes"], "additionalProperties": False,
            "properties": {"key": _key("workflow"), "label": {"$ref": "#/$defs/label"},
                           "description": {"$ref": "#/$defs/text"},
                           "start": {"enum": list(START_ON), "description": "submit: starts when a record is "
                                     "submitted; manual: started by a call or a button."},
                           "nodes": {"type": "array", "minItems": 2, "maxItems": 200,
                                     "items": {"$ref": "#/$defs/workflow_node"}}},
        },
        "workflow_node": {"type": "object", "required": ["key", "type"], "properties": common, "allOf": per_type},
        "approver_rule": {"oneOf": [_one_rule(kind) for kind in ApproverRule.KINDS]},
        "workflow_timeout": {
            "type": "object", "additionalProperties": False, "required": ["action"],
            "oneOf": [{"required": ["after"]}, {"required": ["field"]}],
            "properties": {"after": DURATION, "field": {"type": "string"}, "action": {"enum": list(TIMEOUT_ACTIONS)},
                           "repeat": DURATION,
                           "to": {"type": "array", "minItems": 1, "maxItems": 20,
                                  "items": {"$ref": "#/$defs/approver_rule"}}},
        },
    }
