"""docs/forms.md's example is what evaluate_draft gives."""
from __future__ import annotations

import json
import re
from datetime import datetime, timezone

from runtime.forms import evaluate_draft
from runtime.session import Session
from tests.support.forms_app import install_desk
from tests.support.paths import DOCS

DOC = DOCS / "forms.md"


def _block(marker: str):
    text = DOC.read_text(encoding="utf-8")
    found = re.search(rf"<!-- {marker} -->\n```json\n(.*?)```", text, re.S)
    assert found, f"docs/forms.md has no JSON block after <!-- {marker} -->"
    return json.loads(found.group(1))


def test_the_documented_draft(db):
    install_desk(db)
    session = Session(db, now=datetime(2026, 3, 1, 4, 0, tzinfo=timezone.utc))
    session.write(lambda uow: uow.records("desk").create(
        "customers", {"name": "明达科技", "level": "vip", "credit": "500"}))
    with session.read() as uow:
        out = evaluate_draft(uow, "desk", "orders", _block("draft-input"), changed="qty").as_dict("en")
    assert out == _block("draft-output")
