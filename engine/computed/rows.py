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
number of rows. A migration that adds or changes such a formula recomputes the stored
rows in batches (`recompute_stored`, a `recompute_subform` step of the plan).

Values are stored like a formula field's (engine/fields/computed.py): the value in the
child table's typed column, an error code (#DIV/0!) in `<column>__error`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

import sqlalchemy as sa

from engine.computed.env import RowEnv, evaluation_context
from engine.computed.inputs import formula_value
from engine.definition.model import AppDef, FieldDef, FormDef
from engine.definition.suggest import did_you_mean
from engine.errors import Problem
from engine.fields.base import ValueContext
from engine.fields.registry import FieldTypes, computed_kind
from engine.formula import EvalContext, FormulaSyntaxError, compile_formula, parse
from engine.i18n import register_messages

register_messages({
    "subform_computed_read_only": {
        "zh": "第 {row} 行的“{column}”由公式自动计算，不能填写；请去掉该列",
        "en": "Column '{column}' of row {row} is computed by its formula; leave it out of the row"},
})

Progress = Callable[[str, int, int], None]
BATCH = 2000


def is_row_formula(fdef: FieldDef) -> bool:
    return computed_kind(fdef) == "formula"


# ---- checking ------------------------------------------------------------------------------

def outside_row(formula, form: FormDef, subform: FieldDef, column: FieldDef, path: str) -> list[Problem]:
    """Names a row formula may not read: anything but a column of its row."""
    from engine.computed.checks import FormulaDefinitionProblem
    from engine.formula.functions import FUNCTIONS
    from engine.formula.nodes import FieldRef
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
    from engine.computed.checks import FormulaDefinitionProblem
    from engine.formula.functions import FUNCTIONS
    from engine.formula.nodes import Call
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
    from engine.formula.diagnostics import line_column
    return "%d:%d" % line_column(text, offset)


def check_row_formula(ftype, ctx) -> Iterable[Problem]:
    """Definition checks of a formula column of a subform (`ctx.parent`): syntax and
    types with positions, only the row's columns, no clock, the result, cycles."""
    from engine.computed.checks import FormulaDefinitionProblem, result_problems
    from engine.formula import check
    fdef, subform = ftype.fdef, ctx.parent
    text, path = fdef.option("formula"), f"{fdef.path}.formula"
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


# ---- the formulas of one subform -------------------------------------------------------------

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
            if not is_row_formula(column) or not isinstance(column.option("formula"), str):
                continue
            try:
                formula = parse(column.option("formula"))
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
            inputs = [{name: formula_value(types[name], row.get(name), ctx) for name in reads} for row in rows]
            results = compile_formula(row_formula.formula).many(inputs, eval_ctx)
            ftype = types[key]
            for row, result in zip(rows, results):
                row[key] = ftype.stored_value(result, ctx.tz)


def subforms_with_formulas(form: FormDef) -> list[FieldDef]:
    return [f for f in form.fields if f.fields and any(is_row_formula(c) for c in f.fields)]


# ---- migrations: recomputing stored rows ------------------------------------------------------

def recompute_stored(conn: sa.Connection, formulas: RowFormulas, child: sa.Table, columns: list[str],
                     ctx: ValueContext, eval_ctx: EvalContext, progress: Progress | None = None,
                     what: str = "", batch: int = BATCH) -> dict[str, int]:
    """Recompute formula `columns` of every stored row of a subform, in batches of child
    rows by id: per batch one SELECT and one executemany of the rows whose values
    changed. Returns, per column, the number of rows whose value changed."""
    columns = [key for key in formulas.keys if key in columns]
    changed = dict.fromkeys(columns, 0)
    if not columns:
        return changed
    types = {k: t for k, t in formulas.types.items() if k in
             {r for f in formulas.formulas for r in f.reads} | set(columns)}
    selected = [child.c.id] + [child.c[col.name] for t in types.values() for col in t.columns()]
    written = [col.name for key in columns for col in types[key].columns()]
    update = child.update().where(child.c.id == sa.bindparam("_id")).values(
        {name: sa.bindparam(f"_v_{name}") for name in written})
    total = conn.execute(sa.select(sa.func.count()).select_from(child)).scalar_one()
    last, done = 0, 0
    while True:
        found = conn.execute(sa.select(*selected).where(child.c.id > last).order_by(child.c.id)
                             .limit(batch)).mappings().all()
        if not found:
            return changed
        rows = [{"_id": m["id"], **{k: t.from_row(m) for k, t in types.items()}} for m in found]
        old = [{k: row[k] for k in columns} for row in rows]
        formulas.compute(rows, ctx, eval_ctx, only=columns)
        params = []
        for row, before in zip(rows, old):
            moved = [k for k in columns if row[k] != before[k]]
            for key in moved:
                changed[key] += 1
            if moved:
                stored: dict[str, Any] = {}
                for key in columns:
                    stored.update(types[key].to_row(row[key]))
                params.append({"_id": row["_id"], **{f"_v_{n}": stored[n] for n in written}})
        if params:
            conn.execute(update, params)
        last, done = found[-1]["id"], done + len(found)
        if progress:
            progress(what, done, total)


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
    return {pair: _with_readers(app.row_formulas(app.require_form(pair[0]).field(pair[1])), columns)
            for pair, columns in found.items()}, rest


def recompute_subform_steps(installed: AppDef, new, plan, created: set[str]) -> set[tuple[str, str]]:
    """Add a `recompute_subform` step for each subform whose formula columns must be
    computed again (a formula added or changed, or a column they read retyped or
    restored); returns the (form, subform) pairs, whose readers need recomputing too."""
    from engine.computed.migration import value_signature
    touched = {(s.form, s.field) for s in plan.steps
               if s.kind in ("retype_subfield", "restore_subfield", "restore_field", "retype_field")}
    done: set[tuple[str, str]] = set()
    for form in new.forms:
        if form.key in created:
            continue
        old_form = installed.form(form.key) or installed.form(plan.form_renames.get(form.key, ""))
        for subform in subforms_with_formulas(form):
            old_sub = old_form.field(subform.key) or (old_form.field(subform.renamed_from)
                                                      if subform.renamed_from else None) if old_form else None
            columns = [key for key in new.row_formulas(subform).keys
                       if (form.key, subform.key) in touched or old_sub is None
                       or _changed(old_sub, subform.subfield(key),
                                   value_signature, installed.types, new.types)]
            if not columns:
                continue
            columns = _with_readers(new.row_formulas(subform), columns)
            done.add((form.key, subform.key))
            names = ", ".join(f"{form.key}.{subform.key}.{key}" for key in columns)
            plan.add("recompute_subform", form.key, subform.key,
                     f"recompute {names} for every subform row (in batches, with progress)", columns=columns)
    return done


def _changed(old_sub: FieldDef, column: FieldDef, signature, old_types, new_types) -> bool:
    old = old_sub.subfield(column.key) or (old_sub.subfield(column.renamed_from) if column.renamed_from else None)
    return old is None or old.type != column.type or signature(old, old_types) != signature(column, new_types)


def _with_readers(formulas: RowFormulas, columns: list[str]) -> list[str]:
    """`columns` and the formula columns reading them, in order."""
    wanted = set(columns)
    for row_formula in formulas.formulas:
        if wanted & set(row_formula.reads):
            wanted.add(row_formula.column.key)
    return [key for key in formulas.keys if key in wanted]
