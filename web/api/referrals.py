"""The REST API's referral analytics (docs/referrals.md, "Analytics"):

    GET /api/v1/apps/<app>/referrals/tree/<customer_id>   the tree below a customer
    GET /api/v1/apps/<app>/referrals/referrers?top=20     the referrers with the highest chain value

Thin over runtime/referrals/analytics (`uow.referral_analytics`), in the caller's row
scope: a customer they may not see, or an app without a programme, answers 404.
"""
from __future__ import annotations

from flask import Blueprint, request

from runtime.api.requests import parse_top
from runtime.referrals.analytics import MAX_TOP
from web.api.limits import check_rate_limit, rate_headers
from web.api.views import json_response
from web.context import login_required, runtime_session

bp = Blueprint("api_referrals", __name__, url_prefix="/api/v1")
bp.before_request(check_rate_limit)
bp.after_request(rate_headers)


@bp.get("/apps/<app_key>/referrals/tree/<int:customer_id>")
@login_required
def get_tree(app_key: str, customer_id: int):
    with runtime_session().read() as uow:
        nodes = uow.referral_analytics(app_key).tree(customer_id)
    return json_response({"customer_id": customer_id, "nodes": [node.as_json() for node in nodes]})


@bp.get("/apps/<app_key>/referrals/referrers")
@login_required
def get_referrers(app_key: str):
    top = parse_top(request.args.get("top"), default=20, most=MAX_TOP)
    with runtime_session().read() as uow:
        chains = uow.referral_analytics(app_key).referrers(top=top)
    return json_response({"referrers": [chain.as_json() for chain in chains]})
