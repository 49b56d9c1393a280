"""Formula text from a syntax tree: `unparse(parse(text).tree)` means what `text` means.

Used where a part of a formula must travel as text (the SQL back end hands a part to
SQLite's Python functions as a bound parameter). Operands that are operations are
bracketed, so precedence never has to be re-derived.
"""
from __future__ import annotations

from engine.formula.nodes import (
    ArrayLiteral, Binary, Boolean, Call, FieldRef, Node, Number, Text, Unary, map_tree,
)


def unparse(tree: Node) -> str:
    return map_tree(tree, _text)


def _text(node: Node, children: tuple[str, ...]) -> str:
    if isinstance(node, Number):
        return str(node.value)
    if isinstance(node, Text):
        return '"' + node.value.replace('"', '""') + '"'
    if isinstance(node, Boolean):
        return "TRUE" if node.value else "FALSE"
    if isinstance(node, FieldRef):
        return node.dotted
    if isinstance(node, ArrayLiteral):
        return "{" + ", ".join(children) + "}"
    if isinstance(node, Unary):
        (operand,) = children
        inner = f"({operand})" if isinstance(node.operand, (Binary, Unary)) else operand
        return f"-{inner}" if node.op == "-" else f"{inner}%"
    if isinstance(node, Binary):
        left, right = (f"({text})" if isinstance(child, (Binary, Unary)) else text
                       for child, text in zip((node.left, node.right), children))
        return f"{left} {node.op} {right}"
    if isinstance(node, Call):
        return f"{node.name}({', '.join(children)})"
    raise TypeError(f"no formula text for {type(node).__name__}")
