"""The compiled evaluator: a formula turned into Python functions, for many rows.

The generator writes Python source from the syntax tree, compiles it once and caches
it by formula text. It controls every character of that source: identifiers are its
own (`f0` for a field, `t3` for a temporary, `k2` for a constant), and every literal
of the formula (numbers, texts, field keys) is bound in the function's namespace, so
no text a user typed ever reaches Python source.

Three functions are generated per formula:

- `fast(inputs, ctx)`: operators on two numbers (or two texts, for `&` and
  comparisons) run inline as Decimal arithmetic in `FORMULA_CONTEXT`; IF with a
  TRUE/FALSE condition picks its branch inline; AND, OR, NOT, MIN, MAX and ROUND on
  values of the obvious type run inline (`INLINE_CALLS`); a function's arguments are
  checked for errors inline; anything else calls the same operators and functions as
  the reference evaluator. Arguments of lazy functions (IFERROR...) are not inlined:
  those functions run their thunks inside their own guard;
- `fast_many(rows, ctx, again)`: the same body in one loop over many rows;
- `safe(inputs, ctx)`: no inlining at all: every operator is a call to `operators.py`.

Inlined arithmetic may raise where the operator returns an error value (a product past
1E+308 traps in the decimal context); that row is then evaluated again with `safe`,
which gives exactly what the reference evaluator gives, so IFERROR(a*b, 0) is still 0.
The differential tests hold all of them to the reference evaluator.
"""
from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, ROUND_HALF_UP, ROUND_UP, Decimal
from typing import Any, Callable, Iterable, Iterator, Mapping

from engine.formula import operators
from engine.formula.fieldpath import PLAIN_VALUE_TYPES, as_value, read_field
from engine.formula.functions import FUNCTIONS
from engine.formula.functions.args import bool_arg as condition_value
from engine.formula.nodes import ArrayLiteral, Binary, Boolean, Call, FieldRef, Formula, Node, \
    Number, Text, Unary, map_tree
from engine.formula.reference import guarded_result
from engine.formula.values import (
    DEFAULT_LIMITS, FORMULA_CONTEXT, MAX_EXPONENT, NAME, NUM, EvalContext, ErrorValue,
    LimitExceeded,
)

Evaluator = Callable[[Mapping[str, Any], EvalContext], Any]
_SIMPLE_NAME = re.compile(r"[fk][0-9]+")   # a field variable or a constant of the namespace

OPERATOR_NAMES = {"+": "add", "-": "sub", "*": "mul", "/": "div", "^": "power", "&": "concat",
                  "=": "eq", "<>": "ne", "<": "lt", "<=": "le", ">": "gt", ">=": "ge"}
# Inlined forms on two Decimals: (the context method, or a Python operator for comparisons).
DECIMAL_ARITHMETIC = {"+": "C_add", "-": "C_sub", "*": "C_mul", "/": "C_div"}
PYTHON_COMPARISON = {"=": "==", "<>": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}

# Names every generated function may use (bound in its namespace, never typed by a user).
RUNTIME = {
    "D": Decimal, "S": str, "E": ErrorValue, "PLAIN": PLAIN_VALUE_TYPES, "as_value": as_value,
    "read": read_field, "NAME": NAME, "NUM": NUM, "HUNDRED": Decimal(100),
    "condition_value": condition_value, "C": FORMULA_CONTEXT,
    "MAX_TEXT": DEFAULT_LIMITS.max_text_length,
    "C_add": FORMULA_CONTEXT.add, "C_sub": FORMULA_CONTEXT.subtract,
    "C_mul": FORMULA_CONTEXT.multiply, "C_div": FORMULA_CONTEXT.divide,
    "C_minus": FORMULA_CONTEXT.minus,
    "op_neg": operators.neg, "op_percent": operators.percent,
    **{f"op_{name}": getattr(operators, name) for name in OPERATOR_NAMES.values()},
}


def first_error(*values: Any) -> ErrorValue:
    """The leftmost error of a call's arguments (called only when there is one)."""
    for value in values:
        if type(value) is ErrorValue:
            return value
    raise AssertionError("first_error called without an error")


