"""No REDIS_URL (jobs run inline, right after their commit)."""
from __future__ import annotations

import pytest

from runtime.automations import triggers
from runtime.jobs import dispatch


@pytest.fixture(autouse=True)
def inline_jobs(monkeypatch):
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setattr(dispatch, "_down_until", {})
    triggers.forget_synced()
