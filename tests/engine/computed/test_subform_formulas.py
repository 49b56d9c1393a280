"""Formula columns of subforms (row formulas), on SQLite and PostgreSQL: each row computes
its own value from its columns when the record is written, the form's formulas add them
up in the same write, errors stay in their row, users cannot set them, the statements
do not grow with the rows, definitions are checked with positions, and migrations
recompute stored rows."""
import copy
import textwrap
from decimal import Decimal

import pytest
import sqlalchemy as sa
import yaml

from engine.compiled.app import compiled
from engine.definition.model import AppDef
from engine.errors import FormworkError, RecordValidationError
from engine.formula import ErrorValue
from engine.validation.validate import check_text
from runtime.apps import apply_app, plan_app
from runtime.records import BulkValidationError, Records

DEFINITION = """\
format_version: 1
app: {key: shop, label: {zh: 商店, en: Shop}}
forms:
  - key: orders
    label: {zh: 订单, en: Orders}
    fields:
      - {key: title, type: text, label: {zh: 标题, en: Title}}
      - key: items
        type: subform
        label: {zh: 明细, en: Items}
        fields:
          - {key: product, type: text, label: {zh: 产品, en: Product}}
          - {key: quantity, type: number, label: {zh: 数量, en: Quantity}, precision: 0}
          - {key: unit_price, type: number, label: {zh: 单价, en: Unit price}, precision: 2}
          - {key: discount, type: number, label: {zh: 折扣, en: Discount}, precision: 2}
          - key: line_total
            type: formula
            label: {zh: 小计, en: Line total}
            formula: ROUND(quantity * unit_price * (1 - discount), 2)
            precision: 2
          - {key: per_unit, type: formula, label: {zh: 单位成本, en: Per unit}, formula: line_total / quantity,
             precision: 4}
          - {key: caption, type: formula, label: {zh: 说明, en: Caption},
             formula: 'UPPER(LEFT(product, 3)) & "×" & quantity & "件"'}
      - {key: total, type: formula, label: {zh: 合计, en: Total}, formula: SUM(items.line_total), precision: 2}
      - {key: lines, type: formula, label: {zh: 行数, en: Lines}, formula: COUNT(items.line_total)}
      - {key: worst_unit, type: formula, label: {zh: 最高单位成本, en: Worst unit},
         formula: 'IFERROR(MAX(items.per_unit), -1)', precision: 4}
"""


def load(text: str = DEFINITION) -> AppDef:
    app, problems = check_text(text, "app.yaml")
    assert problems == [], problems
    return app


@pytest.fixture
def shop(db):
    app = load()
    apply_app(db, app)
    return db, app


def line(product="笔", quantity=1, unit_price="1", discount=None) -> dict:
    row = {"product": product, "quantity": quantity, "unit_price": unit_price}
    if discount is not None:
        row["discount"] = discount
    return row


def stored_rows(conn, app, record_id) -> list[dict]:
    child = compiled(app).tables.child_table("orders", "items")
    query = sa.select(child).where(child.c.parent_id == record_id).order_by(child.c.position)
    return [dict(row) for row in conn.execute(query).mappings()]


def test_rows_compute_their_own_values_and_the_form_adds_them_up(shop):
    db, app = shop
    with db.begin() as conn:
        r = Records(conn, app)
        order = r.create("orders", {"title": "一号", "items": [line("钢笔pen", 3, "2.50", "0.1"),
                                                                line("notebook", 2, "10")]})
        items = order["fields"]["items"]
        assert [i["line_total"] for i in items] == [Decimal("6.75"), Decimal("20.00")]
        assert [i["per_unit"] for i in items] == [Decimal("2.2500"), Decimal("10.0000")]
        assert [i["caption"] for i in items] == ["钢笔P×3件", "NOT×2件"]     # unicode text formulas
        fields = order["fields"]
        assert (fields["total"], fields["lines"], fields["worst_unit"]) == \
            (Decimal("26.75"), Decimal(2), Decimal("10.0000"))
        # Stored in the child table's typed columns, read back the same.
        stored = stored_rows(conn, app, order["id"])
        assert [s["line_total"] for s in stored] == [Decimal("6.75"), Decimal("20.00")]
        assert [s["line_total__error"] for s in stored] == [None, None]
        assert r.get("orders", order["id"])["fields"]["items"] == items


