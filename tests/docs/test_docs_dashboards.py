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


def _windows_example() -> dict:
    """The widgets of the page's second `yaml` block, as a dashboard of the test app."""
    block = re.findall(r"^```yaml\n(.*?)^```", TEXT, re.M | re.S)[1]
    return {"key": "main", "label": {"zh": "看板", "en": "Main"}, "widgets": yaml.safe_load(block)["widgets"]}


def test_the_window_example_validates_and_answers_as_shown(db):
    raw = copy.deepcopy(DEFINITION)
    raw["dashboards"] = [_windows_example()]
    _app, problems = check_definition_text(json.dumps(raw))
    assert problems == [], [p.format() for p in problems]
    ids = fill(db, _windows_example())
    shown = json.loads(re.findall(r"^```json\n(.*?)^```", TEXT, re.M | re.S)[1])
    with db.connect() as conn:
        records = Records(conn, load_installed(conn, "shop"), lang="en", now=NOW)
        widgets = {w["key"]: w["data"] for w in Dashboards(records, WidgetCache()).load("main")["widgets"]}
    assert [{"keys": r["keys"], "values": r["values"]} for r in widgets["returning"]["rows"]] == shown
    cells = [(r["keys"][0], r["values"]["last_order"], r["values"]["orders"], r["values"]["revenue"],
              r["values"]["cell"]) for r in widgets["rfm"]["rows"]]
    assert cells == [(ids["b"], "2026-02-10", 2, "50.00", "221"), (ids["a"], "2026-01-06", 2, "150.50", "112")]
    assert "乙 (last order 2026-02-10, 2 orders, 50.00) in cell 221" in TEXT.replace("\n", " ")
