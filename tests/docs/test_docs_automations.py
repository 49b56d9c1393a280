"""docs/automations.md and docs/notifications.md stay true: their `automations:` examples
validate against the test app's forms (tests/support/automations.py) and the first one
runs as the page says."""
from __future__ import annotations

import json
import re

import pytest
import yaml

from engine.validation import check_definition_text
from runtime.jobs import dispatch
from runtime.session import Session
from tests.support.automations import definition, install, rows
from tests.support.paths import DOCS

_YAML = re.compile(r"^```yaml\n(.*?)^```", re.M | re.S)


def examples(name: str) -> list[list[dict]]:
    found = [yaml.safe_load(block) for block in _YAML.findall((DOCS / name).read_text(encoding="utf-8"))]
    return [block["automations"] for block in found if isinstance(block, dict) and "automations" in block]


@pytest.mark.parametrize("name", ["automations.md", "notifications.md"])
def test_the_examples_validate(name):
    blocks = examples(name)
    assert blocks
    for automations in blocks:
        _app, problems = check_definition_text(json.dumps(definition(*automations)))
        assert problems == [], [p.format() for p in problems]


def test_the_first_example_runs_as_described(db, monkeypatch):
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setattr(dispatch, "_down_until", {})
    app = install(db, *examples("automations.md")[0])
    session = Session(db)
    lead = session.write(lambda uow: uow.records("auto").create("leads", {"name": "王"}))
    session.write(lambda uow: uow.records("auto").update("leads", lead["id"], {"stage": "won"}))
    assert [(t["title"], t["lead"]) for t in rows(db, app, "tasks")] == [("new -> won", lead["id"])]
