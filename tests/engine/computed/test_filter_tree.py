"""The filter language parsed once (engine/computed/filter_tree.py): the fields a document
reads, whether it reads the clock, its errors at their paths, and the SQL walk and the
computed graph that use it. No database: the tree and the SQL are made offline."""
import dataclasses

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from engine.compiled.app import compiled
from engine.computed import filter_tree
from engine.computed.filter_tree import (MAX_CONDITIONS, MAX_DEPTH, FieldTest, FilterError, FormulaTest, Group,
                                      Invalid, Not, parse_filter)
from engine.computed.graph import Node
from engine.fields.base import CLOCK_OPS, DATE_OPS, ValueContext
from engine.query.filters import compile_filter
from engine.validation.checks import AppFacts
from engine.validation.validate import check_text
from tests.support.computed_app import computed_app


@pytest.fixture(scope="module")
def sales():
    return compiled(computed_app())


def parsed(app, spec, form="payments", related=True):
    return parse_filter(spec, app.require_form(form), app=app.definition, types=app.types, related=related)


def errors(tree):
    return [(e.path, e.message) for e in tree.errors]


# ---- what a filter reads ---------------------------------------------------------------------------

def test_fields_are_every_path_read_by_field_and_formula_conditions(sales):
    tree = parsed(sales, {"and": [
        {"field": "status", "op": "eq", "value": "confirmed"},
        {"or": [{"formula": "amount * 2 > contract.amount"},
                {"not": {"field": "created_at", "op": "last_n_days", "value": 3}}]},
        {"formula": "AND(ISBLANK(customer.referrer.level), paid_on > DATE(2025, 1, 1))"}]})
    assert tree.errors == ()
    assert tree.fields == {("status",), ("amount",), ("contract", "amount"), ("created_at",),
                           ("customer", "referrer", "level"), ("paid_on",)}
    assert tree.own_fields == {"status", "amount", "contract", "created_at", "customer", "paid_on"}
    assert [f.text for f in tree.formulas] == ["amount * 2 > contract.amount",
                                               "AND(ISBLANK(customer.referrer.level), paid_on > DATE(2025, 1, 1))"]
    assert [f.path for f in tree.formulas] == ["filter.and[1].or[0]", "filter.and[2]"]
    assert all(f.formula.tree is not None for f in tree.formulas)


def test_the_tree_keeps_the_document_shape(sales):
    tree = parsed(sales, [{"field": "amount", "op": "gt", "value": 1},
                          {"not": {"or": [{"formula": 'status = "pending"'}]}}])
    root = tree.root
    assert isinstance(root, Group) and root.kind == "and" and root.path == "filter"   # a bare list is an and
    first, second = root.items
    assert isinstance(first, FieldTest) and (first.path, first.field.key, first.op, first.value) == \
        ("filter[0]", "amount", "gt", 1)                 # the items' paths are where they are written
    assert isinstance(second, Not) and second.path == "filter[1]"
    inner = second.item
    assert isinstance(inner, Group) and inner.kind == "or" and inner.path == "filter[1].not"
    assert isinstance(inner.items[0], FormulaTest) and inner.items[0].path == "filter[1].not.or[0]"
    with pytest.raises(dataclasses.FrozenInstanceError):
        tree.reads_clock = True
    with pytest.raises(dataclasses.FrozenInstanceError):
        first.op = "lt"


@pytest.mark.parametrize("spec", [None, {}, []])
def test_no_filter_reads_nothing(sales, spec):
    tree = parsed(sales, spec)
    assert (tree.errors, tree.fields, tree.reads_clock, tree.formulas) == ((), frozenset(), False, ())
    assert tree.root is None or tree.root == Group("filter", "and", ())


# ---- the clock ---------------------------------------------------------------------------------------

def test_the_clock_operators_are_the_date_shortcuts():
    assert CLOCK_OPS == {"today", "this_week", "this_month", "last_n_days"} and CLOCK_OPS <= DATE_OPS


@pytest.mark.parametrize("op", sorted(CLOCK_OPS))
def test_a_date_shortcut_reads_the_clock_however_deep(sales, op):
    condition = {"field": "paid_on", "op": op, "value": 7}
    assert parsed(sales, condition).reads_clock
    assert parsed(sales, {"or": [{"field": "amount", "op": "gt", "value": 1}, {"not": [condition]}]}).reads_clock


