"""The REST API's one error shape, and the one function that turns any exception into
an HTTP status and that shape.

Every error the API answers, whatever its status, is

    {"error": {"code": "validation", "message": "...", "message_zh": "...", "message_en": "...",
               "fields": [{"field": "phone", "code": "phone_invalid", "message": "...",
                           "message_zh": "...", "message_en": "...", "params": {...},
                           "record"?: 0, "row"?: 1, "subfield"?: "qty", "path"?: "filter.and[0]",
                           "line"?: 1, "column"?: 9}],
               "details"?: {...}}}

`message` is in the language the request asked for (zh by default); `message_zh` and
`message_en` are both always there, so a client may show either. `fields` lists every
problem of the request at once (empty when the error is not about a field); `record` is
the position of the record in a list sent to create, `row` and `subfield` a subform's
row (0-based) and column. The endpoints call `error_response(exc, lang)` for every
exception (runtime/api/openapi.py documents the shape as the `Error` schema).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.computed.filter_tree import FilterError
from engine.errors import (CodedError, ConcurrentWriteError, ConflictError, FieldIssue, FormworkError,
                           IntegrityProblem, NotFound, RecordValidationError)
from engine.i18n import register_messages, render
from engine.query.pages import CursorError
from engine.storage.files import FileRefused
from runtime.permissions.errors import PermissionDenied
from runtime.records.service import BulkValidationError
from runtime.workflow.errors import TaskConflict

register_messages({
    "api_bad_request": {"zh": "请求有误，请按 fields 中的说明修改后重试",
                        "en": "The request is wrong; change what `fields` says and try again"},
    "api_validation": {"zh": "有 {count} 处填写有误，请按 fields 中的说明修改",
                       "en": "{count} value(s) are wrong; change what `fields` says"},
    "api_not_found": {"zh": "找不到请求的记录或资源：它不存在、已在回收站中，或你无权查看",
                      "en": "Not found: {detail}"},
    "api_conflict": {"zh": "记录 #{id} 已被他人修改（你编辑的是第 {expected} 版，现在是第 {actual} 版）；"
                           "请重新读取记录后再修改",
                     "en": "Record #{id} was changed by someone else (you edited version {expected}, it is "
                           "now version {actual}); read it again and apply your change to it"},
    "api_integrity": {"zh": "此修改与其他数据冲突，未执行：{detail}",
                      "en": "The change was refused because of other data: {detail}"},
    "api_refused": {"zh": "请求无法完成：{detail}", "en": "The request cannot be done: {detail}"},
    "api_unauthorized": {"zh": "请先登录，或在请求头中提供 API 密钥：Authorization: Bearer 密钥",
                         "en": "Sign in first, or send an API key: Authorization: Bearer KEY"},
    "api_csrf_missing": {"zh": "表单缺少安全令牌（CSRF）：请刷新页面后重新提交；用登录会话调用接口时，请在 {header} "
                               "请求头中带上页面给出的令牌",
                         "en": "The form's security token (CSRF) is missing: reload the page and send it again; "
                               "calling the API with a signed-in session, send the page's token in the {header} "
                               "header"},
    "api_csrf_invalid": {"zh": "表单的安全令牌已失效（CSRF）：请刷新页面后重新提交；用登录会话调用接口时，请在 {header} "
                               "请求头中带上页面当前的令牌",
                         "en": "The form's security token (CSRF) is out of date: reload the page and send it "
                               "again; calling the API with a signed-in session, send the page's current token "
                               "in the {header} header"},
    "api_key_invalid": {"zh": "API 密钥无效：密钥不存在或已吊销，或其用户已停用。请在“设置 > API 密钥”中新建密钥",
                        "en": "The API key is not valid: it is unknown or revoked, or its user is deactivated. "
                              "Create a new key under Settings > API keys"},
    "permission_admin_required": {"zh": "这个页面仅供工作区管理员使用",
                                  "en": "This page is for workspace administrators"},
    "api_method_not_allowed": {"zh": "此地址不接受 {method} 请求；可用的方法：{allowed}",
                               "en": "This address does not take {method} requests; use {allowed}"},
    "api_http_error": {"zh": "请求无法完成（HTTP {http_status}）", "en": "The request cannot be done (HTTP {http_status} {name})"},
    "api_rate_limited": {"zh": "请求过于频繁，请在 {seconds} 秒后重试",
                         "en": "Too many requests; try again in {seconds} seconds"},
    "api_body_too_large": {"zh": "请求体超过 {max_mb} MB 的上限；请分批发送，文件请通过 /api/v1/files 上传",
                           "en": "The request body is larger than the {max_mb} MB limit; send it in parts, and "
                                 "upload files through /api/v1/files"},
    "api_internal": {"zh": "服务器出错了，错误已记录；请稍后重试",
                     "en": "Something went wrong on the server; it has been logged, try again later"},
    "api_filter_invalid": {"zh": "筛选或排序有误（{path}）：{detail}",
                           "en": "The filter or sort is wrong at {path}: {detail}"},
    "api_cursor_invalid": {"zh": "分页游标无效，或属于另一种排序；请从第一页重新开始",
                           "en": "The page cursor is invalid or belongs to another sort order; start again from "
                                 "the first page"},
    "webhook_not_found": {
        "zh": "这个地址没有 Webhook：请核对应用、自动化和密钥，并确认自动化已启用",
        "en": "There is no webhook at this address: check the app, the automation and the secret, and that the "
              "automation is enabled"},
    "api_write_contention": {"zh": "其他修改正在同时保存相同的记录，本次未保存；可以直接重试",
                             "en": "Other changes were saving the same records at the same time and this one "
                                   "was not saved; it is safe to try again"},
})


@dataclass
class ApiIssue:
    """One problem of a request, in the `fields` of the error shape."""

    field: str
    code: str
    params: dict[str, Any] = field(default_factory=dict)
    where: dict[str, Any] = field(default_factory=dict)   # record, row, subfield, path, line, column

    def as_dict(self, lang: str) -> dict[str, Any]:
        return {"field": self.field, "code": self.code, **_messages(self.code, self.params, lang),
                "params": _plain(self.params), **self.where}

    @classmethod
    def of(cls, issue: FieldIssue, record: int | None = None) -> "ApiIssue":
        where: dict[str, Any] = {} if record is None else {"record": record}
        if issue.row is not None:
            where.update(row=issue.row, subfield=issue.subfield)
        return cls(issue.field, issue.code, dict(issue.params), where)


class ApiError(CodedError):
    """A refusal of the API itself (a bad query parameter, a missing key, a body too
    large): its HTTP status, catalogue code and the problems of the request's parts."""

    def __init__(self, status: int, code: str, *, issues: list[ApiIssue] | None = None,
                 headers: dict[str, str] | None = None, details: dict[str, Any] | None = None, **params: Any):
        self.status, self.issues = status, list(issues or [])
        self.headers, self.details = dict(headers or {}), dict(details or {})
        super().__init__(code, **params)


