"""Automations read from the definition's `automations` list into plain objects. Reading
never raises: what is malformed is left out or None, and the validator reports it
(engine/validation/automation_checks.py); an installed app has none of that."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.definition.model import AppDef, Label


@dataclass(frozen=True)
class Trigger:
    kind: str
    options: dict[str, Any]

    def option(self, name: str, default: Any = None) -> Any:
        return self.options.get(name, default)


@dataclass(frozen=True)
class Action:
    kind: str
    options: dict[str, Any]
    path: str                   # automations[0].actions[1]

    def option(self, name: str, default: Any = None) -> Any:
        return self.options.get(name, default)

    @property
    def values(self) -> dict[str, str]:
        raw = self.options.get("values")
        return {k: v for k, v in raw.items() if isinstance(v, str)} if isinstance(raw, dict) else {}


@dataclass(frozen=True)
class Automation:
    key: str
    label: Label
    form: str | None
    trigger: Trigger
    condition: str | None
    actions: tuple[Action, ...]
    enabled: bool = True
    path: str = ""
    raw: dict = field(default_factory=dict, compare=False)

    def action_form(self, action: Action) -> str | None:
        """The form an action writes to: its own `form`, else the automation's."""
        return action.option("form") or self.form


def automations_of(app: AppDef) -> list[Automation]:
    """The automations of a definition (those with a text key and a trigger kind)."""
    raw = app.raw.get("automations") if isinstance(app.raw, dict) else None
    found = []
    for index, item in enumerate(raw if isinstance(raw, list) else []):
        automation = _automation(item, f"automations[{index}]")
        if automation is not None:
            found.append(automation)
    return found


def _automation(item: Any, path: str) -> Automation | None:
    if not isinstance(item, dict) or not isinstance(item.get("key"), str):
        return None
    trigger = item.get("trigger") if isinstance(item.get("trigger"), dict) else {}
    if not isinstance(trigger.get("kind"), str):
        return None
    actions = item.get("actions") if isinstance(item.get("actions"), list) else []
    return Automation(
        key=item["key"], label=Label.parse(item.get("label") or item["key"]),
        form=item.get("form") if isinstance(item.get("form"), str) else None,
        trigger=Trigger(trigger["kind"], {k: v for k, v in trigger.items() if k != "kind"}),
        condition=item.get("condition") if isinstance(item.get("condition"), str) else None,
        actions=tuple(Action(a["kind"], {k: v for k, v in a.items() if k != "kind"}, f"{path}.actions[{i}]")
                      for i, a in enumerate(actions) if isinstance(a, dict) and isinstance(a.get("kind"), str)),
        enabled=item.get("enabled", True) is not False, path=path, raw=item)
