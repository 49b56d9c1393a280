"""Hypothesis strategies: random formulas over typed fields, and random inputs.

Formulas are built as text from a small typed grammar (numbers, texts, booleans,
dates, arrays) so that most of them mean something, with a few ill-typed mixes so
coercions and error values are exercised too. Only functions present in the library
are used, so the strategies follow the library as it grows.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import strategies as st

from engine.formula.functions import FUNCTIONS

NUMBER_FIELDS = ("n1", "n2", "n3")
TEXT_FIELDS = ("s1", "s2")
BOOL_FIELDS = ("b1",)
DATE_FIELDS = ("d1", "d2")
NUMBER_ARRAYS = ("xs",)
TEXT_ARRAYS = ("ks",)

# ---- input values --------------------------------------------------------------------------

numbers = st.one_of(
    st.integers(-1000, 1000).map(Decimal),
    st.decimals(min_value=-10**6, max_value=10**6, places=2, allow_nan=False),
    st.sampled_from([Decimal(0), Decimal("-0.5"), Decimal("2.675"), Decimal("1e300"),
                     Decimal("-1e300"), Decimal("1e-300"), Decimal("123456789012345678901234"),
                     Decimal("0.1"), Decimal("1e15")]),
)
texts = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["", "VIP", "vip", "张三", "客户转介绍", "3", " 12.5 ", "TRUE", "won", "lost",
                     "a*b", "~", "2025-01-31", "🙂", "x" * 200]),
)
dates = st.one_of(
    st.dates(min_value=date(1901, 1, 1), max_value=date(2199, 12, 31)),
    st.sampled_from([date(2024, 2, 29), date(2025, 1, 31), date(2025, 12, 31), date(2000, 2, 29)]),
)
maybe = lambda strategy: st.one_of(st.none(), strategy)  # noqa: E731  (empty is a value too)


@st.composite
def inputs(draw):
    """One record: every field of the grammar, each possibly empty."""
    values = {}
    for name in NUMBER_FIELDS:
        values[name] = draw(maybe(numbers))
    for name in TEXT_FIELDS:
        values[name] = draw(maybe(texts))
    for name in BOOL_FIELDS:
        values[name] = draw(maybe(st.booleans()))
    for name in DATE_FIELDS:
        values[name] = draw(maybe(dates))
    values["xs"] = draw(st.lists(maybe(numbers), max_size=6))
    values["ks"] = draw(st.lists(maybe(st.sampled_from(["won", "lost", "open", "张三", ""])),
                                 max_size=6))
    return values


# ---- formulas ------------------------------------------------------------------------------

def _has(*names: str) -> bool:
    return all(name in FUNCTIONS for name in names)


def _number_literal(value: Decimal) -> str:
    text = format(value, "f") if abs(value.adjusted()) < 20 else str(value)
    return text.lstrip("-") if not text.startswith("-") else f"({text})"


def _text_literal(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


number_leaf = st.one_of(
    st.sampled_from(NUMBER_FIELDS),
    st.integers(0, 100).map(str),
    st.decimals(min_value=0, max_value=1000, places=2, allow_nan=False).map(_number_literal),
    st.sampled_from(["0", "0.5", "1e3", "2.675", "1e300", "-2", "2.9"]),
)
text_leaf = st.one_of(st.sampled_from(TEXT_FIELDS),
                      st.sampled_from(["", "VIP", "张", "a\"b", "3", "won", "Abc"]).map(_text_literal))
bool_leaf = st.one_of(st.sampled_from(BOOL_FIELDS), st.sampled_from(["TRUE", "FALSE"]))
date_leaf = st.sampled_from(DATE_FIELDS)


def _call(name: str, *args: str) -> str:
    return f"{name}({', '.join(args)})"


def formulas(max_leaves: int = 12):
    """Random formula texts (numbers, texts, booleans and dates mixed)."""
    def extend(children):
        pair = st.tuples(children, children)
        triple = st.tuples(children, children, children)
        options = [
            pair.flatmap(lambda p: st.sampled_from(["+", "-", "*", "/", "^", "&", "=", "<>", "<",
                                                    "<=", ">", ">="]).map(
                lambda op: f"({p[0]} {op} {p[1]})")),
            children.map(lambda c: f"-{c}"),
            children.map(lambda c: f"({c})%"),
            triple.map(lambda t: _call("IF", *t)),
            pair.map(lambda p: _call("IF", *p)),
            pair.map(lambda p: _call("IFERROR", *p)),
        ]
        for name, arity in (("ROUND", 2), ("MIN", 2), ("MAX", 2), ("ABS", 1), ("AND", 2),
                            ("OR", 2), ("NOT", 1), ("MOD", 2), ("INT", 1), ("ISBLANK", 1),
                            ("ISNUMBER", 1), ("ISERROR", 1), ("LEN", 1), ("UPPER", 1),
                            ("LEFT", 2), ("TRIM", 1), ("CONCATENATE", 2), ("YEAR", 1),
                            ("EDATE", 2), ("TEXT", 2), ("VALUE", 1), ("SIGN", 1),
                            ("ROUNDUP", 2), ("ROUNDDOWN", 2), ("TRUNC", 1), ("EXACT", 2), ("DAYS", 2),
                            ("SQRT", 1), ("POWER", 2), ("ISTEXT", 1), ("XOR", 2)):
            if _has(name):
                options.append(st.tuples(*[children] * arity).map(
                    lambda args, name=name: _call(name, *args)))
        if _has("SWITCH"):
            options.append(st.tuples(children, text_leaf, children, children).map(
                lambda t: _call("SWITCH", *t)))
        if _has("IFS"):
            options.append(st.tuples(bool_leaf, children, children).map(
                lambda t: _call("IFS", t[0], t[1], "TRUE", t[2])))
        return st.one_of(options)

    aggregates = []
    for name in ("SUM", "AVERAGE", "COUNT", "COUNTA", "MAX", "MIN", "MEDIAN", "PRODUCT"):
        if _has(name):
            aggregates.append(st.just(f"{name}(xs)"))
    if _has("SUMIF"):
        aggregates.append(st.sampled_from(['SUMIF(ks, "won", xs)', 'SUMIF(xs, ">2")',
                                           'SUMIF(ks, "<>lost", xs)']))
    if _has("COUNTIF"):
        aggregates.append(st.sampled_from(['COUNTIF(ks, "张*")', 'COUNTIF(xs, "<=0")']))
    if _has("TEXTJOIN"):
        aggregates.append(st.just('TEXTJOIN(",", TRUE, ks)'))
    leaves = st.one_of(number_leaf, text_leaf, bool_leaf, date_leaf, *aggregates)
    return st.recursive(leaves, extend, max_leaves=max_leaves)


# Fragments of the language (and of what people type by mistake) for token soups.
TOKENS = ["1", "0", "2.5", ".5", "1e3", "1e999", '"x"', '"', "'", "'a'", "n1", "s1", "xs",
          "customer.level", "TRUE", "FALSE", "(", ")", "{", "}", ",", ".", "+", "-", "*", "/",
          "^", "%", "&", "=", "==", "!=", "<>", "<", ">", "<=", ">=", "IF", "SUM", "ROUND",
          "IFERROR", "AND", "NOT", "LEN", "[", "]", ";", ":", "!", "&&", "||", "$", "#", "（",
          "，", "\u3000", "\n", "\t", "\x00", "__import__", "__class__", "lambda", "张三"]
token_soups = st.lists(st.sampled_from(TOKENS), max_size=25).flatmap(
    lambda tokens: st.lists(st.sampled_from(["", " "]), min_size=len(tokens),
                            max_size=len(tokens)).map(
        lambda gaps: "".join(t + g for t, g in zip(tokens, gaps))))

