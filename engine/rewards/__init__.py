"""Reward rules (奖励规则) as the app definition declares them (docs/rewards.md): when a
source record earns a reward (a condition formula), who gets it (the friend, the
referrer, at most one indirect level and only when the rule says so), how much (a formula,
tiers by the beneficiary's nth reward of the period, milestone bonuses), the caps, the
hold before it vests, and the approval before payout.

    schema   the JSON Schema of one rule (part of the published definition schema)
    model    the definition read into RewardRule (never raises)
    env      what the rule's formulas read (the source record's own fields, rate, nth)
    compute  the amount and its explanation, recomputable from what the explanation stores

The checks of meaning are engine/validation/reward_checks.py; settling is runtime/rewards.
"""
from engine.rewards.compute import CapRoom, compute, describe, recompute
from engine.rewards.model import RewardRule, rewards_of
from engine.rewards.schema import reward_schema

__all__ = ["CapRoom", "compute", "describe", "recompute", "RewardRule", "rewards_of", "reward_schema"]
