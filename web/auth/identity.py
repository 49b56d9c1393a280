"""Who is making the request, worked out once before every view (see web/context.py).

- `Authorization: Bearer <api key>`: the key's user (runtime/auth/api_keys.py); a key
  that is unknown, revoked or whose user is inactive answers 401 JSON at once.
- otherwise the session cookie: `uid` and `epoch`; the user must still be active and
  their session epoch unchanged (a deactivation or a password change raises it), else
  the session is dropped and the request is anonymous.

Both are one SELECT in a read-only transaction (runtime/auth/requester.py: the user,
epoch, roles and departments together, and the installed version of the app the URL
names by `<app_key>`, which the request's units of work then use: web/context.py),
nothing cached, so a deactivation ends a session, and an upgrade of the app counts, on the
very next request. A key's last use is written (in a short write
transaction of its own) only when the one noted is over a minute old. Both go through
the request's one connection (web/context.py request_connections), which the request's
work uses next.
"""
from __future__ import annotations

from flask import g, request, session
from werkzeug.exceptions import Unauthorized

from runtime.api.errors import ApiError, api_key_invalid
from runtime.auth import ApiKeys
from runtime.auth.requester import key_user, session_user
from web.context import page_lang, request_connections

SESSION_USER, SESSION_EPOCH = "uid", "epoch"


class InvalidApiKey(Unauthorized):
    """The bearer key is unknown, revoked, or its user is deactivated."""

    def api_error(self) -> ApiError:
        return api_key_invalid()


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def url_app_key() -> str | None:
    """The app the request's URL names (its `<app_key>` part), if any."""
    found = (request.view_args or {}).get("app_key")
    return found if isinstance(found, str) else None


def load_identity() -> None:
    g.actor, g.signed_in_via, g.api_key_id, g.installed_seen = None, None, None, None
    token = bearer_token()
    if token is not None:
        _from_api_key(token)
    elif SESSION_USER in session:
        _from_session()


def _from_api_key(token: str) -> None:
    with request_connections().read() as conn:
        found = key_user(conn, token, lang=page_lang(), app_key=url_app_key())
    if found is None:
        raise InvalidApiKey()
    if found.touch_due:                         # at most once a minute per key
        with request_connections().write() as conn:
            ApiKeys(conn).note_use(found.key_id)
    g.actor, g.api_key_id, g.signed_in_via = found.actor, found.key_id, "api_key"
    g.installed_seen = found.installed


def _from_session() -> None:
    with request_connections().read() as conn:
        found = session_user(conn, session.get(SESSION_USER), lang=page_lang(), app_key=url_app_key())
    if found is None or not found.actor.is_active or found.epoch != session.get(SESSION_EPOCH):
        end_session()
        return
    g.actor, g.signed_in_via = found.actor, "session"
    g.installed_seen = found.installed


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