RUNTIME["first_error"] = first_error


@dataclass
class CompiledFormula:
    """A formula compiled to Python; call it with one row's inputs and a context, or
    `many(rows, ctx)` for a list of rows (one generated loop, no call per row)."""

    formula: Formula
    fast: Evaluator
    safe: Evaluator
    fast_many: Callable[[Iterable[Mapping[str, Any]], EvalContext, Evaluator], list]
    source: str = field(repr=False)        # the generated source, for inspection

    def __call__(self, inputs: Mapping[str, Any], ctx: EvalContext) -> Any:
        ctx.begin()
        try:
            return self.fast(inputs, ctx)
        except (LimitExceeded, RecursionError, MemoryError):
            return NUM
        except Exception:
            return self.again(inputs, ctx)

    def again(self, inputs: Mapping[str, Any], ctx: EvalContext) -> Any:
        """One row evaluated without inlining, exactly as the reference evaluator would:
        for a row where inlined decimal arithmetic trapped, or a limit was hit."""
        ctx.begin()
        return guarded_result(lambda: self.safe(inputs, ctx), self.formula)

    def many(self, rows: Iterable[Mapping[str, Any]], ctx: EvalContext) -> list[Any]:
        return self.fast_many(rows, ctx, self.again)


def compile_formula(formula: Formula, functions: Mapping | None = None) -> CompiledFormula:
    """The compiled form of a formula (cached by its text and function table)."""
    if functions is None:
        functions = FUNCTIONS
    key = (formula.text, id(functions))
    found = _CACHE.get(key)
    if found is None:
        if len(_CACHE) >= _CACHE_SIZE:
            _CACHE.clear()      # simple and thread-safe; compiling again is cheap enough
        found = _CACHE[key] = _compile(formula, functions)
    return found


def evaluate_many(formula: Formula, rows: Iterable[Mapping[str, Any]], ctx: EvalContext,
                  functions: Mapping | None = None) -> list[Any]:
    """The formula's value for every row, in order (compiled once)."""
    return compile_formula(formula, functions).many(rows, ctx)


_CACHE: dict[tuple[str, int], CompiledFormula] = {}
_CACHE_SIZE = 1024


def _compile(formula: Formula, functions: Mapping) -> CompiledFormula:
    namespace: dict[str, Any] = dict(RUNTIME)
    counter = itertools.count()
    fast = _Generator(formula, functions, namespace, counter, inline=True)
    safe = _Generator(formula, functions, namespace, counter, inline=False)
    text = "\n\n".join([fast.function("fast"), fast.loop("fast_many"), safe.function("safe")])
    exec(compile(text, f"<formula {formula.text[:60]!r}>", "exec"), namespace)  # noqa: S102
    return CompiledFormula(formula, namespace["fast"], namespace["safe"], namespace["fast_many"],
                           text)


