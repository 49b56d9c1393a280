"""The formula syntax tree: small frozen dataclasses every back end walks.

Every node knows where it came from (`start`/`end` offsets into the formula text,
1-based `line` and `column` of its start) and has a `type` slot, empty after parsing
and filled by the type checker (`typecheck.check(...).tree`), so a back end that needs
types (the SQL translator, the compiled path's fast arithmetic) reads them off the
node. Positions and types are left out of equality, so two trees are equal when they
mean the same formula.

Operators are spelled as in the formula language, normalised: `==` is `=`, `!=` is
`<>`. Unary plus is dropped by the parser (it changes nothing, as in Excel).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Iterator

# The operators a `Binary` node may hold, in the language's spelling.
ARITHMETIC_OPERATORS = ("+", "-", "*", "/", "^")
COMPARISON_OPERATORS = ("=", "<>", "<", "<=", ">", ">=")
BINARY_OPERATORS = ARITHMETIC_OPERATORS + ("&",) + COMPARISON_OPERATORS
UNARY_OPERATORS = ("-", "%")   # negation (prefix) and percent (postfix)


@dataclass(frozen=True)
class Node:
    start: int = field(compare=False, repr=False)    # 0-based offset of the first character
    end: int = field(compare=False, repr=False)      # 0-based offset after the last one
    line: int = field(compare=False, repr=False)
    column: int = field(compare=False, repr=False)
    type: str | None = field(default=None, compare=False, repr=False, kw_only=True)

    def children(self) -> tuple["Node", ...]:
        return ()

    def with_children(self, children: tuple["Node", ...]) -> "Node":
        """A copy of this node over other children (same order as `children()`)."""
        return self

    def typed(self, type_name: str) -> "Node":
        return replace(self, type=type_name)

    def walk(self) -> Iterator["Node"]:
        """This node and every node below it, parents first (iterative: no recursion)."""
        stack: list[Node] = [self]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(node.children()))


@dataclass(frozen=True)
class Number(Node):
    value: Decimal


@dataclass(frozen=True)
class Text(Node):
    value: str


@dataclass(frozen=True)
class Boolean(Node):
    value: bool


@dataclass(frozen=True)
class ArrayLiteral(Node):
    """`{1, 2, 3}`: a constant array of literals."""

    items: tuple[Node, ...]

    def children(self) -> tuple[Node, ...]:
        return self.items

    def with_children(self, children: tuple[Node, ...]) -> Node:
        return replace(self, items=tuple(children))


@dataclass(frozen=True)
class FieldRef(Node):
    """A field by key: ("amount",), through a relation ("customer", "level"), or a
    subform column ("items", "price")."""

    path: tuple[str, ...]

    @property
    def dotted(self) -> str:
        return ".".join(self.path)


@dataclass(frozen=True)
class Unary(Node):
    op: str          # "-" (negation) or "%" (postfix percent)
    operand: Node

    def children(self) -> tuple[Node, ...]:
        return (self.operand,)

    def with_children(self, children: tuple[Node, ...]) -> Node:
        (operand,) = children
        return replace(self, operand=operand)


@dataclass(frozen=True)
class Binary(Node):
    op: str          # one of BINARY_OPERATORS
    left: Node
    right: Node

    def children(self) -> tuple[Node, ...]:
        return (self.left, self.right)

    def with_children(self, children: tuple[Node, ...]) -> Node:
        left, right = children
        return replace(self, left=left, right=right)


@dataclass(frozen=True)
class Call(Node):
    """A function call; `name` is upper-case, as the function table keys it."""

    name: str
    args: tuple[Node, ...]

    def children(self) -> tuple[Node, ...]:
        return self.args

    def with_children(self, children: tuple[Node, ...]) -> Node:
        return replace(self, args=tuple(children))


def map_tree(root: Node, visit) -> Node:
    """Rebuild a tree bottom-up: `visit(node, new_children)` returns the new node.

    Iterative (an explicit stack), so it never hits Python's recursion limit.
    """
    results: dict[int, Node] = {}
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if not children_done:
            stack.append((node, True))
            stack.extend((child, False) for child in reversed(node.children()))
            continue
        new_children = tuple(results[id(child)] for child in node.children())
        results[id(node)] = visit(node, new_children)
    return results[id(root)]


@dataclass(frozen=True)
class Formula:
    """A parsed formula: its text, its tree, and what it uses."""

    text: str
    tree: Node
    references: tuple[tuple[str, ...], ...]   # field paths, in order of first use
    functions: frozenset[str]                 # upper-case names of the functions called
    volatile: bool                            # uses TODAY()/NOW(): depends on the clock

    def __str__(self) -> str:
        return self.text
