"""Every error a request can end in, rendered in ONE place.

HTML requests get templates/errors/error.html in the app's style; /api/ paths,
requests with an Authorization header and requests that prefer application/json get

    {"error": {"code": "...", "message": "...", "field": "..."?, "issues": [...]?}}

Runtime errors map to statuses here, and only here:
    engine NotFound -> 404, PermissionDenied / AdminRequired -> 403,
    RecordValidationError -> 422 (every field issue), FieldError / CodedError / other
    FormworkError -> 400, ConflictError / ConcurrentWriteError -> 409,
    anything else -> 500, logged, with no trace in the answer (FLASK_DEBUG or not).
A view raises the runtime's error (or a werkzeug HTTPException) and does nothing else.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

from engine.errors import (CodedError, ConcurrentWriteError, ConflictError, DefinitionError,
                           FieldError, FormworkError, NotFound, RecordValidationError)
from engine.i18n import render
from runtime.permissions import PermissionDenied
from web.context import AdminRequired, SignInRequired, page_lang


@dataclass
class ErrorAnswer:
    status: int
    code: str
    message: str
    field: str | None = None
    issues: list[dict[str, Any]] = dataclasses.field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.field:
            body["field"] = self.field
        if self.issues:
            body["issues"] = self.issues
        return {"error": body}


def status_texts() -> dict[int, tuple[str, str]]:
    """(title, what to do) per status, in the page language."""
    return {
        400: (_("The request could not be handled"), _("Check what you entered and try again.")),
        401: (_("Please sign in"), _("Sign in to continue.")),
        403: (_("You do not have access"), _("Ask an administrator for access if you need it.")),
        404: (_("Page not found"), _("The page or record does not exist, or you may not see it.")),
        405: (_("Not allowed here"), _("This address does not accept that kind of request.")),
        409: (_("Changed meanwhile"), _("Someone else changed this at the same time; reload and try again.")),
        413: (_("Too large"), _("The upload or request is larger than allowed (2 MB for requests).")),
        422: (_("Some values need fixing"), _("Fix the fields shown and try again.")),
        429: (_("Too many requests"), _("Wait a moment and try again.")),
        500: (_("Something went wrong on our side"),
              _("The problem has been logged. Try again later, or tell your administrator.")),
    }


def wants_json() -> bool:
    """/api/ paths, API-key requests (other systems), and clients preferring JSON."""
    if request.path.startswith("/api/") or request.headers.get("Authorization"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


def answer_for(exc: BaseException) -> ErrorAnswer:
    lang = page_lang()
    if isinstance(exc, HTTPException):
        return _http_answer(exc)
    if isinstance(exc, RecordValidationError):
        issues = [i.as_dict(lang) for i in exc.issues]
        return ErrorAnswer(422, "validation", "; ".join(i["message"] for i in issues),
                           field=issues[0]["field"] if issues else None, issues=issues)
    if isinstance(exc, PermissionDenied):
        return ErrorAnswer(403, exc.code, exc.message(lang))
    if isinstance(exc, NotFound):
        return ErrorAnswer(404, getattr(exc, "code", "not_found"),
                           exc.message(lang) if isinstance(exc, CodedError) else status_texts()[404][1])
    if isinstance(exc, (ConflictError, ConcurrentWriteError)):
        message = exc.message(lang) if isinstance(exc, CodedError) else str(exc)
        return ErrorAnswer(409, getattr(exc, "code", "conflict"), message)
    if isinstance(exc, FieldError):
        return ErrorAnswer(400, exc.code, render(exc.code, exc.params, lang), field=exc.params.get("field"))
    if isinstance(exc, CodedError):
        return ErrorAnswer(400, exc.code, exc.message(lang))
    if isinstance(exc, DefinitionError):
        return ErrorAnswer(400, "definition", "; ".join(p.text(lang) for p in exc.problems))
    if isinstance(exc, FormworkError):
        return ErrorAnswer(400, "invalid", str(exc))
    current_app.logger.exception("unhandled error on %s %s", request.method, request.path)
    return ErrorAnswer(500, "internal", status_texts()[500][1])


def _http_answer(exc: HTTPException) -> ErrorAnswer:
    status = exc.code or 500
    code = getattr(exc, "error_code", None) or (exc.name or "error").lower().replace(" ", "_")
    if isinstance(exc, AdminRequired):
        return ErrorAnswer(403, "admin_required", _("This page is for workspace administrators."))
    messages = {
        "csrf_missing": _("The form's security token is missing. Reload the page and send it again."),
        "csrf_invalid": _("The form's security token is out of date. Reload the page and send it again."),
        "api_key_invalid": _("The API key is not valid: it is unknown or revoked, or its user is "
                             "deactivated. Create a new key under Settings > API keys."),
    }
    if status == 401 and code not in messages:
        code = "api_key_invalid" if request.headers.get("Authorization") else "sign_in_required"
    message = messages.get(code) or status_texts().get(status, (exc.name, exc.description))[1]
    return ErrorAnswer(status, code, message)


def handle_error(exc: BaseException):
    answer = answer_for(exc)
    if isinstance(exc, SignInRequired) and not wants_json():
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    headers = {}
    if isinstance(exc, HTTPException):
        headers = {k: v for k, v in exc.get_headers() if k.lower() in ("retry-after", "allow")}
    if wants_json():
        return jsonify(answer.as_json()), answer.status, headers
    title, hint = status_texts().get(answer.status, (answer.code, ""))
    try:
        html = render_template("errors/error.html", answer=answer, title=title, hint=hint)
    except Exception:            # the layout itself failed: still no trace, just the text
        current_app.logger.exception("the error page could not be rendered")
        html = f"<!doctype html><title>{answer.status}</title><h1>{answer.status}</h1>"
    return html, answer.status, headers


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(Exception, handle_error)
