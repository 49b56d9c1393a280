"""The rate limit of the API: each request counts against its API key (a session counts
against its user, an anonymous caller against its address); past the limit the answer
is 429 with Retry-After, in the API's error shape. Every answer says where it stands
(RateLimit-Limit, RateLimit-Remaining)."""
from __future__ import annotations

from flask import g, request

from runtime.api.errors import rate_limited
from web.context import api_key_id, current_actor, state


def bucket() -> str:
    key = api_key_id()
    if key is not None:
        return f"key:{key}"
    actor = current_actor()
    if actor is not None and actor.user_id is not None:
        return f"user:{actor.user_id}"
    return f"addr:{request.remote_addr or '-'}"


def check_rate_limit() -> None:
    limiter = state().rate_limiter
    if limiter is None:
        return
    decision = g.rate_decision = limiter.hit(bucket())
    if not decision.allowed:
        raise rate_limited(decision.retry_after)


def rate_headers(response):
    decision = g.get("rate_decision")
    if decision is not None:
        response.headers["RateLimit-Limit"] = str(decision.limit)
        response.headers["RateLimit-Remaining"] = str(decision.remaining)
    return response
