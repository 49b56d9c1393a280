"""What the REST API's requests say, parsed and checked before any service is asked:
the list query parameters (into Records.list arguments), the bodies of create and
update, the record version of an update (If-Match or the body), a related-records tab.

Every function here is pure (no Flask, no database) and raises ApiError with every
problem of the request at once, each naming its parameter and saying, in zh and en,
what was wrong and how to write it (runtime/api/errors.py turns it into a 400).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Mapping

from engine.compiled.app import App
from engine.definition.model import FormDef
from engine.fields.registry import path_kind
from engine.i18n import register_messages
from engine.suggest import did_you_mean
from runtime.api.errors import ApiError, ApiIssue, bad_request, not_found
from runtime.records.service import MAX_PAGE_SIZE

MAX_CREATE = 1_000            # records in one POST
DEFAULT_LIMIT = 50
MAX_SEARCH = 200              # characters of a quick search
MAX_CURSOR = 4_000            # characters of a page cursor
COUNT_MODES = ("exact", "estimate", "none")
LIST_PARAMETERS = ("filter", "sort", "search", "cursor", "limit", "count", "deleted", "lang")
_SORT_PART = re.compile(r"[+-]?[a-z][a-z0-9_]{0,62}")
_CURSOR = re.compile(r"[A-Za-z0-9_-]+")
_VERSION = re.compile(r'\s*(?:W/)?"?\s*([0-9]{1,18})\s*"?\s*')

register_messages({
    "api_unknown_parameter": {"zh": "不认识的查询参数“{name}”{hint}；可用：{allowed}",
                              "en": "Unknown query parameter '{name}'{hint}; use {allowed}"},
    "api_filter_json": {"zh": "filter 不是有效的 JSON（第 {line} 行第 {column} 列）：{reason}",
                        "en": "filter is not valid JSON (line {line}, column {column}): {reason}"},
    "api_json_too_deep": {"zh": "{name} 的 JSON 嵌套层数太多；请简化它（筛选条件最多嵌套 8 层分组）",
                          "en": "The JSON of {name} is nested too deeply; make it simpler (a filter nests at most "
                                "8 groups)"},
    "api_filter_shape": {"zh": "filter 应是一个条件对象（如 {example}）或条件列表",
                         "en": "filter must be a condition object (e.g. {example}) or a list of conditions"},
    "api_sort_syntax": {"zh": "排序“{value}”无法识别：写成字段键，降序在前面加“-”，多个用逗号分隔（如 -created_at,name）",
                        "en": "Cannot read the sort '{value}': write field keys, '-' before one for descending, "
                              "separated by commas (e.g. -created_at,name)"},
    "api_top_range": {"zh": "top 应是 1 到 {max} 之间的整数，收到“{value}”",
                      "en": "top must be a whole number from 1 to {max}, got '{value}'"},
    "api_limit_range": {"zh": "limit 应是 1 到 {max} 之间的整数，收到“{value}”",
                        "en": "limit must be a whole number from 1 to {max}, got '{value}'"},
    "api_count_mode": {"zh": "count 只能是 exact、estimate 或 none，收到“{value}”",
                       "en": "count must be exact, estimate or none, got '{value}'"},
    "api_cursor_shape": {"zh": "分页游标应原样使用上一页返回的 next_cursor",
                         "en": "The cursor must be a page's next_cursor, unchanged"},
    "api_search_too_long": {"zh": "搜索文字最多 {max} 个字符，收到 {length} 个",
                            "en": "The search text may have at most {max} characters, got {length}"},
    "api_boolean": {"zh": "{name} 应为 true 或 false，收到“{value}”",
                    "en": "{name} must be true or false, got '{value}'"},
    "api_body_json": {"zh": "请求体不是有效的 JSON（第 {line} 行第 {column} 列）：{reason}",
                      "en": "The request body is not valid JSON (line {line}, column {column}): {reason}"},
    "api_body_record": {"zh": "请求体应是一条记录（字段键到值的对象）或最多 {max} 条记录的列表",
                        "en": "The body must be one record (an object of field keys and values) or a list of "
                              "at most {max} of them"},
    "api_body_patch": {"zh": "请求体应是要修改的字段（字段键到值的对象），可带 version",
                       "en": "The body must be an object of the fields to change (field keys and values), "
                             "with `version` if you like"},
    "api_too_many_records": {"zh": "一次最多创建 {max} 条记录，收到 {count} 条；请分批发送",
                             "en": "At most {max} records per request, got {count}; send them in batches"},
    "api_version_invalid": {"zh": "版本号应是正整数（如 If-Match: \"3\"），收到“{value}”",
                            "en": "The version must be a positive whole number (e.g. If-Match: \"3\"), got '{value}'"},
    "api_version_mismatch": {"zh": "If-Match 的版本 {header} 与请求体中的 version {body} 不一致；只给一个，或给相同的值",
                             "en": "If-Match says version {header} and the body's version says {body}; give one, "
                                   "or the same in both"},
    "api_relation_unknown": {"zh": "没有指向表单“{form}”的关联“{relation}”{hint}；可用：{allowed}",
                             "en": "No relation '{relation}' points at form '{form}'{hint}; use one of {allowed}"},
})


@dataclass(frozen=True)
class ListQuery:
    """The list parameters, checked; `list_arguments()` gives Records.list's keywords."""

    filter: Any = None
    sort: Any = None
    search: str | None = None
    cursor: str | None = None
    limit: int = DEFAULT_LIMIT
    count: str | None = None        # exact, estimate, none; None: on the first page only
    deleted: bool = False           # the recycle bin instead of the live records

    def list_arguments(self) -> dict[str, Any]:
        return {"filter": self.filter, "sort": self.sort, "search": self.search, "cursor": self.cursor,
                "page_size": self.limit, "deleted": self.deleted,
                # The service counts exactly up to its cap and estimates beyond (PostgreSQL):
                # `estimate` asks for that count as `exact` does; the answer says which it is.
                "with_count": None if self.count is None else self.count != "none"}


