"""The SQL back end, case by case, on SQLite and PostgreSQL: the semantics a filter
depends on (blanks, case, rounding, errors, dates in the workspace zone, exact numbers
where the database has none), what is refused and why, and SQL that stays small and
never carries a user's text."""
from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from engine.formula import EvalContext, MappingEnv, check, evaluate, parse
from engine.formula.sql import MAX_SQL_SIZE, NotTranslatable, translatable, translate
from engine.formula.values import ErrorValue
from engine.storage.db import make_engine
from tests.support.sql_strategies import FIELDS, TABLE, metadata

TZ = ZoneInfo("Asia/Shanghai")
CTX = EvalContext(tz=TZ, now=datetime(2001, 5, 6, 23, 30, tzinfo=TZ))
BLANK = {"n1": None, "n2": None, "n3": None, "e1": None, "e1__error": None, "s1": None, "s2": None,
         "b1": None, "d1": None, "d2": None, "t1": None}


@pytest.fixture
def engine(db_url):
    engine = make_engine(db_url)
    metadata.create_all(engine)
    yield engine
    engine.dispose()


def sql_values(engine, text: str, *rows: dict) -> list:
    """The formula's value for each row, computed by the database."""
    sql = translate(parse(text), FIELDS.get, engine.dialect.name, CTX)
    with engine.begin() as conn:
        conn.execute(TABLE.delete())
        conn.execute(TABLE.insert(), [{**BLANK, "id": i + 1, **row} for i, row in enumerate(rows)])
        found = conn.execute(sa.select(sql.value, sql.error_or_null()).select_from(TABLE)
                             .order_by(TABLE.c.id)).all()
    return [sql.decode(value, error) for value, error in found]


def matching(engine, text: str, *rows: dict) -> list[int]:
    sql = translate(parse(text), FIELDS.get, engine.dialect.name, CTX)
    with engine.begin() as conn:
        conn.execute(TABLE.delete())
        conn.execute(TABLE.insert(), [{**BLANK, "id": i + 1, **row} for i, row in enumerate(rows)])
        return [row.id for row in conn.execute(
            sa.select(TABLE.c.id).where(sql.condition()).order_by(TABLE.c.id))]


def reference(text: str, row: dict):
    inputs = {**BLANK, **row}
    code = inputs.pop("e1__error")
    if code:
        inputs["e1"] = ErrorValue(code)
    if inputs["t1"] is not None:
        inputs["t1"] = inputs["t1"].astimezone(TZ)
    return evaluate(text, inputs, CTX)


# ---- meaning --------------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["n1 = 0", "s1 = \"\"", "b1 = FALSE", "n1 = s1", "d1 = 0", "n1 < \"a\"",
                                  "s1 > 5", "b1 > \"z\""])
def test_blanks_are_what_the_other_side_makes_of_them(engine, text):
    rows = [{}, {"n1": Decimal(3), "s1": "x", "b1": True, "d1": date(2025, 1, 1)}]
    assert sql_values(engine, text, *rows) == [reference(text, row) for row in rows]
    assert sql_values(engine, text, {})[0] is True or text in ("n1 < \"a\"", "s1 > 5", "b1 > \"z\"")


@pytest.mark.parametrize("text, value, expected", [
    ('s1 = "straße"', "STRASSE", True),
    ('s1 = "VIP"', "vip", True),
    ('s1 = "vip"', "v\u0130p", False),          # İ folds to i̇, not to i
    ('s1 = "ss"', "ß", True),
    ('s1 = "Ꭰ"', "ꭰ", True),                     # Cherokee folds to its capital
    ('s1 < "b"', "Ä", False),                    # by code point, after folding
    ('UPPER(s1) = "STRASSE"', "straße", True),
    ('EXACT(UPPER(s1), "STRASSE")', "straße", True),
    ('LEN(UPPER(s1))', "straße", Decimal(7)),
    ('TRIM(s1)', "  a  　b  ", "a 　b"),
])
def test_text_compares_and_changes_case_as_python_does(engine, text, value, expected):
    assert sql_values(engine, text, {"s1": value}) == [expected] == [reference(text, {"s1": value})]


