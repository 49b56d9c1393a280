"""The function library of the formula language.

`FUNCTIONS` maps each upper-case name to its `FunctionSpec`. Each family module
registers its functions when imported; docs/formulas.md documents every one of them.
"""
from engine.formula.functions import (  # noqa: F401  (imported to register their functions)
    logic, info, math, stats, conditional, text, date, array,
)
from engine.formula.functions.registry import FUNCTIONS, FunctionSpec, function  # noqa: F401

__all__ = ["FUNCTIONS", "FunctionSpec", "function"]