def request_lang(query_lang: str | None, accept_language: str | None = None) -> str:
    """The language of an answer's `message`: `?lang=zh|en`, else the first of zh or en
    in Accept-Language (en-US counts as en), else zh."""
    if query_lang in ("zh", "en"):
        return query_lang
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("zh"):
            return "zh"
        if tag.startswith("en"):
            return "en"
    return "zh"


def parse_list_query(args: Mapping[str, Any]) -> ListQuery:
    """The query parameters of GET .../records (`args`: name -> text; a list of texts
    where a parameter was repeated, the last one counting)."""
    issues: list[ApiIssue] = []
    values = {name: (raw[-1] if isinstance(raw, (list, tuple)) and raw else raw) for name, raw in args.items()}
    for name in values:
        if name not in LIST_PARAMETERS:
            issues.append(ApiIssue(name, "api_unknown_parameter", {
                "name": str(name)[:50], "hint": _hint(str(name), LIST_PARAMETERS),
                "allowed": ", ".join(LIST_PARAMETERS)}))
    parsed = {"filter": _filter(values.get("filter"), issues), "sort": _sort(values.get("sort"), issues),
              "search": _search(values.get("search"), issues), "cursor": _cursor(values.get("cursor"), issues),
              "limit": _limit(values.get("limit"), issues), "count": _count(values.get("count"), issues),
              "deleted": _boolean("deleted", values.get("deleted"), issues)}
    if issues:
        raise bad_request(issues)
    return ListQuery(**parsed)


def _filter(text: Any, issues: list[ApiIssue]) -> Any:
    if text is None or str(text).strip() == "":
        return None
    try:
        document = _json_text("filter", str(text))
    except ApiError as exc:
        issues.extend(exc.issues)
        return None
    if not isinstance(document, (dict, list)):
        issues.append(ApiIssue("filter", "api_filter_shape",
                               {"example": '{"field": "status", "op": "eq", "value": "open"}'}))
        return None
    return document


