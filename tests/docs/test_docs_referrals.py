"""docs/referrals.md stays true: its example is the flagship's `referrals` block, word
for word, and the table names every part the schema knows."""
from __future__ import annotations

import re

import yaml

from engine.referrals.schema import CAMPAIGN_FIELDS, CUSTOMER_FIELDS, REFERRAL_FIELDS
from tests.support.paths import DOCS, FLAGSHIP_APP

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
