"""The OpenAPI 3.1 document of the REST API, built from the installed app definitions:
one concrete path per installed form (each with its own record schemas, from its field
types), so the document changes when an app is installed or upgraded.

    document = build_document(apps, lang="zh")      # pure: compiled apps in, a dict out
    body = render_document(document)                # the same bytes for the same apps
    document = installed_document(conn, lang="en")  # the installed apps' document
    body = installed_document_bytes(conn, lang="en") # the same, rendered, kept while no app changes

`lang` chooses the language of titles and descriptions (labels of apps, forms, fields).
With a `policy` and an `actor`, the document is the one that caller may use: the forms it
may not view, the fields it may not see and the operations it may not do are left out, as
they are of every other answer (a hidden field is never sent anywhere).
"""
from __future__ import annotations

import json
from typing import Any, Iterable

from sqlalchemy.engine import Connection

from engine.compiled.app import App, AppCache
from engine.dashboards.model import Dashboard, dashboards_of
from engine.rewards import rewards_of
from engine.definition.model import FormDef
from runtime.api.requests import COUNT_MODES, DEFAULT_LIMIT, MAX_CREATE, MAX_SEARCH, inbound_relations, relation_name
from runtime.actor import Actor
from runtime.api.schemas import FormSchemas, ref, schema_name, shared_schemas
from runtime.api.workflow import ACTION_ARGUMENTS, action_body_name, workflow_schemas
from runtime.apps import installed_apps, load_installed
from runtime.automations.compiled import automations_for
from runtime.automations.triggers import button_label
from runtime.permissions import CREATE, DELETE, EDIT, FULL, VIEW, FormAccess, Policy
from runtime.records.service import MAX_PAGE_SIZE
from runtime.referrals.analytics import MAX_TOP
from runtime.referrals.compiled import programme_for

OPENAPI_VERSION = "3.1.0"
API_PREFIX = "/api/v1"
SESSION_COOKIE = "session"          # Flask's session cookie
CSRF_HEADER = "X-CSRF-Token"        # the token of the signed-in page, on state-changing requests
MAX_BODY_MB = 2

_TEXT = {
    "title": {"zh": "Formwork REST API", "en": "Formwork REST API"},
    "intro": {"zh": "已安装应用的记录接口。认证：Authorization: Bearer API 密钥，或登录会话（修改类请求带 {csrf} 请求头）。"
                    "错误统一为 Error 结构（code、message、message_zh、message_en、fields）。",
              "en": "The records of the installed apps. Authentication: Authorization: Bearer API_KEY, or a "
                    "signed-in session (with the {csrf} header on requests that change data). Every error has "
                    "the Error shape (code, message, message_zh, message_en, fields)."},
    "files": {"zh": "文件：附件、图片和签名的上传与下载", "en": "Files: upload and download of attachments, "
                                                          "images and signatures"},
    "list": {"zh": "列出“{form}”的记录", "en": "List the records of {form}"},
    "create": {"zh": "新建“{form}”的记录（一条，或最多 {max} 条的列表）",
               "en": "Create records of {form} (one, or a list of up to {max})"},
    "get": {"zh": "读取一条“{form}”记录", "en": "Read one record of {form}"},
    "update": {"zh": "修改一条“{form}”记录（只改给出的字段）", "en": "Change a record of {form} (only the fields given)"},
    "delete": {"zh": "把一条“{form}”记录移到回收站", "en": "Move a record of {form} to the recycle bin"},
    "restore": {"zh": "从回收站恢复一条“{form}”记录", "en": "Restore a record of {form} from the recycle bin"},
    "history": {"zh": "“{form}”记录的修改历史", "en": "The change history of a record of {form}"},
    "related": {"zh": "通过“{field}”指向这条“{form}”记录的“{source}”记录",
                "en": "The records of {source} that point at this record of {form} through {field}"},
    "upload": {"zh": "上传文件（multipart/form-data），得到文件编号", "en": "Upload a file (multipart/form-data); "
                                                                      "gives its id"},
    "download": {"zh": "下载文件", "en": "Download a file"},
    "document": {"zh": "本文档", "en": "This document"},
    "workflow": {"zh": "“{form}”记录的流程：实例、日志和流程图", "en": "The workflow of a record of {form}: "
                                                          "its instances, log and flow"},
    "tasks_tag": {"zh": "流程任务：待办、已办、我发起的、抄送我的，以及对任务的操作",
                  "en": "Workflow tasks: the caller's inbox (pending, done, started, cc) and the actions on a task"},
    "tasks": {"zh": "我的任务（status：pending 待办、done 已办、started 我发起的、cc 抄送我的）",
              "en": "The caller's tasks (status: pending, done, started by me, cc to me)"},
    "act": {"zh": "对任务执行“{action}”（{what}）", "en": "Do '{action}' on a task ({what_en})"},
    "button": {"zh": "按下“{form}”记录上的按钮“{button}”：运行自动化（排入后台任务）",
               "en": "Press the button {button} on a record of {form}: runs its automation (as a job)"},
    "dashboard": {"zh": "仪表盘“{dashboard}”各组件的数据", "en": "The data of each widget of dashboard {dashboard}"},
    "referral_tree": {"zh": "某客户之下的转介绍树（各层被推荐人及其价值）",
                      "en": "The referral tree below a customer (friends at every level, with their value)"},
    "referral_chains": {"zh": "推荐链价值最高的推荐人（直接、间接推荐数，成交数，链条价值）",
                        "en": "The referrers whose chains brought in the most (direct and indirect friends, "
                              "converted friends, chain value)"},
    "widget_xlsx": {"zh": "导出组件“{widget}”（仪表盘“{dashboard}”）的数据为 Excel（XLSX）",
                    "en": "The data of widget {widget} (dashboard {dashboard}) as a spreadsheet (XLSX)"},
}

