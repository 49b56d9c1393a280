"""The public side of the referral programme (docs/referrals.md): no sign-in.

    GET  /r/<code>              the landing page; records the visit as a touch (?ch=qr: a poster scan)
    POST /r/<code>              the friend's form: the referral (runtime/referrals/intake.py)
    GET  /r/<code>/thanks       the thank-you page
    GET  /r/<code>/image        the campaign's image shown on the landing page
    GET  /r/<code>/poster.png   the referrer's poster with the QR code of the link (ETag)

Which app: FORMWORK_REFERRAL_APP when set, else the installed app whose programme the
code names (runtime/referrals/intake.find_share). The views act as the system (nobody is
signed in) through one runtime call each. The visitor cookie (VISITOR_COOKIE) is a
random first-party id, HttpOnly, SameSite=Lax, kept a year: it ties the friend's form to
the links they clicked (attribution). The form is CSRF-protected like every form and
limited per address (FORMWORK_REFERRAL_RATE, default 20/hour).
"""
from __future__ import annotations

from flask import Blueprint, Response, current_app, redirect, render_template, request, url_for
from werkzeug.exceptions import NotFound, TooManyRequests

from engine.errors import RecordValidationError
from runtime.actor import Actor
from runtime.auth import Rate, RateLimiter
from runtime.files import file_store
from runtime.referrals.attribution import new_visitor_id, valid_visitor_id
from runtime.referrals.codes import share_path
from runtime.referrals.intake import CampaignClosed, FriendForm, ShareNotFound, Visit, landing_of, refer, visit
from runtime.referrals.poster import campaign_image, poster_of
from runtime.session import Session
from web.context import db_engine, page_lang, request_connections

bp = Blueprint("referrals", __name__)

VISITOR_COOKIE = "fw_ref_visitor"
VISITOR_AGE = 365 * 24 * 3600
DEFAULT_RATE = "20/hour"
LIMITER = "formwork.referral_limiter"


def public_session() -> Session:
    """The system's session on the request's connection, answering in the page's language."""
    return Session(db_engine(), Actor.system(page_lang()), connections=request_connections())


def app_key() -> str | None:
    return current_app.config.get("FORMWORK_REFERRAL_APP") or None


def limiter() -> RateLimiter:
    found = current_app.extensions.get(LIMITER)
    if found is None:
        rate = Rate.parse(str(current_app.config.get("FORMWORK_REFERRAL_RATE") or DEFAULT_RATE))
        found = current_app.extensions[LIMITER] = RateLimiter(
            rate, redis_url=current_app.config.get("REDIS_URL"),
            redis_prefix=current_app.config.get("FORMWORK_REDIS_PREFIX") or "formwork:")
    return found


def visitor_id() -> tuple[str, bool]:
    """The visitor's id and whether it is new (the cookie is then set)."""
    found = valid_visitor_id(request.cookies.get(VISITOR_COOKIE))
    return (found, False) if found else (new_visitor_id(), True)


def remember(response: Response, visitor: str) -> Response:
    response.set_cookie(VISITOR_COOKIE, visitor, max_age=VISITOR_AGE, httponly=True, samesite="Lax",
                        secure=bool(current_app.config.get("FORMWORK_SECURE_COOKIES")) or request.is_secure)
    return response


def unavailable(code: str, found: Visit | None):
    """The friendly page of a code that names nobody (404) or a campaign not taking referrals (410)."""
    if found is None:
        return render_template("referrals/closed.html", code=code, page=None, reason="unknown"), 404
    status = 410 if found.page.state == "ended" else 200
    return render_template("referrals/closed.html", code=code, page=found.page, reason=found.page.state), status


def share_link(code: str, **query) -> str:
    """The absolute share link of a code: FORMWORK_PUBLIC_URL (e.g. https://crm.example.com)
    when set, else the host this request came to."""
    base = current_app.config.get("FORMWORK_PUBLIC_URL")
    if base:
        suffix = "&".join(f"{k}={v}" for k, v in query.items())
        return f"{str(base).rstrip('/')}{share_path(code)}" + (f"?{suffix}" if suffix else "")
    return url_for("referrals.landing", code=code, _external=True, **query)


@bp.get("/r/<code>")
def landing(code: str):
    visitor, new = visitor_id()
    channel = "qr" if request.args.get("ch") == "qr" else "link"
    found = public_session().write(lambda uow: visit(
        uow, code, app_key=app_key(), visitor=visitor, channel=channel, ip=request.remote_addr,
        user_agent=request.headers.get("User-Agent")))
    if found is None or not found.page.is_open:
        return unavailable(code, found)
    response = Response(render_template("referrals/landing.html", page=found.page, values=FriendForm(),
                                        issues={}, poster_url=url_for("referrals.poster", code=found.page.share.code)))
    return remember(response, visitor) if new else response


@bp.post("/r/<code>")
def submit(code: str):
    if not limiter().hit(f"referral:{request.remote_addr}").allowed:
        raise TooManyRequests()
    visitor = valid_visitor_id(request.cookies.get(VISITOR_COOKIE))
    values = FriendForm(name=request.form.get("friend_name", "")[:100],
                        phone=request.form.get("friend_phone", "")[:40],
                        email=request.form.get("friend_email", "")[:200], consent=request.form.get("consent") == "yes")
    try:
        public_session().write(lambda uow: refer(uow, code, values, app_key=app_key(), visitor=visitor,
                                                 ip=request.remote_addr))
    except ShareNotFound:
        return unavailable(code, None)
    except (CampaignClosed, RecordValidationError) as refused:
        with public_session().read() as uow:
            found = landing_of(uow, code, app_key=app_key())
        if isinstance(refused, CampaignClosed) or found is None or not found.page.is_open:
            return unavailable(code, found)
        issues = {issue.field: issue.as_dict(page_lang())["message"] for issue in refused.issues}
        return render_template("referrals/landing.html", page=found.page, values=values, issues=issues,
                               poster_url=url_for("referrals.poster", code=found.page.share.code)), 422
    return redirect(url_for("referrals.thanks", code=code), code=303)


@bp.get("/r/<code>/thanks")
def thanks(code: str):
    with public_session().read() as uow:
        found = landing_of(uow, code, app_key=app_key())
    if found is None:
        return unavailable(code, None)
    return render_template("referrals/thanks.html", page=found.page)


@bp.get("/r/<code>/image")
def image(code: str):
    with public_session().read() as uow:
        found = campaign_image(uow, code, app_key=app_key(),
                               store=file_store(current_app.config.get("FORMWORK_FILES_DIR")))
    if found is None:
        raise NotFound()
    response = Response(found[0], mimetype=found[1])
    response.add_etag()
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response.make_conditional(request)


@bp.get("/r/<code>/poster.png")
def poster(code: str):
    with public_session().read() as uow:
        found = poster_of(uow, code, app_key=app_key(), link_for=lambda c: share_link(c, ch="qr"),
                          store=file_store(current_app.config.get("FORMWORK_FILES_DIR")), lang=page_lang())
    if found is None or found[0].state == "ended":
        return unavailable(code, None if found is None else Visit("", found[0]))
    page, drawn = found
    etag = drawn.etag
    if etag in request.if_none_match:
        response = Response(status=304)
    else:
        response = Response(drawn.render(), mimetype="image/png")
    response.set_etag(etag)
    response.headers["Cache-Control"] = "public, max-age=300"
    response.headers["Content-Disposition"] = f'inline; filename="poster-{page.share.code}.png"'
    return response
