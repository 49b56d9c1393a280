"""The type checker: every node's type, and the problems a user must fix.

Types are names: "number", "text", "boolean", "date", "datetime", "array" or
"array:<element type>" (a subform column, a multiple relation's values), and "any"
where nothing better is known (a function whose result depends on its data). The
checker is permissive where Excel coerces ("3" + 1 is 4, a condition may be a number)
and speaks up where a formula can only ever give an error or nonsense: a field that
does not exist, a date multiplied, an array where one value is needed, a function
given a boolean for a date.

The field types come from an environment (`FormulaEnv`): the definition validator
builds one over the app's forms; `MappingEnv` serves tests, the CLI and simple uses.
"""
from __future__ import annotations

from typing import Iterable, Iterator, Mapping, Protocol

from engine.formula.diagnostics import FormulaProblem, line_column
from engine.formula.functions import FUNCTIONS
from engine.formula.nodes import (
    COMPARISON_OPERATORS, ArrayLiteral, Binary, Boolean, Call, FieldRef, Formula, Node, Number,
    Text, Unary, map_tree,
)
from engine.formula.values import ErrorValue, to_number, type_name
from engine.suggest import did_you_mean

ANY = "any"
SCALAR_TYPES = ("number", "text", "boolean", "date", "datetime")
TEMPORAL = ("date", "datetime")
# Types an operand may have where a number is wanted (Excel coerces them).
NUMERIC_LIKE = ("number", "boolean", "text", ANY)

# Argument kinds that take one value, and the types each refuses besides arrays
# (everything else is accepted: Excel coerces, and the value decides at run time).
# Other kinds (any, numbers, values, array, criteria) accept whatever comes: the
# last kind repeats for variadic functions, which cannot say that SUMIFS takes
# (range, criteria) pairs, so a criteria position may well hold a range.
REFUSED_BY_KIND = {
    "number": ("date", "datetime"),
    "boolean": (),
    "text": (),
    "date": ("boolean",),
    "datetime": ("boolean",),
}
TYPE_WORDS = {"number": "a number", "text": "a text", "boolean": "a boolean (TRUE/FALSE)",
              "date": "a date", "datetime": "a date and time", ANY: "a value"}


class FormulaEnv(Protocol):
    """What the checker knows about the fields a formula may use."""

    def field_type(self, path: tuple[str, ...]) -> str | None:
        """The formula type of a field path, or None when there is no such field."""

    def candidates(self, prefix: tuple[str, ...]) -> Iterable[str]:
        """The keys that may follow `prefix` (() for the top level), for "did you mean"."""


class MappingEnv:
    """An environment from a mapping of dotted field paths to type names:
    {"amount": "number", "customer.level": "text", "items.price": "array:number"}."""

    def __init__(self, types: Mapping[str, str], open_paths: Iterable[str] = ()):
        self.types = dict(types)
        # Paths below which anything may exist (an empty relation in sample values).
        self.open_paths = frozenset(open_paths)

    @classmethod
    def from_values(cls, inputs: Mapping[str, object]) -> "MappingEnv":
        """The types of sample inputs (the `formwork eval` inputs): a nested mapping is a
        related record, a list of mappings a subform's rows or a multiple relation. Below
        an empty value (no related record) nothing is known, so any path is accepted."""
        types: dict[str, str] = {}
        open_paths: list[str] = []
        for key, value in inputs.items():
            _collect_types(types, open_paths, str(key), value)
        return cls(types, open_paths)

    def field_type(self, path: tuple[str, ...]) -> str | None:
        found = self.types.get(".".join(path))
        if found is None and any(".".join(path[:n]) in self.open_paths
                                 for n in range(1, len(path))):
            return ANY
        return found

    def candidates(self, prefix: tuple[str, ...]) -> Iterable[str]:
        depth = len(prefix)
        found: dict[str, None] = {}
        for dotted in self.types:
            parts = dotted.split(".")
            if len(parts) > depth and tuple(parts[:depth]) == prefix:
                found.setdefault(parts[depth], None)
        return list(found)


def _collect_types(types: dict[str, str], open_paths: list[str], dotted: str,
                   value: object) -> None:
    if isinstance(value, Mapping):
        for key, inner in value.items():
            _collect_types(types, open_paths, f"{dotted}.{key}", inner)
        return
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, Mapping) for v in value):
        columns: dict[str, list] = {}
        for row in value:
            for key, inner in row.items():
                columns.setdefault(str(key), []).append(inner)
        for key, column in columns.items():
            _collect_types(types, open_paths, f"{dotted}.{key}", column)
        return
    types[dotted] = value_type(value)
    if value is None or (isinstance(value, (list, tuple)) and not value):
        open_paths.append(dotted)      # an empty relation or subform: its fields are unknown


