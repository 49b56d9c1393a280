"""Request rate limits: at most `limit` requests per window of `seconds` for each bucket
(an API key, a signed-in user, an address), counted in fixed windows.

    limiter = RateLimiter(Rate.parse("600/minute"), redis_url=None)   # in this process
    decision = limiter.hit("key:12")
    if not decision.allowed:
        ...  # answer 429 with Retry-After: decision.retry_after

With a Redis URL the counts live in Redis (INCR on a key per bucket and window, which
expires with the window), so every worker process shares them; without one each process
counts its own (a single-process server, tests). If Redis does not answer, requests are
let through (and the outage logged): a limiter fault must not take the API down.
"""
from __future__ import annotations

import logging
import re
import threading
import time
from dataclasses import dataclass
from typing import Callable

import redis

from engine.errors import CodedError
from engine.i18n import register_messages

log = logging.getLogger(__name__)

UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
_RATE = re.compile(r"\s*([0-9]{1,9})\s*/\s*([0-9]{0,6})\s*(second|minute|hour|day)s?\s*")

register_messages({
    "rate_limit_syntax": {"zh": "无法识别的频率限制“{value}”：写成 次数/时间单位，如 600/minute、10/second、5000/hour",
                          "en": "Cannot read the rate limit '{value}': write COUNT/UNIT, e.g. 600/minute, "
                                "10/second, 5000/hour"},
})


class RateSyntaxError(CodedError):
    def __init__(self, value: str):
        super().__init__("rate_limit_syntax", value=str(value)[:60])


@dataclass(frozen=True)
class Rate:
    limit: int
    seconds: int

    @classmethod
    def parse(cls, text: str) -> "Rate":
        """"600/minute", "10/second", "5000/hour", "2/10second" (2 per 10 seconds)."""
        found = _RATE.fullmatch(str(text or ""))
        if not found or int(found.group(1)) < 1:
            raise RateSyntaxError(text)
        multiple = int(found.group(2) or 1)
        if multiple < 1:
            raise RateSyntaxError(text)
        return cls(int(found.group(1)), multiple * UNITS[found.group(3)])


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    retry_after: int          # seconds until the window ends (when refused)


class MemoryCounter:
    """Counts per (bucket, window) in this process; windows past are dropped as time goes."""

    def __init__(self):
        self._counts: dict[tuple[str, int], int] = {}
        self._lock = threading.Lock()
        self._window = None

    def incr(self, bucket: str, window: int, seconds: int) -> int:
        with self._lock:
            if window != self._window:         # a new window: the old counts are over
                self._counts = {k: v for k, v in self._counts.items() if k[1] >= window}
                self._window = window
            count = self._counts[(bucket, window)] = self._counts.get((bucket, window), 0) + 1
            return count


class RedisCounter:
    """Counts in Redis: one key per bucket and window, expiring with it."""

    def __init__(self, url: str, prefix: str = "formwork:rate:"):
        self.client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self.prefix = prefix

    def incr(self, bucket: str, window: int, seconds: int) -> int:
        key = f"{self.prefix}{bucket}:{window}"
        with self.client.pipeline(transaction=False) as pipe:
            pipe.incr(key)
            pipe.expire(key, seconds + 1, nx=True)
            count, _ = pipe.execute()
        return int(count)


class RateLimiter:
    def __init__(self, rate: Rate, *, redis_url: str | None = None, redis_prefix: str = "formwork:",
                 clock: Callable[[], float] = time.time, counter=None):
        """`redis_prefix` starts every key it writes (installations sharing a Redis apart)."""
        self.rate, self.clock = rate, clock
        self.counter = counter or (RedisCounter(redis_url, f"{redis_prefix}rate:") if redis_url else MemoryCounter())

    def hit(self, bucket: str) -> Decision:
        """Count one request of `bucket` and say whether it may go on."""
        now = self.clock()
        window = int(now // self.rate.seconds)
        try:
            count = self.counter.incr(bucket, window, self.rate.seconds)
        except Exception:           # Redis down or slow: let the request through, say so in the log
            log.warning("rate limit counter unavailable; request of %s let through", bucket, exc_info=True)
            return Decision(True, self.rate.limit, self.rate.limit, 0)
        retry_after = max(1, int((window + 1) * self.rate.seconds - now + 0.999))
        remaining = max(0, self.rate.limit - count)
        return Decision(count <= self.rate.limit, self.rate.limit, remaining, retry_after)
