"""docs/record-pages.md stays true: its example runs on SQLite and PostgreSQL, and the
conflict messages it quotes are the ones raised (time aside)."""
from __future__ import annotations

import re

import pytest

from runtime.permissions import FULL_ACCESS
from runtime.record_page import EditConflict, RecordPage
from tests.support.paths import DOCS
from tests.support.record_pages_app import install_crm

TEXT = (DOCS / "record-pages.md").read_text(encoding="utf-8")


@pytest.fixture
def crm(db):
    return install_crm(db)


def test_the_python_example_runs(crm):
    (example,) = re.findall(r"^```python\n(from runtime.comments.*?)^```", TEXT, re.M | re.S)
    scope = {"engine": crm.engine, "crm": crm}
    exec(compile(example, "docs/record-pages.md example", "exec"), scope)
    assert "(Credit)" in scope["message"]


def test_the_quoted_conflict_messages_are_the_ones_raised(crm):
    with crm.engine.begin() as conn:
        made = crm.records(conn, crm.li, FULL_ACCESS).create("customers", {"name": "明达", "level": "vip"})
        crm.records(conn, crm.han, FULL_ACCESS).update("customers", made["id"], {"level": "normal", "credit": 5})
        with pytest.raises(EditConflict) as conflict:
            RecordPage(crm.records(conn, crm.li, FULL_ACCESS)).edit("customers", made["id"], {"name": "x"}, version=1)
    quoted = re.findall(r"^> (.*)$", TEXT, re.M)
    stamp = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d")
    assert [stamp.sub("T", q) for q in quoted] == [stamp.sub("T", conflict.value.message(lang))
                                                   for lang in ("zh", "en")]
