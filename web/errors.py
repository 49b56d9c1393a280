"""Every error a request can end in, rendered in ONE place, with ONE mapping of
exceptions to statuses and messages: runtime.api.errors.error_response.

JSON (for the API's /api/v1/ paths, requests with an Authorization header and clients preferring
application/json) is the API's error shape, as docs/api.md and the OpenAPI document
describe it:

    {"error": {"code", "message", "message_zh", "message_en", "fields": [...], "details"?}}

HTML requests get templates/errors/error.html in the app's style, showing the same
status, message and field problems. Web-layer refusals (CSRF, a bad API key, sign-in
or administrator required) say which API error they are through their `api_error()`;
werkzeug's own HTTP errors (no such address, wrong method, a body over 2 MB, a rate
limit) are turned into theirs here. Anything unexpected is a 500, logged, with no trace
in the answer (FLASK_DEBUG or not). A view raises the runtime's error (or a werkzeug
HTTPException) and does nothing else.
"""
from __future__ import annotations

from flask import Flask, current_app, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound, RequestEntityTooLarge

from runtime.api.errors import (ErrorResponse, body_too_large, error_response, http_error,
                                method_not_allowed, not_found, unauthorized, webhook_not_found)
from runtime.api.requests import request_lang
from web.context import SignInRequired, page_lang


def status_texts() -> dict[int, tuple[str, str]]:
    """(title, what to do) per status, in the page language (for HTML pages)."""
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


def is_api_path() -> bool:
    """The REST API's paths (/api/v1/...); /api/docs is a page."""
    return request.path.startswith("/api/v")


def is_hook_path() -> bool:
    """Incoming webhooks (/hooks/..., web/hooks): other systems, answered in JSON."""
    return request.path.startswith("/hooks/")


def wants_json() -> bool:
    """API paths, webhooks, API-key requests (other systems), and clients preferring JSON."""
    if is_api_path() or is_hook_path() or request.headers.get("Authorization"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


def answer_lang() -> str:
    """The API answers in ?lang=, else Accept-Language, else zh; pages in the page language."""
    if is_api_path():
        return request_lang(request.args.get("lang"), request.headers.get("Accept-Language"))
    return page_lang()


def api_error_of(exc: BaseException) -> BaseException:
    """The exception error_response maps: a web refusal's own API error, werkzeug's HTTP
    errors as API errors, the runtime's errors (and bugs) as they are."""
    if not isinstance(exc, HTTPException):
        return exc
    own = getattr(exc, "api_error", None)
    if callable(own):
        return own()
    headers = {k: v for k, v in exc.get_headers() if k.lower() in ("retry-after", "allow")}
    if isinstance(exc, NotFound):
        if is_hook_path():      # the one answer of every hook that is not there (web/hooks)
            return webhook_not_found()
        return not_found(f"there is nothing at {request.path[:200]}")
    if isinstance(exc, MethodNotAllowed):
        return method_not_allowed(request.method, list(exc.valid_methods or []))
    if isinstance(exc, RequestEntityTooLarge):
        return body_too_large(current_app.config["MAX_CONTENT_LENGTH"])
    if exc.code == 401:
        return unauthorized()
    error = http_error(exc.code or 500, exc.name or "")
    error.headers.update(headers)
    return error


def answer_for(exc: BaseException) -> ErrorResponse:
    """THE answer to `exc` (status, API error body, headers); a 500 is logged with its trace."""
    answer = error_response(api_error_of(exc), answer_lang())
    if answer.status >= 500:
        current_app.logger.error("unhandled error on %s %s", request.method, request.path, exc_info=exc)
    return answer


def handle_error(exc: BaseException):
    if isinstance(exc, SignInRequired) and not wants_json():
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    answer = answer_for(exc)
    if wants_json():
        return jsonify(answer.body), answer.status, answer.headers
    error = answer.body["error"]
    title, hint = status_texts().get(answer.status, (str(answer.status), ""))
    try:
        html = render_template("errors/error.html", status=answer.status, error=error, title=title, hint=hint)
    except Exception:            # the layout itself failed: still no trace, just the text
        current_app.logger.exception("the error page could not be rendered")
        html = f"<!doctype html><title>{answer.status}</title><h1>{answer.status}</h1>"
    return html, answer.status, answer.headers


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(Exception, handle_error)

