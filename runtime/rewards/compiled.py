"""The reward rules of a compiled app, worked out once per App: by source form, their
formulas parsed. The record listener asks this on every write, so an app without rules
costs one dictionary lookup."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.compiled.app import App, AppCache
from engine.formula import parse
from engine.formula.diagnostics import FormulaSyntaxError
from engine.rewards.model import RewardRule, rewards_of

SETTLE_KIND = "rewards.settle"
VEST_KIND = "rewards.vest"              # one entry (kept for jobs already in an outbox)
VEST_DUE_KIND = "rewards.vest_due"      # every due entry, one statement per batch


@dataclass
class AppRewards:
    app: App
    by_key: dict[str, RewardRule] = field(default_factory=dict)
    by_source: dict[str, list[RewardRule]] = field(default_factory=dict)
    formulas: dict[str, Any] = field(default_factory=dict)
    reads: dict[str, frozenset[str]] = field(default_factory=dict)   # source form -> the fields its rules read

    def formula(self, text: str):
        found = self.formulas.get(text)
        if found is None:
            found = self.formulas[text] = parse(text)
        return found


def read_set(programme: AppRewards, rules: list[RewardRule]) -> set[str]:
    """The fields of the source form these rules read: every field their when, refunded
    and amount formulas name (a relation walk `customer.level` reads `customer`), the
    customer relation, the date and the campaign. A change of any other field cannot
    change what they settle. A formula that does not parse reads nothing (validation
    refuses such a definition before it is installed)."""
    names: set[str] = set()
    for rule in rules:
        for text in (rule.when, rule.refunded, rule.amount):
            if text:
                try:
                    names |= {path[0] for path in programme.formula(text).references}
                except FormulaSyntaxError:
                    continue
        names |= {name for name in (rule.customer, rule.date, rule.campaign) if isinstance(name, str)}
    return names


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
    for source, rules in made.by_source.items():
        made.reads[source] = frozenset(read_set(made, rules))
    _CACHE.put(id(app), (app, made))
    return made
