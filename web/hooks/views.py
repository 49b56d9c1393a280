"""Incoming webhooks of automations: POST /hooks/<app>/<automation>/<secret> (or
POST /hooks/<app>/<automation> with the secret in the X-Formwork-Secret header, which
keeps it out of access logs).

The body is at most FORMWORK_HOOK_MAX_BYTES (default 256 KiB; 413 beyond), a JSON
object (400 saying line and column when it does not parse). The secret is checked by
runtime/automations/triggers.py (SHA-256 digests compared in constant time); an unknown
app or automation, a disabled one, one whose secret is not set and a wrong secret all
answer the same 404, so the endpoint tells nobody which automations exist. The run is
queued as a job (run after the commit in the embedded inline mode, else by an RQ
worker) and the answer is 202 with the job, its status and the run it logged.
X-Delivery-Id (or Idempotency-Key) makes a delivery sent twice run once.

No session cookie and no CSRF token: the secret is the credential (web/auth/csrf.py
leaves /hooks/ alone). The hook acts as the system.
"""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request
from werkzeug.exceptions import RequestEntityTooLarge

from engine.errors import NotFound
from runtime.api.errors import ApiError, ApiIssue, body_too_large, error_response, webhook_not_found
from runtime.automations.triggers import WebhookBodyInvalid, WebhookRefused, accept_webhook, parse_webhook_body
from runtime.session import Session
from web.context import db_engine, request_connections
from web.errors import answer_lang

bp = Blueprint("hooks", __name__, url_prefix="/hooks")

DEFAULT_MAX_BYTES = 256 * 1024
SECRET_HEADER = "X-Formwork-Secret"
PREFIX = "/hooks/"


def max_bytes() -> int:
    return int(current_app.config.get("FORMWORK_HOOK_MAX_BYTES") or DEFAULT_MAX_BYTES)


def _error(exc: BaseException):
    answer = error_response(exc, answer_lang())
    return jsonify(answer.body), answer.status, answer.headers


@bp.post("/<app_key>/<automation_key>/<secret>")
@bp.post("/<app_key>/<automation_key>", defaults={"secret": None})
def receive(app_key: str, automation_key: str, secret: str | None):
    limit = max_bytes()
    request.max_content_length = limit
    try:
        raw = request.get_data(cache=False)
    except RequestEntityTooLarge:
        return _error(body_too_large(limit))
    try:
        payload = parse_webhook_body(raw)
    except WebhookBodyInvalid as exc:
        where = {"line": exc.line, "column": exc.column} if exc.line is not None else {}
        return _error(ApiError(400, "api_bad_request", issues=[ApiIssue("body", exc.code, dict(exc.params), where)]))
    delivery = (request.headers.get("X-Delivery-Id") or request.headers.get("Idempotency-Key") or "")[:100] or None
    session = Session(db_engine(), connections=request_connections())
    try:
        outcome = accept_webhook(session, app_key, automation_key, secret or request.headers.get(SECRET_HEADER, ""),
                                 payload, delivery_id=delivery)
    except (WebhookRefused, NotFound):
        return _error(webhook_not_found())
    return jsonify(outcome), 202
