"""What a reward rule's formulas read: the source record's own fields by key (`amount`,
`net_paid`, `status`), its `id`, and in the amount formula `rate` (the value of the tier
chosen) and `nth` (which reward of the period this is for the beneficiary: 1, 2, ...)."""
from __future__ import annotations

from typing import Iterable

from engine.automations.env import AutomationEnv
from engine.definition.model import AppDef, FormDef
from engine.fields.registry import FieldTypes

AMOUNT_NAMES = ("rate", "nth")


class RewardEnv:
    """The FormulaEnv of one rule's formulas; `amount` adds rate and nth."""

    def __init__(self, app: AppDef, form: FormDef, types: FieldTypes | None = None, *, amount: bool = False):
        self.own = AutomationEnv(app, form, types)
        self.amount = amount
        self.old = self.payload = False     # no old.* nor payload.*: a rule reads the record as it is

    def field_type(self, path: tuple[str, ...]) -> str | None:
        if self.amount and len(path) == 1 and path[0] in AMOUNT_NAMES:
            return "number"
        return self.own.field_type(path)

    def candidates(self, prefix: tuple[str, ...]) -> Iterable[str]:
        names = list(self.own.candidates(prefix))
        return names + list(AMOUNT_NAMES) * (self.amount and not prefix)
