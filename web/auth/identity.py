"""Who is making the request, worked out once before every view (see web/context.py).

- `Authorization: Bearer <api key>`: the key's user (runtime/auth/api_keys.py); a key
  that is unknown, revoked or whose user is inactive answers 401 JSON at once.
- otherwise the session cookie: `uid` and `epoch`; the user must still be active and
  their session epoch unchanged (a deactivation or a password change raises it), else
  the session is dropped and the request is anonymous.
"""
from __future__ import annotations

from flask import g, request, session
from werkzeug.exceptions import Unauthorized

from engine.errors import NotFound
from engine.storage.db import read_connection
from runtime.actor import actor_for
from runtime.api.errors import ApiError, api_key_invalid
from runtime.auth import ApiKeys, epoch_of
from web.context import db_engine, page_lang

SESSION_USER, SESSION_EPOCH = "uid", "epoch"


class InvalidApiKey(Unauthorized):
    """The bearer key is unknown, revoked, or its user is deactivated."""

    def api_error(self) -> ApiError:
        return api_key_invalid()


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def load_identity() -> None:
    g.actor, g.signed_in_via, g.api_key_id = None, None, None
    token = bearer_token()
    if token is not None:
        _from_api_key(token)
    elif SESSION_USER in session:
        _from_session()


def _from_api_key(token: str) -> None:
    with db_engine().begin() as conn:          # verifying notes the key's last use
        found = ApiKeys(conn).authenticate(token)
        if found is None:
            raise InvalidApiKey()
        g.api_key_id, user_id = found
        g.actor = actor_for(conn, user_id, lang=page_lang())
    g.signed_in_via = "api_key"


def _from_session() -> None:
    user_id, epoch = session.get(SESSION_USER), session.get(SESSION_EPOCH)
    with read_connection(db_engine()) as conn:
        try:
            actor = actor_for(conn, user_id, lang=page_lang())
        except NotFound:
            actor = None
        current = epoch_of(conn, user_id) if actor is not None else None
    if actor is None or not actor.is_active or current != epoch:
        end_session()
        return
    g.actor, g.signed_in_via = actor, "session"


def start_session(user_id: int, epoch: int) -> None:
    """Sign in: a fresh session (a new CSRF token too), the language kept."""
    end_session()
    session[SESSION_USER], session[SESSION_EPOCH] = user_id, epoch
    session.permanent = True


def end_session() -> None:
    """Sign out: forget everything in the session but the chosen language."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
