"""Outgoing webhooks against a local HTTP server: the body has the record, the signature
verifies with the secret over the raw body, the delivery id is the same on every attempt,
a failure is retried with backoff up to the limit, every attempt is logged."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from engine.storage.db import read_connection
from runtime.jobs import dispatch, outbox
from runtime.jobs.scheduler import drain
from runtime.session import Session
from runtime.webhooks import DELIVERY_HEADER, SIGNATURE_HEADER, deliveries, sign, verify_signature
from runtime.webhooks.deliver import BACKOFF, MAX_ATTEMPTS
from tests.support.automations import automation, install, jobs_of
from tests.support.http_receiver import Receiver

HOOK = automation("signed", {"kind": "record_updated", "fields": ["stage"]}, [
    {"kind": "call_webhook", "url_env": "AUTO_HOOK_URL", "secret_env": "AUTO_HOOK_SECRET", "event": "lead.won"}],
    condition='stage = "won"')


class Clock:
    def __init__(self):
        self.now = datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc)

    def __call__(self):
        return self.now


@pytest.fixture(autouse=True)
def inline(monkeypatch):
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setattr(dispatch, "_down_until", {})
    clock = Clock()
    monkeypatch.setattr(outbox, "utcnow", clock)
    return clock


def _win(db):
    session = Session(db)
    lead = session.write(lambda uow: uow.records("auto").create("leads", {"name": "王"}))
    session.write(lambda uow: uow.records("auto").update("leads", lead["id"], {"stage": "won"}))
    return lead


def test_a_signed_delivery_fails_once_then_is_retried_with_the_same_delivery_id(db, monkeypatch, inline):
    install(db, HOOK)
    monkeypatch.setenv("AUTO_HOOK_SECRET", "k3y")
    with Receiver(statuses=[503]) as receiver:
        monkeypatch.setenv("AUTO_HOOK_URL", receiver.url)
        lead = _win(db)
        assert len(receiver.received) == 1
        [job] = jobs_of(db, "webhook.deliver")
        assert job["status"] == "queued" and job["run_at"] == inline.now + timedelta(seconds=BACKOFF)
        inline.now += timedelta(seconds=BACKOFF)
        drain(db, now=inline.now)
        first, second = receiver.received
    assert [job["status"] for job in jobs_of(db, "webhook.deliver")] == ["done"]
    for got in (first, second):
        assert verify_signature("k3y", got["raw"], got["headers"][SIGNATURE_HEADER])
        assert got["headers"][SIGNATURE_HEADER] == sign("k3y", got["raw"])
        assert not verify_signature("wrong", got["raw"], got["headers"][SIGNATURE_HEADER])
    assert first["headers"][DELIVERY_HEADER] == second["headers"][DELIVERY_HEADER]
    body = second["json"]
    assert (body["event"], body["app"], body["form"], body["record"]["id"]) == ("lead.won", "auto", "leads", lead["id"])
    assert body["record"]["fields"]["stage"] == "won"
    with read_connection(db) as conn:
        log = deliveries(conn, first["headers"][DELIVERY_HEADER])
    assert [(d["attempt"], d["status_code"], d["error"]) for d in log] == [(1, 503, "HTTP 503"), (2, 200, None)]
    assert log[0]["response_excerpt"] == '{"error": "try later"}' and log[1]["response_excerpt"] == '{"ok": true}'
    assert all(d["duration_ms"] >= 0 and d["webhook"] == "auto.signed" for d in log)


def test_a_receiver_that_keeps_failing_leaves_the_job_failed_after_the_limit(db, monkeypatch, inline):
    install(db, HOOK)
    with Receiver(statuses=[500] * MAX_ATTEMPTS) as receiver:
        monkeypatch.setenv("AUTO_HOOK_URL", receiver.url)
        _win(db)
        for _ in range(MAX_ATTEMPTS - 1):
            inline.now += timedelta(hours=2)
            drain(db, now=inline.now)
        assert len(receiver.received) == MAX_ATTEMPTS
    [job] = jobs_of(db, "webhook.deliver")
    assert job["status"] == "failed" and "attempt 6: HTTP 500" in job["last_error"]
    assert SIGNATURE_HEADER not in receiver.received[0]["headers"]      # no secret set: unsigned
    with read_connection(db) as conn:
        assert [d["attempt"] for d in deliveries(conn)] == list(range(1, MAX_ATTEMPTS + 1))


def test_nothing_listening_is_an_error_logged_and_retried(db, monkeypatch, inline):
    install(db, HOOK)
    monkeypatch.setenv("AUTO_HOOK_URL", "http://127.0.0.1:1/closed")
    _win(db)
    with read_connection(db) as conn:
        [delivery] = deliveries(conn)
    assert delivery["status_code"] is None and delivery["error"].startswith("URLError")
    assert jobs_of(db, "webhook.deliver")[0]["status"] == "queued"