@pytest.mark.parametrize("formula, clock", [
    ("paid_on >= TODAY() - 30", True),
    ("created_at < NOW()", True),
    ("AND(amount > 0, YEAR(today()) = 2025)", True),       # names are case-insensitive
    ('status = "confirmed"', False),
    ('paid_on >= DATE(2025, 1, 1)', False),
])
def test_a_formula_condition_reads_the_clock_when_it_calls_today_or_now(sales, formula, clock):
    assert parsed(sales, {"and": [{"formula": formula}]}, related=False).reads_clock is clock


def test_a_bad_condition_reads_nothing(sales):
    tree = parsed(sales, {"and": [{"field": "paid_on", "op": "this_mnth"}, {"formula": "amount > TODAY( "},
                                  {"field": "amount", "op": "gt", "value": 0}]})
    assert not tree.reads_clock and tree.fields == {("amount",)} and tree.formulas == ()
    assert [path for path, _ in errors(tree)] == ["filter.and[0].op", "filter.and[1].formula"]
    assert "did you mean 'this_month'?" in tree.errors[0].message


# ---- errors ------------------------------------------------------------------------------------------

def test_errors_of_nested_groups_are_found_all_in_document_order(sales):
    tree = parsed(sales, {"and": [
        {"field": "status", "op": "eq", "value": "confirmed"},
        {"or": [{"field": "amout", "op": "gt", "value": 1}, {"formula": "amount >"}]},
        {"not": {"field": "paid_on", "op": "gtx", "value": "2025-01-01"}},
        {"or": "x"}]})
    assert errors(tree) == [
        ("filter.and[1].or[0].field", "form 'payments' has no field 'amout'; did you mean 'amount'?"),
        ("filter.and[1].or[1].formula", "'>' has nothing after it at 1:8; a value is missing"),
        ("filter.and[2].not.op", "field 'paid_on' (date) does not support operator 'gtx'; use one of: "
                                 + ", ".join(sorted(DATE_OPS)) + " (did you mean 'gt'?)"),
        ("filter.and[3].or", "expected a list of conditions")]
    assert tree.fields == {("status",)}
    assert str(tree.errors[0]) == "filter.and[1].or[0].field: form 'payments' has no field 'amout'; did you mean " \
                                  "'amount'?"
    error = tree.errors[0].error()
    assert isinstance(error, FilterError) and error.path == "filter.and[1].or[0].field"
    assert str(error) == str(tree.errors[0])


@pytest.mark.parametrize("spec, path, words", [
    ("x", "filter", "expected an object: a condition or an and/or group"),
    (42, "filter", "expected an object"),
    ({"and": "x"}, "filter.and", "expected a list of conditions"),
    ({"and": [], "or": []}, "filter", "a group has only one key ('and' or 'or'), also found ['or']"),
    ({"and": [], 7: 1}, "filter", "a group has only one key ('and' or 'or'), also found [7]"),
    ({"field": 3, "op": "eq"}, "filter.field", 'a condition needs "field": the key of a field'),
    ({"op": "eq", "value": 1}, "filter.field", 'a condition needs "field"'),
    ({"field": "amount", "op": ["eq"]}, "filter.op", "does not support operator ['eq']"),
    ({"field": "amount", "op": "eq", "vaule": 1}, "filter", "unknown key(s) ['vaule']; a condition has field"),
    ({1: 2}, "filter", "unknown key(s) [1]"),
    ({"not": {"field": "amount"}, "x": 1}, "filter", "unknown key(s) ['not', 'x']"),
    ({"formula": 42}, "filter.formula", 'expected the formula as text, e.g. {"formula": "amount * 2 > credit"}'),
    ({"formula": "   "}, "filter.formula", "expected the formula as text"),
    ({"formula": "amount > 1", "op": "eq"}, "filter", "a formula condition has only the key 'formula', also "
                                                      "found ['op']"),
    ({"formula": "amount > " + "1" * 2_000}, "filter.formula", "characters, at most 2000"),
    ({"formula": "amount * 2"}, "filter.formula", "the formula gives a number; a filter needs TRUE or FALSE"),
    ({"formula": "amout > 1"}, "filter.formula", "unknown field 'amout' at 1:1, did you mean 'amount'?"),
    ({"not": {"not": {"formula": "contract.amont > 1"}}}, "filter.not.not.formula",
     "unknown field 'amont' of 'contract'"),
])
def test_malformed_documents_say_where_and_why(sales, spec, path, words):
    tree = parsed(sales, spec)
    assert len(tree.errors) == 1, errors(tree)
    assert tree.errors[0].path == path
    assert words in tree.errors[0].message, tree.errors[0].message
    assert isinstance(tree.root, (Invalid, Not))