def test_an_error_stays_in_its_row(shop):
    db, app = shop
    with db.begin() as conn:
        r = Records(conn, app)
        order = r.create("orders", {"title": "零", "items": [line("a", 0, "5"), line("b", 4, "2")]})
        items = order["fields"]["items"]
        assert items[0]["per_unit"] == ErrorValue("#DIV/0!") and items[1]["per_unit"] == Decimal("2.0000")
        assert [i["line_total"] for i in items] == [Decimal("0.00"), Decimal("8.00")]
        # Stored as a formula field stores errors: empty value, the code beside it.
        first = stored_rows(conn, app, order["id"])[0]
        assert (first["per_unit"], first["per_unit__error"]) == (None, "#DIV/0!")
        # The form's formula reading the column gets the error (and IFERROR catches it).
        assert order["fields"]["worst_unit"] == Decimal("-1.0000")
        fetched = r.list("orders").records[0]["fields"]["items"][0]["per_unit"]
        assert fetched == ErrorValue("#DIV/0!")


def test_updates_recompute_the_rows_and_the_total(shop):
    db, app = shop
    with db.begin() as conn:
        r = Records(conn, app)
        order = r.create("orders", {"title": "改", "items": [line("a", 1, "100")]})
        changed = r.update("orders", order["id"], {"items": [line("a", 2, "100", "0.25"), line("b", 1, "1")]},
                           expected_version=order["version"])
        assert [i["line_total"] for i in changed["fields"]["items"]] == [Decimal("150.00"), Decimal("1.00")]
        assert changed["fields"]["total"] == Decimal("151.00")
        # Changing another field leaves the rows (and their values) as they are.
        again = r.update("orders", order["id"], {"title": "改2"})
        assert again["fields"]["items"] == changed["fields"]["items"]
        assert again["fields"]["total"] == Decimal("151.00")
        history = r.history("orders", order["id"])
        assert history[-2]["changes"]["total"] == {"from": "100.00", "to": "151.00"}


def test_bulk_create_and_an_empty_subform(shop):
    db, app = shop
    with db.begin() as conn:
        r = Records(conn, app)
        created = r.bulk_create("orders", [{"title": f"批{i}", "items": [line("x", i + 1, "3")] * (i % 3)}
                                           for i in range(9)])
        totals = [c["fields"]["total"] for c in created]
        assert totals == [Decimal(3 * (i + 1) * (i % 3)) for i in range(9)]
        empty = created[0]["fields"]
        assert empty["items"] == [] and empty["total"] == Decimal(0) and empty["lines"] == Decimal(0)


def test_bulk_update_recomputes_each_record_s_rows(shop):
    db, app = shop
    with db.begin() as conn:
        r = Records(conn, app)
        a, b, c = r.bulk_create("orders", [{"title": t, "items": [line("x", 1, "1")]} for t in "abc"])
        updated = r.bulk_update("orders", [
            {"id": a["id"], "changes": {"items": [line("x", 2, "5"), line("y", 1, "0.5")]}},
            {"id": b["id"], "changes": {"items": []}},
            {"id": c["id"], "changes": {"title": "c2"}}])
        assert [u["fields"]["total"] for u in updated] == [Decimal("10.50"), Decimal(0), Decimal("1.00")]
        assert [i["line_total"] for i in updated[0]["fields"]["items"]] == [Decimal("10.00"), Decimal("0.50")]
        assert updated[2]["fields"]["items"] == c["fields"]["items"]