def value_type(value: object) -> str:
    """The formula type of a sample value; arrays say their element type when uniform
    (empties aside), and an empty value may be anything."""
    if isinstance(value, (list, tuple)):
        kinds = {value_type(item) for item in value} - {ANY}
        if len(kinds) == 1 and not is_array(element := kinds.pop()):
            return f"array:{element}"
        return "array"
    try:
        kind = type_name(value)
    except TypeError:
        return ANY
    return ANY if kind in ("empty", "error") else kind


class CheckResult:
    """The result type and the problems; unpacks as `(result_type, problems)`.

    `tree` is the formula's tree with every node's `type` filled in.
    """

    def __init__(self, result_type: str, problems: list[FormulaProblem], tree: Node):
        self.result_type = result_type
        self.problems = problems
        self.tree = tree

    def __iter__(self) -> Iterator:
        return iter((self.result_type, self.problems))

    @property
    def ok(self) -> bool:
        return not self.problems


def check(formula: Formula, env: FormulaEnv, functions: Mapping | None = None,
          expected: str | None = None) -> CheckResult:
    """Infer the type of every node; report what is wrong with positions.

    `expected` is the type the formula's use needs (a number field's formula must give
    a number); a result that does not fit it is reported too.
    """
    if functions is None:
        functions = FUNCTIONS
    checker = _Checker(formula.text, env, functions)
    tree = map_tree(formula.tree, checker.visit)
    result_type = tree.type or ANY
    if expected is not None and not fits(result_type, expected):
        checker.report(formula.tree, f"the formula gives {describe(result_type)}, but "
                       f"{describe(expected)} is needed here", code="result_type")
    return CheckResult(result_type, checker.problems, tree)


def fits(actual: str, expected: str) -> bool:
    """Whether a result of type `actual` may be used where `expected` is needed."""
    if actual == expected or actual == ANY or expected == ANY:
        return True
    if expected == "datetime" and actual == "date":
        return True
    if expected == "array" and is_array(actual):
        return True
    if is_array(expected) and actual == "array":
        return True
    if is_array(expected) and is_array(actual):
        return fits(element_type(actual), element_type(expected))
    return False


def is_array(type_name: str) -> bool:
    return type_name == "array" or type_name.startswith("array:")


def element_type(type_name: str) -> str:
    return type_name.split(":", 1)[1] if ":" in type_name else ANY


def describe(type_name: str) -> str:
    if is_array(type_name):
        inner = element_type(type_name)
        return "an array" if inner == ANY else f"an array of {inner} values"
    return TYPE_WORDS.get(type_name, f"a {type_name}")