def test_unicode_keys_and_values_are_named_as_written(sales):
    tree = parsed(sales, {"and": [{"field": "金额", "op": "gt", "value": 1}, {"和": []},
                                  {"formula": "金额 > 1"}, {"field": "status", "op": "eq", "value": "已确认"}]})
    assert errors(tree) == [
        ("filter.and[0].field", "form 'payments' has no field '金额'"),
        ("filter.and[1]", "unknown key(s) ['和']; a condition has field, op and value (or is {\"formula\": \"...\"})"),
        ("filter.and[2].formula", "unknown field '金额' at 1:1")]
    assert tree.root.items[3].value == "已确认" and tree.fields == {("status",)}


def test_nesting_is_bounded(sales):
    spec = {"field": "amount", "op": "gt", "value": 1}
    for _ in range(MAX_DEPTH):
        spec = {"and": [spec]}
    assert parsed(sales, spec).errors == ()
    deeper = parsed(sales, {"or": [spec]})
    assert errors(deeper) == [("filter.or[0]" + ".and[0]" * MAX_DEPTH, f"filters nest at most {MAX_DEPTH} groups deep")]


def test_conditions_are_bounded_and_the_rest_is_not_walked(sales):
    one = {"field": "amount", "op": "gt", "value": 1}
    assert parsed(sales, [one] * MAX_CONDITIONS).errors == ()
    tree = parsed(sales, {"or": [[one] * MAX_CONDITIONS, [one, {"formula": "amout > 1"}] * 10_000]})
    assert errors(tree) == [("filter.or[1][0]", f"at most {MAX_CONDITIONS} conditions in one filter")]
    assert len(tree.root.items) == 2 and len(tree.root.items[1].items) == 1


def test_system_columns_are_fields_of_every_form(sales):
    tree = parsed(sales, {"and": [{"field": "created_by", "op": "eq", "value": 1},
                                  {"formula": "id > 3"}]}, form="contracts")
    assert tree.errors == () and tree.fields == {("created_by",), ("id",)}


# ---- the SQL walk --------------------------------------------------------------------------------

def sql_of(app, spec, form="payments", related=True, dialect=sqlite.dialect()):
    table = app.tables.form_table(form)
    condition = compile_filter(app.require_form(form), table, spec, ValueContext(lang="en"),
                               tables=app.tables, related=related)
    return str(sa.select(table.c.id).where(condition).compile(dialect=dialect))


def test_compiling_raises_the_first_error_in_document_order(sales):
    late_value = {"and": [{"field": "amount", "op": "gt", "value": 1}, {"field": "amout", "op": "gt", "value": 1},
                          {"field": "amount", "op": "gt", "value": "abc"}]}
    early_value = {"and": [late_value["and"][2], late_value["and"][1]]}
    with pytest.raises(FilterError) as raised:
        sql_of(sales, late_value)
    assert raised.value.path == "filter.and[1].field"
    with pytest.raises(FilterError) as raised:        # a bad value is found while compiling, in order
        sql_of(sales, early_value)
    assert raised.value.path == "filter.and[0].value"
    assert parsed(sales, early_value).errors[0].path == "filter.and[1].field"


def test_a_tree_compiles_as_its_document(sales):
    spec = {"or": [{"field": "status", "op": "eq", "value": "pending"}, {"formula": "amount > 10"}]}
    tree = parsed(sales, spec, related=False)
    form, table = sales.require_form("payments"), sales.tables.form_table("payments")
    from_tree = compile_filter(form, table, tree, ValueContext(lang="en"), tables=sales.tables)
    from_document = compile_filter(form, table, spec, ValueContext(lang="en"), tables=sales.tables, related=False)
    for dialect in (sqlite.dialect(), postgresql.dialect()):
        written = str(from_tree.compile(dialect=dialect))
        assert written == str(from_document.compile(dialect=dialect))
        assert ".status" in written and ".amount" in written and " OR " in written


