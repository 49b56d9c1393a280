"""Definition checks of everything computed: formula and rollup fields, default
formulas, visibility conditions and validation rules, and cycles between them.

A problem inside a formula points into the formula text: `FormulaDefinitionProblem`
carries the offset, and the validator turns it into the line and column of that
character in the YAML file (engine/validation/validate.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any, Iterable

from engine.computed.derive import derive_types
from engine.computed.env import AppEnv, field_formula_type
from engine.computed.filter_tree import parse_filter
from engine.computed.graph import ComputedGraph
from engine.computed.paths import field_kind
from engine.definition.formula_problem import FormulaDefinitionProblem
from engine.definition.model import AppDef, FieldDef, FormDef
from engine.errors import FormworkError, Problem
from engine.fields.base import DefinitionContext
from engine.fields.computed import FormulaField, RollupOptions
from engine.fields.registry import FieldTypes
from engine.fields.relation import RelationOptions
from engine.formula import FormulaSyntaxError, check, parse
from engine.formula.functions.registry import user_functions
from engine.formula.nodes import Call, FieldRef
from engine.formula.typecheck import describe, fits, is_array
from engine.query.filters import source_filter
from engine.query.tables import AppTables
from engine.suggest import did_you_mean

RESULT_WORDS = "number, text, date, datetime or boolean"
CONDITION_TYPES = ("boolean", "number", "any")


@dataclass
class AppFacts:
    """What the validator works out once about the app it checks: the field types bound to
    the derived result types, and (when asked) the dependency graph and the tables."""

    app: AppDef
    types: FieldTypes

    @classmethod
    def of(cls, app: AppDef) -> "AppFacts":
        return cls(app, FieldTypes(derive_types(app)))

    @cached_property
    def graph(self) -> ComputedGraph:
        return ComputedGraph.build(self.app, self.types)

    @cached_property
    def tables(self) -> AppTables:
        return AppTables.build(self.app, self.types)


def check_computed_field(ftype, ctx: DefinitionContext) -> Iterable[Problem]:
    if ctx.parent is not None:
        return      # not allowed in a subform: said by the semantic pass
    if isinstance(ftype, FormulaField):
        yield from _check_formula_field(ftype, ctx)
    else:
        yield from _check_rollup(ftype, ctx)
    yield from _cycles_through(ctx.facts, ctx.form, ftype.fdef)


# ---- formulas -------------------------------------------------------------------------

def check_formula(facts: AppFacts, form: FormDef, text: Any, path: str, scope: str = "record"
                  ) -> tuple[str | None, list[Problem]]:
    """(result type, problems) of one formula text of `form`. `scope="own"` allows only
    the record's own fields (default formulas, visibility conditions)."""
    if not isinstance(text, str) or not text.strip():
        return None, [Problem(path, "the formula is empty: write one, like `amount * 2`", code="formula")]
    try:
        formula = parse(text)
    except FormulaSyntaxError as error:
        return None, [FormulaDefinitionProblem(path, f"formula: {error.message}", text, error.position,
                                               code="formula_syntax")]
    problems: list[Problem] = []
    if scope == "own":
        problems += _walks(formula, path)
        if problems:
            return None, problems
    result = check(formula, AppEnv(facts.app, form, scope, types=facts.types))
    problems += [FormulaDefinitionProblem(path, f"formula: {p.message}", text, p.position, code=p.code,
                                          suggestion=p.suggestion) for p in result.problems]
    return result.result_type, problems


def _walks(formula, path: str) -> list[Problem]:
    """Paths through relations or subforms, where only the record's own fields may be read."""
    return [FormulaDefinitionProblem(
        path, f"formula: {node.dotted!r} reads through {node.path[0]!r}, but this formula runs while "
        f"the record is being filled in and reads only its own fields; use a field of this form",
        formula.text, node.start, code="own_fields_only")
        for node in formula.tree.walk() if isinstance(node, FieldRef) and len(node.path) > 1]