# what each action does, in the document (runtime/workflow/service.py does it)
_ACTION_TEXT = {
    "approve": ("同意；节点要求时附签名", "approve; with a signature where the node asks for one"),
    "reject": ("驳回", "reject"),
    "return": ("退回上一节点、指定的更早节点或提交人", "return to the previous node, a chosen earlier node or the submitter"),
    "transfer": ("转交给他人", "transfer to another person"),
    "add_before": ("前加签", "add a signer before the caller"),
    "add_after": ("后加签", "add a signer after the caller"),
    "withdraw": ("提交人撤回（下一位尚未处理时）", "withdraw, by the submitter while nobody else has acted"),
    "urge": ("提交人催办", "urge the current approvers, by the submitter"),
    "end": ("管理员结束流程", "end the flow, by an admin"),
    "reassign": ("管理员改派处理人", "give the task to another person, by an admin"),
}

_RESPONSES = {
    "BadRequest": (400, {"zh": "请求参数或请求体有误", "en": "A parameter or the body is wrong"}),
    "Unauthorized": (401, {"zh": "未登录，也没有有效的 API 密钥", "en": "Not signed in and no valid API key"}),
    "Forbidden": (403, {"zh": "没有这项操作的权限", "en": "The caller may not do this"}),
    "NotFound": (404, {"zh": "不存在，或不在你可见的范围内", "en": "Not there, or not the caller's to see"}),
    "Conflict": (409, {"zh": "记录已被他人修改，或与其他数据冲突",
                       "en": "The record changed meanwhile, or other data refuses the change"}),
    "TooLarge": (413, {"zh": f"请求体超过 {MAX_BODY_MB} MB", "en": f"The body is larger than {MAX_BODY_MB} MB"}),
    "Invalid": (422, {"zh": "字段值有误，fields 列出每一处", "en": "Values are wrong; `fields` lists each"}),
    "RateLimited": (429, {"zh": "请求过于频繁；Retry-After 给出等待秒数",
                          "en": "Too many requests; Retry-After says how many seconds to wait"}),
}


# What pressing a button answers (runtime/automations/triggers.py press_button).
BUTTON_RUN_SCHEMA = {
    "type": "object", "required": ["job", "status", "run", "duplicate", "label"], "additionalProperties": False,
    "properties": {
        "job": {"type": ["integer", "null"], "description": "the job's id (GET /admin/jobs/{job} shows it)"},
        "status": {"type": ["string", "null"], "enum": ["queued", "running", "done", "failed", "dead", None],
                   "description": "the job's status after the request: done when jobs run inline"},
        "run": {"oneOf": [{"type": "null"}, {
            "type": "object", "required": ["id", "status", "error"], "additionalProperties": False,
            "properties": {"id": {"type": "integer"},
                           "status": {"enum": ["done", "skipped", "failed", "stopped"]},
                           "error": {"type": ["string", "null"]}}}],
            "description": "the automation run the job logged (null until it ran)"},
        "duplicate": {"type": "boolean"},
        "label": {"type": "object", "required": ["zh", "en"], "additionalProperties": False,
                  "properties": {"zh": {"type": "string"}, "en": {"type": "string"}},
                  "description": "the button's text"},
    },
}


def _say(key: str, lang: str, **params: Any) -> str:
    return _TEXT[key][lang].format(**params)