@dataclass
class ErrorResponse:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


def bad_request(issues: list[ApiIssue]) -> ApiError:
    return ApiError(400, "api_bad_request", issues=issues)


def unauthorized() -> ApiError:
    return ApiError(401, "api_unauthorized", headers={"WWW-Authenticate": 'Bearer realm="formwork"'})


def csrf_missing(header: str) -> ApiError:
    return ApiError(400, "api_csrf_missing", header=header)


def csrf_invalid(header: str) -> ApiError:
    """A CSRF token was sent but is not the session's (an old page, another session)."""
    return ApiError(400, "api_csrf_invalid", header=header)


def api_key_invalid() -> ApiError:
    """A bearer key that is unknown or revoked, or whose user is deactivated."""
    return ApiError(401, "api_key_invalid", headers={"WWW-Authenticate": 'Bearer realm="formwork", '
                                                                        'error="invalid_token"'})


def admin_required() -> ApiError:
    return ApiError(403, "permission_admin_required")


def method_not_allowed(method: str, allowed: list[str]) -> ApiError:
    return ApiError(405, "api_method_not_allowed", headers={"Allow": ", ".join(allowed)},
                    method=method[:20], allowed=", ".join(allowed) or "-")


def http_error(status: int, name: str) -> ApiError:
    """Any other refusal of the HTTP layer (a status without a more precise code)."""
    return ApiError(status, "api_http_error", http_status=status, name=name[:60])


def rate_limited(seconds: int) -> ApiError:
    seconds = max(1, int(seconds))
    return ApiError(429, "api_rate_limited", headers={"Retry-After": str(seconds)},
                    details={"retry_after": seconds}, seconds=seconds)


def body_too_large(max_bytes: int) -> ApiError:
    return ApiError(413, "api_body_too_large", max_mb=f"{max_bytes / 1024 / 1024:g}")


def webhook_not_found() -> ApiError:
    """The one answer of every incoming webhook that cannot run (unknown, disabled, no
    secret set, a wrong secret): it says nothing of which automations exist."""
    return ApiError(404, "webhook_not_found")


def not_found(detail: str) -> ApiError:
    """An app, form, record or file that is not there (or not the caller's to see)."""
    return ApiError(404, "api_not_found", detail=detail)


def error_response(exc: BaseException, lang: str = "zh") -> ErrorResponse:
    """The HTTP status, error body and headers answering `exc`: THE mapping of every
    exception to the API's errors. Anything that is not a FormworkError is a bug: 500,
    with a message that says nothing of the internals (the caller logs the traceback)."""
    lang = "en" if lang == "en" else "zh"
    status, code, params, issues, headers, details = _classify(exc)
    body = {"code": _public_code(code), **_messages(code, params, lang),
            "fields": [issue.as_dict(lang) for issue in issues]}
    if details:
        body["details"] = details
    return ErrorResponse(status, {"error": body}, headers)


