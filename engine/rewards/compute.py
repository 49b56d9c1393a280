"""The amount of one reward, computed without a database: the rule's formula over the
source record's inputs, the tier chosen by `nth` (which reward of the period this is for
the beneficiary), the milestone bonus at the nth reward, then the caps in order (each
leaves at most its room: the limit less what was used before). Every step is written into
an explanation (a JSON-able dict) that holds what it needs to be computed again:
`recompute(explanation)` gives the stored amount from the stored inputs, or not, which a
test and an auditor can check.

Money is Decimal throughout, rounded half up to fen (points: whole numbers); a negative
formula result is no reward (0).
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Mapping

from engine.formula import EvalContext, compile_formula, from_json, parse, to_json
from engine.formula.values import ErrorValue
from engine.rewards.model import Milestone, RewardRule, Tier

CAP_WORDS = {"per_referral": ("单个推荐上限", "cap per referral"),
             "per_month": ("每人每月上限", "cap per beneficiary per month"),
             "per_campaign": ("每人每活动上限", "cap per beneficiary per campaign"),
             "budget": ("活动预算", "campaign budget")}
KIND_WORDS = {"cash": ("现金", "cash"), "points": ("积分", "points"), "coupon": ("优惠券", "coupon")}


@dataclass(frozen=True)
class CapRoom:
    """One cap as it stands when the reward is settled: its limit and what was used."""
    name: str
    limit: Decimal
    used: Decimal


def encode(value: Any) -> Any:
    """A formula value as JSON, a Decimal exactly (as text)."""
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    return to_json(value)


def decode(value: Any) -> Any:
    if isinstance(value, dict) and "$decimal" in value:
        return Decimal(value["$decimal"])
    return from_json(value)


def rounded(value: Decimal, places: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def tier_for(tiers: tuple[Tier, ...], nth: int) -> Tier | None:
    chosen = None
    for tier in tiers:
        if tier.start <= nth:
            chosen = tier
    return chosen


def milestone_for(milestones: tuple[Milestone, ...], nth: int) -> Milestone | None:
    return next((m for m in milestones if m.at == nth), None)


def formula_value(text: str, inputs: Mapping[str, Any], rate: Decimal | None, nth: int) -> tuple[Decimal, str | None]:
    """The amount formula's value (Decimal), and a note when it gave no number."""
    values = {**inputs, "rate": rate if rate is not None else Decimal(0), "nth": Decimal(nth)}
    result = compile_formula(parse(text))(values, EvalContext())
    if type(result) is ErrorValue:
        return Decimal(0), f"the formula gave the error {result}"
    if result is None or isinstance(result, bool) or not isinstance(result, (int, Decimal, float)):
        return Decimal(0), f"the formula gave {result!r}, not a number"
    return Decimal(str(result)), None


def compute(rule: RewardRule, inputs: Mapping[str, Any], nth: int, caps: list[CapRoom]) -> dict:
    """The explanation of one reward (its "amount" is the amount to enter)."""
    tier = tier_for(rule.tiers, nth)
    milestone = milestone_for(rule.milestones, nth)
    explanation = {
        "rule": rule.key, "label": {"zh": rule.label.zh, "en": rule.label.en}, "beneficiary": rule.beneficiary,
        "level": rule.level, "kind": rule.reward_kind, "coupon": rule.coupon, "places": rule.places,
        "formula": rule.amount, "inputs": {k: encode(v) for k, v in sorted(inputs.items())},
        "nth": nth, "tiers": [{"from": t.start, "rate": str(t.rate)} for t in rule.tiers],
        "milestones": [{"at": m.at, "bonus": str(m.bonus)} for m in rule.milestones],
        "tier": {"from": tier.start, "rate": str(tier.rate)} if tier else None,
        "milestone": {"at": milestone.at, "bonus": str(milestone.bonus)} if milestone else None,
        "caps": [{"cap": c.name, "limit": str(c.limit), "used": str(c.used)} for c in caps],
    }
    return _evaluate(explanation)


