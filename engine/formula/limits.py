"""Parse-time limits: how big a formula may be before it is refused.

Evaluation-time limits (text and array sizes, exponents, the step budget of one
evaluation) are `values.Limits`, carried by the `EvalContext`. The limits here are
checked once, when a formula is parsed, so that every later pass over the tree (type
check, translation, code generation, evaluation) works on something small: the tree
depth bounds the recursion of every pass, the node count bounds the work of one
evaluation outside the functions, and literal sizes keep absurd numbers out.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ParseLimits:
    max_length: int = 8_000          # characters of formula text (Excel allows 8,192)
    # Levels of operators, brackets and function calls, so `a+b+c` is 2 levels deep
    # (as evaluated) and `IF(IF(...))` 2 more; Excel allows 64 levels of functions.
    max_depth: int = 64
    max_nodes: int = 2_000           # literals, field references, operators and calls
    max_string_literal: int = 4_000  # characters of one quoted text
    max_number_digits: int = 40      # significant digits of one numeric literal
    max_number_exponent: int = 308   # 1E+308 is the largest number Excel knows
    max_array_literal: int = 1_000   # items of one {1,2,3} array literal
    max_path_length: int = 4         # customer.company.level: steps of a field path


DEFAULT_LIMITS = ParseLimits()
