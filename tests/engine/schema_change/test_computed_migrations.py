"""Computed fields and migrations, on populated tables of SQLite and PostgreSQL:
adding or changing a formula or rollup recomputes it (and what reads it) in batches;
`formwork recompute` refreshes the fields that read the date."""
import copy
from datetime import datetime, timezone
from decimal import Decimal

import sqlalchemy as sa
import yaml
from click.testing import CliRunner

from engine.compiled.app import compiled
from engine.definition.model import AppDef
from runtime.apps import apply_app, plan_app
from runtime.recompute import recompute_app
from runtime.records import Records
from tests.support.computed_app import DEFINITION

NOW = datetime(2025, 9, 15, 2, 30, tzinfo=timezone.utc)


def full_doc() -> dict:
    return yaml.safe_load(DEFINITION)


def plain_doc() -> dict:
    """The sample app without any computed field, rule or default formula."""
    doc = full_doc()
    for form in doc["forms"]:
        form["fields"] = [f for f in form["fields"] if f["type"] not in ("formula", "rollup")]
        for fdef in form["fields"]:
            fdef.pop("default_formula", None)
        form.pop("rules", None)
    return doc


def populate(engine, app, contracts=30):
    with engine.begin() as conn:
        r = Records(conn, app, now=NOW)
        customers = [c["id"] for c in r.bulk_create("customers", [
            {"name": f"客户{i}", "level": "vip" if i % 3 == 0 else "normal"} for i in range(7)])]
        ids = [c["id"] for c in r.bulk_create("contracts", [
            {"title": f"K{i}", "customer": customers[i % 7], "amount": 1000 + i,
             "items": [{"qty": 1 + i % 3, "price": "9.90"}]} for i in range(contracts)])]
        r.bulk_create("payments", [{"contract": ids[i % contracts], "customer": customers[i % 7], "amount": 10 + i,
                                    "paid_on": "2025-09-01"} for i in range(3 * contracts)])
    return customers, ids


def expected_paid(contract_index, contracts=30):
    return sum(Decimal(10 + i) for i in range(3 * contracts) if i % contracts == contract_index)


def test_adding_computed_fields_recomputes_populated_tables(db):
    plain = AppDef.from_dict(plain_doc())
    apply_app(db, plain)
    customers, contracts = populate(db, plain)
    full = AppDef.from_dict(full_doc())
    report = plan_app(db, full)
    recomputes = [s for s in report.plan.steps if s.kind == "recompute_field"]
    described = {s.field: s.description for s in recomputes}
    assert described["unpaid"] == "recompute contracts.unpaid for 30 records"
    assert described["ltv"] == "recompute customers.ltv for 7 records"
    order = [f"{s.form}.{s.field}" for s in recomputes]
    assert order.index("contracts.paid") < order.index("contracts.unpaid") < order.index("customers.unpaid_total")
    progress = []
    result = apply_app(db, full, batch=8, progress=lambda what, done, total: progress.append((what, done, total)))
    assert ("recompute contracts.unpaid", 8, 30) in progress and ("recompute contracts.unpaid", 30, 30) in progress
    assert {r["field"]: r["changed"] for r in result["results"] if r["step"] == "recompute_field"}["unpaid"] == 30
    with db.connect() as conn:
        r = Records(conn, full)
        first = r.get("contracts", contracts[0])["fields"]
        assert first["paid"] == expected_paid(0)
        assert first["unpaid"] == Decimal(1000) - expected_paid(0)
        assert first["items_total"] == Decimal("9.90")
        customer = r.get("customers", customers[0])["fields"]
        mine = [i for i in range(30) if i % 7 == 0]
        assert customer["contract_count"] == len(mine)
        assert customer["unpaid_total"] == sum(Decimal(1000 + i) - expected_paid(i) for i in mine)
        assert customer["tier"] == "silver-vip"
    # Applying the same definition again changes nothing.
    assert apply_app(db, full)["changed"] is False


def test_changing_a_formula_recomputes_it_and_its_readers(db):
    full = AppDef.from_dict(full_doc())
    apply_app(db, full)
    customers, contracts = populate(db, full)
    doc = full_doc()
    contracts_form = next(f for f in doc["forms"] if f["key"] == "contracts")
    unpaid = next(f for f in contracts_form["fields"] if f["key"] == "unpaid")
    unpaid["formula"] = "MAX(amount - paid, 0) + 1"
    changed = AppDef.from_dict(doc)
    steps = [(s.kind, f"{s.form}.{s.field}") for s in plan_app(db, changed).plan.steps]
    assert ("recompute_field", "contracts.unpaid") in steps
    assert ("recompute_field", "customers.unpaid_total") in steps       # reads contracts.unpaid
    assert ("recompute_field", "contracts.paid") not in steps
    apply_app(db, changed)
    with db.connect() as conn:
        r = Records(conn, changed)
        assert r.get("contracts", contracts[1])["fields"]["unpaid"] == Decimal(1001) - expected_paid(1) + 1
    # A label change recomputes nothing.
    unpaid["label"] = {"zh": "待回款", "en": "Outstanding"}
    relabelled = AppDef.from_dict(doc)
    assert not [s for s in plan_app(db, relabelled).plan.steps if s.kind == "recompute_field"]


