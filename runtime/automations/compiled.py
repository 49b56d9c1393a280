"""The automations of a compiled app, worked out once per App: by form and trigger kind,
their formulas parsed. The record listener asks this on every write, so an app without
automations costs one dictionary lookup."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from engine.automations.model import Automation, automations_of
from engine.compiled.app import App, AppCache
from engine.formula import FormulaSyntaxError, parse

RUN_KIND = "automation.run"
# How deep a chain of automations may go: an automation whose actions trigger another
# is depth 1, that one's are depth 2... The run that would exceed it is stopped.
MAX_DEPTH = int(os.environ.get("FORMWORK_AUTOMATION_MAX_DEPTH", "5"))


@dataclass
class AppAutomations:
    app: App
    by_key: dict[str, Automation] = field(default_factory=dict)
    by_trigger: dict[tuple[str | None, str], list[Automation]] = field(default_factory=dict)
    formulas: dict[str, Any] = field(default_factory=dict)      # formula text -> parsed

    def triggered(self, form_key: str | None, kind: str) -> list[Automation]:
        return self.by_trigger.get((form_key, kind), [])

    def formula(self, text: str):
        found = self.formulas.get(text)
        if found is None:
            found = self.formulas[text] = parse(text)
        return found

    def of_kind(self, kind: str) -> list[Automation]:
        return [a for a in self.by_key.values() if a.trigger.kind == kind and a.enabled]


_CACHE = AppCache(64)       # id(app) -> (app, AppAutomations)


def automations_for(app: App) -> AppAutomations:
    found = _CACHE.get(id(app))
    if found is not None and found[0] is app:
        return found[1]
    made = AppAutomations(app)
    for automation in automations_of(app.definition):
        made.by_key[automation.key] = automation
        if automation.enabled:
            made.by_trigger.setdefault((automation.form, automation.trigger.kind), []).append(automation)
        for text in [automation.condition, *(f for a in automation.actions for f in a.values.values())]:
            if text:
                try:
                    made.formula(text)
                except FormulaSyntaxError:
                    pass        # refused by validation; an installed app never has one
    _CACHE.put(id(app), (app, made))
    return made