class _Generator:
    """Python source for one formula: a header reading the fields, then one expression."""

    def __init__(self, formula: Formula, functions: Mapping, namespace: dict,
                 counter: Iterator[int], inline: bool):
        self.formula = formula
        self.functions = functions
        self.namespace = namespace
        self.counter = counter        # shared by both functions of one namespace
        self.inline = inline
        self.temps = 0
        self.fields: dict[tuple[str, ...], str] = {}

    def body(self) -> tuple[list[str], str]:
        """The statements reading the fields, and the formula's expression."""
        expression = self.expr(_fold_constants(self.formula.tree))
        reads = [line for path, var in self.fields.items() for line in self.read_field(path, var)]
        return reads, expression

    def steps(self) -> int:
        """The evaluation steps one row costs: one per node of the formula (the reference
        evaluator counts the nodes it visits; functions count their array items)."""
        return sum(1 for _ in self.formula.tree.walk())

    def function(self, name: str) -> str:
        reads, expression = self.body()
        lines = [f"def {name}(inputs, ctx):", f"    ctx.tick({self.steps()})", *reads,
                 f"    return {expression}"]
        return "\n".join(lines)

    def loop(self, name: str) -> str:
        """The function over many rows: the body inlined in one loop. A row that raises
        is evaluated again by `again` (CompiledFormula.again)."""
        reads, expression = self.body()
        steps = self.steps()
        indented = [f"            {line.strip()}" for line in reads]
        return "\n".join([
            f"def {name}(rows, ctx, again):",
            f"    if {steps} > ctx.limits.max_steps:",
            "        return [NUM for _ in rows]",
            "    results = []",
            "    append = results.append",
            "    for inputs in rows:",
            # What ctx.begin() and ctx.tick(steps) do, as one store: steps <= the budget.
            f"        ctx.steps = {steps}",
            "        try:",
            *indented,
            f"            append({expression})",
            "        except Exception:",
            "            append(again(inputs, ctx))",
            "    return results",
        ])

    # ---- names ----------------------------------------------------------------------------
    def constant(self, value: Any) -> str:
        """A name bound to `value` in the namespace (values never enter the source)."""
        name = f"k{next(self.counter)}"
        self.namespace[name] = value
        return name

    def temp(self) -> str:
        self.temps += 1
        return f"t{self.temps}"

    def field_var(self, path: tuple[str, ...]) -> str:
        if path not in self.fields:
            self.fields[path] = f"f{len(self.fields)}"
        return self.fields[path]

    def read_field(self, path: tuple[str, ...], var: str) -> list[str]:
        if self.inline and len(path) == 1:
            key = self.constant(path[0])
            return [f"    {var} = inputs.get({key}, NAME)",
                    f"    if {var}.__class__ not in PLAIN: {var} = as_value({var})"]
        return [f"    {var} = read(inputs, {self.constant(path)})"]

    # ---- expressions ----------------------------------------------------------------------
    def expr(self, node: Node) -> str:
        if isinstance(node, _Folded):
            return self.constant(node.value)
        if isinstance(node, (Number, Text, Boolean)):
            return self.constant(node.value)
        if isinstance(node, ArrayLiteral):
            return f"[{', '.join(self.expr(item) for item in node.items)}]"
        if isinstance(node, FieldRef):
            return self.field_var(node.path)
        if isinstance(node, Unary):
            return self.unary(node)
        if isinstance(node, Binary):
            return self.binary(node)
        if isinstance(node, Call):
            return self.call(node)
        raise TypeError(f"cannot compile {type(node).__name__}")

    def bind(self, expr: str) -> tuple[str, str]:
        """A name for an operand, and the expression that evaluates and binds it: a field
        variable or a constant is used as it is, anything else gets a temporary."""
        if _SIMPLE_NAME.fullmatch(expr):
            return expr, expr
        t = self.temp()
        return t, f"({t} := {expr})"

    def unary(self, node: Unary) -> str:
        operand = self.expr(node.operand)
        if not self.inline:
            return f"op_{'neg' if node.op == '-' else 'percent'}({operand})"
        x, bound = self.bind(operand)
        if node.op == "-":
            return f"(C_minus({x}) if {bound}.__class__ is D else op_neg({x}))"
        return f"(C_div({x}, HUNDRED) if {bound}.__class__ is D else op_percent({x}))"

    def binary(self, node: Binary) -> str:
        left, right = self.expr(node.left), self.expr(node.right)
        generic = f"op_{OPERATOR_NAMES[node.op]}"
        if not self.inline or node.op == "^":
            return f"{generic}({left}, {right})"
        (a, bound_a), (b, bound_b) = self.bind(left), self.bind(right)
        if node.op in PYTHON_COMPARISON:
            return self.comparison(node, (a, bound_a), (b, bound_b), generic)
        if node.op == "&":
            return (f"({a} + {b} if ({bound_a}.__class__ is {bound_b}.__class__ is S)"
                    f" and len({a}) + len({b}) <= MAX_TEXT else {generic}({a}, {b}))")
        inline = DECIMAL_ARITHMETIC[node.op]
        right_value, left_value = _literal(node.right)[1], _literal(node.left)[1]
        if type(right_value) is Decimal and (node.op != "/" or right_value):
            return f"({inline}({a}, {b}) if {bound_a}.__class__ is D else {generic}({a}, {b}))"
        if type(left_value) is Decimal:
            nonzero = f" and {b}" if node.op == "/" else ""
            return (f"({inline}({a}, {b}) if {bound_b}.__class__ is D{nonzero} "
                    f"else {generic}({a}, {b}))")
        guard = f"({bound_a}.__class__ is {bound_b}.__class__ is D)"
        if node.op == "/":
            guard += f" and {b}"          # x/0 is #DIV/0!: the operator says so
        return f"({inline}({a}, {b}) if {guard} else {generic}({a}, {b}))"

    def comparison(self, node: Binary, left: tuple[str, str], right: tuple[str, str],
                   generic: str) -> str:
        """Two numbers compare as Decimals; two texts without regard to case (casefold),
        as the operators do; any other pair goes to the operator."""
        python = PYTHON_COMPARISON[node.op]
        (a, bound_a), (b, bound_b) = left, right
        constant = _literal(node.right)[1]
        if type(constant) is Decimal:
            return f"({a} {python} {b} if {bound_a}.__class__ is D else {generic}({a}, {b}))"
        if type(constant) is str:
            folded = self.constant(constant.casefold())
            return (f"({a}.casefold() {python} {folded} if {bound_a}.__class__ is S "
                    f"else {generic}({a}, {b}))")
        return (f"({a} {python} {b} if ({bound_a}.__class__ is {bound_b}.__class__ is D) else "
                f"({a}.casefold() {python} {b}.casefold() if {a}.__class__ is {b}.__class__ is S"
                f" else {generic}({a}, {b})))")

    def call(self, node: Call) -> str:
        spec = self.functions[node.name]
        impl = self.constant(spec.impl)
        library = self.inline and _is_library(node.name, spec)
        if spec.lazy:
            if library and node.name == "IF":
                return self.inline_if(node)
            thunks = ", ".join(f"lambda: {arg}" for arg in self.uninlined(node.args))
            return f"{impl}(ctx{', ' if thunks else ''}{thunks})"
        args = [self.expr(arg) for arg in node.args]
        if not args:
            return f"{impl}(ctx)"
        if not spec.propagate_errors:
            return f"{impl}({', '.join(['ctx'] + args)})"
        bound = [self.bind(arg) for arg in args]
        names = ", ".join(name for name, _ in bound)
        shortcut = INLINE_CALLS.get(node.name) if library else None
        fast = shortcut(self, node, [name for name, _ in bound]) if shortcut else None
        if fast is None:
            classes = ", ".join(f"{expr}.__class__" for _, expr in bound)
            return f"(first_error({names}) if E in ({classes},) else {impl}(ctx, {names}))"
        condition, value = fast
        classes = ", ".join(f"{name}.__class__" for name, _ in bound)
        generic = f"(first_error({names}) if E in ({classes},) else {impl}(ctx, {names}))"
        binds = [expr for name, expr in bound if expr != name]
        if not binds:
            return f"({value} if {condition} else {generic})"
        # The tuple binds every argument first, in order (never empty, so always true).
        return f"(({', '.join(binds)},) and ({value} if {condition} else {generic}))"

    def uninlined(self, args: tuple[Node, ...]) -> list[str]:
        """Arguments of a lazy function, without inlining: the function runs its thunks
        inside its own guard, which would turn a trapped inline product into #NUM!
        where the operator gives an error value IFERROR can catch."""
        inline, self.inline = self.inline, False
        try:
            return [self.expr(arg) for arg in args]
        finally:
            self.inline = inline

    def inline_if(self, node: Call) -> str:
        """IF without thunks: a TRUE/FALSE condition picks its branch at once; any other
        condition is read by `condition_value`, the rule IF itself applies (a number is
        TRUE unless 0, "TRUE"/"FALSE" texts read, an error or other text is the result).
        Each branch appears once in the source, so nested IFs stay linear in size."""
        condition = self.expr(node.args[0])
        then = self.expr(node.args[1])
        otherwise = self.expr(node.args[2]) if len(node.args) > 2 else self.constant(False)
        c = self.temp()
        return (f"({then} if ({c} := {condition}) is True or ({c} is not False and "
                f"({c} := condition_value({c})) is True) else ({otherwise} if {c} is False "
                f"else {c}))")