def test_changing_a_rollup_filter(db):
    full = AppDef.from_dict(full_doc())
    apply_app(db, full)
    customers, contracts = populate(db, full)
    doc = full_doc()
    form = next(f for f in doc["forms"] if f["key"] == "contracts")
    paid = next(f for f in form["fields"] if f["key"] == "paid")
    paid["filter"] = {"field": "amount", "op": "gte", "value": 50}
    apply_app(db, AppDef.from_dict(doc))
    with db.connect() as conn:
        r = Records(conn, AppDef.from_dict(doc))
        wanted = sum(Decimal(10 + i) for i in range(90) if i % 30 == 0 and 10 + i >= 50)
        assert r.get("contracts", contracts[0])["fields"]["paid"] == wanted


def test_recompute_refreshes_date_dependent_fields(db, tmp_path):
    doc = full_doc()
    form = next(f for f in doc["forms"] if f["key"] == "contracts")
    form["fields"].append({"key": "age", "type": "formula", "label": {"zh": "天数", "en": "Age"},
                           "formula": "DAYS(TODAY(), starts_on)"})
    form["fields"].append({"key": "old", "type": "formula", "label": {"zh": "老合同", "en": "Old"},
                           "formula": "age > 30"})
    app = AppDef.from_dict(doc)
    apply_app(db, app)
    with db.begin() as conn:
        contract = Records(conn, app, now=NOW).create("contracts", {"title": "K", "starts_on": "2025-09-01"})
    assert contract["fields"]["age"] == Decimal(14) and contract["fields"]["old"] is False
    later = datetime(2025, 10, 20, 1, 0, tzinfo=timezone.utc)
    result = recompute_app(db, "sales", volatile=True, now=later)
    assert result["fields"] == ["contracts.age", "contracts.old"]
    assert result["changed"] == {"contracts.age": 1, "contracts.old": 1}
    with db.connect() as conn:
        fields = Records(conn, app, now=later).get("contracts", contract["id"])["fields"]
        # reads compute `age` live (docs/formula-fields.md); the stored columns, which `old`
        # and anything else reading `age` use, are what the recompute refreshed
        table = compiled(app).tables.form_table("contracts")
        stored = conn.execute(sa.select(table.c.age, table.c.old).where(table.c.id == contract["id"])).one()
    assert (fields["age"], fields["old"]) == (Decimal(49), True)
    assert (Decimal(stored.age), bool(stored.old)) == (Decimal(49), True)


def test_recompute_command(db_url, tmp_path):
    from engine.storage.db import make_engine
    from engine.storage.system_upgrade import upgrade_system
    from web.cli import cli
    engine = make_engine(db_url)
    upgrade_system(engine)
    app = AppDef.from_dict(full_doc())
    apply_app(engine, app)
    populate(engine, app, contracts=5)
    with engine.begin() as conn:      # damage a stored value behind the engine's back
        table = Records(conn, app).tables.form_table("contracts")
        conn.execute(table.update().values(unpaid=0))
    runner = CliRunner()
    result = runner.invoke(cli, ["--database-url", db_url, "recompute", "sales", "contracts.unpaid"])
    assert result.exit_code == 0, result.output
    assert "contracts.unpaid: 5 value(s) changed" in result.output
    assert "customers.unpaid_total: 0 value(s) changed" in result.output
    result = runner.invoke(cli, ["--database-url", db_url, "recompute", "sales", "contracts.unpayed"])
    assert result.exit_code != 0 and "not a computed field of 'sales'" in str(result.exception or result.output)
    engine.dispose()


def test_plain_apps_plan_no_recompute(db):
    doc = plain_doc()
    apply_app(db, AppDef.from_dict(doc))
    populate(db, AppDef.from_dict(doc), contracts=3)
    changed = copy.deepcopy(doc)
    changed["forms"][0]["fields"][0]["label"] = {"zh": "客户名", "en": "Customer"}
    assert [s.kind for s in plan_app(db, AppDef.from_dict(changed)).plan.steps] == ["change_field"]