@pytest.mark.parametrize("text, row, expected", [
    ("ROUND(n1, 1)", {"n1": Decimal("2.25")}, Decimal("2.3")),
    ("ROUND(n1, 0)", {"n1": Decimal("-2.50")}, Decimal("-3")),
    ("ROUND(n1 * n3%, 2)", {"n1": Decimal("2.67"), "n3": Decimal("50")}, Decimal("1.34")),
    ("MOD(n2, 3)", {"n2": Decimal(-7)}, Decimal(2)),
    ("MOD(n2, -3)", {"n2": Decimal(7)}, Decimal(-2)),
    ("INT(n1)", {"n1": Decimal("-3.50")}, Decimal(-4)),
    # 999999999999999998000000000000000001, rounded to 34 digits as the reference does
    ("n2 * n2", {"n2": Decimal(999_999_999_999_999_999)}, Decimal("999999999999999998000000000000000000")),
    ("n2 * n2 = 999999999999999998000000000000000000", {"n2": Decimal(999_999_999_999_999_999)}, True),
    ("2 / n2 * n2 = 2", {"n2": Decimal(3)}, True),      # 34-digit steps, as the reference
    ("1 / n2 * n2 = 1", {"n2": Decimal(3)}, False),
    ("n1 / 0", {"n1": Decimal(1)}, ErrorValue("#DIV/0!")),
    ("POWER(n2, 0)", {}, ErrorValue("#NUM!")),
    ("e1 + 1", {"e1__error": "#N/A"}, ErrorValue("#N/A")),
    ("n1 & \"元\"", {"n1": Decimal("1200.50")}, "1200.5元"),
    ("n2 & \"\"", {"n2": Decimal("123456789012345678")}, "123456789012346000"),   # 15 digits
    ("n2 * n2 & \"\"", {"n2": Decimal("123456789012345678")}, "1.52415787532388E+34"),
])
def test_numbers_are_exact_and_errors_are_the_reference_s(engine, text, row, expected):
    assert sql_values(engine, text, row) == [expected] == [reference(text, row)]


N1_MAX = Decimal("9999999999999999.99")         # n1: 16 digits before the point, 2 after
N2_MAX = Decimal(999_999_999_999_999_999)         # n2: 18 digits


@pytest.mark.parametrize("text", [
    # the constant is below where the rounding to 34 digits starts (1E+30 for n1 * n1):
    # compared without it, on every row
    "n1 * n1 > 500", "ROUND(n1 * n1, 2) > 500", "ROUND(n1 * n1, 2) >= -500", "-(n1 * n1) < 5",
    "ROUNDUP(n1 * n1, -2) = 0", "INT(n1 * n1) <> 99999999999999999999999999999",
    "ROUND(n2 * n2, -3) > 1", "AND(n1 * n1, TRUE)",
    # at or beyond it: compared rounded, as the reference rounds
    "n1 * n1 = 99999999999999999800000000000000", "n1 * n1 > 99999999999999999800000000000000",
    "n2 * n2 = 999999999999999998000000000000000000", "n1 * n1 < 1E+40", "ROUND(n1 * n1, -31) > 1E+31",
    "n1 * n1 * n1 > 1", "ROUND(n1 * n2, -33) > 500", "ROUNDDOWN(n1 * n2, -32) < 500",
])
def test_comparisons_need_the_34_digit_rounding_only_near_the_constant(engine, text):
    """Rounding to 34 digits keeps a number below 10**(34 - its places) and keeps larger
    ones at least that large, so a comparison with a smaller constant reads the exact
    product: values at the fields' limits, negative, 0 and blank agree with the reference."""
    rows = [{"n1": N1_MAX, "n2": N2_MAX}, {"n1": -N1_MAX, "n2": -N2_MAX}, {"n1": Decimal("0.01")},
            {"n1": Decimal(0), "n2": Decimal(0)}, {},
            {"n1": Decimal("316227766016837.94"), "n2": Decimal(10) ** 17},    # n1² about 1E+29
            # n1 * n2 = 5E+32 - 0.05, 35 digits: 5E+32 in 34, so ROUND(.., -33) is 1E+33, not 0
            {"n1": Decimal("4999999999999999.95"), "n2": Decimal(100_000_000_000_000_001)}]
    expected = [reference(text, row) for row in rows]
    assert sql_values(engine, text, *rows) == expected
    assert matching(engine, text, *rows) == [i + 1 for i, truth in enumerate(expected) if truth is True]