def _sort(text: Any, issues: list[ApiIssue]) -> Any:
    """"-amount,name" (the service checks the fields), or the JSON list form
    [{"field": "amount", "dir": "desc"}]."""
    if text is None or str(text).strip() == "":
        return None
    text = str(text).strip()
    if text.startswith("["):
        try:
            return _json_text("sort", text)
        except ApiError:
            pass
    elif all(_SORT_PART.fullmatch(part.strip()) for part in text.split(",")):
        return text
    issues.append(ApiIssue("sort", "api_sort_syntax", {"value": text[:100]}))
    return None


def _search(text: Any, issues: list[ApiIssue]) -> str | None:
    if text is None or str(text).strip() == "":
        return None
    text = str(text)
    if len(text) > MAX_SEARCH:
        issues.append(ApiIssue("search", "api_search_too_long", {"max": MAX_SEARCH, "length": len(text)}))
        return None
    return text


def _cursor(text: Any, issues: list[ApiIssue]) -> str | None:
    if text is None or str(text) == "":
        return None
    text = str(text)
    if len(text) > MAX_CURSOR or not _CURSOR.fullmatch(text):
        issues.append(ApiIssue("cursor", "api_cursor_shape"))
        return None
    return text


def _limit(text: Any, issues: list[ApiIssue]) -> int:
    if text is None or str(text).strip() == "":
        return DEFAULT_LIMIT
    shown = str(text).strip()
    if re.fullmatch(r"[0-9]{1,6}", shown) and 1 <= int(shown) <= MAX_PAGE_SIZE:
        return int(shown)
    issues.append(ApiIssue("limit", "api_limit_range", {"max": MAX_PAGE_SIZE, "value": shown[:20]}))
    return DEFAULT_LIMIT


def parse_top(text: Any, *, default: int, most: int) -> int:
    """The `top` of a ranking (how many of the best to list): a whole number 1..most."""
    if text is None or str(text).strip() == "":
        return default
    shown = str(text).strip()
    if re.fullmatch(r"[0-9]{1,6}", shown) and 1 <= int(shown) <= most:
        return int(shown)
    raise bad_request([ApiIssue("top", "api_top_range", {"max": most, "value": shown[:20]})])


def _count(text: Any, issues: list[ApiIssue]) -> str | None:
    if text is None or str(text).strip() == "":
        return None
    mode = str(text).strip().lower()
    if mode in COUNT_MODES:
        return mode
    issues.append(ApiIssue("count", "api_count_mode", {"value": str(text)[:20]}))
    return None


def _boolean(name: str, text: Any, issues: list[ApiIssue]) -> bool:
    if text is None or str(text).strip() == "":
        return False
    value = str(text).strip().lower()
    if value in ("true", "1", "yes"):
        return True
    if value in ("false", "0", "no"):
        return False
    issues.append(ApiIssue(name, "api_boolean", {"name": name, "value": str(text)[:20]}))
    return False


def _hint(name: str, choices) -> str:
    found = did_you_mean(name, list(choices))
    return f" ('{found}'?)" if found else ""


# ---- bodies ------------------------------------------------------------------------------

def parse_json_body(raw: bytes | str | None) -> Any:
    """The request body as JSON; a syntax error says where (line and column)."""
    text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else (raw or "")
    return _json_text("body", text)


