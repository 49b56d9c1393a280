"""Definition checks of computed fields, default formulas, visibility conditions and
rules: each problem says what is wrong, where (line:column inside the formula) and
how to fix it."""
import json
import textwrap

import pytest
import yaml

from engine.compiled.app import compiled
from engine.validation.validate import check_text
from tests.support.computed_app import DEFINITION, computed_app

HEAD = """format_version: 1
app: {key: shop, label: {zh: 商店, en: Shop}}
forms:
"""

CONTRACTS = """  - key: customers
    label: {zh: 客户, en: Customers}
    fields:
      - {key: name, type: text, label: {zh: 名称, en: Name}}
      - {key: level, type: select, label: {zh: 等级, en: Level}, options: [vip, normal]}
  - key: contracts
    label: {zh: 合同, en: Contracts}
    fields:
      - {key: title, type: text, label: {zh: 标题, en: Title}}
      - {key: customer, type: relation, target: customers, label: {zh: 客户, en: Customer}}
      - {key: amount, type: number, label: {zh: 金额, en: Amount}}
      - {key: signed_on, type: date, label: {zh: 签订, en: Signed}}
"""


def problems_of(extra_fields: str = "", extra_forms: str = "", base: str = CONTRACTS):
    text = HEAD + base + textwrap.indent(textwrap.dedent(extra_fields), " " * 6) + extra_forms
    app, problems = check_text(text, "app.yaml")
    return text, problems


def at(text: str, problem) -> str:
    """The text from the problem's line:column on (to the end of that line)."""
    line = text.split("\n")[problem.line - 1]
    return line[problem.column - 1:]


def test_the_sample_app_is_valid():
    app = computed_app()
    types = {f.key: compiled(app).types.of(f) for f in app.require_form("contracts").fields}
    assert types["unpaid"].result == "number"                 # inferred: amount - paid
    assert types["customer_tier"].result == "text"


def test_unknown_field_points_into_the_formula():
    text, problems = problems_of("""\
        - key: unpaid
          type: formula
          label: {zh: 未付, en: Unpaid}
          formula: "amont * 2 + customer.levl"
        """)
    assert [p.code for p in problems] == ["unknown_field", "unknown_field"]
    assert problems[0].suggestion == "amount" and "did you mean 'amount'" in problems[0].message
    assert at(text, problems[0]).startswith("amont * 2")
    assert "of 'customer'" in problems[1].message and problems[1].suggestion == "level"
    assert at(text, problems[1]).startswith('levl"')


@pytest.mark.parametrize("style", ["plain", "single", "block"])
def test_positions_in_every_yaml_style(style):
    formula = {"plain": "formula: amount + nope", "single": "formula: 'amount + nope'",
               "block": "formula: |\n            amount +\n              nope"}[style]
    text, problems = problems_of(f"""\
        - key: x
          type: formula
          label: {{zh: x, en: x}}
          {formula}
        """)
    assert len(problems) == 1
    assert at(text, problems[0]).startswith("nope")


def test_positions_in_json():
    doc = yaml.safe_load(HEAD + CONTRACTS)
    doc["forms"][1]["fields"].append({"key": "x", "type": "formula", "label": {"zh": "x", "en": "x"},
                                      "formula": 'title & "a""b" & nope'})
    text = json.dumps(doc, ensure_ascii=False, indent=1)
    _, problems = check_text(text, "app.json")
    assert len(problems) == 1
    assert at(text, problems[0]).startswith("nope")


def test_syntax_errors_point_at_the_character():
    text, problems = problems_of("""\
        - {key: x, type: formula, label: {zh: x, en: x}, formula: 'IF(amount > 1, "a"'}
        """)
    assert problems[0].code == "formula_syntax"
    assert problems[0].path.endswith(".formula")


def test_result_type_must_fit():
    text, problems = problems_of("""\
        - {key: x, type: formula, label: {zh: x, en: x}, result: number, formula: 'title & "!"'}
        - {key: y, type: formula, label: {zh: y, en: y}, result: date, formula: 'signed_on + 30'}
        - {key: z, type: formula, label: {zh: z, en: z}, result: text, formula: 'amount * 2'}
        """)
    assert [p.message for p in problems] == [
        "a number field's formula gives a text: change `result: number` or the formula"]


