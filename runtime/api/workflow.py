"""The REST API's workflow parts: the body of a task action (what it may carry, checked
before the runtime sees it) and the bodies of tasks, instance logs and flows, as JSON."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from engine.i18n import register_messages
from runtime.api.errors import ApiIssue, bad_request

register_messages({
    "api_task_body": {"zh": "操作的请求体应是 JSON 对象，可含 comment、to、user、signature、again",
                      "en": "An action's body is a JSON object with any of comment, to, user, signature, again"},
    "api_task_key": {"zh": "未知的键“{key}”；可用的键：{keys}", "en": "unknown key '{key}'; the keys are: {keys}"},
    "api_task_type": {"zh": "“{key}”应是{kind}", "en": "'{key}' must be {kind_en}"},
})

# key -> (the Python types it takes, its kind in zh and en)
_ACTION_KEYS: dict[str, tuple[tuple[type, ...], str, str]] = {
    "comment": ((str,), "文本", "a string"),
    "to": ((str,), "节点键或 submitter", "a node key or 'submitter'"),
    "user": ((str,), "账号", "an account"),
    "signature": ((int,), "文件编号（整数）", "a file id (an integer)"),
    "again": ((bool,), "true 或 false", "true or false"),
}

# action -> the keys of its body (runtime.workflow.service.ACTIONS): a key another action
# takes is refused, so the document's body of each action is the whole truth.
ACTION_ARGUMENTS: dict[str, tuple[str, ...]] = {
    "approve": ("comment", "signature"), "reject": ("comment",), "return": ("comment", "to", "again"),
    "transfer": ("comment", "user"), "add_before": ("comment", "user"), "add_after": ("comment", "user"),
    "withdraw": ("comment",), "urge": ("comment",), "end": ("comment",), "reassign": ("comment", "user"),
}


def parse_action_body(body: Any, action: str | None = None) -> dict[str, Any]:
    """The keyword arguments of Workflows.act from a task action's JSON body (absent or
    null keys left out): every wrong key or type is reported at once. With a known
    `action`, only the keys that action takes (ACTION_ARGUMENTS)."""
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise bad_request([ApiIssue("body", "api_task_body")])
    allowed = ACTION_ARGUMENTS.get(action or "", tuple(_ACTION_KEYS))
    issues, out = [], {}
    for key, value in body.items():
        if key not in allowed:
            issues.append(ApiIssue(key, "api_task_key", {"key": key, "keys": ", ".join(allowed)}))
            continue
        types, kind, kind_en = _ACTION_KEYS[key]
        if value is None:
            continue
        if not isinstance(value, types) or (bool not in types and isinstance(value, bool)):
            issues.append(ApiIssue(key, "api_task_type", {"key": key, "kind": kind, "kind_en": kind_en}))
            continue
        out[key] = value
    if issues:
        raise bad_request(issues)
    return out


def jsonable(value: Any) -> Any:
    """Runtime rows (datetimes, tuples, nested dicts) as JSON values."""
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in value]
    if isinstance(value, (str, int, float, bool, type(None))):
        return value
    return str(value)


def tasks_body(box: str, tasks: list[dict[str, Any]]) -> dict[str, Any]:
    return {"status": box, "items": [jsonable(t) for t in tasks]}


def workflow_body(instances: list[dict[str, Any]], log: list[dict[str, Any]],
                  flows: list[dict[str, Any]]) -> dict[str, Any]:
    """A record's workflow: its instances (oldest first), every action logged on them,
    and the flow of each instance with its current nodes."""
    return {"status": instances[-1]["status"] if instances else None, "instances": jsonable(instances),
            "log": jsonable(log), "flows": jsonable(flows)}


# ---- the document's schemas of these bodies (runtime/api/openapi.py) -------------------------

_ID = {"type": "integer", "minimum": 1}
_OPT_ID = {"type": ["integer", "null"], "minimum": 1}
_TIME = {"type": "string", "format": "date-time"}
_OPT_TIME = {"type": ["string", "null"], "format": "date-time"}
_OPT_TEXT = {"type": ["string", "null"]}
_LABEL = {"type": "object", "required": ["zh", "en"], "properties": {"zh": {"type": "string"},
                                                                    "en": {"type": "string"}}}
INSTANCE_STATUSES = ("running", "approved", "rejected", "withdrawn", "ended")
_KEY_SCHEMAS = {"comment": {"type": ["string", "null"], "description": "the comment (意见)"},
                "to": {"type": ["string", "null"],
                       "description": "where to return: an earlier node's key or 'submitter'; "
                                      "the previous human node when left out"},
                "user": {"type": ["string", "null"], "description": "the account of the person"},
                "signature": {"type": ["integer", "null"], "minimum": 1,
                              "description": "the id of an uploaded signature file (POST /api/v1/files), "
                                             "where the node asks for a signature"},
                "again": {"type": ["boolean", "null"],
                          "description": "false: once the node returned to is done, come straight back "
                                         "here (the nodes between are not asked again)"}}


def action_body_name(action: str) -> str:
    return "TaskAction." + action


def workflow_schemas() -> dict[str, dict]:
    """The schemas of the workflow endpoints' bodies, as the functions above build them."""
    instance = {"type": "object", "additionalProperties": False,
                "required": ["id", "app", "form", "record_id", "workflow", "app_version", "status",
                             "current_nodes", "started_by", "started_at", "ended_at"],
                "properties": {"id": _ID, "app": {"type": "string"}, "form": {"type": "string"},
                               "record_id": _ID, "workflow": {"type": "string"},
                               "app_version": {"type": "integer", "minimum": 0},
                               "status": {"enum": list(INSTANCE_STATUSES)},
                               "current_nodes": {"type": "array", "items": {"type": "string"}},
                               "started_by": _OPT_ID, "started_at": _TIME, "ended_at": _OPT_TIME}}
    common = {"instance_id": _ID, "app_key": {"type": "string"}, "form_key": {"type": "string"},
              "record_id": _ID, "workflow_key": {"type": "string"},
              "instance_status": {"enum": list(INSTANCE_STATUSES)}, "started_by": _OPT_ID, "started_at": _TIME}
    task = {"type": "object", "additionalProperties": False,
            "description": "a task (boxes pending, done, cc) with its instance",
            "required": ["id", "node_key", "kind", "status", "action", "comment", "due_at", "created_at",
                         "acted_at", "assignee_id", *common],
            "properties": {"id": _ID, "node_key": {"type": "string"}, "kind": {"type": "string"},
                           "status": {"type": "string"}, "action": _OPT_TEXT, "comment": _OPT_TEXT,
                           "due_at": _OPT_TIME, "created_at": _TIME, "acted_at": _OPT_TIME,
                           "assignee_id": _OPT_ID, **common}}
    started = {"type": "object", "additionalProperties": False,
               "description": "an instance the caller started (box started)",
               "required": [*common, "current_nodes", "ended_at"],
               "properties": {**common, "current_nodes": {"type": "array", "items": {"type": "string"}},
                              "ended_at": _OPT_TIME}}
    tasks = {"type": "object", "additionalProperties": False, "required": ["status", "items"],
             "properties": {"status": {"enum": ["pending", "done", "started", "cc"]},
                            "items": {"type": "array", "items": {"anyOf": [
                                {"$ref": "#/components/schemas/Task"},
                                {"$ref": "#/components/schemas/StartedInstance"}]}}}}
    log = {"type": "object", "required": ["instance_id", "task_id", "node_key", "action", "comment", "changes",
                                          "at", "user_id", "account", "name"],
           "properties": {"instance_id": _ID, "task_id": _OPT_ID, "node_key": _OPT_TEXT,
                          "action": {"type": "string"}, "comment": _OPT_TEXT,
                          "changes": {"type": ["object", "null"]}, "at": _TIME, "user_id": _OPT_ID,
                          "account": _OPT_TEXT, "name": _OPT_TEXT}}
    node = {"type": "object", "required": ["key", "type", "label", "human", "state"],
            "properties": {"key": {"type": "string"}, "type": {"type": "string"}, "label": _LABEL,
                           "human": {"type": "boolean"}, "state": {"enum": ["done", "current", "ahead"]}}}
    flow = {"type": "object", "required": ["instance", "workflow", "label", "nodes", "edges", "current"],
            "properties": {"instance": {"$ref": "#/components/schemas/WorkflowInstance"},
                           "workflow": {"type": "string"}, "label": _LABEL,
                           "nodes": {"type": "array", "items": node},
                           "edges": {"type": "array", "items": {
                               "type": "object", "required": ["from", "to", "label"],
                               "properties": {"from": {"type": "string"}, "to": {"type": "string"},
                                              "label": {}}}},
                           "current": {"type": "array", "items": {"type": "string"}}}}
    record = {"type": "object", "additionalProperties": False, "required": ["status", "instances", "log", "flows"],
              "properties": {"status": {"enum": [*INSTANCE_STATUSES, None],
                                        "description": "the latest instance's; null when none ran"},
                             "instances": {"type": "array", "items": {"$ref": "#/components/schemas/WorkflowInstance"}},
                             "log": {"type": "array", "items": log, "description": "every action, oldest first"},
                             "flows": {"type": "array", "items": flow}}}
    acted = {"type": "object", "additionalProperties": False, "required": ["instance"],
             "properties": {"instance": {"$ref": "#/components/schemas/WorkflowInstance"}}}
    bodies = {action_body_name(action): {"type": "object", "additionalProperties": False,
                                         "properties": {k: _KEY_SCHEMAS[k] for k in keys}}
              for action, keys in ACTION_ARGUMENTS.items()}
    return {"WorkflowInstance": instance, "Task": task, "StartedInstance": started, "TaskList": tasks,
            "RecordWorkflow": record, "TaskActed": acted, **bodies}
