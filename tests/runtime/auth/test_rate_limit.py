"""Rate limits: the rate's syntax, fixed windows counted in this process or in Redis
(shared by every process), and a Redis that does not answer lets requests through."""
from __future__ import annotations

import uuid

import pytest
import redis

from runtime.auth import Rate, RateLimiter, RateSyntaxError
from runtime.auth.rate_limit import RedisCounter

REDIS_URL = "redis://127.0.0.1:6379/0"


class Clock:
    def __init__(self, now: float = 1_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize("text, rate", [("600/minute", Rate(600, 60)), ("10/second", Rate(10, 1)),
                                        (" 5000 / hours ", Rate(5000, 3600)), ("2/10second", Rate(2, 10)),
                                        ("1/day", Rate(1, 86400))])
def test_rates_are_written_count_per_unit(text, rate):
    assert Rate.parse(text) == rate


@pytest.mark.parametrize("text", ["", "600", "0/minute", "10/fortnight", "ten/minute", "5/0second"])
def test_a_rate_that_cannot_be_read_says_how_to_write_it(text):
    with pytest.raises(RateSyntaxError) as caught:
        Rate.parse(text)
    assert "600/minute" in caught.value.message("en") and "600/minute" in caught.value.message("zh")


def _limited_after(limiter: RateLimiter, bucket: str) -> list[bool]:
    return [limiter.hit(bucket).allowed for _ in range(4)]


def test_memory_windows_count_per_bucket_and_start_again():
    clock = Clock(120.0)
    limiter = RateLimiter(Rate(3, 60), clock=clock)
    assert _limited_after(limiter, "key:1") == [True, True, True, False]
    assert limiter.hit("key:2").allowed                       # another key has its own count
    clock.now = 150.0
    refused = limiter.hit("key:1")
    assert not refused.allowed and refused.retry_after == 30 and refused.remaining == 0
    clock.now = 180.0                                         # the next window
    assert limiter.hit("key:1").allowed and limiter.hit("key:1").remaining == 1


def test_redis_counts_are_shared_by_limiters_of_every_process():
    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.RedisError as exc:
        pytest.skip(f"SKIPPED LOUDLY: Redis at {REDIS_URL} does not answer: {exc}")
    clock, bucket = Clock(), f"test:{uuid.uuid4().hex}"
    one, two = (RateLimiter(Rate(3, 60), redis_url=REDIS_URL, clock=clock) for _ in range(2))
    assert [one.hit(bucket).allowed, two.hit(bucket).allowed, one.hit(bucket).allowed] == [True] * 3
    refused = two.hit(bucket)
    assert not refused.allowed and 1 <= refused.retry_after <= 60
    key = f"formwork:rate:{bucket}:{int(clock.now // 60)}"
    assert 0 < redis.Redis.from_url(REDIS_URL).ttl(key) <= 61


def test_a_redis_that_does_not_answer_lets_requests_through():
    limiter = RateLimiter(Rate(1, 60), counter=RedisCounter("redis://127.0.0.1:1/0"))
    assert all(limiter.hit("key:1").allowed for _ in range(3))
