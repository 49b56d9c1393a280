"""The node-type registry: one class per node type, like the field types.

A node type says which keys it takes (the JSON Schema is built from them,
engine/workflow/schema.py), whether it pauses for people (`human`), which edges it
has, and its own definition checks. The runtime interpreter (runtime/workflow) runs a
node by its type's name.

    start      the submitter submits the record; then `next`
    fill       填写: people complete fields (approvers, fields), then `next`
    approve    审批: people approve or reject (approvers, mode, fields, timeout...)
    cc         抄送: people are told (approvers), the flow goes on at once
    exclusive  the first branch whose `when` formula is TRUE, else `default`
    parallel   every branch at once; they meet at `join`
    join       where the branches of a parallel split meet, then `next`
    action     an automated step: `action: set_fields` with `set: {field: formula}`,
               or an automation action's name with `params`
    subflow    starts workflow `workflow` on the records of `form` whose relation `via`
               points at this record; with `wait` (default) goes on when they all end
    end        the flow ends (approved)
"""
from __future__ import annotations

from typing import ClassVar

COMMON_NODE_KEYS = ("key", "type", "label", "description")
_PEOPLE = ("approvers", "if_none", "if_none_message")
_TASK = (*_PEOPLE, "mode", "share", "allow_self", "fields", "timeout")


class NodeType:
    name: ClassVar[str]
    keys: ClassVar[tuple[str, ...]] = ("next",)     # besides COMMON_NODE_KEYS
    required: ClassVar[tuple[str, ...]] = ("next",)
    human: ClassVar[bool] = False                   # pauses until people act
    is_end: ClassVar[bool] = False


_REGISTRY: dict[str, type[NodeType]] = {}


def register(cls: type[NodeType]) -> type[NodeType]:
    _REGISTRY[cls.name] = cls
    return cls


def node_types() -> dict[str, type[NodeType]]:
    return dict(_REGISTRY)


def node_type(name: str | None) -> type[NodeType] | None:
    return _REGISTRY.get(name) if isinstance(name, str) else None


@register
class StartNode(NodeType):
    name = "start"
    keys = ("next", "fields")


@register
class FillNode(NodeType):
    name = "fill"
    keys = ("next", *_TASK)
    required = ("next", "approvers")
    human = True


@register
class ApproveNode(NodeType):
    name = "approve"
    keys = ("next", *_TASK, "signature")
    required = ("next", "approvers")
    human = True


@register
class CcNode(NodeType):
    name = "cc"
    keys = ("next", *_PEOPLE)
    required = ("next", "approvers")


@register
class ExclusiveNode(NodeType):
    name = "exclusive"
    keys = ("branches", "default")
    required = ("branches",)        # a missing default is said by the graph check, with a hint


@register
class ParallelNode(NodeType):
    name = "parallel"
    keys = ("branches", "join")
    required = ("branches", "join")


@register
class JoinNode(NodeType):
    name = "join"


@register
class ActionNode(NodeType):
    name = "action"
    keys = ("next", "action", "params", "set")
    required = ("next", "action")


@register
class SubflowNode(NodeType):
    name = "subflow"
    keys = ("next", "form", "via", "workflow", "wait")
    required = ("next", "form", "via", "workflow")


@register
class EndNode(NodeType):
    name = "end"
    keys = ()
    required = ()
    is_end = True
