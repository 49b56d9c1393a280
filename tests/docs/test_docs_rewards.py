"""docs/rewards.md stays true: its rule is the flagship's, its explanation recomputes to
its amount with the flagship rule's tiers, milestones and caps, and its warning is what
`formwork validate` prints."""
import json
import re
from decimal import Decimal

import yaml
from click.testing import CliRunner

from engine.rewards import recompute, rewards_of
from engine.validation import load_definition
from tests.support.paths import DOCS, FLAGSHIP_APP
from web.cli import cli

TEXT = (DOCS / "rewards.md").read_text(encoding="utf-8")
FLAGSHIP = yaml.safe_load(FLAGSHIP_APP.read_text(encoding="utf-8"))


def test_the_rule_shown_is_the_flagships():
    block = re.search(r"```yaml\n(.*?)```", TEXT, re.S).group(1)
    [shown] = yaml.safe_load(block)["rewards"]
    assert shown == next(r for r in FLAGSHIP["rewards"] if r["key"] == shown["key"])


def test_the_explanation_recomputes_to_its_amount_with_the_flagship_rule():
    explanation = json.loads(re.search(r"<!-- explanation -->\n```json\n(.*?)```", TEXT, re.S).group(1))
    assert recompute(explanation) == Decimal(explanation["amount"]) == Decimal(5000)
    rule = next(r for r in rewards_of(load_definition(FLAGSHIP_APP)) if r.key == explanation["rule"])
    assert explanation["formula"] == rule.amount
    assert [(t["from"], Decimal(t["rate"])) for t in explanation["tiers"]] == [(t.start, t.rate) for t in rule.tiers]
    assert [(m["at"], Decimal(m["bonus"])) for m in explanation["milestones"]] == \
        [(m.at, m.bonus) for m in rule.milestones]
    assert {c["cap"]: Decimal(c["limit"]) for c in explanation["caps"]} == rule.caps


def test_the_warning_is_what_validate_prints(tmp_path):
    shown = re.search(r"```text\n(.*?)```", TEXT, re.S).group(1).splitlines()
    definition = {**FLAGSHIP, "rewards": [
        FLAGSHIP["rewards"][0],
        {**FLAGSHIP["rewards"][0], "key": "grand", "beneficiary": "indirect", "allow_indirect": True}]}
    path = tmp_path / "app.yaml"
    path.write_text(yaml.safe_dump(definition, allow_unicode=True), encoding="utf-8")
    result = CliRunner().invoke(cli, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    printed = result.output.splitlines()
    assert printed[0].split(": ", 1)[1] == shown[0].split(": ", 1)[1]
    assert printed[1].endswith("1 warning(s)") and shown[1].endswith("1 warning(s)")
