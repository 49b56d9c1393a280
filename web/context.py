"""What a view needs about the request it serves, in one place, so views stay thin:

    from web.context import current_actor, runtime_session, login_required, page_lang

    @bp.get("/things")
    @login_required
    def things():
        with runtime_session().read() as uow:
            ...

- `current_actor()`: the signed-in user's Actor (runtime/actor.py), None when anonymous.
- `runtime_session()`: a runtime Session (runtime/session.py) acting as that user under
  the app's permission policy, told the installed version of the app the URL names (read
  with who is asking, web/auth/identity.py); raises SignInRequired (-> the sign-in page, or 401 JSON)
  when nobody is signed in.
- `page_lang()`: "zh" or "en", the language of this page (runtime messages use it).
- `db_engine()`: the SQLAlchemy engine of the app (for what is not a unit of work).
- `request_connections()`: the request's one pooled connection (engine/storage/db.py
  OneConnection), lent to who-is-asking and to every unit of work of the request, given
  back when the request ends (`release_connection`, a teardown of create_app).
- `login_required`: a view decorator; anonymous requests go to /login?next=...

Who is signed in is worked out once per request by web/auth/identity.py.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

from flask import current_app, g
from sqlalchemy.engine import Engine
from werkzeug.exceptions import Forbidden, Unauthorized

from runtime.actor import Actor
from runtime.api.errors import ApiError, admin_required as admin_required_error, unauthorized
from engine.storage.db import OneConnection
from runtime.auth import RateLimiter
from runtime.permissions import Policy
from runtime.session import Session

EXTENSION = "formwork"


@dataclass
class WebState:
    """What create_app keeps for the views: the database engine, the permission policy
    and the API's rate limiter (None: no limit)."""
    engine: Engine
    policy: Policy
    rate_limiter: RateLimiter | None = None


class SignInRequired(Unauthorized):
    """Nobody is signed in: HTML requests go to the sign-in page, others get 401."""

    def api_error(self) -> ApiError:
        return unauthorized()


def state() -> WebState:
    return current_app.extensions[EXTENSION]


def db_engine() -> Engine:
    return state().engine


def request_connections() -> OneConnection:
    """The request's connection, checked out at its first transaction."""
    found = g.get("db_connections")
    if found is None:
        found = g.db_connections = OneConnection(db_engine())
    return found


def release_connection(_error=None) -> None:
    """Give the request's connection back to the pool (a teardown of every request)."""
    found = g.pop("db_connections", None)
    if found is not None:
        found.close()


def current_actor() -> Actor | None:
    return g.get("actor")


def signed_in_via() -> str | None:
    """"session" (cookie), "api_key" (Authorization: Bearer) or None."""
    return g.get("signed_in_via")


def api_key_id() -> int | None:
    """The id of the API key the request came with (None for a session or nobody)."""
    return g.get("api_key_id")


def page_lang() -> str:
    """The page's language as the runtime names it: "zh" or "en"."""
    return g.get("lang", "zh")


def runtime_session() -> Session:
    """A runtime Session acting as the signed-in user (one per request)."""
    actor = current_actor()
    if actor is None:
        raise SignInRequired()
    found = g.get("runtime_session")
    if found is None:
        found = g.runtime_session = Session(db_engine(), actor, policy=state().policy,
                                            connections=request_connections(),
                                            seen_installed=g.get("installed_seen"))
    return found


def login_required(view):
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        if current_actor() is None:
            raise SignInRequired()
        return view(*args, **kwargs)
    return wrapper


def admin_required(view):
    """Like login_required, and the user must be a workspace administrator (else 403)."""
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        actor = current_actor()
        if actor is None:
            raise SignInRequired()
        if not actor.is_admin:
            raise AdminRequired()
        return view(*args, **kwargs)
    return wrapper


class AdminRequired(Forbidden):
    """The page is for workspace administrators (rendered as 403 by web/errors.py)."""

    def api_error(self) -> ApiError:
        return admin_required_error()
