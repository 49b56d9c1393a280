"""Reward rules read from the definition's `rewards` list into plain objects. Reading never
raises: what is malformed is left out or None, and the validator reports it
(engine/validation/reward_checks.py); an installed app has none of that."""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from engine.definition.model import AppDef, Label

LEVELS = {"friend": 0, "referrer": 1, "indirect": 2}


@dataclass(frozen=True)
class Tier:
    start: int          # from the nth reward of the period
    rate: Decimal


@dataclass(frozen=True)
class Milestone:
    at: int
    bonus: Decimal


@dataclass(frozen=True)
class RewardRule:
    key: str
    label: Label
    source: str | None
    customer: str | None
    when: str | None
    beneficiary: str | None
    amount: str | None
    referrer_field: str = "referrer"
    refunded: str | None = None
    date: str | None = None
    campaign: str | None = None
    ledger: str | None = None           # the form mirroring the entries for finance
    account_field: str | None = None    # user field of the customer form: the beneficiary's login
    allow_indirect: bool = False
    once_per: str = "source"
    reward_kind: str = "cash"
    coupon: str | None = None
    period: str = "year"
    tiers: tuple[Tier, ...] = ()
    milestones: tuple[Milestone, ...] = ()
    caps: dict[str, Decimal] = field(default_factory=dict)
    hold_days: int = 0
    approval: bool = True
    enabled: bool = True
    path: str = ""

    @property
    def level(self) -> int:
        """0 the friend, 1 the referrer, 2 the referrer's referrer."""
        return LEVELS.get(self.beneficiary or "", 1)

    @property
    def places(self) -> int:
        """Decimal places of the amount: points are whole, money has fen."""
        return 0 if self.reward_kind == "points" else 2

    def formulas(self) -> list[str]:
        return [text for text in (self.when, self.refunded, self.amount) if text]


def rewards_of(app: AppDef) -> list[RewardRule]:
    raw = app.raw.get("rewards") if isinstance(app.raw, dict) else None
    found = []
    for index, item in enumerate(raw if isinstance(raw, list) else []):
        if isinstance(item, dict) and isinstance(item.get("key"), str):
            found.append(_rule(item, f"rewards[{index}]"))
    return found


def _text(item: dict, name: str, default: Any = None) -> Any:
    value = item.get(name)
    return value if isinstance(value, str) else default


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        return Decimal(str(value))
    except ArithmeticError:
        return None


def _rule(item: dict, path: str) -> RewardRule:
    reward = item.get("reward") if isinstance(item.get("reward"), dict) else {}
    tiers = item.get("tiers") if isinstance(item.get("tiers"), dict) else {}
    steps = [s for s in tiers.get("steps") or [] if isinstance(s, dict)]
    caps = item.get("caps") if isinstance(item.get("caps"), dict) else {}
    return RewardRule(
        key=item["key"], label=Label.parse(item.get("label") or item["key"]),
        source=_text(item, "source"), customer=_text(item, "customer"), when=_text(item, "when"),
        beneficiary=_text(item, "beneficiary"), amount=_text(item, "amount"),
        referrer_field=_text(item, "referrer_field", "referrer"), refunded=_text(item, "refunded"),
        date=_text(item, "date"), campaign=_text(item, "campaign"), account_field=_text(item, "account_field"),
        ledger=_text(item, "ledger"),
        allow_indirect=item.get("allow_indirect") is True, once_per=_text(item, "once_per", "source"),
        reward_kind=_text(reward, "kind", "cash"), coupon=_text(reward, "coupon"),
        period=_text(tiers, "period", "year"),
        tiers=tuple(sorted((Tier(s["from"], _number(s.get("rate")) or Decimal(0)) for s in steps
                            if isinstance(s.get("from"), int)), key=lambda t: t.start)),
        milestones=tuple(sorted((Milestone(m["at"], _number(m.get("bonus")) or Decimal(0))
                                 for m in item.get("milestones") or []
                                 if isinstance(m, dict) and isinstance(m.get("at"), int)), key=lambda m: m.at)),
        caps={name: number for name, value in caps.items() if (number := _number(value)) is not None},
        hold_days=item["hold_days"] if isinstance(item.get("hold_days"), int) else 0,
        approval=item.get("approval", True) is not False, enabled=item.get("enabled", True) is not False,
        path=path)
