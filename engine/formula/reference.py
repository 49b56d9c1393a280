"""The reference evaluator: the formula's meaning, on simpleeval.

The syntax tree is translated once into a Python `ast` expression that simpleeval
walks: numbers and texts are constants, fields are names, `+ - * / ^` are `BinOp`s,
`&` is `BitAnd`, comparisons are `Compare`s, functions are calls. The evaluator
(`FormulaEval`, a `SimpleEval` subclass) maps every Python operator to the formula
operator of `operators.py` and every call to the function table, so no Python
operator, attribute, name or builtin is ever reached: the tree only holds what the
parser made, and the parser only makes what the language has.

The subclass adds what simpleeval does not do: lazy functions (IF gets thunks, so
only the branch taken is evaluated), error propagation into non-lazy functions, one
step of the evaluation budget per node (`ctx.tick()`), and a top level that turns
any limit into `#NUM!`. Simpler and slower than `compiled.py`, it is the yardstick the
differential tests hold the faster back ends to.
"""
from __future__ import annotations

import ast
import logging
from functools import partial
from typing import Any, Mapping

from simpleeval import SimpleEval

from engine.formula import operators
from engine.formula.fieldpath import read_field
from engine.formula.nodes import ArrayLiteral, Binary, Boolean, Call, FieldRef, Formula, Node, \
    Number, Text, Unary, map_tree
from engine.formula.values import NUM, VALUE, EvalContext, ErrorValue, LimitExceeded

log = logging.getLogger(__name__)

# Formula operators as Python ast operators, and back to the formula operator functions.
BINARY_AST = {"+": ast.Add, "-": ast.Sub, "*": ast.Mult, "/": ast.Div, "^": ast.Pow,
              "&": ast.BitAnd}
COMPARE_AST = {"=": ast.Eq, "<>": ast.NotEq, "<": ast.Lt, "<=": ast.LtE, ">": ast.Gt,
               ">=": ast.GtE}
OPERATOR_FUNCTIONS = {
    ast.Add: operators.add, ast.Sub: operators.sub, ast.Mult: operators.mul,
    ast.Div: operators.div, ast.Pow: operators.power, ast.BitAnd: operators.concat,
    ast.Eq: operators.eq, ast.NotEq: operators.ne, ast.Lt: operators.lt, ast.LtE: operators.le,
    ast.Gt: operators.gt, ast.GtE: operators.ge, ast.USub: operators.neg,
}
# Postfix percent has no Python operator: it is a call to a name no function can have.
PERCENT_CALL = "%"


def to_python_ast(tree: Node) -> ast.expr:
    """The formula tree as a Python expression tree for simpleeval (never compiled)."""
    return map_tree(tree, _translate)


def _translate(node: Node, children: tuple) -> ast.expr:
    if isinstance(node, (Number, Text, Boolean)):
        return ast.Constant(value=node.value)
    if isinstance(node, FieldRef):
        return ast.Name(id=node.dotted, ctx=ast.Load())
    if isinstance(node, ArrayLiteral):
        return ast.List(elts=list(children), ctx=ast.Load())
    if isinstance(node, Unary):
        (operand,) = children
        if node.op == "%":
            return ast.Call(func=ast.Name(id=PERCENT_CALL, ctx=ast.Load()), args=[operand],
                            keywords=[])
        return ast.UnaryOp(op=ast.USub(), operand=operand)
    if isinstance(node, Binary):
        left, right = children
        if node.op in COMPARE_AST:
            return ast.Compare(left=left, ops=[COMPARE_AST[node.op]()], comparators=[right])
        return ast.BinOp(left=left, op=BINARY_AST[node.op](), right=right)
    if isinstance(node, Call):
        return ast.Call(func=ast.Name(id=node.name, ctx=ast.Load()), args=list(children),
                        keywords=[])
    raise TypeError(f"no translation for {type(node).__name__}")


class _Fields:
    """simpleeval's `names`: a field path (as a dotted name) read from the inputs."""

    def __init__(self, inputs: Mapping[str, Any]):
        self.inputs = inputs

    def __getitem__(self, dotted: str) -> Any:
        return read_field(self.inputs, tuple(dotted.split(".")))


class FormulaEval(SimpleEval):
    """simpleeval with the formula language's operators, functions and budget."""

    def __init__(self, functions: Mapping, inputs: Mapping[str, Any], ctx: EvalContext):
        super().__init__(operators=OPERATOR_FUNCTIONS, functions={}, names=_Fields(inputs))
        self.formula_functions = functions
        self.ctx = ctx
        self.nodes[ast.List] = self._eval_list

    def _eval(self, node: ast.AST) -> Any:
        self.ctx.tick()
        return super()._eval(node)

    def _eval_list(self, node: ast.List) -> list:
        return [self._eval(item) for item in node.elts]

    def _eval_call(self, node: ast.Call) -> Any:
        name = node.func.id
        if name == PERCENT_CALL:
            return operators.percent(self._eval(node.args[0]))
        spec = self.formula_functions[name]   # the parser admitted only names of the table
        if spec.lazy:
            return spec.impl(self.ctx, *(partial(self._eval, arg) for arg in node.args))
        args = [self._eval(arg) for arg in node.args]
        if spec.propagate_errors:
            for arg in args:
                if type(arg) is ErrorValue:
                    return arg
        return spec.impl(self.ctx, *args)


# Translations by formula text (the same text always parses to the same tree).
_AST_CACHE: dict[str, ast.expr] = {}
_AST_CACHE_SIZE = 2048


def _python_ast(formula: Formula) -> ast.expr:
    found = _AST_CACHE.get(formula.text)
    if found is None:
        if len(_AST_CACHE) >= _AST_CACHE_SIZE:
            _AST_CACHE.clear()      # simple and thread-safe; translating again is cheap
        found = _AST_CACHE[formula.text] = to_python_ast(formula.tree)
    return found


def evaluate_reference(formula: Formula, inputs: Mapping[str, Any], ctx: EvalContext,
                       functions: Mapping) -> Any:
    """The value of `formula` over `inputs`; never raises, never runs past the budget."""
    ctx.begin()
    evaluator = FormulaEval(functions, inputs, ctx)
    tree = _python_ast(formula)
    return guarded_result(lambda: evaluator.eval(formula.text, previously_parsed=tree), formula)


def guarded_result(run, formula: Formula) -> Any:
    """Run one evaluation; limits become #NUM!, a defect #VALUE! (logged, never raised)."""
    try:
        return run()
    except (LimitExceeded, RecursionError, MemoryError, ArithmeticError):
        return NUM
    except Exception:   # a defect in a function: the user gets an error value, we get a log
        log.exception("formula %r raised instead of returning an error value", formula.text)
        return VALUE
