"""A plan that adds or changes a validation rule counts the stored records that break it,
with one query translating the rule to SQL, and the count is exactly the records whose
next edit the rule refuses (on SQLite and PostgreSQL). A rule that cannot run in the
database, or reads what the same upgrade changes, is said to be checked on the next write."""
import copy

import pytest

from engine.definition.model import AppDef
from engine.errors import RecordValidationError
from runtime.apps import apply_app, load_installed, plan_app
from runtime.change_preview import preview_lines
from runtime.records import Records
from tests.support.records_app import DEFINITION, L

AMOUNTS = ["5", "-1", None, "0", "120"]


def orders(doc):
    return next(f for f in doc["forms"] if f["key"] == "orders")


def with_rule(formula, key="checked", doc=None):
    doc = copy.deepcopy(doc or DEFINITION)
    orders(doc)["rules"] = [{"key": key, "formula": formula, "message": L("不符合规则", "Breaks the rule"),
                             "fields": ["amount"]}]
    return AppDef.from_dict(doc)


@pytest.fixture
def shop(db):
    app = AppDef.from_dict(copy.deepcopy(DEFINITION))
    apply_app(db, app)
    with db.begin() as conn:
        r = Records(conn, app)
        rich, poor = [c["id"] for c in r.bulk_create("customers", [{"name": "富", "credit": 1000},
                                                                   {"name": "穷", "credit": 1}])]
        made = r.bulk_create("orders", [{"title": f"O{i}", "amount": a, "customer": rich if i % 2 else poor}
                                        for i, a in enumerate(AMOUNTS)])
        gone = r.create("orders", {"title": "in the bin", "amount": "-7"})
        r.delete("orders", gone["id"])
    return db, [m["id"] for m in made]


def refused_on_edit(db, ids):
    """The records whose next edit (of their title only) the installed rules refuse."""
    refused = []
    with db.connect() as conn:
        app = load_installed(conn, "shop")
    for rid in ids:
        try:
            with db.begin() as conn:
                Records(conn, app).update("orders", rid, {"title": f"edited {rid}"})
        except RecordValidationError:
            refused.append(rid)
    return refused


@pytest.mark.parametrize("formula, broken", [
    ("amount > 0", 3),                 # -1, 0 and the empty one (empty > 0 is FALSE)
    ("amount", 1),                     # 0 is FALSE; an empty result passes
    ("10 / amount > 1", 2),            # -1, 120; an error (10 / 0, 10 / empty) passes
    ("customer.credit >= amount", 2),  # through the relation: 5 and 120 are over 穷's credit of 1
])
def test_the_count_is_the_records_refused_on_their_next_edit(shop, formula, broken):
    db, ids = shop
    new = with_rule(formula)
    report = plan_app(db, new)
    [step] = report.plan.steps
    assert (step.kind, step.description) == ("add_rule", f"add rule orders.checked: {formula}")
    preview = report.previews[0]
    assert preview == {"kind": "rule", "records": len(AMOUNTS), "broken": broken}
    assert preview_lines(preview) == [
        f"{broken} of {len(AMOUNTS)} record(s) break it; they are kept as they are, and each is refused on its "
        "next edit until it is fixed"]
    apply_app(db, new)
    assert len(refused_on_edit(db, ids)) == broken


def test_a_changed_rule_is_counted_again_and_none_broken_is_said(shop):
    db, _ = shop
    apply_app(db, with_rule("amount > 0"))
    report = plan_app(db, with_rule("amount < 100"))
    [step] = report.plan.steps
    assert step.description == "change rule orders.checked to amount < 100 (was amount > 0)"
    assert report.previews[0]["broken"] == 1          # 120
    report = plan_app(db, with_rule("OR(ISBLANK(amount), amount > -100)"))
    assert preview_lines(report.previews[0]) == [f"none of the {len(AMOUNTS)} record(s) breaks it"]


def test_a_rule_that_cannot_run_in_the_database_is_checked_on_the_next_write(shop):
    db, _ = shop
    report = plan_app(db, with_rule('SUMIF(items.qty, ">1") < 5'))
    preview = report.previews[0]
    assert preview["records"] is None
    [line] = preview_lines(preview)
    assert line.startswith("the records that break it cannot be counted now: it uses SUMIF, which runs only "
                           "outside the database")
    assert line.endswith("every record is kept, and each is checked on its next write (refused until it is fixed)")


def test_a_rule_reading_a_field_the_upgrade_adds_is_not_counted_on_old_values(shop):
    db, _ = shop
    doc = copy.deepcopy(DEFINITION)
    orders(doc)["fields"].append({"key": "score", "type": "number", "label": L("分数")})
    report = plan_app(db, with_rule("score >= 0", doc=doc))
    assert [s.kind for s in report.plan.steps] == ["add_field", "add_rule"]
    assert preview_lines(report.previews[1]) == [
        "the records that break it cannot be counted now: it reads orders.score, which this upgrade adds or "
        "changes; every record is kept, and each is checked on its next write (refused until it is fixed)"]
