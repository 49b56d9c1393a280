"""Fixtures of the job tests: the effects table, a movable clock, an RQ queue of the test's
own on the real Redis (deleted afterwards), no REDIS_URL unless a test asks for it."""
from __future__ import annotations

import pytest

from runtime.jobs import dispatch, outbox
from tests.support import jobs as support


@pytest.fixture(autouse=True)
def inline_by_default(monkeypatch):
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.delenv("FORMWORK_RQ_QUEUE", raising=False)
    monkeypatch.setattr(dispatch, "_down_until", {})


@pytest.fixture
def jobs_db(db):
    support.create_effects(db)
    return db


@pytest.fixture
def clock(monkeypatch):
    moving = support.Clock()
    monkeypatch.setattr(outbox, "utcnow", moving)
    return moving


@pytest.fixture
def rq_queue(monkeypatch):
    """REDIS_URL and FORMWORK_RQ_QUEUE set to the real Redis and a queue of this test's."""
    support.require_redis()
    name = support.unique_queue()
    monkeypatch.setenv("REDIS_URL", support.REDIS_URL)
    monkeypatch.setenv("FORMWORK_RQ_QUEUE", name)
    yield name
    support.delete_queue(name)