class _Checker:
    def __init__(self, text: str, env: FormulaEnv, functions: Mapping):
        self.text = text
        self.env = env
        self.functions = functions
        self.problems: list[FormulaProblem] = []

    def report(self, node: Node, message: str, code: str = "type", offset: int | None = None,
               suggestion: str | None = None, hint: str = "") -> None:
        position = node.start if offset is None else offset
        line, column = line_column(self.text, position)
        self.problems.append(FormulaProblem(f"{message} at {line}:{column}{hint}", position,
                                            line, column, code, suggestion))

    def visit(self, node: Node, children: tuple[Node, ...]) -> Node:
        node = node.with_children(children)
        return node.typed(self.type_of(node))

    def type_of(self, node: Node) -> str:
        if isinstance(node, Number):
            return "number"
        if isinstance(node, Text):
            return "text"
        if isinstance(node, Boolean):
            return "boolean"
        if isinstance(node, ArrayLiteral):
            kinds = {item.type for item in node.items}
            return f"array:{kinds.pop()}" if len(kinds) == 1 else "array"
        if isinstance(node, FieldRef):
            return self.field(node)
        if isinstance(node, Unary):
            return self.unary(node)
        if isinstance(node, Binary):
            return self.binary(node)
        if isinstance(node, Call):
            return self.call(node)
        return ANY

    # ---- fields -------------------------------------------------------------------------
    def field(self, node: FieldRef) -> str:
        found = self.env.field_type(node.path)
        if found is not None:
            return found
        if len(node.path) == 1 and node.path[0].upper() in self.functions:
            name = node.path[0].upper()
            self.report(node, f"{name} is a function", code="function_without_brackets",
                        hint=f"; write {name}()")
            return ANY
        offset = node.start
        for index, key in enumerate(node.path):
            names = list(self.env.candidates(node.path[:index]))
            if key not in names:
                suggestion = did_you_mean(key, names)
                owner = f" of '{'.'.join(node.path[:index])}'" if index else ""
                hint = f", did you mean '{suggestion}'?" if suggestion else ""
                self.report(node, f"unknown field '{key}'{owner}", code="unknown_field",
                            offset=offset, suggestion=suggestion, hint=hint)
                return ANY
            offset += len(key) + 1
        self.report(node, f"field '{node.dotted}' has no value a formula can use",
                    code="unusable_field")
        return ANY

    # ---- operators ----------------------------------------------------------------------
    def unary(self, node: Unary) -> str:
        operand = node.operand.type or ANY
        word = "negate" if node.op == "-" else "take a percentage of"
        if not self.scalar_operand(node, node.operand, word):
            return "number"
        self.number_text(node.operand, word)
        if operand in TEMPORAL:
            self.report(node, f"cannot {word} {describe(operand)}", code="operand_type")
        return "number"

    def binary(self, node: Binary) -> str:
        left, right = node.left.type or ANY, node.right.type or ANY
        if node.op in COMPARISON_OPERATORS:
            self.scalar_operand(node, node.left, f"compare with '{node.op}'")
            self.scalar_operand(node, node.right, f"compare with '{node.op}'")
            return "boolean"
        if node.op == "&":
            self.scalar_operand(node, node.left, "join with '&'")
            self.scalar_operand(node, node.right, "join with '&'")
            return "text"
        word = {"+": "add", "-": "subtract", "*": "multiply", "/": "divide", "^": "raise"}[node.op]
        if not (self.scalar_operand(node, node.left, word)
                and self.scalar_operand(node, node.right, word)):
            return "number"
        self.number_text(node.left, word)
        self.number_text(node.right, word)
        return self.arithmetic(node, left, right, word)

    def number_text(self, operand: Node, word: str) -> None:
        """A text literal in arithmetic that does not read as a number can only give
        #VALUE! ("x" * 2, TODAY() - "x"): say so where it is written."""
        if isinstance(operand, Text) and type(to_number(operand.value)) is ErrorValue:
            self.report(operand, f"cannot {word} the text {_source(self.text, operand)}, which is not a number",
                        code="operand_type",
                        hint="; write the number without quotes, or VALUE(...) for text such as \"1,234\"")

    def arithmetic(self, node: Binary, left: str, right: str, word: str) -> str:
        """Date arithmetic as the operators do it: date ± days, date − date."""
        if left not in TEMPORAL and right not in TEMPORAL:
            return "number"
        if node.op == "+" and (left in TEMPORAL) != (right in TEMPORAL):
            return left if left in TEMPORAL else right
        if node.op == "-" and left in TEMPORAL:
            return "number" if right in TEMPORAL else left
        if node.op == "-" and right != ANY:
            hint = "; write the date first (date - days), or DAYS(end, start)"
        elif node.op == "+":
            hint = "; add a number of days to a date, or use DAYS(end, start) for a difference"
        else:
            hint = "; dates only take + and - a number of days"
        self.report(node, f"cannot {word} {describe(left)} and {describe(right)}",
                    code="operand_type", offset=_operator_offset(self.text, node), hint=hint)
        return ANY

    def scalar_operand(self, node: Node, operand: Node, word: str) -> bool:
        """An array operand gives #VALUE!: say so, and suggest an aggregate."""
        kind = operand.type or ANY
        if not is_array(kind):
            return True
        self.report(operand, f"cannot {word} an array ({_source(self.text, operand)})",
                    code="array_operand",
                    hint="; use a function over it, e.g. SUM(...), COUNT(...) or JOIN(..., \",\")")
        return False

    # ---- calls --------------------------------------------------------------------------
    def call(self, node: Call) -> str:
        spec = self.functions.get(node.name)
        if spec is None:        # the parser refuses unknown functions; a custom table may differ
            self.report(node, f"unknown function {node.name}", code="unknown_function")
            return ANY
        arg_types = [arg.type or ANY for arg in node.args]
        kinds = tuple(getattr(spec, "arg_types", ()) or ())
        for index, (arg, actual) in enumerate(zip(node.args, arg_types)):
            if kinds:
                self.argument(node, index, arg, actual, kinds[min(index, len(kinds) - 1)])
        return self.result_type(spec, arg_types)

    def argument(self, node: Call, index: int, arg: Node, actual: str, kind: str) -> None:
        if kind in REFUSED_BY_KIND and actual != ANY:
            if is_array(actual):
                self.report(arg, f"{node.name} needs a single value as argument {index + 1}, "
                            f"got {describe(actual)} ({_source(self.text, arg)})",
                            code="argument_type",
                            hint="; use a function over it, e.g. SUM(...) or JOIN(..., \",\")")
            elif actual in REFUSED_BY_KIND.get(kind, ()):
                self.report(arg, f"{node.name} needs {describe(kind)} as argument {index + 1}, "
                            f"got {describe(actual)}", code="argument_type")

    @staticmethod
    def result_type(spec, arg_types: list[str]) -> str:
        result = getattr(spec, "result_type", ANY)
        if callable(result):
            try:
                result = result(arg_types)
            except Exception:   # a result rule that cannot decide: the value will tell
                return ANY
        return result if isinstance(result, str) and result else ANY


def _operator_offset(text: str, node: Binary) -> int:
    """Where the operator of a binary node stands (after the left operand's blanks)."""
    offset = node.left.end
    while offset < node.right.start and (text[offset].isspace() or text[offset] == ")"):
        offset += 1
    return offset


def _source(text: str, node: Node) -> str:
    snippet = text[node.start:node.end]
    return snippet if len(snippet) <= 40 else snippet[:37] + "..."
