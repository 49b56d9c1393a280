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


def parse_action_body(body: Any) -> dict[str, Any]:
    """The keyword arguments of Workflows.act from a task action's JSON body (absent or
    null keys left out): every wrong key or type is reported at once."""
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise bad_request([ApiIssue("body", "api_task_body")])
    issues, out = [], {}
    for key, value in body.items():
        if key not in _ACTION_KEYS:
            issues.append(ApiIssue(key, "api_task_key", {"key": key, "keys": ", ".join(_ACTION_KEYS)}))
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