def test_rules_judge_the_rows_computed_values(db):
    doc = yaml.safe_load(DEFINITION)
    doc["forms"][0]["rules"] = [{"key": "line_cap", "formula": "MAX(items.line_total) <= 1000", "fields": ["items"],
                                 "message": {"zh": "单行金额不能超过 1000", "en": "No line may exceed 1000"}}]
    app = AppDef.from_dict(doc)
    apply_app(db, app)
    with db.begin() as conn:
        r = Records(conn, app)
        assert r.create("orders", {"items": [line("a", 10, "100")]})["fields"]["total"] == Decimal("1000.00")
        with pytest.raises(RecordValidationError) as refused:
            r.create("orders", {"items": [line("a", 1, "5"), line("b", 11, "100")]})
    assert [(i.field, i.code) for i in refused.value.issues] == [("items", "rule_failed")]
    assert refused.value.issues[0].as_dict("en")["message"] == "No line may exceed 1000"


def test_users_cannot_set_a_computed_column(shop):
    db, app = shop
    with db.begin() as conn:
        r = Records(conn, app)
        with pytest.raises(BulkValidationError) as raised:
            r.bulk_create("orders", [{"items": [line("a")]},
                                     {"items": [line("a"), {**line("b"), "line_total": "99"}]}])
    issues = raised.value.by_index[1]
    assert [(i.field, i.row, i.subfield, i.code) for i in issues] == \
        [("items", 1, "line_total", "subform_computed_read_only")]
    assert issues[0].as_dict("en")["message"] == \
        "Column 'line_total' of row 2 is computed by its formula; leave it out of the row"
    assert "第 2 行的“line_total”由公式自动计算" in issues[0].as_dict("zh")["message"]
    assert 0 not in raised.value.by_index


def test_five_hundred_rows_in_one_record(shop):
    db, app = shop
    rows = [line(f"产品{i}", i % 7, f"{i}.25") for i in range(500)]
    with db.begin() as conn:
        r = Records(conn, app)
        order = r.create("orders", {"title": "大", "items": rows})
        items = r.get("orders", order["id"])["fields"]["items"]
    expected = [(Decimal(i % 7) * Decimal(f"{i}.25")).quantize(Decimal("0.01")) for i in range(500)]
    assert [i["line_total"] for i in items] == expected
    assert order["fields"]["total"] == sum(expected)
    assert sum(1 for i in items if type(i["per_unit"]) is ErrorValue) == len(range(0, 500, 7))


def test_statements_do_not_grow_with_the_rows(shop, count_statements):
    db, app = shop
    counts = {}
    for size in (5, 50):
        with db.begin() as conn:
            r = Records(conn, app)
            r.create("orders", {"title": "热身", "items": [line()]})
            with count_statements(db) as counter:
                r.create("orders", {"title": str(size), "items": [line("x", i, "2") for i in range(size)]})
                r.update("orders", r.list("orders", page_size=1, sort=[{"field": "id", "desc": True}])
                         .records[0]["id"], {"items": [line("y", i, "3") for i in range(size)]})
            counts[size] = counter.count
    assert counts[5] == counts[50]


# ---- definitions ----------------------------------------------------------------------------

def problems_in(columns: str, form_fields: str = "") -> tuple[str, list]:
    text = DEFINITION.split("          - key: line_total")[0] + textwrap.indent(textwrap.dedent(columns), " " * 10) \
        + form_fields
    _, problems = check_text(text, "app.yaml")
    return text, problems


def at(text: str, problem) -> str:
    return text.split("\n")[problem.line - 1][problem.column - 1:]


def test_unknown_columns_are_named_at_their_position_with_the_row_s_columns():
    text, problems = problems_in("""\
        - {key: line_total, type: formula, label: {zh: 小计, en: Total}, formula: 'quantty * unit_price + title'}
        """)
    assert [p.code for p in problems] == ["row_fields_only", "row_fields_only"]
    first, second = problems
    assert first.path == "forms[0].fields[1].fields[4].formula"
    assert at(text, first).startswith("quantty * unit_price")
    assert first.suggestion == "quantity"
    assert "a subform column's formula can read the columns of its row: product, quantity, unit_price, " \
           "discount" in first.message
    assert at(text, second).startswith("title'")
    assert "'title' is a field of form 'orders', not a column of subform 'items' at 1:" in second.message