def build_document(apps: Iterable[App], *, lang: str = "en", server_url: str = "/",
                   policy: Policy | None = None, actor: Actor | None = None) -> dict[str, Any]:
    """The document of `apps` (compiled, e.g. load_installed's), in `lang` ("zh" or "en");
    with `policy` and `actor`, of what that actor may do (the whole API without)."""
    apps = sorted(apps, key=lambda app: app.key)
    return _build(apps, lang, server_url, _accesses(apps, policy, actor))


def _build(apps: list[App], lang: str, server_url: str,
           accesses: dict[tuple[str, str], FormAccess]) -> dict[str, Any]:
    lang = "zh" if lang == "zh" else "en"
    schemas = shared_schemas()
    paths: dict[str, Any] = {f"{API_PREFIX}/openapi.json": _document_path(lang)}
    for app in apps:
        for form in app.forms:
            access = accesses[(app.key, form.key)]
            if not access.can(VIEW):
                continue
            schemas.update(FormSchemas(app, form, lang, access).components())
            paths.update(_form_paths(app, form, lang, access, accesses))
        for dashboard in dashboards_of(app.definition):
            paths[f"{API_PREFIX}/apps/{app.key}/dashboards/{dashboard.key}"] = _dashboard_path(app, dashboard, lang)
            for widget in dashboard.widgets:
                paths[f"{API_PREFIX}/apps/{app.key}/dashboards/{dashboard.key}/widgets/{widget.key}.xlsx"] = \
                    _widget_export_path(app, dashboard, widget, lang)
            schemas["Dashboard"] = DASHBOARD_SCHEMA
        programme = programme_for(app)
        if programme is not None and accesses[(app.key, programme.customers.form)].can(VIEW):
            paths.update(_referral_paths(app, lang))
            schemas.update(REFERRAL_SCHEMAS)
        if rewards_of(app.definition):
            paths.update(_reward_paths(app, lang))
            schemas.update(REWARD_SCHEMAS)
    paths.update(_file_paths(lang))
    if apps:        # workflows live in apps: with none installed there are no tasks to describe
        paths.update(_task_paths(lang))
    schemas.update(workflow_schemas())
    schemas["ButtonRun"] = BUTTON_RUN_SCHEMA
    return {
        "openapi": OPENAPI_VERSION,
        "info": {"title": _say("title", lang), "version": _version(apps),
                 "description": _say("intro", lang, csrf=CSRF_HEADER)},
        "servers": [{"url": server_url}],
        "tags": [_tag(app, lang) for app in apps] + [{"name": "files", "description": _say("files", lang)},
                                                       {"name": "tasks", "description": _say("tasks_tag", lang)}],
        "security": [{"bearer": []}, {"session": [], "csrf": []}],
        "paths": paths,
        "components": {"schemas": schemas, "parameters": _parameters(lang), "responses": _responses(lang),
                       "headers": _headers(),
                       "securitySchemes": {
                           "bearer": {"type": "http", "scheme": "bearer",
                                      "description": "formwork api-keys create ACCOUNT --name NAME"},
                           "session": {"type": "apiKey", "in": "cookie", "name": SESSION_COOKIE},
                           "csrf": {"type": "apiKey", "in": "header", "name": CSRF_HEADER}}},
    }


def render_document(document: dict[str, Any]) -> bytes:
    """The document as UTF-8 JSON: the same document gives the same bytes."""
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


def installed_document(conn: Connection, *, lang: str = "en", server_url: str = "/",
                       policy: Policy | None = None, actor: Actor | None = None) -> dict[str, Any]:
    """The document of every installed app, at its installed version (as `actor` may use
    it, with a `policy`)."""
    return build_document(_installed(conn), lang=lang, server_url=server_url, policy=policy, actor=actor)


def _accesses(apps: list[App], policy: Policy | None, actor: Actor | None) -> dict[tuple[str, str], FormAccess]:
    """What the caller may do with each form, asked of the policy once per form."""
    if policy is None:
        return {(app.key, form.key): FULL for app in apps for form in app.forms}
    actor = actor or Actor.system()
    return {(app.key, form.key): policy.access(app, form, actor) for app in apps for form in app.forms}


# Rendered documents by (lang, server_url, app keys, what the caller may do), each kept
# with the compiled apps it was built from: load_installed gives the same App while a
# version stays installed, so a document is built again only when an app is installed,
# upgraded or removed, or for a caller whose permissions no kept document matches.
_DOCUMENTS = AppCache(32)