def _stored_user_reads(text: str, path: str, what: str) -> list[Problem]:
    """CURRENTUSER() where the value is stored once for everyone: refused, at the call."""
    try:
        formula = parse(text)
    except FormulaSyntaxError:
        return []       # reported where the formula is checked
    names = set(user_functions(formula.functions))
    return [FormulaDefinitionProblem(
        path, f"formula: {node.name}() gives the user who is looking, but {what} is stored once for "
        f"everyone; to record who saved a record, add a member field with `default_formula: "
        f"{node.name}()`, or filter by the user when reading", text, node.start, code="user_in_stored")
        for node in formula.tree.walk() if isinstance(node, Call) and node.name in names][:1]


def _describe(type_name: str | None) -> str:
    return describe(type_name or "any")


def _check_formula_field(ftype, ctx: DefinitionContext) -> Iterable[Problem]:
    fdef, text = ftype.fdef, ftype.formula_text
    result, problems = check_formula(ctx.facts, ctx.form, text, f"{fdef.path}.formula")
    yield from problems
    if not problems:
        yield from _stored_user_reads(text, f"{fdef.path}.formula", "a formula field")
        yield from result_problems(fdef, ftype, result, "field")
    else:
        yield from _display_options(fdef, ftype.result)


def result_problems(fdef: FieldDef, ftype, result: str | None, holder: str) -> Iterable[Problem]:
    """Whether a checked formula's result type fits the formula field (or subform column,
    `holder` "column") holding it, and its display options."""
    written = ftype.written_result
    if result is None:
        pass
    elif is_array(result):
        yield Problem(f"{fdef.path}.formula", f"a formula {holder} holds one value, and this formula gives "
                      f"{_describe(result)}; wrap it in a function of the array, like SUM(...), MAX(...) or "
                      "JOIN(..., \",\")", code="result_type")
    elif written is not None and not (fits(result, written) or written == "text"):
        yield Problem(f"{fdef.path}.result", f"a {written} {holder}'s formula gives {_describe(result)}: change "
                      f"`result: {written}` or the formula", code="result_type")
    elif written is None and not ftype.inferred_result:
        yield Problem(f"{fdef.path}.formula", f"cannot tell what this formula gives ({_describe(result)}, "
                      f"depending on the data); add `result:` with {RESULT_WORDS}", code="result_type")
    yield from _display_options(fdef, ftype.result)


def _display_options(fdef: FieldDef, result: str) -> Iterable[Problem]:
    for option in ("precision", "unit", "thousands", "percent"):
        if fdef.option(option) is not None and result != "number":
            yield Problem(f"{fdef.path}.{option}", f"{option} applies to numbers, and this field holds "
                          f"{_describe(result)}; remove {option}", code="bad_option")
    if fdef.option("format") is not None and result not in ("date", "datetime"):
        yield Problem(f"{fdef.path}.format", f"format applies to dates, and this field holds "
                      f"{_describe(result)}; remove format", code="bad_option")


# ---- rollups --------------------------------------------------------------------------