def _is_library(name: str, spec) -> bool:
    """Whether `spec` is the library's function of that name (a custom table may hold
    another): only the library's functions have their common case inlined."""
    library = FUNCTIONS.get(name)
    return library is not None and spec.impl is library.impl


# ---- the common case of a few library functions, inline ------------------------------------
# Each returns (condition, value) over the bound argument temporaries, or None when the
# call cannot be shortcut; when the condition fails at run time the function is called.

def _all_of(temps: list[str], kind: str) -> str:
    return " is ".join(f"{t}.__class__" for t in temps) + f" is {kind}"


def _inline_logical(joiner: str):
    """AND/OR over TRUE/FALSE values only: Python's and/or (the library's all/any)."""
    def shortcut(gen: "_Generator", node: Call, temps: list[str]):
        return _all_of(temps, "bool"), f"({f' {joiner} '.join(temps)})"
    return shortcut


def _inline_not(gen: "_Generator", node: Call, temps: list[str]):
    return f"{temps[0]}.__class__ is bool", f"(not {temps[0]})"


def _inline_extreme(pick: str):
    """MIN/MAX over numbers only: the builtin min/max (which the library applies too)."""
    def shortcut(gen: "_Generator", node: Call, temps: list[str]):
        return _all_of(temps, "D"), f"{pick}({', '.join(temps)})"
    return shortcut