def _evaluate(explanation: dict) -> dict:
    """Fill in the computed parts of an explanation from its inputs (compute and recompute
    share this, so the two cannot drift apart)."""
    places, nth = explanation["places"], explanation["nth"]
    tiers = tuple(Tier(t["from"], Decimal(t["rate"])) for t in explanation["tiers"])
    milestones = tuple(Milestone(m["at"], Decimal(m["bonus"])) for m in explanation["milestones"])
    tier, milestone = tier_for(tiers, nth), milestone_for(milestones, nth)
    inputs = {k: decode(v) for k, v in explanation["inputs"].items()}
    value, note = formula_value(explanation["formula"], inputs, tier.rate if tier else None, nth)
    value = max(rounded(value, places), Decimal(0))
    amount = value + (milestone.bonus if milestone else Decimal(0))
    before = amount
    for cap in explanation["caps"]:
        room = max(Decimal(cap["limit"]) - Decimal(cap["used"]), Decimal(0))
        cut = max(amount - room, Decimal(0))
        cap.update(room=str(room), cut=str(cut))
        amount -= cut
    amount = rounded(amount, places)
    explanation.update(formula_value=str(value), note=note, before_caps=str(rounded(before, places)),
                       amount=str(amount))
    return explanation


def recompute(explanation: dict) -> Decimal:
    """The amount computed again from an explanation's stored inputs, tiers, milestones and caps."""
    fresh = {k: v for k, v in explanation.items()
             if k in ("places", "nth", "tiers", "milestones", "inputs", "formula")}
    fresh["caps"] = [{"cap": c["cap"], "limit": c["limit"], "used": c["used"]} for c in explanation["caps"]]
    return Decimal(_evaluate(fresh)["amount"])


def describe(explanation: dict) -> dict[str, str]:
    """The explanation in words, {zh, en}: the rule, the formula with each input's value,
    the tier, the milestone, each cap that cut the amount, the dates."""
    e = explanation
    inputs = {lang: ", ".join(f"{k} = {_shown(v, lang)}" for k, v in e["inputs"].items()) for lang in ("zh", "en")}
    kind_zh, kind_en = KIND_WORDS.get(e["kind"], (e["kind"], e["kind"]))
    zh = [f"规则“{e['label']['zh']}”（{e['rule']}）：{kind_zh}奖励，公式 {e['formula']}，输入 {inputs['zh']}，"
          f"本期第 {e['nth']} 次奖励"]
    en = [f"Rule \"{e['label']['en']}\" ({e['rule']}): a {kind_en} reward, formula {e['formula']} with {inputs['en']}, "
          f"the beneficiary's reward no. {e['nth']} of the period"]
    if e["tier"]:
        zh.append(f"适用档位：自第 {e['tier']['from']} 次起 rate = {e['tier']['rate']}")
        en.append(f"tier from no. {e['tier']['from']}: rate = {e['tier']['rate']}")
    zh.append(f"公式结果 {e['formula_value']}")
    en.append(f"the formula gives {e['formula_value']}")
    if e.get("note"):
        en.append(e["note"])
        zh.append(f"（{e['note']}）")
    if e["milestone"]:
        zh.append(f"第 {e['milestone']['at']} 次里程碑奖励 +{e['milestone']['bonus']}")
        en.append(f"milestone bonus at no. {e['milestone']['at']}: +{e['milestone']['bonus']}")
    for cap in e["caps"]:
        if Decimal(cap.get("cut", "0")) > 0:
            words = CAP_WORDS.get(cap["cap"], (cap["cap"], cap["cap"]))
            zh.append(f"{words[0]} {cap['limit']}（已用 {cap['used']}），扣减 {cap['cut']}")
            en.append(f"{words[1]} {cap['limit']} ({cap['used']} used before) cut {cap['cut']}")
    zh.append(f"奖励金额 {e['amount']}")
    en.append(f"amount {e['amount']}")
    if e.get("earned_on"):
        hold = e.get("hold_days", 0)
        zh.append(f"{e['earned_on']} 获得，冷静期 {hold} 天，{e.get('vests_on')} 生效")
        en.append(f"earned on {e['earned_on']}, held {hold} days, vests on {e.get('vests_on')}")
    return {"zh": "；".join(zh) + "。", "en": "; ".join(en) + "."}


def _shown(value: Any, lang: str) -> str:
    if isinstance(value, dict) and len(value) == 1:
        inner = next(iter(value.values()))
        if inner is True and "empty" in value:
            return "空" if lang == "zh" else "empty"
        return str(inner)
    return str(value)
