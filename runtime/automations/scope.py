"""What an automation's actions work with: the triggering record, the formula inputs
built from it (own fields, `old.*`, `payload.*`, `id`; engine/automations/env.py) and the
evaluation context (the workspace time zone, the clock read once, the acting user)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.automations.model import Action, Automation
from engine.compiled.app import App
from engine.computed.env import evaluation_context, field_formula_type
from engine.errors import FormworkError
from engine.fields.base import ValueContext
from engine.formula import EvalContext, compile_formula, from_json
from engine.formula.values import ErrorValue, to_bool
from runtime.automations.compiled import automations_for
from runtime.records.serialize import record_to_json


@dataclass
class Scope:
    uow: Any
    app: App
    automation: Automation
    record: dict | None                 # records.get(...) of the triggering record, or None
    inputs: dict[str, Any]
    eval_ctx: EvalContext
    payload: Any = None
    run_key: str = ""                   # names this run (its job's key): keys of what it enqueues

    @property
    def payload_key(self) -> str:
        return self.run_key

    @property
    def record_id(self) -> int | None:
        return self.record["id"] if self.record is not None else None

    def wrote(self, form_key: str, record_id: int, record: dict) -> None:
        """An action changed a record: when it is the triggering one, the next actions read
        it as it is now (a notification after an assignment goes to the new owner)."""
        if self.record is None or form_key != self.automation.form or record_id != self.record["id"]:
            return
        self.record = record        # as the record service returned it after the write
        old = self.inputs.get("old")
        self.inputs = record_inputs(self.app, form_key, self.record, value_context(self.uow))
        if old is not None:
            self.inputs["old"] = old
        if self.payload is not None:
            self.inputs["payload"] = self.payload

    def record_json(self) -> dict | None:
        if self.record is None:
            return None
        return record_to_json(self.app, self.automation.form, self.record)

    def evaluate(self, text: str) -> Any:
        formula = automations_for(self.app).formula(text)
        return compile_formula(formula)(self.inputs, self.eval_ctx)

    def condition_holds(self) -> bool:
        return self.automation.condition is None or to_bool(self.evaluate(self.automation.condition)) is True

    def values(self, action: Action) -> dict[str, Any]:
        """The action's values by formula, as input for the record service (an error or
        empty result leaves the field empty)."""
        return {key: field_input(self.evaluate(text)) for key, text in action.values.items()}

    def target_id(self, action: Action) -> int:
        """The record an action acts on: its `record` formula, else the triggering record."""
        if action.option("record"):
            found = self.evaluate(action.option("record"))
            if type(found) is ErrorValue or found is None or isinstance(found, (bool, list)):
                raise FormworkError(f"{action.path}.record: the formula gave {found!r}, not a record id")
            return int(found)
        if self.record_id is None:
            raise FormworkError(f"{action.path}: this run has no triggering record; give `record:`")
        return self.record_id


def field_input(value: Any) -> Any:
    if value is None or type(value) is ErrorValue:
        return None
    return value


def value_context(uow) -> ValueContext:
    return ValueContext(tz=uow.session.tz, now=uow.session.now, user_id=uow.actor.user_id)


def record_inputs(app: App, form_key: str, record: dict, ctx: ValueContext) -> dict[str, Any]:
    """The formula values of a record's own fields, by key, and its id."""
    form = app.require_form(form_key)
    inputs: dict[str, Any] = {"id": record["id"]}
    for fdef in form.fields:
        if field_formula_type(fdef, app.types) is not None and fdef.key in record["fields"]:
            inputs[fdef.key] = app.types.of(fdef).formula_value(record["fields"][fdef.key], ctx)
    return inputs


def build_scope(uow, app: App, automation: Automation, record: dict | None, payload: dict,
                run_key: str) -> Scope:
    ctx = value_context(uow)
    inputs: dict[str, Any] = {}
    if record is not None:
        inputs = record_inputs(app, automation.form, record, ctx)
        old = {key: from_json(value) for key, value in (payload.get("old") or {}).items()}
        inputs["old"] = {**inputs, **old}
    if payload.get("payload") is not None:
        inputs["payload"] = payload["payload"]
    return Scope(uow, app, automation, record, inputs, evaluation_context(ctx), payload.get("payload"),
                 run_key)
