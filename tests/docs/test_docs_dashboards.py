"""docs/dashboards.md stays true: its `dashboards:` example validates against the test app
(tests/support/dashboards_app.py), and its JSON answer is what the service gives for the
records the page names."""
from __future__ import annotations

import copy
import json
import re

import yaml

from engine.validation import check_definition_text
from runtime.apps import load_installed
from runtime.dashboards import Dashboards, WidgetCache
from runtime.records import Records
from tests.support.dashboards_app import DEFINITION, NOW, fill
from tests.support.paths import DOCS

TEXT = (DOCS / "dashboards.md").read_text(encoding="utf-8")


def _example() -> dict:
    block = re.search(r"^```yaml\n(.*?)^```", TEXT, re.M | re.S).group(1)
    return yaml.safe_load(block)["dashboards"][0]


def test_the_example_validates():
    raw = copy.deepcopy(DEFINITION)
    raw["dashboards"] = [_example()]
    _app, problems = check_definition_text(json.dumps(raw))
    assert problems == [], [p.format() for p in problems]


def test_the_answer_is_the_services(db):
    fill(db, _example())
    shown = json.loads(re.search(r"^```json\n(.*?)^```", TEXT, re.M | re.S).group(1))
    with db.connect() as conn:
        records = Records(conn, load_installed(conn, "shop"), lang="en", now=NOW)
        answer = Dashboards(records, WidgetCache()).load("main", widgets=["by_month"])
    assert answer["widgets"][0]["data"] == shown