def _inline_rounding(mode: str):
    """ROUND(number, constant digits) of a Decimal: the one `quantize` in the formula
    context that the library's `round_to` does, with the quantum computed once. Where
    quantize cannot keep the digits (1E+40 to 2 places) it traps, and the row goes to
    the library's ROUND, which knows what to do then."""
    def shortcut(gen: "_Generator", node: Call, temps: list[str]):
        if len(node.args) != 2:
            return None
        digits = _literal(_fold_constants(node.args[1]))[1]
        if type(digits) is not Decimal or not digits.is_finite() or abs(digits) >= 10 ** 15:
            return None
        places = int(digits)
        if abs(places) > MAX_EXPONENT:
            return None
        quantum = gen.constant(Decimal(1).scaleb(-places))
        return (f"{temps[0]}.__class__ is D",
                f"{temps[0]}.quantize({quantum}, {gen.constant(mode)}, C)")
    return shortcut


INLINE_CALLS = {
    "AND": _inline_logical("and"), "OR": _inline_logical("or"), "NOT": _inline_not,
    "MIN": _inline_extreme("min"), "MAX": _inline_extreme("max"),
    "ROUND": _inline_rounding(ROUND_HALF_UP), "ROUNDUP": _inline_rounding(ROUND_UP),
    "ROUNDDOWN": _inline_rounding(ROUND_DOWN),
}


@dataclass(frozen=True)
class _Folded(Node):
    """A constant computed at compile time from an operator over literals."""

    value: Any = None


def _fold_constants(tree: Node) -> Node:
    """Operators over literals are computed once, with the operators themselves:
    `2%` is 0.02, `-1` is -1, `"a" & "b"` is "ab"."""
    return map_tree(tree, _fold)


def _literal(node: Node) -> tuple[bool, Any]:
    if isinstance(node, _Folded):
        return True, node.value
    if isinstance(node, (Number, Text, Boolean)):
        return True, node.value
    return False, None


def _fold(node: Node, children: tuple[Node, ...]) -> Node:
    node = node.with_children(children)
    if not isinstance(node, (Unary, Binary)):
        return node
    values = [_literal(child) for child in children]
    if not all(known for known, _ in values):
        return node
    args = [value for _, value in values]
    if isinstance(node, Unary):
        result = operators.neg(*args) if node.op == "-" else operators.percent(*args)
    else:
        result = getattr(operators, OPERATOR_NAMES[node.op])(*args)
    return _Folded(node.start, node.end, node.line, node.column, value=result)
