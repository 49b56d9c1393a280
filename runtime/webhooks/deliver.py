"""Delivering an outgoing webhook.

    POST <url>
    Content-Type: application/json
    X-Formwork-Delivery: 6f1c...        the same on every attempt: the receiver drops repeats
    X-Formwork-Event: contract_signed
    X-Formwork-Signature: sha256=<hex HMAC-SHA256 of the raw body with the webhook's secret>

    {"event": ..., "app": ..., "form": ..., "automation": ..., "record": {...}, "payload": ...}

Each delivery is a job (`webhook.deliver`, outside a transaction: at least once, hence
the delivery id): a 2xx answer ends it; anything else (or no answer) is logged and tried
again with backoff, up to MAX_ATTEMPTS, then left failed (`formwork jobs retry`). The
secret is read from the environment variable the definition names when the attempt is
made, so it is never written to the database.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import time
import urllib.error
import urllib.request

import sqlalchemy as sa

from engine.errors import FormworkError
from engine.storage import system
from runtime import jobs
from runtime.jobs.outbox import utcnow

KIND = "webhook.deliver"
MAX_ATTEMPTS = 6
BACKOFF = 30.0                  # 30 s, 1 min, 2 min, 4 min, 8 min
TIMEOUT = 10.0
EXCERPT = 1000                  # characters of the answer kept in the log
SIGNATURE_HEADER, DELIVERY_HEADER, EVENT_HEADER = "X-Formwork-Signature", "X-Formwork-Delivery", "X-Formwork-Event"


class WebhookFailed(FormworkError):
    """The receiver did not accept the delivery (the job is tried again)."""


def raw_body(body: dict) -> bytes:
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str).encode()


def sign(secret: str, raw: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


def verify_signature(secret: str, raw: bytes, header: str | None) -> bool:
    """What a receiver does (and the tests): compare in constant time."""
    return header is not None and hmac.compare_digest(sign(secret, raw), header)


def enqueue_delivery(uow, *, webhook: str, url: str, body: dict, delivery_id: str,
                     secret_env: str | None = None) -> int | None:
    """One delivery job (once per delivery id). The secret's variable, not the secret, is
    kept in the job."""
    return uow.enqueue(KIND, {"webhook": webhook, "url": url, "body": body, "delivery": delivery_id,
                              "secret_env": secret_env}, key=f"webhook:{delivery_id}")


def deliver(ctx, payload) -> None:
    raw = raw_body(payload["body"])
    headers = {"Content-Type": "application/json; charset=utf-8", DELIVERY_HEADER: payload["delivery"],
               EVENT_HEADER: str(payload["body"].get("event", "")), "User-Agent": "Formwork-Webhook/1"}
    secret = os.environ.get(payload.get("secret_env") or "", "")
    if secret:
        headers[SIGNATURE_HEADER] = sign(secret, raw)
    status, excerpt, error = None, None, None
    started = time.perf_counter()
    try:
        request = urllib.request.Request(payload["url"], data=raw, headers=headers, method="POST")
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            status, excerpt = response.status, response.read(EXCERPT * 4).decode("utf-8", "replace")[:EXCERPT]
    except urllib.error.HTTPError as exc:
        status, excerpt = exc.code, exc.read(EXCERPT * 4).decode("utf-8", "replace")[:EXCERPT]
        error = f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError) as exc:
        error = f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}"
    duration = (time.perf_counter() - started) * 1000
    with ctx.session.write() as uow:
        uow.conn.execute(system.webhook_deliveries.insert().values(
            webhook=payload["webhook"], delivery_id=payload["delivery"], attempt=ctx.attempt, url=payload["url"],
            status_code=status, response_excerpt=excerpt, error=error, duration_ms=duration, created_at=utcnow()))
    if error is not None or status is None or not 200 <= status < 300:
        raise WebhookFailed(f"webhook {payload['webhook']} delivery {payload['delivery']} attempt {ctx.attempt}: "
                            f"{error or f'HTTP {status}'}")


def deliveries(conn: sa.Connection, delivery_id: str | None = None, webhook: str | None = None) -> list[dict]:
    table = system.webhook_deliveries
    query = sa.select(table).order_by(table.c.id)
    if delivery_id:
        query = query.where(table.c.delivery_id == delivery_id)
    if webhook:
        query = query.where(table.c.webhook == webhook)
    return [dict(r) for r in conn.execute(query).mappings()]


jobs.register(KIND, deliver, max_attempts=MAX_ATTEMPTS, backoff=BACKOFF, in_transaction=False)