def test_results_that_cannot_be_stored():
    text, problems = problems_of("""\
        - {key: x, type: formula, label: {zh: x, en: x}, formula: 'IF(amount > 1, 1, "many")'}
        - {key: y, type: formula, label: {zh: y, en: y}, formula: 'amount', unit: 元, format: '%Y'}
        """, extra_forms="""\
  - key: orders
    label: {zh: 订单, en: Orders}
    fields:
      - key: items
        type: subform
        label: {zh: 明细, en: Items}
        fields: [{key: price, type: number, label: {zh: 价, en: Price}}]
      - {key: prices, type: formula, label: {zh: 价, en: Prices}, formula: 'items.price'}
""")
    messages = [p.message for p in problems]
    assert any("cannot tell what this formula gives" in m and "add `result:`" in m for m in messages)
    assert any("format applies to dates" in m for m in messages)
    assert any("holds one value" in m and "SUM(...)" in m for m in messages)


def test_inferred_dates_make_date_columns():
    text, problems = problems_of("""\
        - {key: due, type: formula, label: {zh: 到期, en: Due}, formula: 'signed_on + 30'}
        """)
    assert problems == []
    app, _ = check_text(text)
    due = compiled(app).types.of(app.require_form("contracts").field("due"))
    assert due.result == "date" and type(due.value_type).__name__ == "DateField"


def test_cycles_are_named():
    text, problems = problems_of("""\
        - {key: paid, type: formula, label: {zh: 已付, en: Paid}, formula: 'amount - unpaid'}
        - {key: unpaid, type: formula, label: {zh: 未付, en: Unpaid}, formula: 'amount - paid'}
        """)
    assert [p.code for p in problems] == ["cycle"]
    assert problems[0].message.startswith("cycle: contracts.paid -> contracts.unpaid -> contracts.paid")


def test_cycle_through_a_relation_and_a_rollup():
    """customers.total adds up contracts.share, which reads customer.total."""
    text = HEAD + CONTRACTS.replace(
        "      - {key: level, type: select, label: {zh: 等级, en: Level}, options: [vip, normal]}\n",
        "      - {key: level, type: select, label: {zh: 等级, en: Level}, options: [vip, normal]}\n"
        "      - {key: total, type: rollup, label: {zh: t, en: t}, source: contracts, via: customer,"
        " aggregate: sum, field: share}\n").replace(
        "      - {key: signed_on, type: date, label: {zh: 签订, en: Signed}}\n",
        "      - {key: share, type: formula, label: {zh: s, en: s}, formula: 'amount / customer.total'}\n")
    _, problems = check_text(text)
    assert [p.code for p in problems] == ["cycle"]
    assert "customers.total -> contracts.share -> customers.total" in problems[0].message
    assert "contracts.share reads customers.total through customer.total" in problems[0].message


def test_rollup_mistakes():
    text, problems = problems_of("", extra_forms="""\
  - key: reports
    label: {zh: 报表, en: Reports}
    fields:
      - {key: a, type: rollup, label: {zh: a, en: a}, source: contrcts, via: customer, aggregate: count}
      - {key: b, type: rollup, label: {zh: b, en: b}, source: contracts, via: title, aggregate: count}
      - {key: c, type: rollup, label: {zh: c, en: c}, source: contracts, via: customer, aggregate: count}
""")
    assert [p.code for p in problems] == ["unknown_form", "bad_rollup", "bad_rollup"]
    assert problems[0].suggestion == "contracts"
    assert "contracts.title is a text field, not a relation" in problems[1].message
    assert "points at 'customers', not at this form 'reports'" in problems[2].message