def test_paths_through_the_subform_or_relations_are_refused():
    text, problems = problems_in("""\
        - {key: line_total, type: formula, label: {zh: 小计, en: Total}, formula: 'SUM(items.quantity)'}
        """)
    assert len(problems) == 1 and "'items.quantity' reads through 'items'" in problems[0].message
    assert at(text, problems[0]).startswith("items.quantity")


def test_clock_functions_are_refused_at_the_call():
    text, problems = problems_in("""\
        - {key: stamp, type: formula, label: {zh: 时, en: At}, formula: 'product & TEXT(TODAY(), "yyyy")'}
        """)
    assert [p.code for p in problems] == ["volatile_row_formula"]
    assert at(text, problems[0]).startswith("TODAY()")
    assert "TODAY() at 1:16 changes with the clock" in problems[0].message


def test_the_signed_in_user_and_arrays_are_refused():
    text, problems = problems_in("""\
        - {key: who, type: formula, label: {zh: 谁, en: Who}, formula: 'IF(quantity > 1, CURRENTUSER(), 0)'}
        - {key: many, type: formula, label: {zh: 多, en: Many}, formula: '{1, 2}'}
        """)
    assert [p.code for p in problems] == ["user_in_stored", "result_type"]
    assert at(text, problems[0]).startswith("CURRENTUSER()")
    assert "CURRENTUSER() at 1:18 gives the user who is looking" in problems[0].message
    assert "holds one value" in problems[1].message and "SUM(...)" in problems[1].message


def test_cycles_among_columns_are_named():
    _, problems = problems_in("""\
        - {key: a, type: formula, label: {zh: a, en: a}, formula: 'b + quantity'}
        - {key: b, type: formula, label: {zh: b, en: b}, formula: 'c * 2'}
        - {key: c, type: formula, label: {zh: c, en: c}, formula: 'a - 1'}
        - {key: d, type: formula, label: {zh: d, en: d}, formula: 'd + 1'}
        """)
    assert [p.code for p in problems] == ["cycle", "cycle"]
    assert "cycle: items.a -> items.b -> items.c -> items.a" in problems[0].message
    assert "cycle: items.d -> items.d" in problems[1].message


def test_syntax_errors_point_at_the_character():
    text, problems = problems_in("""\
        - {key: x, type: formula, label: {zh: x, en: x}, formula: 'ROUND(quantity * 2'}
        """)
    assert [p.code for p in problems] == ["formula_syntax"] and at(text, problems[0]).startswith("(quantity")


def test_type_errors_results_and_rollups():
    text, problems = problems_in("""\
        - {key: x, type: formula, label: {zh: x, en: x}, formula: 'quantity + DATE(2020, 1, 1) * 2'}
        - {key: y, type: formula, label: {zh: y, en: y}, formula: 'product & "!"', result: number}
        - {key: z, type: formula, label: {zh: z, en: z}, formula: 'IF(quantity > 1, 1, "many")'}
        - {key: r, type: rollup, label: {zh: r, en: r}, source: orders, via: x, aggregate: count}
        """)
    messages = [p.message for p in problems]
    assert any(p.code == "operand_type" and at(text, p).startswith("* 2") for p in problems), messages
    assert "a number column's formula gives a text: change `result: number` or the formula" in messages
    assert any("cannot tell what this formula gives" in m for m in messages)
    assert any("a rollup field cannot be a column of a subform" in m for m in messages)


def test_inferred_types_make_typed_child_columns():
    app = load()
    child = compiled(app).tables.child_table("orders", "items")
    assert type(child.c.line_total.type) is type(child.c.unit_price.type)     # a number column
    assert isinstance(child.c.caption.type, sa.String)
    assert "per_unit__error" in child.c
    assert compiled(app).types.of(app.require_form("orders").field("total")).result == "number"