def test_a_rollup_filter_reads_only_the_records_own_fields(sales):
    tree = parsed(sales, {"formula": "contract.amount > 1"}, related=False)
    assert tree.errors == () and tree.fields == {("contract", "amount")}    # what it would read
    with pytest.raises(FilterError, match="reads 'contract.amount' through a relation"):
        sql_of(sales, {"formula": "contract.amount > 1"}, related=False)


def test_a_formula_is_checked_once_per_app_form_and_scope(sales, monkeypatch):
    checked = []
    real = filter_tree.checked_formula
    monkeypatch.setattr(filter_tree, "checked_formula", lambda text, env: checked.append(text) or real(text, env))
    text = "amount > 12345.5"
    first = parsed(sales, {"formula": text}).formulas[0].formula
    assert parsed(sales, {"and": [{"formula": text}]}).formulas[0].formula is first
    parsed(sales, {"formula": text}, related=False)
    parsed(sales, {"formula": text}, form="contracts")
    other = compiled(computed_app())                                   # another app: checked anew
    parsed(other, {"formula": text})
    assert checked == [text] * 4


# ---- the computed graph ----------------------------------------------------------------------------

GRAPH_APP = """
format_version: 1
app: {key: g, label: {zh: 图, en: Graph}}
forms:
  - key: parents
    label: {zh: 上级, en: Parents}
    fields:
      - {key: name, type: text, label: {zh: 名称, en: Name}}
      - {key: ok_total, type: rollup, label: {zh: 合计, en: Total}, source: kids, via: parent, aggregate: sum,
         field: amount, filter: {formula: 'status = "ok"'}}
      - {key: recent, type: rollup, label: {zh: 近期, en: Recent}, source: kids, via: parent, aggregate: count,
         filter: [{field: amount, op: gt, value: 0}, {not: {formula: 'due_on >= TODAY() - 30'}}]}
      - {key: this_month, type: rollup, label: {zh: 本月, en: This month}, source: kids, via: parent,
         aggregate: count, filter: {field: due_on, op: this_month}}
      - {key: plain, type: rollup, label: {zh: 全部, en: All}, source: kids, via: parent, aggregate: count,
         filter: {field: status, op: eq, value: ok}}
      - {key: unfiltered, type: rollup, label: {zh: 笔数, en: Count}, source: kids, via: parent, aggregate: count}
  - key: kids
    label: {zh: 下级, en: Kids}
    fields:
      - {key: parent, type: relation, target: parents, label: {zh: 上级, en: Parent}}
      - {key: amount, type: number, label: {zh: 金额, en: Amount}, precision: 2}
      - {key: due_on, type: date, label: {zh: 到期, en: Due on}}
      - {key: status, type: select, label: {zh: 状态, en: Status}, options: [ok, no]}
"""


def test_the_graph_reads_the_rollup_filters_fields_and_clock():
    definition, problems = check_text(GRAPH_APP, "g.yaml")
    assert not problems, "\n".join(p.format() for p in problems)
    graph = compiled(definition).graph
    node = lambda key: Node("parents", key)
    assert graph.rollups[node("ok_total")].reads == {"*", "parent", "amount", "status"}
    assert graph.rollups[node("recent")].reads == {"*", "parent", "amount", "due_on"}
    assert graph.readers_of({("kids", "status")}) == {node("ok_total"), node("plain")}
    assert graph.readers_of({("kids", "due_on")}) == {node("recent"), node("this_month")}
    assert graph.volatile == {node("recent"), node("this_month")}
    assert graph.rollups[node("unfiltered")].filter is None
    assert graph.rollups[node("ok_total")].filter.formulas[0].text == 'status = "ok"'
    facts = AppFacts.of(definition)                     # the validator's graph agrees
    assert facts.graph.volatile == graph.volatile


def test_the_validator_reports_a_rollup_filter_at_its_bad_part():
    broken = GRAPH_APP.replace("""filter: [{field: amount, op: gt, value: 0}, {not: {formula: 'due_on >= TODAY() - 30'}}]""",
                               """filter: [{field: amount, op: gt, value: 0}, {not: {formula: 'due_of >= TODAY() - 30'}}]""")
    _, problems = check_text(broken, "g.yaml")
    assert [(p.path, p.code) for p in problems] == [("forms[0].fields[2].filter[1].not.formula", "bad_filter")]
    assert "rollup filter: filter[1].not.formula: unknown field 'due_of' at 1:1, did you mean 'due_on'?" in \
        problems[0].message