def installed_document_bytes(conn: Connection, *, lang: str = "en", server_url: str = "/",
                             policy: Policy | None = None, actor: Actor | None = None) -> bytes:
    """render_document(installed_document(...)), built once per set of installed versions
    and per set of permissions (building the flagship's takes tens of milliseconds;
    reading what is installed, one short query per app). Callers whose policy answers
    alike (the same actions, hidden and read-only fields per form) share one document."""
    apps = sorted(_installed(conn), key=lambda app: app.key)
    accesses = _accesses(apps, policy, actor)
    key = (lang, server_url, tuple(app.key for app in apps), _access_signature(accesses))
    found = _DOCUMENTS.get(key)
    if found is not None and all(kept is app for kept, app in zip(found[0], apps)):
        return found[1]
    body = render_document(_build(apps, lang, server_url, accesses))
    _DOCUMENTS.put(key, (tuple(apps), body))
    return body


def _access_signature(accesses: dict[tuple[str, str], FormAccess]) -> tuple:
    """What of each form's access shapes the document (not the row scope: rows are data)."""
    return tuple((form, tuple(sorted(a.actions)), tuple(sorted(a.hidden_fields)), tuple(sorted(a.read_only_fields)))
                 for form, a in sorted(accesses.items()))


def _installed(conn: Connection) -> list[App]:
    apps = [load_installed(conn, row["key"]) for row in installed_apps(conn)]
    return [app for app in apps if app is not None]


def _version(apps: list[App]) -> str:
    """The document's version: the installed version of each app ("crm_referral@3 ...")."""
    return " ".join(f"{app.key}@{app.version or 0}" for app in apps) or "0"


def _tag(app: App, lang: str) -> dict[str, str]:
    description = app.label.get(lang)
    if app.definition.description is not None:
        description += ": " + app.definition.description.get(lang)
    return {"name": app.key, "description": description}


# ---- paths ---------------------------------------------------------------------------------

_READ_SECURITY = [{"bearer": []}, {"session": []}]   # reading needs no CSRF token


def _json(schema: dict) -> dict:
    return {"application/json": {"schema": schema}}


def _ok(schema: dict, description: str, headers: dict | None = None) -> dict:
    response = {"description": description, "content": _json(schema)}
    return {**response, "headers": headers} if headers else response


def _errors(*names: str) -> dict:
    picked = ("BadRequest", "Unauthorized", "Forbidden", "NotFound", *names, "RateLimited")
    return {str(_RESPONSES[n][0]): {"$ref": f"#/components/responses/{n}"}
            for n in sorted(set(picked), key=lambda n: _RESPONSES[n][0])}


def _operation(app: App, form: FormDef, action: str, lang: str, **extra: Any) -> dict:
    summary = _say(action, lang, form=form.label.get(lang), max=MAX_CREATE,
                   **extra.pop("say", {}))
    return {"tags": [app.key], "operationId": f"{app.key}__{form.key}__{extra.pop('op', action)}",
            "summary": summary, **extra}


def _form_paths(app: App, form: FormDef, lang: str, access: FormAccess,
                accesses: dict[tuple[str, str], FormAccess]) -> dict[str, Any]:
    """The paths of one form, without the operations `access` does not allow."""
    paths = _all_form_paths(app, form, lang, accesses)
    for path, item in list(paths.items()):
        kept = {key: part for key, part in item.items() if access.can(_action(path, key))}
        if any(key in kept for key in ("get", "post", "patch", "delete")):
            paths[path] = kept
        else:
            del paths[path]
    return paths


def _action(path: str, key: str) -> str:
    """The action an operation of a form's path needs (VIEW for a path's shared parts)."""
    if path.endswith("/restore"):
        return DELETE
    if "/buttons/" in path:         # the run acts as the caller with a job's full access
        return EDIT
    return {"post": CREATE, "patch": EDIT, "delete": DELETE}.get(key, VIEW)