def _classify(exc: BaseException) -> tuple[int, str, dict, list[ApiIssue], dict, dict]:
    if isinstance(exc, ApiError):
        return exc.status, exc.code, exc.params, exc.issues, exc.headers, exc.details
    if isinstance(exc, BulkValidationError):
        issues = [ApiIssue.of(i, record) for record, found in sorted(exc.by_index.items()) for i in found]
        return 422, "api_validation", {"count": len(issues)}, issues, {}, {}
    if isinstance(exc, RecordValidationError):
        issues = [ApiIssue.of(i) for i in exc.issues]
        return 422, "api_validation", {"count": len(issues)}, issues, {}, {}
    if isinstance(exc, FileRefused):
        status = 413 if exc.code == "file_too_large" else 422
        return status, "api_validation", {"count": 1}, [ApiIssue("file", exc.code, dict(exc.params))], {}, {}
    if isinstance(exc, PermissionDenied):
        return 403, exc.code, exc.params, [], {}, {}
    if isinstance(exc, ConflictError):
        params = {"id": exc.record_id, "expected": exc.expected, "actual": exc.actual}
        details = {"record_id": exc.record_id, "your_version": exc.expected, "current_version": exc.actual}
        return 409, "api_conflict", params, [], {}, details
    if isinstance(exc, TaskConflict):     # another approver acted first, or the flow is over
        return 409, exc.code, exc.params, [], {}, {"reason": exc.code}
    if isinstance(exc, ConcurrentWriteError):
        return 409, "api_write_contention", {}, [], {}, {}
    if isinstance(exc, CursorError):
        return 400, "api_bad_request", {}, [ApiIssue("cursor", "api_cursor_invalid")], {}, {}
    if isinstance(exc, FilterError):
        where = "sort" if exc.path.startswith("sort") else "filter"
        issue = ApiIssue(where, "api_filter_invalid", {"path": exc.path, "detail": exc.message},
                         {"path": exc.path})
        return 400, "api_bad_request", {}, [issue], {}, {}
    if isinstance(exc, NotFound):
        return 404, "api_not_found", {"detail": _text(exc)}, [], {}, {}
    if isinstance(exc, IntegrityProblem):
        return 409, "api_integrity", {"detail": _text(exc)}, [], {}, {}
    if isinstance(exc, CodedError):      # `details.reason` keeps the runtime's own code
        return 400, exc.code, exc.params, [], {}, {"reason": exc.code}
    if isinstance(exc, FormworkError):
        return 400, "api_refused", {"detail": _text(exc)}, [], {}, {}
    return 500, "api_internal", {}, [], {}, {}


_PUBLIC_CODES = {"api_bad_request": "bad_request", "api_validation": "validation", "api_not_found": "not_found",
                 "api_conflict": "conflict", "api_integrity": "integrity", "api_refused": "refused",
                 "api_unauthorized": "unauthorized", "api_csrf_missing": "csrf_missing",
                 "api_rate_limited": "rate_limited", "api_body_too_large": "body_too_large",
                 "api_internal": "internal", "api_write_contention": "write_contention",
                 "api_relation_unknown": "not_found", "api_too_many_records": "too_many_records",
                 "api_csrf_invalid": "csrf_invalid", "api_key_invalid": "api_key_invalid",
                 "api_method_not_allowed": "method_not_allowed", "api_http_error": "http_error",
                 "wf_task_handled": "conflict", "wf_not_running": "conflict", "webhook_not_found": "not_found"}
# Every top-level `error.code` the API answers with, for the document's Error schema.
ERROR_CODES = tuple(sorted(set(_PUBLIC_CODES.values()) | {"permission_denied"}))


def _public_code(code: str) -> str:
    """The top-level code clients branch on: a short word (permission refusals say which
    action in their message; `fields` carries the detailed codes)."""
    if code.startswith("permission_"):
        return "permission_denied"
    return _PUBLIC_CODES.get(code, "refused")


def _messages(code: str, params: dict[str, Any], lang: str) -> dict[str, str]:
    zh, en = render(code, params, "zh"), render(code, params, "en")
    return {"message": en if lang == "en" else zh, "message_zh": zh, "message_en": en}


def _text(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:500]


def _plain(params: dict[str, Any]) -> dict[str, Any]:
    """Parameters as JSON values (labels of both languages as {"zh", "en"})."""
    out = {}
    for key, value in params.items():
        if isinstance(value, (str, int, float, bool, type(None))):
            out[key] = value
        elif isinstance(value, (list, tuple)):
            out[key] = [v if isinstance(v, (str, int, float, bool, type(None))) else str(v) for v in value]
        elif hasattr(value, "keys"):
            out[key] = {str(k): str(v) for k, v in dict(value).items()}
        else:
            out[key] = str(value)
    return out
