"""No REDIS_URL (jobs run inline), no SMTP unless a test sets it up."""
from __future__ import annotations

import pytest

from runtime.jobs import dispatch


@pytest.fixture(autouse=True)
def inline_jobs(monkeypatch):
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setattr(dispatch, "_down_until", {})
    for name in ("HOST", "PORT", "USER", "PASSWORD", "FROM", "TLS"):
        monkeypatch.delenv(f"FORMWORK_SMTP_{name}", raising=False)