def _check_rollup(ftype, ctx: DefinitionContext) -> Iterable[Problem]:
    fdef, app, form = ftype.fdef, ctx.app, ctx.form
    source = app.form(ftype.source)
    if source is None:
        forms = [f.key for f in app.forms]
        yield Problem(f"{fdef.path}.source", f"rollup source {ftype.source!r} is not a form of this app; name "
                      "the form whose records are added up", code="unknown_form",
                      suggestion=did_you_mean(ftype.source, forms))
        return
    via = source.field(ftype.via)
    relations = [f.key for f in source.fields
                 if field_kind(f) == "relation" and RelationOptions.of(f).target == form.key]
    if via is None or field_kind(via) != "relation":
        what = f"form {source.key!r} has no field {ftype.via!r}" if via is None else \
            f"{source.key}.{via.key} is a {via.type} field, not a relation"
        hint = f"name one of its relations to {form.key!r}: {', '.join(relations)}" if relations else \
            f"add a relation field to {source.key!r} whose target is {form.key!r}"
        yield Problem(f"{fdef.path}.via", f"rollup via: {what}; {hint}", code="bad_rollup",
                      suggestion=did_you_mean(ftype.via, relations))
        return
    target = RelationOptions.of(via).target
    if target != form.key:
        yield Problem(f"{fdef.path}.via", f"rollup via: the relation {source.key}.{via.key} points at "
                      f"{target!r}, not at this form {form.key!r}; a rollup adds up the records "
                      f"that point at this one" + (f" (name one of {', '.join(relations)})" if relations else ""),
                      code="bad_rollup")
        return
    yield from _rollup_field(ftype, fdef, source, ctx.types)
    yield from _rollup_filter(ctx.facts, fdef, source)
    if ftype.aggregate not in ("count", "counta"):
        yield from _display_options(fdef, ftype.result)


def _rollup_field(ftype, fdef: FieldDef, source: FormDef, types: FieldTypes) -> Iterable[Problem]:
    aggregate, key = ftype.aggregate, ftype.field_key
    if aggregate == "count":
        if key is not None:
            yield Problem(f"{fdef.path}.field", "count counts the records; remove `field` (or use counta to count "
                          "the records where that field has a value)", code="bad_rollup")
        return
    if key is None:
        yield Problem(f"{fdef.path}", f"missing required key 'field': {aggregate} needs the field of "
                      f"{source.key!r} to aggregate", code="required")
        return
    target = source.field(key)
    if target is None:
        yield Problem(f"{fdef.path}.field", f"form {source.key!r} has no field {key!r}; name the field to "
                      f"{aggregate}", code="unknown_field", suggestion=did_you_mean(key, source.field_keys()))
        return
    try:
        stored = types.of(target).storage == "column"
    except Exception:
        return      # the field's own problems are reported on it
    kind = field_formula_type(target, types)
    if not stored:
        yield Problem(f"{fdef.path}.field", f"{source.key}.{key} is a {target.type} field, which has no single "
                      f"stored value to {aggregate}; name a field stored on {source.key!r}", code="bad_rollup")
    elif aggregate in ("sum", "avg") and kind != "number":
        yield Problem(f"{fdef.path}.field", f"{aggregate} adds up numbers, and {source.key}.{key} is a "
                      f"{target.type} field ({_describe(kind)}); name a number field, or use counta",
                      code="bad_rollup")
    elif aggregate in ("min", "max") and kind not in ("number", "date", "datetime"):
        yield Problem(f"{fdef.path}.field", f"{aggregate} needs numbers or dates, and {source.key}.{key} is a "
                      f"{target.type} field ({_describe(kind)}); name a number or date field",
                      code="bad_rollup")


def _rollup_filter(facts: AppFacts, fdef: FieldDef, source: FormDef) -> Iterable[Problem]:
    spec = RollupOptions.of(fdef).filter
    if spec is None:
        return
    tree = parse_filter(spec, source, app=facts.app, types=facts.types, related=False)
    try:
        source_filter(source, tree, facts.tables)
    except FormworkError as error:
        where = getattr(error, "path", "filter")
        yield Problem(f"{fdef.path}.{where}", f"rollup filter: {error}", code="bad_filter")
        return
    for formula in tree.formulas:
        yield from _stored_user_reads(formula.text, f"{fdef.path}.{formula.path}.formula", "a rollup")


# ---- default formulas, visibility, rules ------------------------------------------------