# ---- migrations -------------------------------------------------------------------------------

def test_adding_and_changing_a_row_formula_recomputes_stored_rows(db):
    doc = yaml.safe_load(DEFINITION)
    plain = copy.deepcopy(doc)
    orders = plain["forms"][0]
    orders["fields"] = [f for f in orders["fields"] if f["key"] in ("title", "items")]
    orders["fields"][1]["fields"] = orders["fields"][1]["fields"][:4]      # no formula column yet
    plain["forms"][0]["fields"].append({"key": "total", "type": "formula", "label": {"zh": "合计", "en": "Total"},
                                        "formula": "SUM(items.quantity)", "precision": 2})
    apply_app(db, AppDef.from_dict(plain))
    with db.begin() as conn:
        r = Records(conn, AppDef.from_dict(plain))
        r.bulk_create("orders", [{"title": str(i), "items": [line("a", i, "2"), line("b", 1, "3")]}
                                 for i in range(7)])
    full = AppDef.from_dict(doc)
    steps = [(s.kind, s.field, s.description) for s in plan_app(db, full).plan.steps]
    recomputes = [s for s in steps if s[0].startswith("recompute")]
    assert recomputes[0] == ("recompute_subform", "items", "recompute orders.items.line_total, "
                             "orders.items.per_unit, orders.items.caption for 14 subform rows")
    assert ("recompute_field", "total", "recompute orders.total for 7 records") in recomputes[1:]
    progress = []
    result = apply_app(db, full, batch=4, progress=lambda what, done, total: progress.append((what, done, total)))
    by_step = {r["step"]: r for r in result["results"]}
    assert by_step["recompute_subform"]["changed"] == {"line_total": 14, "per_unit": 14, "caption": 14}
    assert ("recompute orders.items", 14, 14) in progress and ("recompute orders.items", 4, 14) in progress
    with db.connect() as conn:
        records = {rec["fields"]["title"]: rec["fields"] for rec in Records(conn, full).list("orders").records}
    assert records["3"]["items"][0]["line_total"] == Decimal("6.00") and records["3"]["total"] == Decimal("9.00")
    assert records["0"]["items"][0]["per_unit"] == ErrorValue("#DIV/0!")

    # Changing the formula recomputes that column, the columns reading it, and the total.
    doc["forms"][0]["fields"][1]["fields"][4]["formula"] = "ROUND(quantity * unit_price * 2, 2)"
    changed = AppDef.from_dict(doc)
    kinds = [(s.kind, s.field, s.data.get("columns")) for s in plan_app(db, changed).plan.steps]
    assert ("recompute_subform", "items", ["line_total", "per_unit"]) in kinds
    assert ("recompute_field", "total", None) in kinds
    apply_app(db, changed)
    with db.connect() as conn:
        records = {rec["fields"]["title"]: rec["fields"] for rec in Records(conn, changed).list("orders").records}
    assert records["3"]["items"][0]["line_total"] == Decimal("12.00") and records["3"]["total"] == Decimal("18.00")
    assert records["3"]["items"][1]["per_unit"] == Decimal("6.0000")
    # A relabelled column changes no value: nothing to recompute.
    doc["forms"][0]["fields"][1]["fields"][4]["label"] = {"zh": "行合计", "en": "Line"}
    assert not [s for s in plan_app(db, AppDef.from_dict(doc)).plan.steps if s.kind.startswith("recompute")]


