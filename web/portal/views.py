"""The referrer's portal (docs/referrals.md): public, phone-first pages under /portal.

    GET  /portal                  signed in: my codes, referrals, rewards, totals; else the phone form
    POST /portal/link             ask for a sign-in link with a phone (the same answer whatever the phone)
    GET  /portal/login/<token>    the link: a page with one button (a link checker that opens it uses nothing)
    POST /portal/login/<token>    use the link: the portal session starts
    POST /portal/logout           sign out

The portal session is its own cookie (PORTAL_COOKIE, signed, HttpOnly, SameSite=Lax, path
/portal): the browser never sends it to a staff page or the API, and the staff sign-in
(web/auth) never reads it, so a portal visitor reaches nothing of the staff's. What the
cookie names (a link's row) is checked on every portal request (runtime/referrals/portal.py
`visitor`), and every list is filtered by the visit's customer in SQL; no portal address
takes a customer id. The app served is FORMWORK_PORTAL_APP, else the first installed app
with a referral programme. POSTs carry the CSRF token like every page (web/auth/csrf.py).
"""
from __future__ import annotations

from flask import Blueprint, current_app, g, make_response, redirect, render_template, request, url_for
from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.exceptions import NotFound

from runtime.referrals.portal import (LINK_MINUTES, SESSION_DAYS, PortalLinkRefused, check_link, end_visit,
                                      portal_app_key, portal_view, redeem_link, request_link, visitor,
                                      workspace_today)
from runtime.session import Session
from web.context import db_engine, page_lang, request_connections

bp = Blueprint("portal", __name__, url_prefix="/portal")

PORTAL_COOKIE = "fw_portal"
COOKIE_SALT = "formwork.portal.session"
REFUSED_STATUS = {"expired": 410, "used": 410, "invalid": 400, "other_app": 400}


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=COOKIE_SALT)


def _session() -> Session:
    """The system's session on the request's connection: the portal's services filter
    by the visit's customer themselves."""
    return Session(db_engine(), connections=request_connections())


def portal_app() -> str:
    if "portal_app" not in g:
        with request_connections().read() as conn:
            g.portal_app = portal_app_key(conn, current_app.config.get("FORMWORK_PORTAL_APP"))
    if g.portal_app is None:
        raise NotFound()
    return g.portal_app


def current_visit(app_key: str) -> tuple[int, int] | None:
    """(link id, customer id) of the signed-in referrer, or None."""
    raw = request.cookies.get(PORTAL_COOKIE)
    if not raw:
        return None
    try:
        payload = _serializer().loads(raw, max_age=SESSION_DAYS * 86400)
    except BadSignature:
        return None
    if not isinstance(payload, dict) or payload.get("a") != app_key:
        return None
    with request_connections().read() as conn:
        customer = visitor(conn, app_key, payload.get("l"))
    return None if customer is None else (payload["l"], customer)


def _cookie_secure() -> bool:
    return bool(current_app.config.get("FORMWORK_SECURE_COOKIES")) or request.is_secure


def _page(template: str, status: int = 200, **context):
    response = make_response(render_template(template, app_label=_app_label(), **context), status)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"       # the token never leaves in a Referer
    return response


def _app_label() -> str:
    key = g.get("portal_app")
    if not key:
        return "Formwork"
    with _session().read() as uow:
        app = uow.installed(key)
    return app.definition.label.get(page_lang()) if app is not None else key


@bp.get("")
def home():
    app_key = portal_app()
    visit = current_visit(app_key)
    if visit is None:
        return _page("portal/start.html")
    with _session().read() as uow:
        app = uow.app(app_key)
        view = portal_view(uow.conn, app, visit[1], on=workspace_today(uow), lang=page_lang(),
                           base_url=request.url_root)
    if view is None:
        return _signed_out(redirect(url_for("portal.home")))
    return _page("portal/home.html", view=view)


@bp.post("/link")
def ask_for_link():
    app_key = portal_app()
    phone = (request.form.get("phone") or "")[:64]
    with _session().write() as uow:
        request_link(uow, app_key, phone, secret=current_app.config["SECRET_KEY"], base_url=request.url_root)
    return _page("portal/sent.html", minutes=LINK_MINUTES)


@bp.get("/login/<token>")
def link(token: str):
    app_key = portal_app()
    try:
        with _session().read() as uow:
            check_link(uow.conn, app_key, token, secret=current_app.config["SECRET_KEY"])
    except PortalLinkRefused as refused:
        return _refused(refused)
    return _page("portal/login.html", token=token, minutes=LINK_MINUTES)


@bp.post("/login/<token>")
def login(token: str):
    app_key = portal_app()
    try:
        with _session().write() as uow:
            visit = redeem_link(uow.conn, app_key, token, secret=current_app.config["SECRET_KEY"])
    except PortalLinkRefused as refused:
        return _refused(refused)
    response = redirect(url_for("portal.home"))
    response.set_cookie(PORTAL_COOKIE, _serializer().dumps({"a": app_key, "l": visit.link_id}),
                        max_age=SESSION_DAYS * 86400, path="/portal", httponly=True, samesite="Lax",
                        secure=_cookie_secure())
    return response


@bp.post("/logout")
def logout():
    app_key = portal_app()
    visit = current_visit(app_key)
    if visit is not None:
        with _session().write() as uow:
            end_visit(uow.conn, visit[0])
    return _signed_out(redirect(url_for("portal.home")))


def _signed_out(response):
    response.delete_cookie(PORTAL_COOKIE, path="/portal")
    return response


def _refused(refused: PortalLinkRefused):
    return _page("portal/refused.html", REFUSED_STATUS.get(refused.reason, 400), reason=refused.reason,
                 message=refused.message(page_lang()))
