"""docs/sessions.md stays true: its Python examples run, in order, on SQLite and
PostgreSQL against the flagship app."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from engine.validation import load_definition
from runtime.apps import apply_app

ROOT = Path(__file__).resolve().parents[2]
TEXT = (ROOT / "docs" / "sessions.md").read_text(encoding="utf-8")


@pytest.fixture
def crm(db):
    apply_app(db, load_definition(ROOT / "apps" / "crm_referral.yaml"))
    return db


def test_the_python_examples_run_in_order(crm):
    examples = re.findall(r"^```python\n(.*?)^```", TEXT, re.M | re.S)
    assert len(examples) == 2
    scope = {"engine": crm}
    for number, example in enumerate(examples, 1):
        exec(compile(example, f"docs/sessions.md example {number}", "exec"), scope)
    assert scope["told"] == [2] and scope["hers"]["created_by"] == scope["han"]
