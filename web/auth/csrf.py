"""CSRF protection for every state-changing request made with the session cookie.

The token lives in the session. Templates put it in forms as a hidden field
(`{{ csrf_field() }}`, named `csrf_token`) and in the page head as
`<meta name="csrf-token">`, from which web/static/js/http.js sends it as the
`X-CSRF-Token` header. Requests authenticated by an API key (Authorization: Bearer)
carry no cookie a third party could ride on, so they need no token; nor do anonymous
API requests, which act as nobody and are refused with 401; nor do incoming webhooks
(/hooks/, web/hooks/views.py), which use no cookie and are checked by their secret.
"""
from __future__ import annotations

import hmac
import secrets

from flask import request, session
from markupsafe import Markup, escape
from werkzeug.exceptions import BadRequest

from runtime.api.errors import ApiError, csrf_invalid, csrf_missing
from web.context import signed_in_via

FIELD, HEADER, SESSION_KEY = "csrf_token", "X-CSRF-Token", "csrf"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


class CsrfRefused(BadRequest):
    """The CSRF token is missing or wrong (rendered as 400 by web/errors.py)."""

    def __init__(self, missing: bool):
        super().__init__()
        self.missing = missing

    def api_error(self) -> ApiError:
        return csrf_missing(HEADER) if self.missing else csrf_invalid(HEADER)


def csrf_token() -> str:
    token = session.get(SESSION_KEY)
    if not token:
        token = session[SESSION_KEY] = secrets.token_urlsafe(32)
    return token


def csrf_field() -> Markup:
    return Markup(f'<input type="hidden" name="{FIELD}" value="{escape(csrf_token())}">')


HOOKS_PREFIX = "/hooks/"     # incoming webhooks: their secret is the credential, no cookie is used


def check_csrf() -> None:
    if request.method in SAFE_METHODS or signed_in_via() == "api_key" or request.path.startswith(HOOKS_PREFIX):
        return
    if request.path.startswith("/api/") and signed_in_via() is None:
        return          # nobody to act as: the API answers 401 (only pages take anonymous forms)
    sent = request.headers.get(HEADER) or request.form.get(FIELD)
    if not sent:
        raise CsrfRefused(missing=True)
    expected = session.get(SESSION_KEY)
    if not expected or not hmac.compare_digest(str(sent), str(expected)):
        raise CsrfRefused(missing=False)