def _json_text(name: str, text: str) -> Any:
    """`text` parsed as JSON, or an ApiError naming `name` and where the syntax broke."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        code = "api_filter_json" if name == "filter" else "api_body_json"
        where = {"line": exc.lineno, "column": exc.colno}
        raise bad_request([ApiIssue(name, code, {**where, "reason": exc.msg}, where)]) from None
    except RecursionError:      # "[[[[..." thousands deep: the parser gives up
        raise bad_request([ApiIssue(name, "api_json_too_deep", {"name": name})]) from None


def parse_create_body(body: Any) -> tuple[list[dict[str, Any]], bool]:
    """(the records to create, whether a list was sent): one object, or a list of at most
    MAX_CREATE objects. The fields themselves are the service's to check."""
    if isinstance(body, dict):
        return [body], False
    if isinstance(body, list) and all(isinstance(item, dict) for item in body):
        if len(body) > MAX_CREATE:
            raise ApiError(400, "api_too_many_records", max=MAX_CREATE, count=len(body))
        if body:
            return body, True
    raise bad_request([ApiIssue("body", "api_body_record", {"max": MAX_CREATE})])


def parse_patch(body: Any, if_match: str | None) -> tuple[dict[str, Any], int | None]:
    """(the changes, the version the client edited, None when it gave none) of a PATCH:
    the version from the If-Match header ("3", W/"3" or 3) or the body's `version` key
    (never a field: `version` is a reserved key). Both given: they must agree."""
    if not isinstance(body, dict):
        raise bad_request([ApiIssue("body", "api_body_patch")])
    changes = {k: v for k, v in body.items() if k != "version"}
    issues: list[ApiIssue] = []
    header = _version("If-Match", if_match, issues) if if_match not in (None, "", "*") else None
    in_body = _version("version", body["version"], issues) if body.get("version") is not None else None
    if issues:
        raise bad_request(issues)
    if header is not None and in_body is not None and header != in_body:
        raise bad_request([ApiIssue("version", "api_version_mismatch", {"header": header, "body": in_body})])
    return changes, header if header is not None else in_body


def _version(name: str, raw: Any, issues: list[ApiIssue]) -> int | None:
    if isinstance(raw, int) and not isinstance(raw, bool) and raw >= 1:
        return raw
    found = _VERSION.fullmatch(raw) if isinstance(raw, str) else None
    if found and int(found.group(1)) >= 1:
        return int(found.group(1))
    issues.append(ApiIssue(name, "api_version_invalid", {"value": str(raw)[:30]}))
    return None


def etag(record: Mapping[str, Any]) -> str:
    """The ETag of a record (its version), which If-Match gives back."""
    return f'"{record["version"]}"'


# ---- related records ---------------------------------------------------------------------

def inbound_relations(app: App, form_key: str) -> list[tuple[FormDef, str]]:
    """(source form, relation field key) of every relation pointing at `form_key`, in the
    definition's order: the related-records tabs of its records."""
    found = []
    for source in app.forms:
        for fdef in source.fields:
            if path_kind(fdef) == "relation" and app.types.of(fdef).target == form_key:
                found.append((source, fdef.key))
    return found


def relation_name(source: FormDef, field_key: str) -> str:
    """The tab's name in the URL: "orders.customer"."""
    return f"{source.key}.{field_key}"


def parse_relation(app: App, form_key: str, name: str, record_id: int) -> tuple[str, dict[str, Any]]:
    """(source form key, Records.list filter) of the records of tab `name` (as
    relation_name gives it) that point at record `record_id` of `form_key`."""
    tabs = {relation_name(source, key): (source.key, key) for source, key in inbound_relations(app, form_key)}
    if name not in tabs:
        raise ApiError(404, "api_relation_unknown", relation=str(name)[:100], form=form_key,
                       hint=_hint(str(name), tabs), allowed=", ".join(tabs) or "-")
    source_key, field_key = tabs[name]
    return source_key, {"field": field_key, "op": "eq", "value": record_id}


def require_form(app: App | None, app_key: str, form_key: str) -> FormDef:
    """The form an URL names, or a 404 that says which part is not there."""
    if app is None:
        raise not_found(f"there is no installed app '{app_key[:64]}'")
    form = app.form(form_key)
    if form is None:
        raise not_found(f"app '{app.key}' has no form '{form_key[:64]}'")
    return form