def check_field_formulas(facts: AppFacts, form: FormDef, fdef: FieldDef, ftype, parent: FieldDef | None
                         ) -> Iterable[Problem]:
    """`default_formula` and `visible_if` of one field."""
    if fdef.default_formula is not None:
        yield from _check_default_formula(facts, form, fdef, ftype, parent)
    if fdef.visible_if is not None:
        path = f"{fdef.path}.visible_if"
        if parent is not None:
            yield Problem(path, "visible_if applies to the fields of a form, not to subform columns; put it on "
                          f"the subform {parent.key!r}", code="bad_option")
            return
        result, problems = check_formula(facts, form, fdef.visible_if, path, scope="own")
        yield from problems
        if not problems and result not in CONDITION_TYPES:
            yield Problem(path, f"a visibility condition gives TRUE or FALSE, and this one gives "
                          f"{_describe(result)}; compare it, like `stage <> \"lost\"`", code="result_type")


def _check_default_formula(facts, form, fdef, ftype, parent) -> Iterable[Problem]:
    path = f"{fdef.path}.default_formula"
    if parent is not None:
        yield Problem(path, "default_formula applies to the fields of a form, not to subform columns; use "
                      "`default` for a column", code="bad_default")
        return
    if not ftype.can_have_default_formula:
        yield Problem(path, f"a {fdef.type} field cannot have a default; remove default_formula",
                      code="bad_default")
        return
    if fdef.default is not None:
        yield Problem(path, "give either `default` (a fixed value) or `default_formula`, not both",
                      code="bad_default")
    result, problems = check_formula(facts, form, fdef.default_formula, path, scope="own")
    yield from problems
    wanted = ftype.formula_type
    if not problems and wanted and result and not fits(result, wanted) and wanted != "text":
        yield Problem(path, f"a {fdef.type} field's default formula gives {_describe(result)}, but "
                      f"{_describe(wanted)} is needed", code="result_type")


def check_form_rules(facts: AppFacts, form: FormDef) -> Iterable[Problem]:
    seen: dict[str, int] = {}
    for index, rule in enumerate(form.rules):
        path = f"{form.path}.rules[{index}]"
        if not isinstance(rule, dict):
            continue            # the JSON Schema reports it
        key = rule.get("key")
        if isinstance(key, str):
            if key in seen:
                yield Problem(f"{path}.key", f"rule key {key!r} is used twice in form {form.key!r} (also "
                              f"rules[{seen[key]}]); rename one", code="duplicate_key")
            seen.setdefault(key, index)
        result, problems = check_formula(facts, form, rule.get("formula"), f"{path}.formula")
        yield from problems
        if not problems and result not in CONDITION_TYPES:
            yield Problem(f"{path}.formula", f"a rule's formula gives TRUE (the record is valid) or FALSE, and "
                          f"this one gives {_describe(result)}; compare something, like `end_date >= start_date`",
                          code="result_type")
        fields = rule.get("fields") or []
        for position, name in enumerate(fields if isinstance(fields, list) else []):
            if isinstance(name, str) and form.field(name) is None:
                yield Problem(f"{path}.fields[{position}]", f"rule {key!r} names {name!r}, which is not a field "
                              f"of form {form.key!r}; the message is shown on the fields named here",
                              code="unknown_field", suggestion=did_you_mean(name, form.field_keys()))


# ---- cycles ---------------------------------------------------------------------------

def _cycles_through(facts: AppFacts, form: FormDef, fdef: FieldDef) -> Iterable[Problem]:
    """Cycles are reported once each, on the first of their fields in the app."""
    graph = facts.graph
    for cycle in graph.cycles:
        if cycle[0].form != form.key or cycle[0].field != fdef.key:
            continue
        chain = " -> ".join(str(node) for node in cycle)
        how = "; ".join(f"{node} reads {graph.how[(node, used)]}" for node, used in zip(cycle, cycle[1:])
                        if (node, used) in graph.how)
        yield Problem(f"{fdef.path}", f"cycle: {chain} ({how}): each of these fields is computed from the "
                      "next, so none of them can be computed; remove one of the references", code="cycle")