def _all_form_paths(app: App, form: FormDef, lang: str,
                    accesses: dict[tuple[str, str], FormAccess]) -> dict[str, Any]:
    base = f"{API_PREFIX}/apps/{app.key}/forms/{form.key}/records"
    name = lambda kind: schema_name(app, form, kind)   # noqa: E731
    record_id = {"$ref": "#/components/parameters/RecordId"}
    etag = {"ETag": {"$ref": "#/components/headers/ETag"}}
    list_params = [{"$ref": f"#/components/parameters/{p}"}
                   for p in ("Filter", "Sort", "Search", "Cursor", "Limit", "Count", "Deleted", "Lang")]
    paths = {
        base: {
            "get": _operation(app, form, "list", lang, security=_READ_SECURITY, parameters=list_params,
                              responses={"200": _ok(ref(name("Page")), "a page of records"), **_errors()}),
            "post": _operation(app, form, "create", lang, parameters=[{"$ref": "#/components/parameters/Lang"}],
                               requestBody={"required": True, "content": _json(ref(name("CreateBody")))},
                               responses={"201": _ok({"oneOf": [ref(name("Record")), ref(name("List"))]},
                                                     "the record created (a list: {items: [...]}, in order)"),
                                          **_errors("Conflict", "TooLarge", "Invalid")}),
        },
        f"{base}/{{id}}": {
            "parameters": [record_id, {"$ref": "#/components/parameters/Lang"}],
            "get": _operation(app, form, "get", lang, security=_READ_SECURITY,
                              responses={"200": _ok(ref(name("Record")), "the record", etag), **_errors()}),
            "patch": _operation(app, form, "update", lang,
                                parameters=[{"$ref": "#/components/parameters/IfMatch"}],
                                requestBody={"required": True, "content": _json(ref(name("Patch")))},
                                responses={"200": _ok(ref(name("Record")), "the record changed", etag),
                                           **_errors("Conflict", "TooLarge", "Invalid")}),
            "delete": _operation(app, form, "delete", lang,
                                 responses={"204": {"description": "moved to the recycle bin"},
                                            **_errors("Conflict")}),
        },
        f"{base}/{{id}}/restore": {
            "parameters": [record_id, {"$ref": "#/components/parameters/Lang"}],
            "post": _operation(app, form, "restore", lang,
                               responses={"200": _ok(ref(name("Record")), "the record restored", etag),
                                          **_errors("Conflict", "Invalid")}),
        },
        f"{base}/{{id}}/history": {
            "parameters": [record_id, {"$ref": "#/components/parameters/Lang"}],
            "get": _operation(app, form, "history", lang, security=_READ_SECURITY,
                              responses={"200": _ok(ref("History"), "the changes, oldest first"), **_errors()}),
        },
        f"{base}/{{id}}/workflow": {
            "parameters": [record_id, {"$ref": "#/components/parameters/Lang"}],
            "get": _operation(app, form, "workflow", lang, security=_READ_SECURITY,
                              responses={"200": _ok(ref("RecordWorkflow"), "the record's workflow"), **_errors()}),
        },
    }
    for button in automations_for(app).triggered(form.key, "button"):
        paths[f"{base}/{{id}}/buttons/{button.key}"] = {
            "parameters": [record_id, {"$ref": "#/components/parameters/Lang"}],
            "post": _operation(app, form, "button", lang, op=f"button__{button.key}",
                               say={"button": button_label(button).get(lang)},
                               responses={"202": _ok(ref("ButtonRun"), "the run queued (done already when jobs "
                                                                       "run inline)"),
                                          **_errors()}),
        }
    for source, field_key in inbound_relations(app, form.key):
        source_access = accesses[(app.key, source.key)]
        if not (source_access.can(VIEW) and source_access.can_see(field_key)):
            continue
        tab = relation_name(source, field_key)
        field_label = source.field(field_key).label.get(lang)
        paths[f"{base}/{{id}}/related/{tab}"] = {
            "parameters": [record_id],
            "get": _operation(app, form, "related", lang, op=f"related__{source.key}__{field_key}",
                              say={"source": source.label.get(lang), "field": field_label},
                              security=_READ_SECURITY, parameters=list_params,
                              responses={"200": _ok(ref(schema_name(app, source, "Page")),
                                                    "a page of the records that point at it"), **_errors()}),
        }
    return paths


def _file_paths(lang: str) -> dict[str, Any]:
    file_id = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}
    return {
        f"{API_PREFIX}/files": {"post": {
            "tags": ["files"], "operationId": "files__upload", "summary": _say("upload", lang),
            "parameters": [{"$ref": "#/components/parameters/Lang"}],
            "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": ref("FileUpload")}}},
            "responses": {"201": _ok(ref("File"), "the file stored; give its id as a file field's value"),
                          **_errors("TooLarge", "Invalid")}}},
        f"{API_PREFIX}/files/{{id}}": {"get": {
            "tags": ["files"], "operationId": "files__download", "summary": _say("download", lang),
            "security": _READ_SECURITY, "parameters": [file_id],
            "responses": {"200": {"description": "the file, with its stored content type",
                                  "headers": {"Content-Disposition": {"schema": {"type": "string"},
                                                                      "description": "attachment; filename=..."}},
                                  "content": {"*/*": {"schema": {}}}},
                          **_errors()}}},
    }


