"""What the steps of a migration plan say: what a retype actually changes, a lookup that
is removed (it stores nothing, so nothing is archived), a settings change that recomputes
values, and one step per rule added, changed or removed."""
import copy

from engine.compiled.app import compiled
from engine.definition.model import AppDef
from engine.schema_change.plan import make_plan
from tests.support.records_app import DEFINITION, L


def form(doc, key):
    return next(f for f in doc["forms"] if f["key"] == key)


def fld(doc, form_key, key):
    return next(f for f in form(doc, form_key)["fields"] if f["key"] == key)


def base() -> dict:
    doc = copy.deepcopy(DEFINITION)
    form(doc, "orders")["fields"] += [
        {"key": "doubled", "type": "formula", "label": L("双倍"), "formula": "amount * 2", "precision": 2},
        {"key": "tripled", "type": "formula", "label": L("三倍"), "formula": "doubled * 1.5", "precision": 2},
    ]
    return doc


def plan(mutate):
    new = base()
    mutate(new)
    return make_plan(compiled(AppDef.from_dict(base())), compiled(AppDef.from_dict(new)))


def described(mutate):
    return [(step.kind, step.description) for step in plan(mutate).steps]


def test_a_relation_becoming_multiple_says_so_not_relation_to_relation():
    def multiple(doc):
        fld(doc, "orders", "customer").update(multiple=True, on_delete="set_null")
        form(doc, "orders")["fields"].remove(fld(doc, "orders", "customer_code"))   # lookups need single
    [retype, _] = plan(multiple).steps
    assert retype.description == (
        "change field orders.customer from a single relation to a multiple relation (to 'customers'); "
        "each record keeps its related record as the first of its list; the old column is archived")
    single = plan(lambda doc: fld(doc, "orders", "tags").update(multiple=False))
    assert single.steps[0].description.startswith(
        "change field orders.tags from a multiple relation to a single relation (to 'tags'); ")


def test_a_retype_within_a_type_names_the_options_that_change():
    [step] = plan(lambda doc: fld(doc, "customers", "credit").update(precision=0)).steps
    assert step.description == ("change field customers.credit (number): precision 2 -> 0; values are "
                                "converted, the originals archived")
    [column] = plan(lambda doc: fld(doc, "orders", "items")["fields"][1].update(precision=2)).steps
    assert column.description == ("change subform column orders.items.qty (number): precision 0 -> 2; values "
                                  "are converted, the originals archived")


def test_removing_a_lookup_removes_it_without_archiving_or_asking():
    [step] = plan(lambda doc: form(doc, "orders")["fields"].remove(fld(doc, "orders", "customer_code"))).steps
    assert (step.kind, step.description) == ("archive_field", "remove field orders.customer_code (stores nothing)")
    assert not step.needs_confirmation
    [stored] = plan(lambda doc: form(doc, "customers")["fields"].remove(fld(doc, "customers", "note"))).steps
    assert stored.description.startswith("archive field customers.note: its values are kept aside")
    assert stored.needs_confirmation


def test_a_settings_change_that_recomputes_says_what_it_recomputes():
    steps = described(lambda doc: fld(doc, "orders", "doubled").update(formula="amount * 3"))
    assert steps == [
        ("change_field", "update the settings of orders.doubled (no data changes except recomputing "
                         "orders.doubled, orders.tripled)"),
        ("recompute_field", "recompute orders.doubled for every record (in batches, with progress)"),
        ("recompute_field", "recompute orders.tripled for every record (in batches, with progress)")]
    # A label only: nothing recomputes, and the step says no data changes.
    assert described(lambda doc: fld(doc, "orders", "doubled").update(label=L("两倍"))) == [
        ("change_field", "update the settings of orders.doubled (no data changes)")]


def test_a_subform_formula_column_changed_says_what_it_recomputes():
    def with_line_total(doc):
        fld(doc, "orders", "items")["fields"].append(
            {"key": "line", "type": "formula", "label": L("小计"), "formula": "qty * 2", "precision": 2})
    old = base()
    with_line_total(old)
    new = copy.deepcopy(old)
    fld(new, "orders", "items")["fields"][2]["formula"] = "qty * 3"
    steps = make_plan(compiled(AppDef.from_dict(old)), compiled(AppDef.from_dict(new))).steps
    assert steps[0].description == ("update the settings of subform column orders.items.line (no data changes "
                                    "except recomputing orders.items.line)")


def test_rules_added_changed_and_removed_are_steps_of_their_own():
    def with_rules(doc, formula="amount > 0", message="金额必须大于零"):
        form(doc, "orders")["rules"] = [
            {"key": "positive", "formula": formula, "message": L(message), "fields": ["amount"]},
            {"key": "titled", "formula": "LEN(title) > 1", "message": L("标题太短")}]
    added = plan(with_rules).steps
    assert [(s.kind, s.description, s.needs_confirmation) for s in added] == [
        ("add_rule", "add rule orders.positive: amount > 0", False),
        ("add_rule", "add rule orders.titled: LEN(title) > 1", False)]
    assert added[0].data == {"rule": "positive", "formula": "amount > 0", "changed_reads": []}
    old = base()
    with_rules(old)
    new = copy.deepcopy(old)
    new_orders = form(new, "orders")
    new_orders["rules"][0].update(formula="amount >= 0")
    new_orders["rules"][1]["message"] = L("标题至少两个字")
    new_orders["rules"].append({"key": "scored", "formula": "score >= 0", "message": L("分数不能为负")})
    new_orders["fields"].append({"key": "score", "type": "number", "label": L("分数")})
    steps = make_plan(compiled(AppDef.from_dict(old)), compiled(AppDef.from_dict(new))).steps
    assert [(s.kind, s.description) for s in steps] == [
        ("add_field", "add field orders.score (number)"),
        ("change_rule", "change rule orders.positive to amount >= 0 (was amount > 0)"),
        ("change_rule", "update the message or fields of rule orders.titled (no data changes)"),
        ("add_rule", "add rule orders.scored: score >= 0")]
    assert steps[3].data["changed_reads"] == ["orders.score"]     # added by this plan: not counted before
    removed = make_plan(compiled(AppDef.from_dict(new)), compiled(AppDef.from_dict(base()))).steps
    assert [(s.kind, s.description) for s in removed if s.kind.endswith("rule")] == [
        ("remove_rule", "remove rule orders.positive (no data changes)"),
        ("remove_rule", "remove rule orders.titled (no data changes)"),
        ("remove_rule", "remove rule orders.scored (no data changes)")]
