"""The lexer and parser: Excel precedence, literals, field paths, calls, positions, and
error messages that say what is wrong, where, and how to fix it."""
from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

import pytest

from engine.formula.diagnostics import FormulaSyntaxError
from engine.formula.nodes import ArrayLiteral, Binary, Boolean, Call, FieldRef, Number, Text, Unary
from engine.formula.parser import arity_text, parse


def spec(low, high, volatile=False):
    return SimpleNamespace(min_args=low, max_args=high, volatile=volatile)


# A small table of its own, so these tests only depend on the parser.
FUNCTIONS = {"IF": spec(2, 3), "SUM": spec(1, None), "TODAY": spec(0, 0, volatile=True),
             "ROUND": spec(1, 2), "CEILING.MATH": spec(1, 3), "NOT": spec(1, 1),
             "AND": spec(1, None), "MIN": spec(1, None)}


def tree(text):
    return parse(text, FUNCTIONS).tree


def shape(node):
    """A compact, position-free rendering of a tree: ('+', 1, ('*', 2, 3))."""
    if isinstance(node, Number):
        return int(node.value) if node.value == node.value.to_integral_value() else node.value
    if isinstance(node, Text):
        return f'"{node.value}"'
    if isinstance(node, Boolean):
        return node.value
    if isinstance(node, FieldRef):
        return node.dotted
    if isinstance(node, Unary):
        return (node.op, shape(node.operand))
    if isinstance(node, Binary):
        return (node.op, shape(node.left), shape(node.right))
    if isinstance(node, Call):
        return (node.name,) + tuple(shape(a) for a in node.args)
    if isinstance(node, ArrayLiteral):
        return [shape(i) for i in node.items]
    raise AssertionError(node)


def error_of(text):
    with pytest.raises(FormulaSyntaxError) as info:
        parse(text, FUNCTIONS)
    return info.value


@pytest.mark.parametrize("text, expected", [
    ("1+2*3", ("+", 1, ("*", 2, 3))),
    ("(1+2)*3", ("*", ("+", 1, 2), 3)),
    ("-3^2", ("^", ("-", 3), 2)),                 # negation binds tighter than ^ (Excel)
    ("2^3^2", ("^", ("^", 2, 3), 2)),             # ^ is left-associative in Excel
    ("2^-1", ("^", 2, ("-", 1))),
    ("2^50%", ("^", 2, ("%", 50))),               # % binds tighter than ^
    ("-5%", ("%", ("-", 5))),
    ("50%%", ("%", ("%", 50))),
    ("a*b%", ("*", "a", ("%", "b"))),
    ("1-2-3", ("-", ("-", 1, 2), 3)),
    ("8/4/2", ("/", ("/", 8, 4), 2)),
    ('a&b+1', ("&", "a", ("+", "b", 1))),         # & is looser than +
    ('a&b=c', ("=", ("&", "a", "b"), "c")),        # comparisons are loosest
    ("a<b<c", ("<", ("<", "a", "b"), "c")),
    ("a==b", ("=", "a", "b")),                     # == is read as =
    ("a!=b", ("<>", "a", "b")),                    # != is read as <>
    ("a<>b", ("<>", "a", "b")),
    ("a<=b", ("<=", "a", "b")),
    ("a>=b", (">=", "a", "b")),
    ("--a", ("-", ("-", "a"))),
    ("+a", "a"),                                  # unary plus changes nothing
    ("=1+1", ("+", 1, 1)),                        # a leading = is allowed
    ("  = a", "a"),
])
def test_precedence_and_associativity(text, expected):
    assert shape(tree(text)) == expected


@pytest.mark.parametrize("text, expected", [
    ("1", 1), ("1.5", Decimal("1.5")), (".5", Decimal("0.5")), ("1.", 1), ("1e3", 1000),
    ("1.5E-2", Decimal("0.015")), ("0.1", Decimal("0.1")),
    ('"a ""b"" c"', '"a "b" c"'), ("'it''s'", "\"it's\""), ('""', '""'),
    ('"张三"', '"张三"'), ("TRUE", True), ("false", False), ("True", True),
])
def test_literals(text, expected):
    assert shape(tree(text)) == expected


def test_numbers_are_exact_decimals():
    node = tree("0.1")
    assert isinstance(node.value, Decimal) and node.value == Decimal("0.1")


def test_field_paths_and_calls():
    formula = parse('IF(customer.level = "VIP", SUM(items.price), amount)', FUNCTIONS)
    assert shape(formula.tree) == ("IF", ("=", "customer.level", '"VIP"'), ("SUM", "items.price"),
                                   "amount")
    assert formula.references == (("customer", "level"), ("items", "price"), ("amount",))
    assert formula.functions == {"IF", "SUM"}
    assert formula.volatile is False


def test_function_names_in_any_case_and_with_dots():
    assert shape(tree("sum(1, 2)")) == ("SUM", 1, 2)
    assert shape(tree("Round(a)")) == ("ROUND", "a")
    assert shape(tree("ceiling.math(a)")) == ("CEILING.MATH", "a")


def test_volatile_functions_mark_the_formula():
    assert parse("TODAY() + 1", FUNCTIONS).volatile is True