def _task_paths(lang: str) -> dict[str, Any]:
    """The caller's inbox and one path per task action, each with its own body."""
    task_id = {"name": "id", "in": "path", "required": True, "example": 1,
               "schema": {"type": "integer", "minimum": 1, "maximum": 2 ** 63 - 1}}
    status = {"name": "status", "in": "query", "required": False,
              "schema": {"enum": ["pending", "done", "started", "cc"], "default": "pending"},
              "description": "pending 待办, done 已办, started 我发起的, cc 抄送我的"}
    paths = {f"{API_PREFIX}/tasks": {"get": {
        "tags": ["tasks"], "operationId": "tasks__list", "summary": _say("tasks", lang),
        "security": _READ_SECURITY, "parameters": [status, {"$ref": "#/components/parameters/Lang"}],
        "responses": {"200": _ok(ref("TaskList"), "the caller's tasks, newest first"), **_errors()}}}}
    for action in ACTION_ARGUMENTS:
        what_zh, what_en = _ACTION_TEXT[action]
        paths[f"{API_PREFIX}/tasks/{{id}}/{action}"] = {"post": {
            "tags": ["tasks"], "operationId": f"tasks__{action}",
            "summary": _TEXT["act"][lang].format(action=action, what=what_zh, what_en=what_en),
            "parameters": [task_id, {"$ref": "#/components/parameters/Lang"}],
            "requestBody": {"required": False, "content": _json(ref(action_body_name(action)))},
            "responses": {"200": _ok(ref("TaskActed"), "the task's instance after the action"),
                          **_errors("Conflict", "TooLarge")}}}
    return paths


DASHBOARD_SCHEMA = {
    "type": "object", "required": ["dashboard", "controls", "widgets"],
    "description": "Each widget's data (docs/dashboards.md), computed for the caller.",
    "properties": {
        "dashboard": {"type": "object", "required": ["key", "label"],
                      "properties": {"key": {"type": "string"}, "label": {"type": "string"}}},
        "controls": {"type": "array", "items": {"type": "object", "required": ["key", "kind", "label"], "properties": {
            "key": {"type": "string"}, "kind": {"type": "string"}, "label": {"type": "string"}, "value": {}}}},
        "widgets": {"type": "array", "items": {
            "type": "object", "required": ["key", "kind", "label", "form", "data"], "properties": {
                "key": {"type": "string"}, "kind": {"type": "string"}, "label": {"type": "string"},
                "form": {"type": "string"}, "data": {"type": ["object", "null"]},
                "cached": {"type": "boolean"},
                "error": {"type": "object", "description": "Why the caller cannot see this widget."}}}},
    },
}


def _dashboard_path(app: App, dashboard: Dashboard, lang: str) -> dict[str, Any]:
    controls = _control_parameters(dashboard, lang)
    widgets = {"name": "widgets", "in": "query", "required": False, "schema": {"type": "string", "maxLength": 500},
               "description": "Only these widgets, by key, comma-separated"}
    return {"get": {"tags": [app.key], "operationId": f"{app.key}__dashboard__{dashboard.key}",
                    "summary": _say("dashboard", lang, dashboard=dashboard.label.get(lang)),
                    "security": _READ_SECURITY,
                    "parameters": [*controls, widgets, {"$ref": "#/components/parameters/Lang"}],
                    "responses": {"200": _ok(ref("Dashboard"), "each widget's data"), **_errors()}}}


_MONEY = {"type": ["string", "null"], "pattern": "^-?[0-9]+\\.[0-9]{2}$"}
REFERRAL_SCHEMAS = {
    "ReferralTree": {
        "type": "object", "required": ["customer_id", "nodes"],
        "description": "The customers below one customer, depth first (docs/referrals.md, Analytics); those "
                       "the caller may not see are left out.",
        "properties": {"customer_id": {"type": "integer"}, "nodes": {"type": "array", "items": {
            "type": "object", "required": ["id", "parent_id", "depth", "path", "name", "value", "first_deal"],
            "properties": {"id": {"type": "integer"}, "parent_id": {"type": ["integer", "null"]},
                           "depth": {"type": "integer", "minimum": 0}, "path": {"type": "string"},
                           "name": {"type": ["string", "null"]}, "value": _MONEY,
                           "first_deal": {"type": ["string", "null"], "format": "date"}}}}}},
    "ReferralChains": {
        "type": "object", "required": ["referrers"],
        "description": "The referrers with the highest chain value, highest first (docs/referrals.md, Analytics).",
        "properties": {"referrers": {"type": "array", "items": {
            "type": "object", "required": ["referrer_id", "name", "direct", "indirect", "converted", "value"],
            "properties": {"referrer_id": {"type": "integer"}, "name": {"type": ["string", "null"]},
                           "direct": {"type": "integer"}, "indirect": {"type": "integer"},
                           "converted": {"type": "integer"}, "value": _MONEY}}}}},
}


