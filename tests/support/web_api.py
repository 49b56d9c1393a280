"""Helpers of the REST API tests: the flagship installed behind the web app, users with
API keys, a permission policy with row scopes and hidden fields (the role-based policy
has the same interface), and checking answers against the app's own OpenAPI document."""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Iterable

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.engine import Engine

from engine.compiled.app import App
from engine.definition.model import FormDef
from runtime.actor import Actor
from runtime.auth import ApiKeys
from runtime.permissions import ACTIONS, FULL, FormAccess
from tests.support.api_docs import assert_valid
from tests.support.web import add_user, install_flagship, make_app

APP = "crm_referral"
CUSTOMERS = f"/api/v1/apps/{APP}/forms/customers/records"
CONTACTS = f"/api/v1/apps/{APP}/forms/contacts/records"


def api_key(engine: Engine, user_id: int, name: str = "tests") -> str:
    with engine.begin() as conn:
        return ApiKeys(conn).create(user_id, name)[1]


def bearer(secret: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}", **headers}


class OwnRowsPolicy:
    """Non-administrators reach only the records they own, never see `hidden` fields
    and may do only `actions` (per form key; others all actions): a policy of row
    scope and hidden fields as issue #9's permission sets give one."""

    def __init__(self, hidden: dict[str, Iterable[str]] | None = None,
                 actions: dict[str, Iterable[str]] | None = None):
        self.hidden = {form: frozenset(keys) for form, keys in (hidden or {}).items()}
        self.actions = {form: frozenset(keys) for form, keys in (actions or {}).items()}

    def access(self, app: App, form: FormDef, actor: Actor) -> FormAccess:
        if actor.is_admin:
            return FULL
        table = app.tables.form_table(form.key)
        return FormAccess(self.actions.get(form.key, ACTIONS), table.c.owner_id == actor.user_id,
                          self.hidden.get(form.key, frozenset()))


@dataclass
class ApiWorld:
    """The flagship behind the web app, two users (li.lei, han.meimei) with a key each."""
    engine: Engine
    app: Flask
    client: FlaskClient
    users: dict[str, int]
    keys: dict[str, str]

    def headers(self, who: str = "li", **more: str) -> dict[str, str]:
        return bearer(self.keys[who], **more)

    def document(self, who: str = "li") -> dict[str, Any]:
        answer = self.client.get("/api/v1/openapi.json", headers=self.headers(who))
        assert answer.status_code == 200, answer.data[:300]
        return json.loads(answer.data)

    def create(self, values: dict[str, Any], who: str = "li", form: str = "customers") -> dict[str, Any]:
        answer = self.client.post(f"/api/v1/apps/{APP}/forms/{form}/records", json=values,
                                  headers=self.headers(who))
        assert answer.status_code == 201, answer.json
        return answer.json

    def dispose(self) -> None:
        self.app.extensions["formwork"].engine.dispose()


def api_world(engine: Engine, **config: Any) -> ApiWorld:
    install_flagship(engine)
    users = {"li": add_user(engine, "li.lei", "李雷"), "han": add_user(engine, "han.meimei", "韩梅梅")}
    keys = {who: api_key(engine, uid) for who, uid in users.items()}
    app = make_app(engine, **config)
    return ApiWorld(engine, app, app.test_client(), users, keys)


def assert_answer_matches(document: dict[str, Any], schema_name: str, answer) -> None:
    """The JSON of `answer` is valid against the component `schema_name` of `document`."""
    assert answer.is_json, f"not JSON: {answer.status_code} {answer.data[:200]!r}"
    assert_valid(document, schema_name, answer.json)
