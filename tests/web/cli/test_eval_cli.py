"""`formwork eval`: one formula, a batch of vectors, or a stored record; values in and
out in the oracle vectors' shape; clear errors with positions and non-zero exits."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from tests.support.formula_oracle import DELIBERATE_DIFFERENCES, ORACLE, matches
from tests.support.records_app import install_shop
from web.cli import cli, main


def run(*args, input=None):
    return CliRunner().invoke(cli, ["eval", *args], input=input, catch_exceptions=False)


def value_of(*args, input=None):
    result = run(*args, input=input)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.mark.parametrize("formula, inputs, expected", [
    ('SUMIF(ks,"won",vs)', {"ks": ["won", "lost", "won"], "vs": [100, 50, 25]}, {"number": 125}),
    ("ROUND(a * 5%, 2)", {"a": 12345}, {"number": 617.25}),
    ('a & "!"', {"a": "张三"}, {"text": "张三!"}),
    ("a > 1", {"a": 2}, {"bool": True}),
    ("d + 1", {"d": {"date": "2024-02-28"}}, {"date": "2024-02-29"}),
    ("1/0", {}, {"error": "#DIV/0!"}),
    ("a", {"a": None}, {"empty": True}),
    ("{1, 2}", {}, {"array": [{"number": 1}, {"number": 2}]}),
    ("0.1 + 0.2", {}, {"number": 0.3}),
    ('customer.level & "/" & SUM(items.price)',
     {"customer": {"level": "VIP"}, "items": [{"price": 1}, {"price": 2.5}]}, {"text": "VIP/3.5"}),
])
def test_eval_prints_one_json_value(formula, inputs, expected):
    assert value_of(formula, "--inputs", json.dumps(inputs)) == expected
    assert value_of(formula, "--inputs", json.dumps(inputs), "--evaluator", "compiled") == expected


@pytest.mark.parametrize("formula, expected", [
    ("-3^2", {"number": 9}),                        # Excel: negation before ^
    ("-a", {"number": -2}), ("-(-a)", {"number": 2}), ("-a%", {"number": -0.02}),
])
def test_a_formula_may_start_with_a_minus(formula, expected):
    """Not refused as an unknown option of the command (`No such option: -3`)."""
    assert value_of(formula, "--inputs", '{"a": 2}') == expected
    assert value_of("--inputs", '{"a": 2}', formula) == expected
    assert value_of("--inputs", '{"a": 2}', "--", formula) == expected
    assert value_of(formula, "--inputs", "-", input='{"a": 2}') == expected   # '-' is a value


def test_a_misspelt_long_option_is_still_refused_with_the_nearest_one():
    result = run("-a", "--input", '{"a": 2}')
    assert result.exit_code == 2 and "No such option: --input" in result.output
    assert "Did you mean --inputs?" in result.output


def test_inputs_from_stdin():
    assert value_of("a * 2", "--inputs", "-", input='{"a": 21}') == {"number": 42}


def test_today_sees_now_in_the_workspace_time_zone():
    # 23:30 UTC on the 15th is already the 16th in Shanghai.
    assert value_of("TODAY()", "--now", "2025-01-15T23:30:00+00:00") == {"date": "2025-01-16"}
    assert value_of("TODAY()", "--now", "2025-01-15T23:30:00+00:00", "--tz", "UTC") == {
        "date": "2025-01-15"}


@pytest.mark.parametrize("args, message", [
    (["IF(a > 1, 1", "--inputs", '{"a": 2}'], "unclosed '(' at 1:3; add ')' to close it\n"
                                             "IF(a > 1, 1\n  ^"),
    (["amout * 2", "--inputs", '{"amount": 2}'], "unknown field 'amout' at 1:1, did you mean 'amount'?"),
    (["SUMM(1)"], "unknown function SUMM at 1:1, did you mean SUM?"),
])
def test_formula_errors_exit_2_with_the_position(args, message, capsys):
    assert main(["eval", *args]) == 2
    assert f"error: {message}" in capsys.readouterr().err


@pytest.mark.parametrize("args, message", [
    (["1", "--inputs", "{bad"], "not valid JSON: Expecting property name"),
    (["1", "--inputs", "[1]"], "give a JSON object of field values"),
    (["1", "--inputs", '{"d": {"date": "15/01/2025"}}'], "input 'd'"),
    (["1", "--tz", "Mars/Olympus"], "unknown time zone 'Mars/Olympus'"),
    (["1", "--now", "yesterday"], "'yesterday' is not an ISO 8601 moment"),
    ([], "give a FORMULA (or --batch FILE)"),
])
def test_bad_options_are_explained(args, message, capsys):
    assert main(["eval", *args]) == 2
    assert message in capsys.readouterr().err


def test_batch_prints_a_list_of_results(tmp_path):
    vectors = [
        {"id": "A", "formula": "a + 1", "inputs": {"a": 1}, "expect": {"number": 2}},
        {"id": "B", "formula": 'LEFT(a, 2)', "inputs": {"a": "张三丰"}},
        {"id": "C", "formula": "d - 1", "inputs": {"d": {"date": "2024-03-01"}}},
    ]
    path = tmp_path / "vectors.json"
    path.write_text(json.dumps(vectors, ensure_ascii=False), encoding="utf-8")
    assert value_of("--batch", str(path)) == [
        {"id": "A", "result": {"number": 2}}, {"id": "B", "result": {"text": "张三"}},
        {"id": "C", "result": {"date": "2024-02-29"}}]


def test_batch_reports_bad_vectors_and_goes_on():
    vectors = [{"id": 1, "formula": "1 +"}, {"id": 2, "formula": "2 * 3"}, "nonsense",
               {"id": 4, "formula": "x", "inputs": [1]}]
    result = run("--batch", "-", input=json.dumps(vectors))
    assert result.exit_code == 2
    entries = json.loads(result.stdout)
    assert entries[0] == {"id": 1, "error": "'+' has nothing after it at 1:3; a value is missing\n"
                                            "1 +\n  ^"}
    assert entries[1] == {"id": 2, "result": {"number": 6}}
    assert entries[2]["error"].startswith("item 2: give an object")
    assert entries[3]["error"] == '"inputs" must be a JSON object of field values'
    assert "3 of 4 formulas could not be evaluated" in result.stderr


def test_batch_over_the_oracle_vectors_agrees_with_them():
    result = run("--batch", str(ORACLE / "vectors.json"), "--evaluator", "compiled")
    vectors = {v["id"]: v for v in json.loads((ORACLE / "vectors.json").read_text("utf-8"))}
    for entry in json.loads(result.stdout):
        expected = DELIBERATE_DIFFERENCES.get(entry["id"], (vectors[entry["id"]]["expect"],))[0]
        assert "result" in entry and matches(entry["result"], expected), entry


def test_eval_against_a_stored_record_walks_relations(db, db_url):
    from runtime.records import Records
    app = install_shop(db)
    with db.begin() as conn:
        records = Records(conn, app)
        referrer = records.create("customers", {"name": "李雷", "code": "L1"})
        customer = records.create("customers", {"name": "韩梅梅", "code": "H2", "credit": "250",
                                                "referrer": referrer["id"]})
        tag = records.create("tags", {"name": "hot"})
        order = records.create("orders", {
            "title": "首单", "customer": customer["id"], "tags": [tag["id"]], "amount": "99.50",
            "items": [{"product": "A", "qty": 2}, {"product": "B", "qty": 3}]})

    def on_record(formula, form="orders", record_id=order["id"]):
        result = CliRunner().invoke(cli, ["--database-url", db_url, "eval", formula, "--app", "shop",
                                          "--form", form, "--record", str(record_id)],
                                    catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    assert on_record("amount * 2") == {"number": 199}
    assert on_record('customer.name & "/" & customer.referrer.name') == {"text": "韩梅梅/李雷"}
    assert on_record("customer.credit + SUM(items.qty)") == {"number": 255}
    assert on_record('JOIN(tags.name, ",")') == {"text": "hot"}
    assert on_record("customer_code") == {"text": "H2"}
    # No referrer: the path through the empty relation is empty, not an unknown field.
    assert on_record("referrer.name", "customers", referrer["id"]) == {"empty": True}


def test_eval_against_a_record_that_is_missing(db, db_url, capsys):
    install_shop(db)
    assert main(["--database-url", db_url, "eval", "amount", "--app", "shop", "--form", "orders",
                 "--record", "404"]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["--database-url", db_url, "eval", "amount", "--app", "shop"]) == 2
    assert "--app, --form and --record go together" in capsys.readouterr().err
