"""The workflow app of tests/support/workflow_app.py behind the web app: an approval by
the role finance (fay or fred, 或签) then an end, the org with a password for everyone,
and submitting as ann.

    world = workflow_world(db)              # .app .engine .people .keys (account -> API key)
    record_id = submit(db, "差旅", 20000)    # as ann; the flow waits for finance
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import Flask
from sqlalchemy.engine import Engine

from runtime.auth import ApiKeys
from runtime.org import Org
from runtime.session import Session
from tests.support.web import PASSWORD, make_app
from tests.support.workflow_app import ORG, install, make_org

APP, FORM = "office", "expenses"
RECORDS = f"/api/v1/apps/{APP}/forms/{FORM}/records"

NODES = [
    {"key": "submit", "type": "start", "next": "finance"},
    {"key": "finance", "type": "approve", "label": {"zh": "财务审批", "en": "Finance"},
     "approvers": [{"role": "finance"}], "next": "tell"},
    {"key": "tell", "type": "cc", "approvers": [{"users": ["dan"]}], "next": "done"},
    {"key": "done", "type": "end"},
]


@dataclass
class WorkflowWorld:
    engine: Engine
    app: Flask
    people: dict[str, int]
    keys: dict[str, str]

    def auth(self, account: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[account]}"}


def workflow_world(db, nodes: list[dict] = NODES, **config) -> WorkflowWorld:
    people, keys = set_up(db, nodes)
    return WorkflowWorld(db, make_app(db, **config), people, keys)


def set_up(db, nodes: list[dict] = NODES) -> tuple[dict[str, int], dict[str, str]]:
    """Install the app, make the org (everyone's password: PASSWORD) and an API key each."""
    install(db, nodes)
    people = make_org(db)
    with db.begin() as conn:
        org, keys = Org(conn), {}
        for account in ORG:
            org.users.set_password(account, PASSWORD)
            keys[account] = ApiKeys(conn).create(people[account], "tests")[1]
    return people, keys


def submit(engine: Engine, title: str = "差旅", amount: int = 20000, account: str = "ann") -> int:
    with Session.for_user(engine, account).write() as uow:
        record, _instance = uow.workflows.submit(APP, FORM, {"title": title, "amount": amount})
    return record["id"]
