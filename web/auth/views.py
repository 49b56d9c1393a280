"""/login (fields `account`, `password`), POST /logout, POST /lang."""
from __future__ import annotations

import time

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from engine.storage.db import read_connection
from runtime.auth import SignInThrottle
from runtime.auth.sign_in import attempt_sign_in
from web.auth.identity import end_session, start_session
from web.context import current_actor, db_engine, page_lang
from web.i18n import LOCALES, SESSION_KEY as LANG_KEY

bp = Blueprint("auth", __name__)

SLOW_AFTER = 2     # failures before each further try waits FORMWORK_SIGN_IN_DELAY seconds more


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path on this site only (no //host, no scheme)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("pages.home")


@bp.route("/login", methods=["GET", "POST"])
def login():
    next_url = safe_next(request.values.get("next"))
    if request.method == "GET":
        if current_actor() is not None:
            return redirect(next_url)
        return render_template("auth/login.html", next=next_url, account="", error=None)
    account = request.form.get("account", "").strip()
    password = request.form.get("password", "")
    ip = request.remote_addr
    _slow_down(account, ip)
    with db_engine().begin() as conn:
        result = attempt_sign_in(conn, account, password, ip)
    if result.ok:
        start_session(result.user.id, result.epoch)
        return redirect(next_url)
    if result.lockout is not None:
        error, status = result.lockout.message(page_lang()), 429
    else:
        error, status = _("The account or password is not right. Check them and try again."), 401
    return render_template("auth/login.html", next=next_url, account=account, error=error), status


def _slow_down(account: str, ip: str | None) -> None:
    """Each try after SLOW_AFTER recent failures waits a little longer (then the throttle locks)."""
    delay = current_app.config.get("FORMWORK_SIGN_IN_DELAY", 0)
    if not delay:
        return
    with read_connection(db_engine()) as conn:
        failures = SignInThrottle(conn).failures(account, ip)
    if failures > SLOW_AFTER:
        time.sleep(min(5.0, delay * (failures - SLOW_AFTER)))


@bp.post("/logout")
def logout():
    end_session()
    return redirect(url_for("auth.login"))


@bp.post("/lang")
def choose_lang():
    chosen = request.form.get("lang")
    if chosen in LOCALES:
        session[LANG_KEY] = chosen
    return redirect(safe_next(request.form.get("next")))