def test_retyping_a_column_a_row_formula_reads_recomputes_the_rows(db):
    app = load()
    apply_app(db, app)
    with db.begin() as conn:
        Records(conn, app).create("orders", {"title": "t", "items": [line("abc", 2, "3")]})
    new = load(DEFINITION.replace("{key: quantity, type: number, label: {zh: 数量, en: Quantity}, precision: 0}",
                                  "{key: quantity, type: text, label: {zh: 数量, en: Quantity}}"))
    kinds = [(s.kind, s.field) for s in plan_app(db, new).plan.steps]
    assert kinds.index(("retype_subfield", "items")) < kinds.index(("recompute_subform", "items")) \
        < kinds.index(("recompute_field", "total"))
    apply_app(db, new)
    with db.connect() as conn:
        fields = Records(conn, new).list("orders").records[0]["fields"]
    assert fields["items"][0]["quantity"] == "2" and fields["items"][0]["line_total"] == Decimal("6.00")
    assert fields["total"] == Decimal("6.00")


def test_formwork_recompute_repairs_rows_changed_around_the_engine(shop):
    from runtime.recompute import recompute_app
    db, app = shop
    with db.begin() as conn:
        order = Records(conn, app).create("orders", {"title": "修", "items": [line("a", 2, "5"), line("b", 1, "1")]})
        child = compiled(app).tables.child_table("orders", "items")
        conn.execute(child.update().where(child.c.parent_id == order["id"], child.c.position == 0)
                     .values(quantity=3))              # written around the engine: line_total is stale
    result = recompute_app(db, "shop", ["orders.items.line_total"])
    assert result["fields"] == ["orders.items.line_total", "orders.items.per_unit", "orders.total",
                                "orders.lines", "orders.worst_unit"]
    assert result["changed"]["orders.items.line_total"] == 1 and result["changed"]["orders.total"] == 1
    with db.connect() as conn:
        fields = Records(conn, app).get("orders", order["id"])["fields"]
    assert fields["items"][0]["line_total"] == Decimal("15.00") and fields["total"] == Decimal("16.00")
    everything = recompute_app(db, "shop")          # all computed fields: the rows' columns first
    assert everything["fields"][:3] == ["orders.items.line_total", "orders.items.per_unit", "orders.items.caption"]
    # caption reads quantity, not line_total: only the full run sees it stale.
    assert {k: v for k, v in everything["changed"].items() if v} == {"orders.items.caption": 1}
    with pytest.raises(FormworkError) as unknown:
        recompute_app(db, "shop", ["orders.items.quantity"])
    assert "orders.items.quantity is not a computed field of 'shop'" in str(unknown.value)
    assert "orders.items.line_total" in str(unknown.value)


# ---- export and import ----------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_exported_with_their_values_and_computed_again_on_import(shop, tmp_path, fmt):
    from runtime.import_export import export_records, import_file
    db, app = shop
    with db.begin() as conn:
        Records(conn, app).create("orders", {"title": "导出", "items": [line("甲", 2, "3.50"), line("乙", 0, "1")]})
    out = tmp_path / f"orders.{fmt}"
    assert export_records(db, "shop", "orders", out) == 1
    if fmt == "xlsx":
        from openpyxl import load_workbook
        sheet = load_workbook(out)["明细"]
        header = [c.value for c in sheet[1]]
        rows = [dict(zip(header, (c.value for c in row))) for row in sheet.iter_rows(min_row=2)]
        assert [(r["小计"], r["单位成本"]) for r in rows] == [(7, 3.5), (0, "#DIV/0!")]
    else:
        text = out.read_text(encoding="utf-8-sig")
        assert "明细.小计" in text.splitlines()[0] and "#DIV/0!" in text
    report = import_file(db, "shop", "orders", out)
    assert report.ok and report.rows_imported == 1, report.problems[:3]
    assert any("小计" in note and "is computed by the app and is not imported" in note for note in report.notes)
    with db.connect() as conn:
        imported = [r["fields"] for r in Records(conn, app).list("orders").records if r["fields"]["title"] == "导出"]
    assert len(imported) == 2
    rows = [[{k: v for k, v in row.items() if k != "id"} for row in record["items"]] for record in imported]
    assert rows[0] == rows[1] and imported[1]["total"] == Decimal("7.00")
    assert rows[1][1]["per_unit"] == ErrorValue("#DIV/0!")
