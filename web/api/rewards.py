"""The REST API's reward ledger: GET /api/v1/apps/<app>/rewards/entries (filter by
beneficiary, status and rule; keyset pages newest first: `cursor` is the previous page's
next_cursor) and GET /api/v1/apps/<app>/rewards/entries/<id> (one entry, its explanation
in the caller's language: `?lang=`, else the caller's own language, and whether it
recomputes from its stored inputs).

Thin over runtime/rewards/reading.py, which says who may read what (finance, the app's
administrators: everything; a referrer with a login: their own entries; anybody else:
403). Errors are raised and answered by web/errors.py in the API's one shape.
"""
from __future__ import annotations

from flask import Blueprint, request

from runtime.rewards.reading import get_entry, list_entries
from web.api.limits import check_rate_limit, rate_headers
from web.api.views import json_response
from web.context import current_actor, login_required, runtime_session

bp = Blueprint("api_rewards", __name__, url_prefix="/api/v1")
bp.before_request(check_rate_limit)
bp.after_request(rate_headers)

ENTRIES = "/apps/<app_key>/rewards/entries"


@bp.get(ENTRIES)
@login_required
def list_reward_entries(app_key: str):
    args = request.args
    with runtime_session().read() as uow:
        page = list_entries(uow, app_key, beneficiary=args.get("beneficiary"), status=args.get("status"),
                            rule=args.get("rule"), cursor=args.get("cursor"), limit=args.get("limit", 50))
    return json_response(page)


@bp.get(ENTRIES + "/<int(max=9223372036854775807):entry_id>")
@login_required
def get_reward_entry(app_key: str, entry_id: int):
    lang = request.args.get("lang") or current_actor().lang
    with runtime_session().read() as uow:
        entry = get_entry(uow, app_key, entry_id, lang=lang)
    return json_response(entry)
