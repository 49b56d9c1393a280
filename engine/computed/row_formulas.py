"""Formula columns of subforms ("row formulas"): a line computing its own total.

    items:                                   (a subform of contracts)
      quantity, unit_price, discount         (typed in)
      line_total: ROUND(quantity * unit_price * (1 - discount), 2)

A row formula reads the columns of its own row by their bare keys (other formula
columns too), and nothing else: not the parent record, not other rows, no relations,
no clock. So a row's value depends only on that row, and it is computed in the same
pass that cleans a record's rows (runtime/records/validation.py), before the record's
own formulas (which may add them up: `SUM(items.line_total)`), with one compiled
evaluation per formula column over all the rows: no statement at all, whatever the
number of rows. The definition checks are in engine/validation/row_checks.py; an
upgrade that adds or changes such a formula recomputes the stored rows in batches
(engine/upkeep/recompute.py, a `recompute_subform` step of the plan).

Values are stored like a formula field's (engine/fields/computed.py): the value in the
child table's typed column, an error code (#DIV/0!) in `<column>__error`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

from engine.computed.env import evaluation_context
from engine.definition.model import FieldDef, FormDef
from engine.errors import Problem
from engine.fields.base import ValueContext
from engine.fields.computed import FormulaOptions
from engine.fields.registry import FieldTypes, computed_kind
from engine.formula import EvalContext, FormulaSyntaxError, compile_formula, parse
from engine.i18n import register_messages

register_messages({
    "subform_computed_read_only": {
        "zh": "第 {row} 行的“{column}”由公式自动计算，不能填写；请去掉该列",
        "en": "Column '{column}' of row {row} is computed by its formula; leave it out of the row"},
})


def is_row_formula(fdef: FieldDef) -> bool:
    return computed_kind(fdef) == "formula"


@dataclass
class RowFormula:
    column: FieldDef
    formula: Any                    # engine.formula.Formula
    reads: tuple[str, ...]          # the columns it reads


@dataclass
class RowFormulas:
    """The formula columns of one subform, each after the columns it reads."""

    subform: FieldDef
    types: dict[str, Any]           # the field type of each column (a batch computes thousands of rows)
    formulas: list[RowFormula] = field(default_factory=list)
    cycles: list[list[str]] = field(default_factory=list)

    @classmethod
    def build(cls, subform: FieldDef, types: FieldTypes) -> "RowFormulas":
        found: dict[str, RowFormula] = {}
        for column in subform.fields:
            text = FormulaOptions.of(column).text
            if not is_row_formula(column) or not isinstance(text, str):
                continue
            try:
                formula = parse(text)
            except FormulaSyntaxError:
                continue            # refused by validation; an installed app never has one
            reads = tuple(ref[0] for ref in formula.references if len(ref) == 1 and subform.subfield(ref[0]))
            found[column.key] = RowFormula(column, formula, reads)
        result = cls(subform, {c.key: types.of(c) for c in subform.fields})
        result._order(found)
        return result

    def _order(self, found: dict[str, RowFormula]) -> None:
        """Depth first, in the columns' order; a column met again on the current path
        closes a cycle, recorded once as [a, b, ..., a] (a reads b...)."""
        state: dict[str, int] = {}      # 1: on the path, 2: placed
        seen: set[frozenset] = set()

        def visit(key: str, path: list[str]) -> None:
            state[key] = 1
            path.append(key)
            for used in found[key].reads:
                if used not in found:
                    continue
                if state.get(used) == 1:
                    cycle = path[path.index(used):] + [used]
                    if frozenset(cycle) not in seen:
                        seen.add(frozenset(cycle))
                        self.cycles.append(cycle)
                elif not state.get(used):
                    visit(used, path)
            path.pop()
            state[key] = 2
            self.formulas.append(found[key])
        for key in found:
            if not state.get(key):
                visit(key, [])

    @property
    def keys(self) -> list[str]:
        return [f.column.key for f in self.formulas]

    def cycle_problems(self, column: FieldDef) -> Iterable[Problem]:
        """Each cycle once, on its first column."""
        for cycle in self.cycles:
            if cycle[0] == column.key:
                chain = " -> ".join(f"{self.subform.key}.{key}" for key in cycle)
                yield Problem(f"{column.path}.formula", f"cycle: {chain}: each of these columns is computed "
                              "from the next, so none of them can be computed; remove one of the references",
                              code="cycle")

    def compute(self, rows: list[dict[str, Any]], ctx: ValueContext, eval_ctx: EvalContext | None = None,
                only: Iterable[str] | None = None) -> None:
        """Set the formula columns of `rows` (cleaned values by column key), in place:
        one compiled evaluation per formula over all the rows. `only`: just those columns
        (the other formula columns they read keep their values)."""
        if not rows or self.cycles:
            return
        eval_ctx = eval_ctx or evaluation_context(ctx)
        wanted = set(self.keys if only is None else only)
        types = self.types
        for row_formula in self.formulas:
            key = row_formula.column.key
            if key not in wanted:
                continue
            reads = row_formula.reads
            inputs = [{name: types[name].formula_value(row.get(name), ctx) for name in reads} for row in rows]
            results = compile_formula(row_formula.formula).many(inputs, eval_ctx)
            ftype = types[key]
            for row, result in zip(rows, results):
                row[key] = ftype.stored_value(result, ctx.tz)


def subforms_with_formulas(form: FormDef) -> list[FieldDef]:
    return [f for f in form.fields if f.fields and any(is_row_formula(c) for c in f.fields)]


def formula_columns(app) -> dict[tuple[str, str], list[str]]:
    """Every formula column of the (compiled) app's subforms: {(form, subform): columns, in order}."""
    return {(form.key, sub.key): app.row_formulas(sub).keys for form in app.forms for sub in subforms_with_formulas(form)}


def columns_named(app, names: list[str]) -> tuple[dict[tuple[str, str], list[str]], list[str]]:
    """Split "form.subform.column" names of formula columns (with the columns reading
    them) from the other names; raises KeyError naming one that is not such a column."""
    found: dict[tuple[str, str], list[str]] = {}
    rest = []
    for name in names:
        parts = name.split(".")
        if len(parts) != 3:
            rest.append(name)
            continue
        form = app.form(parts[0])
        sub = form.field(parts[1]) if form is not None else None
        keys = app.row_formulas(sub).keys if sub is not None and app.has_row_formulas(sub) else []
        if parts[2] not in keys:
            raise KeyError(name)
        found.setdefault((form.key, sub.key), []).append(parts[2])
    return {pair: with_readers(app.row_formulas(app.require_form(pair[0]).field(pair[1])), columns)
            for pair, columns in found.items()}, rest


def with_readers(formulas: RowFormulas, columns: list[str]) -> list[str]:
    """`columns` and the formula columns reading them, in order."""
    wanted = set(columns)
    for row_formula in formulas.formulas:
        if wanted & set(row_formula.reads):
            wanted.add(row_formula.column.key)
    return [key for key in formulas.keys if key in wanted]
