"""The reward rules of a compiled app, worked out once per App: by source form, their
formulas parsed. The record listener asks this on every write, so an app without rules
costs one dictionary lookup."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.compiled.app import App, AppCache
from engine.formula import parse
from engine.rewards.model import RewardRule, rewards_of

SETTLE_KIND = "rewards.settle"
VEST_KIND = "rewards.vest"


@dataclass
class AppRewards:
    app: App
    by_key: dict[str, RewardRule] = field(default_factory=dict)
    by_source: dict[str, list[RewardRule]] = field(default_factory=dict)
    formulas: dict[str, Any] = field(default_factory=dict)

    def formula(self, text: str):
        found = self.formulas.get(text)
        if found is None:
            found = self.formulas[text] = parse(text)
        return found


_CACHE = AppCache(64)


def rewards_for(app: App) -> AppRewards:
    found = _CACHE.get(id(app))
    if found is not None and found[0] is app:
        return found[1]
    made = AppRewards(app)
    for rule in rewards_of(app.definition):
        made.by_key[rule.key] = rule
        if rule.enabled and rule.source:
            made.by_source.setdefault(rule.source, []).append(rule)
    _CACHE.put(id(app), (app, made))
    return made
