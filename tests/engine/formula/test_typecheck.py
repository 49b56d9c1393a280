"""The type checker: result types, typed trees, and problems with positions and
suggestions, permissive where Excel coerces."""
from __future__ import annotations

import pytest

from engine.formula import MappingEnv, check, fits, parse
from engine.formula.nodes import Call

ENV = MappingEnv({
    "amount": "number", "rate": "number", "cap": "number", "level": "text", "vip": "boolean",
    "signed_on": "date", "due_on": "date", "paid_at": "datetime",
    "customer.level": "text", "customer.name": "text", "customer.since": "date",
    "items.price": "array:number", "items.name": "array:text",
})


def problems_of(text, expected=None):
    return [p.message for p in check(parse(text), ENV, expected=expected).problems]


def type_of(text):
    result_type, problems = check(parse(text), ENV)
    assert problems == [], problems
    return result_type


@pytest.mark.parametrize("text, expected", [
    ("amount * 2", "number"),
    ("1 + 2", "number"),
    ('"a" & amount', "text"),
    ("amount >= 10", "boolean"),
    ("-amount%", "number"),
    ("signed_on + 30", "date"),
    ("30 + signed_on", "date"),
    ("signed_on - 30", "date"),
    ("due_on - signed_on", "number"),
    ("paid_at + 1", "datetime"),
    ("paid_at - signed_on", "number"),
    ("customer.level", "text"),
    ("items.price", "array:number"),
    ("SUM(items.price)", "number"),
    ("ROUND(amount * rate%, 2)", "number"),
    ('IF(amount > 1, 1, 2)', "number"),
    ('IF(amount > 1, "x", "y")', "text"),
    ('IF(amount > 1, 1, "y")', "any"),
    ("AND(amount > 1, vip)", "boolean"),
    ("{1, 2, 3}", "array:number"),
    ('{1, "a"}', "array"),
    ('"3" + 1', "number"),                      # Excel coerces text in arithmetic
    ("vip + 1", "number"),                      # and booleans
    ("IF(amount, 1, 0)", "number"),             # a number is a condition
    ("SUMIFS(items.price, items.name, \"a*\", items.price, \">2\")", "number"),
])
def test_result_types(text, expected):
    assert type_of(text) == expected


def test_every_node_of_the_typed_tree_has_a_type():
    result = check(parse('IF(customer.level = "VIP", ROUND(amount * 5%, 2), 0)'), ENV)
    assert all(node.type for node in result.tree.walk())
    assert isinstance(result.tree, Call) and result.tree.type == "number"
    assert result.tree.args[0].left.type == "text"


@pytest.mark.parametrize("text, message", [
    ("ROUND(10 * amout, 2)", "unknown field 'amout' at 1:12, did you mean 'amount'?"),
    ("customer.levl", "unknown field 'levl' of 'customer' at 1:10, did you mean 'level'?"),
    ("custmer.level", "unknown field 'custmer' at 1:1, did you mean 'customer'?"),
    ("zzz + 1", "unknown field 'zzz' at 1:1"),
    ("PI * 2", "PI is a function at 1:1; write PI()"),
    ("signed_on * 2", "cannot multiply a date and a number at 1:11"),
    ("signed_on + due_on", "cannot add a date and a date at 1:11; add a number of days"),
    ("30 - signed_on", "cannot subtract a number and a date at 1:4; write the date first"),
    ("-signed_on", "cannot negate a date at 1:1"),
    ("items.price * 2", "cannot multiply an array (items.price) at 1:1; use a function over it"),
    ("items.name & \"x\"", "cannot join with '&' an array (items.name) at 1:1"),
    ("items.price > 1", "cannot compare with '>' an array (items.price) at 1:1"),
    ("ROUND(items.price, 2)", "ROUND needs a single value as argument 1, got an array of "
                              "number values (items.price) at 1:7"),
    ("ABS(signed_on)", "ABS needs a number as argument 1, got a date at 1:5"),
    ("IF(items.price, 1, 2)", "IF needs a single value as argument 1"),
    ("amount * \"x\"", 'cannot multiply the text "x", which is not a number at 1:10; write the number'),
    ("-\"元\"", 'cannot negate the text "元", which is not a number at 1:2'),
    ("\"\" + amount", 'cannot add the text "", which is not a number at 1:1'),
])
def test_problems_say_what_and_where(text, message):
    found = problems_of(text)
    assert len(found) == 1 and found[0].startswith(message), found


def test_text_that_reads_as_a_number_takes_part_in_arithmetic():
    assert problems_of('"3" + amount') == [] and problems_of('amount * " 2.5 "') == []


def test_problem_details():
    (problem,) = check(parse("ROUND(10 * amout, 2)"), ENV).problems
    assert (problem.position, problem.line, problem.column) == (11, 1, 12)
    assert problem.code == "unknown_field" and problem.suggestion == "amount"
    assert problem.as_dict()["suggestion"] == "amount"


def test_every_problem_is_reported_at_once():
    found = problems_of("amout + levl + signed_on * 2")
    assert [m.split(" at ")[0] for m in found] == [
        "unknown field 'amout'", "unknown field 'levl'", "cannot multiply a date and a number"]


def test_positions_on_later_lines():
    (message,) = problems_of("IF(amount > 1,\n   amout, 0)")
    assert message.startswith("unknown field 'amout' at 2:4")


def test_expected_result_type():
    assert problems_of('"x" & amount', expected="number") == [
        "the formula gives a text, but a number is needed here at 1:1"]
    assert problems_of("amount * 2", expected="number") == []
    assert problems_of("signed_on + 1", expected="datetime") == []   # a date fits a datetime
    assert problems_of("IF(vip, 1, \"x\")", expected="number") == []  # unknown: the value decides


def test_fits():
    assert fits("number", "number") and fits("any", "date") and fits("date", "datetime")
    assert fits("array:number", "array") and fits("array", "array:text")
    assert not fits("text", "number") and not fits("datetime", "date")
    assert not fits("array:text", "array:number") and not fits("number", "array")


def test_check_unpacks_and_says_ok():
    result = check(parse("amount + 1"), ENV)
    result_type, problems = result
    assert (result_type, problems, result.ok) == ("number", [], True)


def test_mapping_env_candidates():
    assert set(ENV.candidates(())) >= {"amount", "customer", "items"}
    assert set(ENV.candidates(("customer",))) == {"level", "name", "since"}
    assert list(ENV.candidates(("nothing",))) == []


def test_env_from_sample_values():
    from decimal import Decimal
    env = MappingEnv.from_values({"amount": Decimal(1), "customer": {"level": "VIP"},
                                  "items": [{"price": Decimal(1)}, {"price": None}],
                                  "referrer": None, "tags": []})
    assert env.field_type(("amount",)) == "number"
    assert env.field_type(("customer", "level")) == "text"
    assert env.field_type(("items", "price")) == "array:number"
    assert env.field_type(("referrer", "name")) == "any"     # no related record: unknown
    assert env.field_type(("tags", "name")) == "any"         # no rows: unknown
    assert env.field_type(("customer", "nothing")) is None
    assert check(parse("referrer.name & customer.levl"), env).problems[0].message.startswith(
        "unknown field 'levl' of 'customer' at 1:26, did you mean 'level'?")