def _referral_paths(app: App, lang: str) -> dict[str, Any]:
    customer = {"name": "customer_id", "in": "path", "required": True,
                "schema": {"type": "integer", "minimum": 1, "maximum": 2 ** 63 - 1}}
    top = {"name": "top", "in": "query", "required": False,
           "schema": {"type": "integer", "minimum": 1, "maximum": MAX_TOP, "default": 20},
           "description": "How many referrers to list"}
    lang_parameter = {"$ref": "#/components/parameters/Lang"}
    base = f"{API_PREFIX}/apps/{app.key}/referrals"
    return {
        f"{base}/tree/{{customer_id}}": {"get": {
            "tags": [app.key], "operationId": f"{app.key}__referrals__tree",
            "summary": _say("referral_tree", lang), "security": _READ_SECURITY,
            "parameters": [customer, lang_parameter],
            "responses": {"200": _ok(ref("ReferralTree"), "the tree"), **_errors()}}},
        f"{base}/referrers": {"get": {
            "tags": [app.key], "operationId": f"{app.key}__referrals__referrers",
            "summary": _say("referral_chains", lang), "security": _READ_SECURITY,
            "parameters": [top, lang_parameter],
            "responses": {"200": _ok(ref("ReferralChains"), "the referrers"), **_errors()}}},
    }
def _control_parameters(dashboard: Dashboard, lang: str) -> list[dict[str, Any]]:
    return [{"name": c.key, "in": "query", "required": False, "schema": {"type": "string", "maxLength": 100},
             "description": f"{c.label.get(lang)} ({c.kind}"
                            + ("; FROM..TO or this_month, last_30_days..." if c.kind == "date_range" else "")
                            + ")"} for c in dashboard.controls]


def _widget_export_path(app: App, dashboard: Dashboard, widget, lang: str) -> dict[str, Any]:
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return {"get": {"tags": [app.key], "operationId": f"{app.key}__dashboard__{dashboard.key}__{widget.key}__xlsx",
                    "summary": _say("widget_xlsx", lang, widget=widget.label.get(lang),
                                    dashboard=dashboard.label.get(lang)),
                    "security": _READ_SECURITY,
                    "parameters": [*_control_parameters(dashboard, lang), {"$ref": "#/components/parameters/Lang"}],
                    "responses": {"200": {"description": "the widget's rows, one line each",
                                          "content": {xlsx: {"schema": {"type": "string",
                                                                        "contentMediaType": xlsx}}}},
                                  **_errors()}}}
_ENTRY_PROPERTIES = {
    "id": {"type": "integer"}, "rule": {"type": "string"}, "kind": {"enum": ["reward", "clawback"]},
    "beneficiary": {"type": "integer", "description": "the customer rewarded"}, "friend": {"type": "integer"},
    "level": {"type": "integer"}, "source": {"type": "object", "properties": {
        "form": {"type": "string"}, "id": {"type": "integer"}}},
    "reward_kind": {"enum": ["cash", "points", "coupon"]}, "coupon": {"type": ["string", "null"]},
    "amount": {"type": "string", "description": "exact decimal, yuan (points: whole)"},
    "status": {"enum": ["pending", "vested", "approved", "paid", "cancelled", "clawed_back", "zero"]},
    "earned_on": {"type": "string", "format": "date"}, "vests_on": {"type": "string", "format": "date"},
    "paid_on": {"type": ["string", "null"], "format": "date"}, "original_id": {"type": ["integer", "null"]},
}
REWARD_SCHEMAS = {
    "RewardEntry": {"type": "object", "required": ["id", "rule", "kind", "beneficiary", "amount", "status"],
                    "properties": _ENTRY_PROPERTIES},
    "RewardEntryPage": {"type": "object", "required": ["entries", "next_cursor"], "properties": {
        "entries": {"type": "array", "items": {"$ref": "#/components/schemas/RewardEntry"}},
        "next_cursor": {"type": ["string", "null"], "description": "pass as `cursor` for the next page"}}},
    "RewardEntryExplained": {"type": "object", "required": ["id", "explanation", "text"], "properties": {
        **_ENTRY_PROPERTIES,
        "explanation": {"type": "object", "description": "every input and step (docs/rewards.md)"},
        "text": {"type": ["string", "null"], "description": "the explanation in the caller's language"},
        "recomputed": {"type": "string", "description": "the amount computed again from the stored inputs"},
        "recomputes": {"type": "boolean", "description": "recomputed equals the stored amount"}}},
}


