"""The typed model of a form's workflows (`workflows:` in a form of the app definition).

Built from the document defensively, like engine/definition/model.py: a node that is
not a mapping or has no text key is left out (the JSON Schema reports it), a value of
the wrong type becomes None. Such a model is only used to find problems; an installed
app's workflows are always valid.

    workflow = Workflow.from_dict(raw, "forms[3].workflows[0]")
    workflow.node("head").next          # "finance"
    workflow.edges()                    # [(from, to, label)] for a page to draw
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Iterator

from engine.definition.model import Label

# Per-node field permissions. An approve node shows every field read-only unless told.
HIDDEN, VISIBLE, EDITABLE, REQUIRED = "hidden", "visible", "editable", "required"
FIELD_ACCESS = (HIDDEN, VISIBLE, EDITABLE, REQUIRED)

MODES = ("any", "all", "sequential", "share")          # 或签, 会签, 依次, a share (percent)
IF_NONE = ("admin", "skip", "stop")                    # when no approver is found
TIMEOUT_ACTIONS = ("remind", "auto_approve", "auto_return", "escalate")
START_ON = ("submit", "manual")

_DURATION = re.compile(r"^(\d{1,4})(m|h|d|w)$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(text: Any) -> timedelta | None:
    """'30m', '4h', '2d', '1w' -> timedelta; None when it is not one."""
    match = _DURATION.match(text) if isinstance(text, str) else None
    if not match or int(match.group(1)) == 0:
        return None
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _keyed(items: Any) -> Iterator[tuple[int, dict]]:
    if isinstance(items, list):
        for index, item in enumerate(items):
            if isinstance(item, dict) and isinstance(item.get("key"), str):
                yield index, item


@dataclass(frozen=True)
class ApproverRule:
    """One way of finding people: exactly one of the kinds below is set (the JSON Schema
    says so). `path` is where it is in the definition."""
    kind: str            # users | role | department_head | manager | field | chosen
    value: Any           # accounts | role key | "submitter" or a field key | {...} | field key | True
    path: str

    KINDS = ("users", "role", "department_head", "manager", "field", "chosen")

    @classmethod
    def from_dict(cls, raw: Any, path: str) -> "ApproverRule | None":
        if not isinstance(raw, dict):
            return None
        kinds = [k for k in cls.KINDS if k in raw]
        return cls(kinds[0], raw[kinds[0]], path) if len(kinds) == 1 else None

    @property
    def manager_levels(self) -> int | None:
        return self.value.get("levels") if isinstance(self.value, dict) else None

    @property
    def manager_up_to_role(self) -> str | None:
        return self.value.get("up_to_role") if isinstance(self.value, dict) else None


@dataclass(frozen=True)
class Timeout:
    after: timedelta | None       # from the moment the task is created
    field: str | None             # or a date/datetime field of the record
    action: str                   # remind | auto_approve | auto_return | escalate
    repeat: timedelta | None      # remind again every...
    to: tuple[ApproverRule, ...]  # escalate to
    path: str
    raw: dict

    @classmethod
    def from_dict(cls, raw: Any, path: str) -> "Timeout | None":
        if not isinstance(raw, dict):
            return None
        rules = raw.get("to") if isinstance(raw.get("to"), list) else []
        return cls(parse_duration(raw.get("after")), _text(raw.get("field")), _text(raw.get("action")) or "remind",
                   parse_duration(raw.get("repeat")),
                   tuple(r for i, x in enumerate(rules) if (r := ApproverRule.from_dict(x, f"{path}.to[{i}]"))),
                   path, raw)


@dataclass(frozen=True)
class Branch:
    when: str | None       # a formula (exclusive) or None (parallel)
    next: str | None
    path: str
    next_path: str         # where `next` is written


@dataclass(frozen=True)
class Node:
    key: str
    type: str | None
    label: Label
    path: str
    raw: dict

    # ---- what most nodes have ----------------------------------------------------------
    @property
    def next(self) -> str | None:
        return _text(self.raw.get("next"))

    @property
    def approvers(self) -> tuple[ApproverRule, ...]:
        rules = self.raw.get("approvers")
        if not isinstance(rules, list):
            return ()
        return tuple(r for i, x in enumerate(rules)
                     if (r := ApproverRule.from_dict(x, f"{self.path}.approvers[{i}]")))

    @property
    def mode(self) -> str:
        return _text(self.raw.get("mode")) or "any"

    @property
    def share(self) -> int:
        value = self.raw.get("share")
        return value if isinstance(value, int) and not isinstance(value, bool) else 100

    @property
    def if_none(self) -> str:
        return _text(self.raw.get("if_none")) or "admin"

    @property
    def if_none_message(self) -> Label | None:
        raw = self.raw.get("if_none_message")
        return Label.parse(raw) if raw else None

    @property
    def allow_self(self) -> bool:
        return self.raw.get("allow_self") is True

    @property
    def signature(self) -> bool:
        return self.raw.get("signature") is True

    @property
    def fields(self) -> dict[str, str]:
        raw = self.raw.get("fields")
        return {k: v for k, v in raw.items() if isinstance(v, str)} if isinstance(raw, dict) else {}

    @property
    def timeout(self) -> Timeout | None:
        return Timeout.from_dict(self.raw.get("timeout"), f"{self.path}.timeout")

    # ---- branches ----------------------------------------------------------------------
    @property
    def branches(self) -> list[Branch]:
        """Exclusive: [{when, next}]; parallel: node keys, each a Branch with when None."""
        raw = self.raw.get("branches")
        if not isinstance(raw, list):
            return []
        out = []
        for i, item in enumerate(raw):
            where = f"{self.path}.branches[{i}]"
            if isinstance(item, dict):
                out.append(Branch(_text(item.get("when")), _text(item.get("next")), where, f"{where}.next"))
            elif isinstance(item, str):
                out.append(Branch(None, item, where, where))
        return out

    @property
    def default(self) -> str | None:
        return _text(self.raw.get("default"))

    @property
    def join(self) -> str | None:
        return _text(self.raw.get("join"))

    # ---- automated steps and sub-flows -------------------------------------------------
    @property
    def action(self) -> str | None:
        return _text(self.raw.get("action"))

    @property
    def params(self) -> dict:
        return self.raw.get("params") if isinstance(self.raw.get("params"), dict) else {}

    @property
    def set(self) -> dict[str, str]:
        raw = self.raw.get("set")
        return dict(raw) if isinstance(raw, dict) else {}

    @property
    def form(self) -> str | None:
        return _text(self.raw.get("form"))

    @property
    def via(self) -> str | None:
        return _text(self.raw.get("via"))

    @property
    def workflow(self) -> str | None:
        return _text(self.raw.get("workflow"))

    @property
    def wait(self) -> bool:
        return self.raw.get("wait") is not False

    def targets(self) -> list[tuple[str, str, str]]:
        """(target node key, where it is named, edge label) of every edge out of this node."""
        out = []
        if self.next is not None:
            out.append((self.next, f"{self.path}.next", ""))
        for branch in self.branches:
            if branch.next is not None:
                out.append((branch.next, branch.next_path, branch.when or ""))
        if self.default is not None:
            out.append((self.default, f"{self.path}.default", "default"))
        return out

    @classmethod
    def from_dict(cls, raw: dict, path: str) -> "Node":
        return cls(raw["key"], _text(raw.get("type")), Label.parse(raw.get("label") or raw["key"]), path, raw)


@dataclass(frozen=True)
class Workflow:
    key: str
    label: Label
    form_key: str
    path: str
    nodes: tuple[Node, ...]
    start_on: str = "submit"
    by_key: dict = field(default_factory=dict, compare=False, repr=False)

    def node(self, key: str) -> Node | None:
        return self.by_key.get(key)

    @property
    def start(self) -> Node | None:
        return next((n for n in self.nodes if n.type == "start"), None)

    def edges(self) -> list[tuple[str, str, str]]:
        """(from, to, label) of every edge, a parallel split's join included."""
        out = [(n.key, target, label) for n in self.nodes for target, _, label in n.targets()]
        return out

    @classmethod
    def from_dict(cls, raw: dict, path: str, form_key: str) -> "Workflow":
        nodes = tuple(Node.from_dict(n, f"{path}.nodes[{i}]") for i, n in _keyed(raw.get("nodes")))
        by_key: dict[str, Node] = {}
        for node in nodes:
            by_key.setdefault(node.key, node)
        return cls(raw["key"], Label.parse(raw.get("label") or raw["key"]), form_key, path, nodes,
                   _text(raw.get("start")) or "submit", by_key)


def form_workflows(raw_form: Any, form_path: str, form_key: str) -> list[Workflow]:
    """The workflows of one form document (those with a text key)."""
    if not isinstance(raw_form, dict):
        return []
    return [Workflow.from_dict(w, f"{form_path}.workflows[{i}]", form_key)
            for i, w in _keyed(raw_form.get("workflows"))]
