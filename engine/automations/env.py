"""What an automation's formulas read (its condition, the values of its actions):

- the triggering record's own fields by their keys (`stage`, `amount`): the values
  after the change (for record_deleted, the values it had);
- `old.<field>` (record_updated only): the value before the update, so a condition
  can say what changed and how: `old.stage <> stage`, `amount > old.amount * 1.2`.
  A field the update did not change has the same value in `old` as now;
- `payload.<key>` (webhook only): a key of the incoming JSON, of any type;
- `id`: the triggering record's id (an action's `record` formula defaults to it).

Only own fields: an automation runs from a job that has the record's row, and the
relations are not loaded (a lookup field brings a related value into the record).
"""
from __future__ import annotations

from typing import Iterable

from engine.computed.env import AppEnv
from engine.definition.model import AppDef, FormDef
from engine.fields.registry import FieldTypes

OLD, PAYLOAD = "old", "payload"


class AutomationEnv:
    """The FormulaEnv of one automation's formulas."""

    def __init__(self, app: AppDef, form: FormDef | None, types: FieldTypes | None = None, *,
                 old: bool = False, payload: bool = False):
        self.own = AppEnv(app, form, "own", types=types) if form is not None else None
        self.form, self.old, self.payload = form, old, payload

    def field_type(self, path: tuple[str, ...]) -> str | None:
        if self.old and path[0] == OLD and len(path) == 2:
            return self._own((path[1],))
        if self.payload and path[0] == PAYLOAD and len(path) >= 2:
            return "any"
        if path == ("id",) and self.form is not None:
            return "number"
        return self._own(path)

    def _own(self, path: tuple[str, ...]) -> str | None:
        return self.own.field_type(path) if self.own is not None else None

    def candidates(self, prefix: tuple[str, ...]) -> Iterable[str]:
        if prefix == (OLD,) and self.old:
            return self.own.candidates(()) if self.own is not None else []
        names = list(self.own.candidates(prefix)) if self.own is not None else []
        if not prefix:
            names += [OLD] * self.old + [PAYLOAD] * self.payload + ["id"] * (self.form is not None)
        return names
