"""What the automation and notification tests share: a small app whose automations a test
chooses, installed on the test's database, and readers of the run log and the jobs."""
from __future__ import annotations

import json

import sqlalchemy as sa

from engine.compiled import compiled
from engine.storage import system
from engine.storage.db import read_connection
from engine.validation import load_definition
from runtime.apps import apply_app


def L(zh, en=None):
    return {"zh": zh, "en": en or zh}


STAGES = [{"value": v, "label": L(v)} for v in ("new", "contacted", "won", "lost")]

FORMS = [
    {"key": "leads", "label": L("线索", "Leads"), "title_field": "name", "fields": [
        {"key": "name", "type": "text", "label": L("名称", "Name"), "required": True},
        {"key": "stage", "type": "select", "label": L("阶段", "Stage"), "options": STAGES, "default": "new"},
        {"key": "score", "type": "number", "label": L("分数", "Score"), "precision": 0},
        {"key": "owner", "type": "member", "label": L("负责人", "Owner")},
        {"key": "follow_up_on", "type": "date", "label": L("跟进日期", "Follow up on")},
        {"key": "note", "type": "text", "label": L("备注", "Note")},
    ]},
    {"key": "tasks", "label": L("任务", "Tasks"), "fields": [
        {"key": "title", "type": "text", "label": L("标题", "Title"), "required": True},
        {"key": "lead", "type": "relation", "label": L("线索", "Lead"), "target": "leads"},
        {"key": "code", "type": "text", "label": L("编码", "Code")},
        {"key": "count", "type": "number", "label": L("次数", "Count"), "precision": 0},
    ]},
]


def automation(key, trigger, actions, *, form="leads", condition=None, **more):
    found = {"key": key, "label": L(key), "trigger": trigger, "actions": actions, **more}
    if form:
        found["form"] = form
    if condition:
        found["condition"] = condition
    return found


def definition(*automations) -> dict:
    return {"format_version": 1, "app": {"key": "auto", "label": L("自动化", "Automations")},
            "forms": FORMS, "automations": list(automations)}


def install(engine, *automations):
    """Validate (every automation a test uses passes the checks) and install."""
    app = load_definition(json.dumps(definition(*automations)))
    apply_app(engine, app)
    return app


def runs(engine, **where) -> list[dict]:
    table = system.automation_runs
    query = sa.select(table).order_by(table.c.id)
    for key, value in where.items():
        query = query.where(table.c[key] == value)
    with read_connection(engine) as conn:
        return [dict(r) for r in conn.execute(query).mappings()]


def jobs_of(engine, kind: str) -> list[dict]:
    with read_connection(engine) as conn:
        return [dict(r) for r in conn.execute(sa.select(system.jobs).where(system.jobs.c.kind == kind)
                                              .order_by(system.jobs.c.id)).mappings()]


def rows(engine, app, form: str) -> list[dict]:
    """Every live record of `form`: {id, fields...}, by id."""
    table = app_table(app, form)
    with read_connection(engine) as conn:
        return [dict(r) for r in conn.execute(sa.select(table).where(table.c.deleted_at.is_(None))
                                              .order_by(table.c.id)).mappings()]


def app_table(app, form: str) -> sa.Table:
    return compiled(app).tables.form_table(form)