def test_references_are_unique_in_order_of_first_use():
    assert parse("b + a + b", FUNCTIONS).references == (("b",), ("a",))


def test_array_literals():
    assert shape(tree('{1, -2, "x", TRUE}')) == [1, -2, '"x"', True]
    assert shape(tree("{}")) == []


def test_unicode_names_are_names():
    assert shape(tree("金额 * 2")) == ("*", "金额", 2)


def test_whitespace_newlines_and_ideographic_spaces():
    assert shape(tree("IF(a,\n\t1,\u3000 2)")) == ("IF", "a", 1, 2)


def test_positions_on_every_node():
    node = tree("1 +\n  round(a, 2)")
    call = node.right
    assert (call.start, call.end, call.line, call.column) == (6, 17, 2, 3)
    assert (call.args[0].line, call.args[0].column) == (2, 9)
    assert node.line == 1 and node.column == 1


def test_equality_ignores_positions():
    assert tree("1+a") == tree(" 1 + a ")


@pytest.mark.parametrize("text, message", [
    ("IF(a, 1, 2, 3)", "IF takes 2 or 3 arguments, got 4 at 1:13"),
    ("SUM()", "SUM takes at least 1 argument, got 0 at 1:5"),
    ("NOT(a, b)", "NOT takes 1 argument, got 2 at 1:8"),
    ("TODAY(1)", "TODAY takes no arguments, got 1 at 1:7"),
    ("SUMM(a)", "unknown function SUMM at 1:1, did you mean SUM?"),
    ("FROBNICATE(a)", "unknown function FROBNICATE at 1:1; see docs/formulas.md"),
    ("SUM(1, 2))", "unexpected ')' at 1:10"),
    ("1 +", "'+' has nothing after it at 1:3"),
    ("(1 + 2", "unclosed '(' at 1:1; add ')' to close it"),
    ("SUM(1, 2", "unclosed '(' at 1:4; add ')' to close it"),
    ('IF(a, "yes)', "unclosed text starting at 1:7"),
    ("IF(a,,1)", "missing argument of IF at 1:6"),
    ("SUM(1,)", "missing argument of SUM at 1:7"),
    ("a b", "unexpected name 'b' at 1:3; an operator such as + or & may be missing"),
    ("", "empty formula at 1:1"),
    ("=", "empty formula at 1:2"),
    ("()", "unexpected ')' at 1:2; empty brackets"),
    ("1e", "number '1e' has an exponent without digits at 1:1"),
    ("12abc", "'12abc' is neither a number nor a field key at 1:1"),
    ("a && b", "unexpected '&&' at 1:3; write AND(a, b)"),
    ("a || b", "unexpected '||' at 1:3; write OR(a, b)"),
    ("!a", "unexpected '!' at 1:1; write NOT(a)"),
    ("SUM(a; b)", "unexpected ';' at 1:6; arguments are separated by ','"),
    ("[金额] * 2", "unexpected '[' at 1:1; fields are written by their key without brackets"),
    ("SUM（a）", "full-width '（' at 1:4; type the ASCII '(' instead"),
    ("a ＝ “x”", "full-width '＝' at 1:3; type the ASCII '=' instead"),
    ("a.", "'.' must be followed by a field key at 1:2"),
    ("customer. level", "space around '.' at 1:9"),
    ("{a}", "unexpected name 'a' at 1:2; an array literal holds numbers"),
    ("{1, {2}}", "unexpected '{' at 1:5"),
    ("a # b", "unexpected '#' at 1:3; error values such as #N/A are not typed in a formula: NA()"),
    ("IF(a, #N/A, 1)", "unexpected '#' at 1:7; error values such as #N/A are not typed"),
    ("a\x00", "unexpected character U+0000 at 1:2"),
    ("1 +\n  * 2", "unexpected '*' at 2:3"),
])
def test_errors_say_what_and_where(text, message):
    assert str(error_of(text)).startswith(message)


def test_error_carries_position_and_a_caret_excerpt():
    error = error_of("IF(a > 1, \"x\", \"y\", \"z\")")
    assert (error.position, error.line, error.column) == (20, 1, 21)
    assert error.excerpt() == ('IF takes 2 or 3 arguments, got 4 at 1:21\n'
                               'IF(a > 1, "x", "y", "z")\n' + " " * 20 + "^^^")


def test_caret_excerpt_on_a_later_line_and_with_tabs():
    error = error_of("IF(a,\n\t1 2)")
    assert error.line == 2 and error.column == 4
    assert error.excerpt().splitlines()[1:] == ["\t1 2)", "\t  ^"]


def test_syntax_error_is_a_formwork_error():
    from engine.errors import FormworkError
    assert isinstance(error_of("1 +"), FormworkError)


def test_arity_text():
    assert arity_text(2, 3) == "takes 2 or 3 arguments"
    assert arity_text(1, 1) == "takes 1 argument"
    assert arity_text(0, 0) == "takes no arguments"
    assert arity_text(1, None) == "takes at least 1 argument"
    assert arity_text(2, None) == "takes at least 2 arguments"
    assert arity_text(1, 4) == "takes 1 to 4 arguments"


def test_non_text_formula_is_a_syntax_error():
    with pytest.raises(FormulaSyntaxError, match="a formula is text, not int"):
        parse(12, FUNCTIONS)
