"""Each API key has its own rate limit (FORMWORK_API_RATE): past it, 429 with Retry-After
in the API's error shape; counted in Redis when REDIS_URL is set, so every worker shares
the count."""
from __future__ import annotations

import uuid

import pytest
import redis

from tests.support.web import make_app
from tests.support.web_api import CUSTOMERS, api_world, assert_answer_matches

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def limited(db):
    made = api_world(db, FORMWORK_API_RATE="3/minute")
    yield made
    made.dispose()


def test_past_the_limit_is_429_with_retry_after(limited):
    doc = limited.document()                              # the first request of li's key
    answers = [limited.client.get(CUSTOMERS, headers=limited.headers()) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[1].headers["RateLimit-Limit"] == "3" and answers[1].headers["RateLimit-Remaining"] == "0"
    refused = answers[2]
    assert_answer_matches(doc, "Error", refused)
    seconds = int(refused.headers["Retry-After"])
    assert 1 <= seconds <= 60 and refused.json["error"]["details"] == {"retry_after": seconds}
    assert refused.json["error"]["code"] == "rate_limited" and str(seconds) in refused.json["error"]["message"]
    assert limited.client.get(CUSTOMERS, headers=limited.headers("han")).status_code == 200   # han's own key


def test_redis_counts_are_shared_by_the_workers(db):
    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.RedisError as exc:
        pytest.skip(f"SKIPPED LOUDLY: Redis at {REDIS_URL} does not answer: {exc}")
    settings = {"FORMWORK_API_RATE": "2/minute", "REDIS_URL": REDIS_URL,
                "FORMWORK_REDIS_PREFIX": f"test:{uuid.uuid4().hex}:"}
    world = api_world(db, **settings)
    other_worker = make_app(db, **settings)
    try:
        first = world.client.get(CUSTOMERS, headers=world.headers())
        second = other_worker.test_client().get(CUSTOMERS, headers=world.headers())
        third = world.client.get(CUSTOMERS, headers=world.headers())
        assert [first.status_code, second.status_code, third.status_code] == [200, 200, 429]
        assert third.headers["Retry-After"].isdigit()
    finally:
        world.dispose()
        other_worker.extensions["formwork"].engine.dispose()
