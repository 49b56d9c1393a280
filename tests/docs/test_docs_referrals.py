"""docs/referrals.md stays true: its example is the flagship's `referrals` block, word
for word, and the table names every part the schema knows."""
from __future__ import annotations

import re

import yaml

from engine.referrals.schema import CAMPAIGN_FIELDS, CUSTOMER_FIELDS, REFERRAL_FIELDS
from tests.support.paths import DOCS, FLAGSHIP_APP
from tests.support.web import make_app
from web.config import from_environment

TEXT = (DOCS / "referrals.md").read_text(encoding="utf-8")


def test_the_example_is_the_flagships_block():
    block, review, automations = re.findall(r"^```yaml\n(.*?)^```", TEXT, re.M | re.S)
    flagship = yaml.safe_load(FLAGSHIP_APP.read_text(encoding="utf-8"))
    assert yaml.safe_load(block)["referrals"] == flagship["referrals"]
    assert yaml.safe_load(review)["referrals"]["fraud"]["review"] == flagship["referrals"]["fraud"]["review"]
    by_key = {a["key"]: a for a in flagship["automations"]}
    shown = yaml.safe_load(automations)
    assert {k: v for k, v in by_key[shown[0]["key"]].items() if k != "label"} == shown[0]
    assert shown[1]["key"] in by_key


def test_the_table_names_every_part():
    for part, names in (("customers", CUSTOMER_FIELDS), ("campaigns", CAMPAIGN_FIELDS),
                        ("referrals", REFERRAL_FIELDS)):
        for name in names:
            assert f"`{part}.{name}`" in TEXT, f"docs/referrals.md does not describe {part}.{name}"


def test_the_share_link_paths_are_the_web_apps(db):
    app = make_app(db)
    routes = {(rule.rule, method) for rule in app.url_map.iter_rules()
              for method in rule.methods if rule.endpoint.startswith("referrals.")}
    documented = set(re.findall(r"^\| `(GET|POST) (/r/[^`]*)` \|", TEXT, re.M))
    assert documented and {(path, method) for method, path in documented} <= routes
    assert {path for path, method in routes if method in ("GET", "POST")} == {path for _, path in documented}
    app.extensions["formwork"].engine.dispose()


def test_the_settings_named_are_read_by_the_web_app(monkeypatch):
    monkeypatch.setenv("FORMWORK_SECRET_KEY", "test")      # no secret file written
    settings = from_environment()
    for name in ("FORMWORK_REFERRAL_APP", "FORMWORK_REFERRAL_RATE", "FORMWORK_PUBLIC_URL"):
        assert f"`{name}" in TEXT and name in settings
