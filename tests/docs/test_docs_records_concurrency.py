"""docs/records.md, "Concurrent writes", stays true: its example runs on SQLite and
PostgreSQL, the error it quotes is the one raised, and the numbers it gives are the
module's."""
from __future__ import annotations

import re

import pytest

from engine.errors import ConcurrentWriteError
from engine.validation import load_definition
from runtime.apps import apply_app, load_installed
from runtime.records import Records
from runtime.records import transactions
from tests.support.paths import DOCS, FLAGSHIP_APP

TEXT = (DOCS / "records.md").read_text(encoding="utf-8")
SECTION = TEXT[TEXT.index("### Concurrent writes"):TEXT.index("## The filter language")]


@pytest.fixture
def crm(db):
    apply_app(db, load_definition(FLAGSHIP_APP))
    return db


def test_the_python_example_runs(crm):
    (example,) = re.findall(r"^```python\n(.*?)^```", SECTION, re.M | re.S)
    scope = {"engine": crm}
    exec(compile(example, "docs/records.md concurrent writes example", "exec"), scope)
    with crm.connect() as conn:
        stored = Records(conn, load_installed(conn, "crm_referral")).get("customers", scope["rec"]["id"])
    assert stored["fields"]["name"] == "上海明达科技"


def test_the_quoted_error_and_numbers_are_the_modules():
    (quoted,) = re.findall(r"^  > (.*)$", SECTION, re.M)
    assert quoted == str(ConcurrentWriteError(5, "deadlock detected"))
    assert f"After {transactions.ATTEMPTS} runs" in SECTION
    pauses = [transactions.BACKOFF * 2 ** i for i in range(transactions.ATTEMPTS - 1)]
    assert pauses == [0.05, 0.1, 0.2, 0.4]
    assert "up to 0.05 s, then up to 0.1, 0.2 and 0.4 s" in SECTION
