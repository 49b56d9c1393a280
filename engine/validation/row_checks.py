"""Definition checks of the formula columns of subforms (engine/computed/row_formulas.py):
syntax and types with positions, only the row's own columns, nothing that changes with
the clock or the reader, the result type, cycles."""
from __future__ import annotations

from typing import Iterable

from engine.computed.env import RowEnv
from engine.computed.row_formulas import RowFormulas
from engine.definition.model import FieldDef, FormDef
from engine.errors import Problem
from engine.formula import FormulaSyntaxError, check, parse
from engine.formula.diagnostics import line_column
from engine.formula.functions import FUNCTIONS
from engine.formula.nodes import Call, FieldRef
from engine.suggest import did_you_mean
from engine.validation.checks import FormulaDefinitionProblem, result_problems


def check_row_formula(ftype, ctx) -> Iterable[Problem]:
    """Definition checks of a formula column of a subform (`ctx.parent`): syntax and
    types with positions, only the row's columns, no clock, the result, cycles."""
    fdef, subform = ftype.fdef, ctx.parent
    text, path = ftype.formula_text, f"{fdef.path}.formula"
    if not isinstance(text, str) or not text.strip():
        yield Problem(path, "the formula is empty: write one, like `quantity * unit_price`", code="formula")
        return
    try:
        formula = parse(text)
    except FormulaSyntaxError as error:
        yield FormulaDefinitionProblem(path, f"formula: {error.message}", text, error.position,
                                       code="formula_syntax")
        return
    problems = outside_row(formula, ctx.form, subform, fdef, path) + stored_once(formula, path)
    if problems:
        yield from problems
        return
    result = check(formula, RowEnv(subform, types=ctx.types))
    yield from [FormulaDefinitionProblem(path, f"formula: {p.message}", text, p.position, code=p.code,
                                         suggestion=p.suggestion) for p in result.problems]
    if not result.problems:
        yield from result_problems(fdef, ftype, result.result_type, "column")
    yield from RowFormulas.build(subform, ctx.types).cycle_problems(fdef)


def outside_row(formula, form: FormDef, subform: FieldDef, column: FieldDef, path: str) -> list[Problem]:
    """Names a row formula may not read: anything but a column of its row."""
    columns = [c.key for c in subform.fields if c.key != column.key]
    problems: list[Problem] = []
    for node in formula.tree.walk():
        if not isinstance(node, FieldRef) or (len(node.path) == 1 and (
                subform.subfield(node.path[0]) or node.path[0].upper() in FUNCTIONS)):
            continue        # a column; or a function without brackets, which the checker names
        if len(node.path) > 1:
            what = f"{node.dotted!r} reads through {node.path[0]!r}"
        elif form.field(node.path[0]) is not None:
            what = f"{node.dotted!r} is a field of form {form.key!r}, not a column of subform {subform.key!r}"
        else:
            what = f"{node.dotted!r} is not a column of subform {subform.key!r}"
        problems.append(FormulaDefinitionProblem(
            path, f"formula: {what} at {_at(formula.text, node.start)}; a subform column's formula can read "
            f"the columns of its row: {', '.join(columns)}", formula.text, node.start, code="row_fields_only",
            suggestion=did_you_mean(node.path[-1], columns)))
    return problems


def stored_once(formula, path: str) -> list[Problem]:
    """Calls whose value depends on when or by whom a row is read (TODAY(), NOW(), the
    current user): a row's value is computed when it is saved and stored for everyone."""
    problems: list[Problem] = []
    for node in formula.tree.walk():
        spec = FUNCTIONS.get(node.name) if isinstance(node, Call) else None
        if spec is None:
            continue
        if getattr(spec, "volatile", False):
            problems.append(FormulaDefinitionProblem(
                path, f"formula: {node.name}() at {_at(formula.text, node.start)} changes with the clock, but a "
                "subform column's value is computed when the record is saved; put the date in a column, or "
                "compute it in a formula field of the form", formula.text, node.start, code="volatile_row_formula"))
        elif getattr(spec, "reads_user", False):
            problems.append(FormulaDefinitionProblem(
                path, f"formula: {node.name}() at {_at(formula.text, node.start)} gives the user who is looking, "
                "but a subform column's value is stored once for everyone; add a member column to the row "
                "instead", formula.text, node.start, code="user_in_stored"))
    return problems


def _at(text: str, offset: int) -> str:
    """"line:column" of a character of a formula, as the checker's messages give it."""
    return "%d:%d" % line_column(text, offset)
