"""The referral analytics page: GET /apps/<app>/referrals/analytics[?customer=<id>]: the
referrers with the highest chain value and, for a chosen customer, the referral tree
below them, computed by runtime/referrals/analytics for the signed-in user (their row
scope)."""
from __future__ import annotations

from flask import Blueprint, render_template, request

from engine.errors import NotFound
from web.context import login_required, runtime_session

bp = Blueprint("referral_analytics", __name__, url_prefix="/apps/<app_key>/referrals")
TOP = 20


@bp.get("/analytics")
@login_required
def analytics(app_key: str):
    chosen = request.args.get("customer", type=int)
    with runtime_session().read() as uow:
        service = uow.referral_analytics(app_key)
        referrers = service.referrers(top=TOP)
        try:
            tree = service.tree(chosen) if chosen else None
        except NotFound:            # not theirs to see, or gone: the page says so, the rest still shows
            tree = []
        form_key = service.form.key
    return render_template("referrals/analytics.html", app_key=app_key, form_key=form_key, referrers=referrers,
                           tree=tree, chosen=chosen)
