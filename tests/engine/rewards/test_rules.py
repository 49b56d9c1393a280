"""Reward rules: the definition read and validated (the indirect level and its warning),
and the pure computation: formula, tier, milestone, caps, and each explanation computed
again from what it stores."""
from __future__ import annotations

import json
from decimal import Decimal

import pytest
from click.testing import CliRunner

from engine.definition.model import Label
from engine.rewards import CapRoom, compute, describe, recompute, rewards_of
from engine.rewards.model import Milestone, RewardRule, Tier
from engine.validation import check_definition_warnings, load_definition
from tests.support.paths import FLAGSHIP_APP
from web.cli import cli

L = {"zh": "规则", "en": "Rule"}
FORMS = [
    {"key": "customers", "label": L, "fields": [
        {"key": "name", "type": "text", "label": L},
        {"key": "referrer", "type": "relation", "target": "customers", "label": L}]},
    {"key": "deals", "label": L, "fields": [
        {"key": "customer", "type": "relation", "target": "customers", "label": L},
        {"key": "amount", "type": "number", "label": L, "precision": 2}]},
]


def definition(**rule) -> str:
    base = {"key": "grand", "label": L, "source": "deals", "customer": "customer", "when": "amount > 0",
            "beneficiary": "indirect", "amount": "amount * 0.01"}
    return json.dumps({"format_version": 1, "app": {"key": "r", "label": L}, "forms": FORMS,
                       "rewards": [{**base, **rule}]})


def test_an_indirect_reward_needs_allow_indirect_and_then_warns_with_the_reason():
    app, problems, warnings = check_definition_warnings(definition(allow_indirect=True), "r.json")
    assert app is not None and problems == []
    [warning] = warnings
    assert (warning.severity, warning.path, warning.code) == ("warning", "rewards[0].beneficiary", "indirect_reward")
    assert "《禁止传销条例》" in warning.message and "this one indirect level only" in warning.message
    assert "传销" in warning.message_zh and warning.line == 1
    assert rewards_of(app)[0].level == 2
    _, refused, _ = check_definition_warnings(definition(), "r.json")
    assert [p.code for p in refused] == ["indirect_not_allowed"]


def test_there_is_no_second_indirect_level():
    _, problems, _ = check_definition_warnings(definition(beneficiary="indirect2"), "r.json")
    assert problems and "beneficiary" in problems[0].path


def test_a_source_field_named_like_rate_or_nth_is_refused():
    forms = json.loads(definition(beneficiary="referrer"))
    forms["forms"][1]["fields"].append({"key": "rate", "type": "number", "label": L})
    _, problems, _ = check_definition_warnings(json.dumps(forms), "r.json")
    assert [(p.path, p.code) for p in problems] == [("rewards[0].amount", "shadowed_name")]
    assert "rename the field" in problems[0].message