def test_a_product_of_unbounded_fields_compared_with_a_constant_has_no_34_digit_guard(engine):
    """The benchmark's condition over fields without min/max: on PostgreSQL, the SQL of
    the same condition over small fields (no subquery, no size test)."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite holds the product as a 64-bit integer, with its own overflow test")
    sql = translate(parse("ROUND(n1 * n1%, 2) > 500"), FIELDS.get, "postgresql", CTX)
    compiled = str(sa.select(sql.condition()).compile(dialect=engine.dialect))
    assert "SELECT" not in compiled.split("\n", 1)[0][7:] and "CASE" not in compiled, compiled
    assert matching(engine, "ROUND(n1 * n1%, 2) > 500", {"n1": Decimal(300)}, {"n1": Decimal(200)},
                    {"n1": N1_MAX}, {"n1": -N1_MAX}) == [1, 3, 4]


def test_an_error_never_matches_a_filter(engine):
    rows = [{"n1": Decimal(0)}, {"n1": Decimal(2)}, {"n1": Decimal(-2)}]
    assert matching(engine, "10 / n1 > 1", *rows) == [2]
    assert matching(engine, "NOT(10 / n1 > 1)", *rows) == [3]     # not #DIV/0! either


def test_dates_are_days_and_datetimes_are_wall_clock_time_in_the_workspace_zone(engine):
    # 1988-04-10 01:30 in Shanghai was summer time (UTC+9): still the 10th there
    summer = {"t1": datetime(1988, 4, 9, 16, 30, tzinfo=timezone.utc), "d1": date(1988, 4, 10)}
    for text, expected in [("DAY(t1)", Decimal(10)), ("t1 > d1", True), ("t1 < DATEDELTA(d1, 1)", True),
                           ("YEAR(TODAY())", Decimal(2001)),     # the context's clock, not the server's
                           ("DAYS(DATE(2024, 3, 1), DATE(2024, 2, 1))", Decimal(29)),
                           ("DATE(2025, 14, 0)", date(2026, 1, 31)),
                           ("DATEDELTA(d1, 0.5)", date(1988, 4, 10)),
                           ("DATEDELTA(d1, -0.5)", date(1988, 4, 9)),
                           ("DATEDELTA(DATE(9999, 12, 31), n2 + 1)", ErrorValue("#NUM!"))]:
        assert sql_values(engine, text, summer) == [expected] == [reference(text, summer)], text


def test_a_user_s_text_never_becomes_sql(engine):
    text = 's1 = "x\'); DROP TABLE fw_formula_rows; --"'
    sql = translate(parse(text), FIELDS.get, engine.dialect.name, CTX)
    compiled = str(sa.select(sql.condition()).compile(dialect=engine.dialect))
    assert "DROP" not in compiled
    assert sql_values(engine, text, {"s1": "x'); DROP TABLE fw_formula_rows; --"}) == [True]


def test_nested_operations_stay_small_and_fast(engine):
    text = " * ".join(["n2"] * 11) + " > 0"
    sql = translate(parse(text), FIELDS.get, engine.dialect.name, CTX)
    compiled = str(sa.select(sql.condition()).compile(dialect=engine.dialect))
    assert len(compiled) < 60_000
    assert sql_values(engine, text, {"n2": Decimal(7)}, {"n2": Decimal(-7)}) == [True, False]


# ---- what is refused --------------------------------------------------------------------------

TYPES = {"n1": "number", "n2": "number", "s1": "text", "d1": "date", "t1": "datetime",
         "b1": "boolean", "xs": "array:number"}


def _translatable(text: str) -> tuple[bool, str]:
    formula = parse(text)
    typed = check(formula, MappingEnv(TYPES)).tree
    return translatable(formula.__class__(formula.text, typed, formula.references, formula.functions,
                                          formula.volatile))


@pytest.mark.parametrize("text, reason", [
    ('SUMIF(xs, ">1") > 2', "uses SUMIF, which runs only outside the database"),
    ("VALUE(s1) > 2", "uses VALUE"),
    ("s1 + 1 > 2", "adds to text: the database reads only numbers as numbers"),
    ("t1 + 1 > t1", "computes with a date and time"),
    ("xs > 1", "reads 'xs', whose values the database cannot compute with"),
    ("ROUND(n1, n2) > 1", "ROUND's number of places must be written as a number"),
    ("n1 ^ 0.5 > 1", "raises to a power other than a whole number from 0 to 16"),
    ("d1 + 5", "gives a date moved by days"),
    ("(d1 + 5) * 2 > 1", "write DATEDELTA(DATEDELTA(date, days), more_days)"),
    ("IF(b1, 1, \"x\") = 1", "IF gives number or text depending on the row"),
    ("SEARCH(\"a\", s1) > 0", "uses SEARCH"),
    ("n1 = t1", "compares a number with a date and time"),
    ("(" * 30 + "n1" + " * n1)" * 30 + " > 0", "too complex to run in the database"),
])
def test_what_cannot_run_in_the_database_is_refused_with_the_reason(text, reason):
    ok, why = _translatable(text)
    assert not ok and reason in why, why


@pytest.mark.parametrize("text", [
    'AND(ROUND(n1 * n2%, 2) > 500, s1 = "VIP")', "IF(ISBLANK(d1), TODAY(), DATEDELTA(d1, 30)) > TODAY()",
    'OR(LEFT(s1, 2) = "张三", FIND("@", s1) > 0)', "MAX(n1, n2, 0) >= MIN(n1, 3)", "d1 + 5 > TODAY()",
])
def test_translatable_formulas(text):
    assert _translatable(text) == (True, "")


def test_the_size_guard_counts_repeated_parts():
    assert MAX_SQL_SIZE >= 10_000
    with pytest.raises(NotTranslatable):
        translate(parse("(" * 30 + "n1" + " * n1)" * 30 + " > 0"), FIELDS.get, "postgresql", CTX)


def test_the_documented_difference_lower_of_a_final_sigma(engine):
    """docs/records.md: LOWER() of a final capital sigma is σ on PostgreSQL, ς in Python;
    comparisons ignore case, so they agree."""
    assert reference('LOWER(s1)', {"s1": "ΑΣ"}) == "ας"
    expected = "ασ" if engine.dialect.name == "postgresql" else "ας"
    assert sql_values(engine, 'LOWER(s1)', {"s1": "ΑΣ"}) == [expected]
    assert sql_values(engine, 'LOWER(s1) = "ας"', {"s1": "ΑΣ"}) == [True]


@pytest.mark.parametrize("text", [
    "n1 * n2 * n3 > 1", "n1 / 3 > 1", 's1 = "vip"', 's1 < "Straße"', "UPPER(s1) = \"X\"",
    "DATEDELTA(d1, 3) > TODAY()", "t1 > DATE(2025, 1, 1)", "(n2 & \"x\") = \"1x\"", "DATE(n2, 1, 1) > d1",
    "MOD(n1, 3) = 1", "ROUND(n1 * n3%, 2) > 5",
])
def test_the_sql_also_runs_with_its_values_written_in(engine, text):
    """Records.count asks PostgreSQL's planner for an estimate with the values written
    into the SQL: the translation keeps its types then too."""
    if engine.dialect.name != "postgresql":
        pytest.skip("only PostgreSQL's estimates are asked with the values written in")
    rows = [{"n1": Decimal("12.5"), "n2": Decimal(2024), "n3": Decimal("3.5"), "s1": "VIP", "d1": date(2024, 5, 1),
             "t1": datetime(2025, 3, 1, tzinfo=timezone.utc)}, {}]
    sql = translate(parse(text), FIELDS.get, engine.dialect.name, CTX)
    query = sa.select(TABLE.c.id).where(sql.condition()).order_by(TABLE.c.id)
    written = str(query.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True}))
    bound = matching(engine, text, *rows)
    with engine.connect() as conn:
        assert [row.id for row in conn.exec_driver_sql(written)] == bound