def _reward_paths(app: App, lang: str) -> dict[str, Any]:
    zh = lang == "zh"

    def query(name: str, schema: dict, description: str) -> dict:
        return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}
    who = ("财务角色与应用管理员可查看全部；推荐人（规则设置 account_field 时）只能查看自己的奖励" if zh else
           "finance and the app's administrators read every entry; a referrer (with the rules' account_field) "
           "reads only their own")
    base = f"{API_PREFIX}/apps/{app.key}/rewards/entries"
    return {
        base: {"get": {
            "tags": [app.key], "operationId": f"{app.key}__rewards__entries",
            "summary": ("奖励台账（最新在前，按游标分页）：" if zh else "The reward ledger, newest first, keyset pages: ")
            + who, "security": _READ_SECURITY,
            "parameters": [query("beneficiary", {"type": "integer", "minimum": 1}, "only this customer's entries"),
                           query("status", {"type": "string"}, "only these statuses, comma-separated"),
                           query("rule", {"type": "string"}, "only this rule's entries"),
                           query("cursor", {"type": "string"}, "the previous page's next_cursor"),
                           query("limit", {"type": "integer", "minimum": 1, "maximum": 500}, "page size (50)"),
                           {"$ref": "#/components/parameters/Lang"}],
            "responses": {"200": _ok(ref("RewardEntryPage"), "a page of entries"), **_errors()}}},
        base + "/{id}": {"get": {
            "tags": [app.key], "operationId": f"{app.key}__rewards__entry",
            "summary": ("一条奖励及其计算说明（调用者的语言），并由存储的输入重新计算核对：" if zh else
                        "One entry with its explanation in the caller's language, recomputed from its stored "
                        "inputs: ") + who, "security": _READ_SECURITY,
            "parameters": [{"$ref": "#/components/parameters/RecordId"}, {"$ref": "#/components/parameters/Lang"}],
            "responses": {"200": _ok(ref("RewardEntryExplained"), "the entry explained"), **_errors()}}},
    }


def _document_path(lang: str) -> dict[str, Any]:
    return {"get": {"operationId": "openapi__document", "summary": _say("document", lang),
                    "security": _READ_SECURITY, "parameters": [{"$ref": "#/components/parameters/Lang"}],
                    "responses": {"200": _ok({"type": "object"}, "the OpenAPI 3.1 document"),
                                  **{str(_RESPONSES[n][0]): {"$ref": f"#/components/responses/{n}"}
                                     for n in ("Unauthorized", "RateLimited")}}}}


# ---- components ----------------------------------------------------------------------------

def _parameters(lang: str) -> dict[str, Any]:
    def query(name: str, schema: dict, description: str) -> dict:
        return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}
    return {
        "RecordId": {"name": "id", "in": "path", "required": True,
                     "schema": {"type": "integer", "minimum": 1, "maximum": 2 ** 63 - 1}},
        "Filter": query("filter", {"type": "string", "contentMediaType": "application/json"},
                        'the filter language as JSON text, e.g. {"field": "status", "op": "eq", "value": "open"} '
                        '(docs/filters.md)'),
        "Sort": query("sort", {"type": "string", "maxLength": 500},
                      "field keys separated by commas, '-' before one for descending: -created_at,name"),
        "Search": query("search", {"type": "string", "maxLength": MAX_SEARCH}, "quick search in the text fields"),
        "Cursor": query("cursor", {"type": "string", "pattern": "^[A-Za-z0-9_-]+$", "maxLength": 4000},
                        "the previous page's next_cursor"),
        "Limit": query("limit", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE,
                                 "default": DEFAULT_LIMIT}, "records per page"),
        "Count": query("count", {"enum": list(COUNT_MODES)},
                       "exact or estimate: count the matching records (exact up to 10,000, then the "
                       "database's estimate or a lower bound); none: no count. Default: on the first page only"),
        "Deleted": query("deleted", {"type": "boolean", "default": False}, "list the recycle bin instead"),
        "Lang": query("lang", {"enum": ["zh", "en"]}, "the language of messages (zh by default)"),
        "IfMatch": {"name": "If-Match", "in": "header", "required": False, "schema": {"type": "string"},
                    "description": 'the version you edited, as the ETag gave it ("3"); or `version` in the body'},
    }


def _responses(lang: str) -> dict[str, Any]:
    out = {}
    for name, (status, text) in _RESPONSES.items():
        response = {"description": text[lang], "content": _json(ref("Error"))}
        if status == 429:
            response["headers"] = {"Retry-After": {"$ref": "#/components/headers/RetryAfter"}}
        if status == 401:
            response["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}}}
        out[name] = response
    return out


def _headers() -> dict[str, Any]:
    return {"ETag": {"description": 'the record\'s version, quoted ("3"): give it back in If-Match',
                     "schema": {"type": "string"}},
            "RetryAfter": {"description": "seconds to wait", "schema": {"type": "integer", "minimum": 1}}}
