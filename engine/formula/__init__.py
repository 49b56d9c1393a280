"""The formula language: Excel-style formulas over a record's fields.

    from engine.formula import parse, check, evaluate, compile_formula, MappingEnv

    formula = parse('IF(AND(amount>=10000, level="VIP"), amount*5%, 200)')
    formula.references          # (("amount",), ("level",))
    result_type, problems = check(formula, MappingEnv({"amount": "number", "level": "text"}))
    evaluate(formula, {"amount": Decimal(20000), "level": "vip"}, EvalContext())  # Decimal('1000')
    compile_formula(formula)    # a function of (inputs, ctx), for many rows

The pieces: `lexer` and `parser` (text -> `nodes` tree, within `limits`), `typecheck`
(types and problems), `reference` (the simpleeval evaluator that defines the
meaning), `compiled` (generated Python for many rows), `values` and `operators` (the
value model), `functions` (the function library), `fieldpath` (reading field paths
from inputs). docs/formula-language.md describes the language.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any, Iterable, Mapping

from engine.formula.compiled import CompiledFormula, compile_formula
from engine.formula.compiled import evaluate_many as _evaluate_many
from engine.formula.diagnostics import FormulaProblem, FormulaSyntaxError
from engine.formula.functions import FUNCTIONS
from engine.formula.limits import DEFAULT_LIMITS as DEFAULT_PARSE_LIMITS, ParseLimits
from engine.formula.nodes import Formula
from engine.formula.parser import parse as _parse
from engine.formula.reference import evaluate_reference
from engine.formula.typecheck import CheckResult, FormulaEnv, MappingEnv, check, fits
from engine.formula.values import EvalContext, ErrorValue, Limits, from_json, to_json

__all__ = [
    "parse", "check", "evaluate", "compile_formula", "evaluate_many", "Formula",
    "FormulaSyntaxError", "FormulaProblem", "CheckResult", "FormulaEnv", "MappingEnv", "fits",
    "EvalContext", "ErrorValue", "Limits", "ParseLimits", "CompiledFormula", "to_json",
    "from_json",
]


def parse(text: str, functions: Mapping | None = None,
          limits: ParseLimits = DEFAULT_PARSE_LIMITS) -> Formula:
    """Parse formula text (a leading "=" is allowed); raises FormulaSyntaxError.

    With the default function table and limits, parses are cached by text.
    """
    if functions is None and limits is DEFAULT_PARSE_LIMITS and isinstance(text, str):
        return _parse_cached(text)
    return _parse(text, functions, limits)


@lru_cache(maxsize=4096)
def _parse_cached(text: str) -> Formula:
    return _parse(text)


def evaluate(formula: Formula | str, inputs: Mapping[str, Any],
             ctx: EvalContext | None = None, functions: Mapping | None = None) -> Any:
    """The value of a formula over one record's inputs, by the reference evaluator.

    `inputs` maps field keys to values (see `fieldpath` for relation and subform paths).
    Text is parsed first (a syntax error raises FormulaSyntaxError); evaluation itself
    never raises: errors and limits give error values. A context serves one evaluation
    at a time (it counts the steps spent): one per thread.
    """
    if isinstance(formula, str):
        formula = parse(formula, functions)
    if functions is None:
        functions = FUNCTIONS
    return evaluate_reference(formula, inputs, ctx or EvalContext(), functions)


def evaluate_many(formula: Formula | str, rows: Iterable[Mapping[str, Any]],
                  ctx: EvalContext | None = None, functions: Mapping | None = None) -> list[Any]:
    """The formula's value for each row, by the compiled evaluator (compiled once)."""
    if isinstance(formula, str):
        formula = parse(formula, functions)
    return _evaluate_many(formula, rows, ctx or EvalContext(), functions)
