"""docs/records.md, "Record events", stays true on SQLite and PostgreSQL: its example runs
(and checks what the listener heard), and the event kinds it lists are the module's."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from engine.validation import load_definition
from runtime.apps import apply_app
from runtime.records import EventKind

ROOT = Path(__file__).resolve().parents[2]
TEXT = (ROOT / "docs" / "records.md").read_text(encoding="utf-8")
SECTION = TEXT[TEXT.index("### Record events"):TEXT.index("### Concurrent writes")]


@pytest.fixture
def crm(db):
    apply_app(db, load_definition(ROOT / "apps" / "crm_referral.yaml"))
    return db


def test_the_python_example_runs(crm):
    (example,) = re.findall(r"^```python\n(.*?)^```", SECTION, re.M | re.S)
    scope = {"engine": crm}
    exec(compile(example, "docs/records.md record events example", "exec"), scope)
    assert len(scope["heard"]) == 2


def test_the_table_lists_every_kind():
    rows = re.findall(r"^\| (`.*?`) \|", SECTION, re.M)
    listed = [kind for row in rows[1:] for kind in re.findall(r"`(\w+)`", row)]
    assert listed == [kind.value for kind in EventKind]