def test_formwork_validate_prints_the_warning_and_succeeds(tmp_path):
    path = tmp_path / "r.json"
    path.write_text(definition(allow_indirect=True), encoding="utf-8")
    result = CliRunner().invoke(cli, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    assert f"{path}:1:" in result.output and "warning: rewards[0].beneficiary" in result.output
    assert "ok: " in result.output and "1 warning(s)" in result.output
    zh = CliRunner().invoke(cli, ["validate", "--lang", "zh", str(path)])
    assert "《禁止传销条例》" in zh.output and "间接" in zh.output


def test_the_flagship_programme_reads_as_written():
    app = load_definition(FLAGSHIP_APP)
    share, coupon = rewards_of(app)
    assert (share.source, share.beneficiary, share.once_per, share.hold_days, share.approval) == \
        ("contracts", "referrer", "friend", 30, True)
    assert share.tiers == (Tier(1, Decimal("0.05")), Tier(5, Decimal("0.08")))
    assert [m.at for m in share.milestones] == [3, 5, 10]
    assert share.caps == {"per_referral": Decimal(5000), "per_month": Decimal(20000), "budget": Decimal(500000)}
    assert (coupon.beneficiary, coupon.reward_kind, coupon.coupon) == ("friend", "coupon", "WELCOME")


RULE = RewardRule(key="share", label=Label.parse({"zh": "分成", "en": "Share"}), source="deals", customer="customer",
                  when="TRUE", beneficiary="referrer", amount="ROUND(amount * rate, 2)",
                  tiers=(Tier(1, Decimal("0.05")), Tier(5, Decimal("0.08"))),
                  milestones=(Milestone(3, Decimal(200)), Milestone(5, Decimal(500))))


@pytest.mark.parametrize("nth, amount, tier, bonus, expected", [
    (1, "10000.00", 1, None, "500.00"),        # 5%
    (3, "10000.00", 1, "200", "700.00"),       # 5% + the 3rd's bonus
    (4, "12345.67", 1, None, "617.28"),        # rounded half up to fen
    (5, "10000.00", 5, "500", "1300.00"),      # 8% from the 5th + its bonus
    (12, "10000.00", 5, None, "800.00"),
])
def test_tier_and_milestone_by_the_nth_reward(nth, amount, tier, bonus, expected):
    e = compute(RULE, {"amount": Decimal(amount)}, nth, [])
    assert Decimal(e["amount"]) == Decimal(expected) and e["tier"]["from"] == tier
    assert (e["milestone"] or {}).get("bonus") == bonus
    assert recompute(e) == Decimal(expected)


def test_caps_cut_in_order_and_say_by_how_much():
    caps = [CapRoom("per_referral", Decimal(3000), Decimal(0)), CapRoom("per_month", Decimal(5000), Decimal(4500)),
            CapRoom("budget", Decimal(100), Decimal(100))]
    e = compute(RULE, {"amount": Decimal("50000")}, 5, caps)
    assert e["before_caps"] == "4500.00"
    assert [(c["room"], c["cut"]) for c in e["caps"]] == [("3000", "1500.00"), ("500", "2500.00"), ("0", "500.00")]
    assert e["amount"] == "0.00" and recompute(e) == Decimal(0)
    text = describe(e)
    assert "单个推荐上限 3000（已用 0），扣减 1500.00" in text["zh"]
    assert "campaign budget 100 (100 used before) cut 500.00" in text["en"]


def test_points_are_whole_and_a_negative_or_failing_formula_is_no_reward():
    points = RewardRule(key="p", label=Label.parse("p"), source="deals", customer="customer", when="TRUE",
                        beneficiary="friend", amount="amount / 3", reward_kind="points")
    assert compute(points, {"amount": Decimal(100)}, 1, [])["amount"] == "33"
    negative = compute(points, {"amount": Decimal(-100)}, 1, [])
    assert negative["amount"] == "0"
    broken = RewardRule(key="b", label=Label.parse("b"), source="deals", customer="customer", when="TRUE",
                        beneficiary="friend", amount="amount / 0")
    e = compute(broken, {"amount": Decimal(100)}, 1, [])
    assert e["amount"] == "0.00" and "error" in e["note"]


def test_a_tampered_explanation_does_not_recompute_to_its_amount():
    e = compute(RULE, {"amount": Decimal("10000")}, 1, [])
    e["inputs"]["amount"] = {"$decimal": "20000"}
    assert recompute(e) == Decimal("1000.00") != Decimal(e["amount"])


def test_tiers_need_an_amount_that_reads_rate_not_one_that_only_spells_it():
    tiers = {"steps": [{"from": 1, "rate": 0.05}]}
    _, spelled, _ = check_definition_warnings(
        definition(beneficiary="referrer", tiers=tiers, amount='amount * LEN("rate") / 100'), "r.json")
    assert [p.code for p in spelled] == ["tiers_unused"]
    _, read, _ = check_definition_warnings(definition(beneficiary="referrer", tiers=tiers, amount="amount * rate"),
                                           "r.json")
    assert read == []


def test_an_empty_input_is_worded_in_each_language():
    e = compute(RULE, {"amount": None}, 1, [])
    text = describe(e)
    assert "amount = 空" in text["zh"] and "amount = empty" in text["en"] and "空" not in text["en"]