def test_rollup_field_checks():
    text, problems = problems_of("", base=CONTRACTS.replace(
        "      - {key: level, type: select, label: {zh: 等级, en: Level}, options: [vip, normal]}\n",
        "      - {key: level, type: select, label: {zh: 等级, en: Level}, options: [vip, normal]}\n"
        "      - {key: a, type: rollup, label: {zh: a, en: a}, source: contracts, via: customer, aggregate: sum,"
        " field: title}\n"
        "      - {key: b, type: rollup, label: {zh: b, en: b}, source: contracts, via: customer, aggregate: sum}\n"
        "      - {key: c, type: rollup, label: {zh: c, en: c}, source: contracts, via: customer, aggregate: count,"
        " field: amount}\n"
        "      - {key: d, type: rollup, label: {zh: d, en: d}, source: contracts, via: customer, aggregate: max,"
        " field: amuont}\n"
        "      - {key: e, type: rollup, label: {zh: e, en: e}, source: contracts, via: customer, aggregate: count,"
        " filter: {field: stauts, op: eq, value: x}}\n"
        "      - {key: f, type: rollup, label: {zh: f, en: f}, source: contracts, via: customer, aggregate: max,"
        " field: signed_on}\n"))
    by_field = {p.path.split(".fields[")[1].split("]")[0]: p for p in problems}
    assert "sum adds up numbers, and contracts.title is a text field" in by_field["2"].message
    assert "sum needs the field" in by_field["3"].message
    assert "count counts the records; remove `field`" in by_field["4"].message
    assert by_field["5"].suggestion == "amount"
    assert "rollup filter" in by_field["6"].message and "stauts" in by_field["6"].message
    assert "6" in by_field and "7" not in by_field          # max of a date is fine
    app, _ = check_text(HEAD + CONTRACTS.replace(
        "      - {key: level, type: select, label: {zh: 等级, en: Level}, options: [vip, normal]}\n",
        "      - {key: level, type: select, label: {zh: 等级, en: Level}, options: [vip, normal]}\n"
        "      - {key: f, type: rollup, label: {zh: f, en: f}, source: contracts, via: customer, aggregate: max,"
        " field: signed_on}\n"))
    assert compiled(app).types.of(app.require_form("customers").field("f")).result == "date"


def test_default_formula_and_visibility_checks():
    text, problems = problems_of("""\
        - {key: a, type: date, label: {zh: a, en: a}, default_formula: 'TODAY() + 30'}
        - {key: b, type: text, label: {zh: b, en: b}, default_formula: 'customer.level'}
        - {key: c, type: number, label: {zh: c, en: c}, default: 1, default_formula: '2'}
        - {key: d, type: date, label: {zh: d, en: d}, default_formula: '"x" & title'}
        - {key: e, type: text, label: {zh: e, en: e}, visible_if: 'amount > 100'}
        - {key: f, type: text, label: {zh: f, en: f}, visible_if: 'title'}
        - {key: g, type: text, label: {zh: g, en: g}, visible_if: 'amout > 1'}
        - {key: h, type: formula, label: {zh: h, en: h}, formula: '1', default_formula: '2'}
        """)
    codes = [(p.path.split(".")[-1], p.code) for p in problems]
    assert codes == [("default_formula", "own_fields_only"), ("default_formula", "bad_default"),
                     ("default_formula", "result_type"), ("visible_if", "result_type"),
                     ("visible_if", "unknown_field"), ("default_formula", "bad_default")]
    assert at(text, problems[0]).startswith("customer.level")


def test_rule_checks():
    text, problems = problems_of("", base=CONTRACTS + """\
    rules:
      - {key: ok, formula: 'amount > 0', message: {zh: 金额须大于 0, en: Amount must be positive}}
      - {key: ok, formula: 'amount', message: {zh: x, en: x}, fields: [amout]}
      - {key: bad, formula: 'title & ""', message: {zh: x, en: x}}
      - {key: worse, formula: 'nope > 1', message: {zh: x, en: x}}
      - {key: no_message, formula: 'amount > 1'}
""")
    found = [(p.path.split("rules")[1], p.code) for p in problems]
    assert ("[1].key", "duplicate_key") in found
    assert ("[1].fields[0]", "unknown_field") in found
    assert ("[2].formula", "result_type") in found
    assert ("[3].formula", "unknown_field") in found
    assert any(code == "required" and path.startswith("[4]") for path, code in found)


def test_reserved_types_are_available():
    _, problems = check_text(DEFINITION)
    assert problems == []
