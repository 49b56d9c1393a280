"""An app with one form and the workflows a test gives, and an org to run them in.

    app = install(db, nodes)                 # the `expenses` form with workflow `flow`
    people = make_org(db)                    # accounts -> ids; see ORG below
    wf = as_user(conn, "ann")                # Workflows acting as ann
"""
from __future__ import annotations

import copy
from datetime import datetime, timezone

import yaml

from engine.definition.model import AppDef
from engine.validation import load_definition
from runtime.actor import actor_for
from runtime.apps import apply_app
from runtime.org import Org
from runtime.workflow import Workflows

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)


def L(zh, en=None):
    return {"zh": zh, "en": en or zh}


FIELDS = [
    {"key": "title", "type": "text", "label": L("标题", "Title")},
    {"key": "amount", "type": "number", "label": L("金额", "Amount")},
    {"key": "owner", "type": "member", "label": L("负责人", "Owner")},
    {"key": "dept", "type": "department", "label": L("部门", "Department")},
    {"key": "due", "type": "date", "label": L("期限", "Due")},
    {"key": "status", "type": "text", "label": L("状态", "Status")},
    {"key": "note", "type": "text", "label": L("备注", "Note")},
    {"key": "secret", "type": "text", "label": L("内部", "Internal")},
]

LINES = {"key": "lines", "label": L("明细", "Lines"), "fields": [
    {"key": "expense", "type": "relation", "target": "expenses", "label": L("报销", "Expense")},
    {"key": "item", "type": "text", "label": L("项目", "Item")},
], "workflows": [{"key": "line_check", "label": L("明细审核", "Line check"), "nodes": [
    {"key": "s", "type": "start", "next": "check"},
    {"key": "check", "type": "approve", "approvers": [{"users": ["fay"]}], "next": "e"},
    {"key": "e", "type": "end"}]}]}


def definition(nodes: list[dict], *, extra_flows: list[dict] = (), with_lines: bool = False) -> dict:
    forms = [{"key": "expenses", "label": L("报销", "Expenses"), "fields": copy.deepcopy(FIELDS),
              "workflows": [{"key": "flow", "label": L("流程", "Flow"), "nodes": nodes}, *extra_flows]}]
    if with_lines:
        forms.append(copy.deepcopy(LINES))
    return {"format_version": 1, "app": {"key": "office", "label": L("办公", "Office")}, "forms": forms}


def install(db, nodes: list[dict], **options) -> AppDef:
    """Validate (the definition must be valid) and install."""
    app = load_definition(yaml.safe_dump(definition(nodes, **options), allow_unicode=True))
    apply_app(db, app)
    return app


# ann works in 销售部 (head bob) under 总部 (head carl, role director); dan is in 销售部 too;
# fay and fred hold the role finance; root is an admin.
ORG = ("ann", "bob", "carl", "dan", "fay", "fred", "root")


def make_org(db) -> dict[str, int]:
    with db.begin() as conn:
        org = Org(conn)
        ids = {a: org.users.add(a, a.title(), is_admin=(a == "root")).id for a in ORG}
        hq = org.departments.create("总部", head="carl")
        sales = org.departments.create("销售部", parent=hq.id, head="bob")
        org.departments.add_members(sales.id, [ids["ann"], ids["dan"]], primary=True)
        org.roles.create("finance", "财务")
        org.roles.assign("finance", ["fay", "fred"])
        org.roles.create("director", "总监")
        org.roles.assign("director", ["carl"])
    ids["sales"], ids["hq"] = sales.id, hq.id
    return ids


def as_user(conn, account: str | None, now: datetime = NOW) -> Workflows:
    actor = actor_for(conn, account) if account else None
    return Workflows(conn, actor, now=now)


def pending(conn, account: str) -> list[dict]:
    return as_user(conn, account).tasks("pending")
