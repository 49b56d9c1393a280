"""GET /api/v1/apps/{app}/dashboards/{key}: each widget's data as JSON, as the document
says, counting only the caller's records (a row-scoped policy), one statement per widget;
an unknown dashboard is 404, an unknown control or a bad value 400 naming it."""
from __future__ import annotations

import io
from decimal import Decimal

import openpyxl
import pytest

from tests.support.web_api import OwnRowsPolicy, api_world, assert_answer_matches

URL = "/api/v1/apps/crm_referral/dashboards/sales"


@pytest.fixture
def scoped(db):
    made = api_world(db, FORMWORK_API_RATE="off", FORMWORK_POLICY=OwnRowsPolicy())
    yield made
    made.dispose()


def _contracts(world, who: str, n: int) -> None:
    customer = world.create({"name": f"{who}的客户", "kind": "企业", "level": "vip"}, who=who)
    for i in range(n):
        world.create({"title": f"合同{i}", "customer": customer["id"], "amount": "1000.50",
                      "signed_on": f"2026-0{i % 3 + 1}-15", "items": [{"product": "软件", "quantity": 1,
                                                                        "unit_price": "1000.50"}]},
                     who=who, form="contracts")


def test_each_widget_counts_only_the_callers_records(scoped, count_statements):
    _contracts(scoped, "li", 3)
    _contracts(scoped, "han", 2)
    with count_statements(scoped.app.extensions["formwork"].engine) as counted:
        answer = scoped.client.get(URL + "?period=2026-01-01..2026-03-31&lang=en", headers=scoped.headers("li"))
    assert answer.status_code == 200, answer.json
    assert_answer_matches(scoped.document("li"), "Dashboard", answer)
    widgets = {w["key"]: w for w in answer.json["widgets"]}
    kpi = widgets["signed_total"]["data"]["measures"]
    assert [(m["key"], m["value"]) for m in kpi] == [("total", "3001.50"), ("contracts", 3)]
    assert [(r["keys"][0], r["values"]["contracts"]) for r in widgets["contracts_by_month"]["data"]["rows"]] == \
        [("2026-01", 1), ("2026-02", 1), ("2026-03", 1)]
    widget_statements = [s for s in counted.statements if "crm_referral__" in s]
    assert len(widget_statements) == len(widgets) == 9       # one statement per widget
    han = scoped.client.get(URL, headers=scoped.headers("han")).json
    assert {w["key"]: w for w in han["widgets"]}["signed_total"]["data"]["measures"][1]["value"] == 2


def test_refusals_say_what_and_where(scoped):
    missing = scoped.client.get("/api/v1/apps/crm_referral/dashboards/salse", headers=scoped.headers("li"))
    assert missing.status_code == 404 and "sales" in missing.get_data(as_text=True)
    no_app = scoped.client.get("/api/v1/apps/crm/dashboards/sales", headers=scoped.headers("li"))
    assert no_app.status_code == 404 and no_app.json["error"]["code"] == "not_found"
    unknown = scoped.client.get(URL + "?perod=this_month", headers=scoped.headers("li"))
    assert unknown.status_code == 400 and "perod" in unknown.json["error"]["message"]
    bad = scoped.client.get(URL + "?period=2026-13-01..", headers=scoped.headers("li"))
    assert bad.status_code == 400 and "YYYY-MM-DD" in bad.json["error"]["message"]
    assert scoped.client.get(URL).status_code == 401


def _sheet(answer) -> list[list]:
    book = openpyxl.load_workbook(io.BytesIO(answer.data))
    return [[cell.value for cell in row] for row in book.worksheets[0].iter_rows()]


def test_a_widget_exports_to_xlsx_with_the_callers_rows_and_no_formula(scoped):
    _contracts(scoped, "li", 3)
    _contracts(scoped, "han", 2)
    customer = scoped.create({"name": "公式客户", "kind": "企业", "level": "key"}, who="li")
    scoped.create({"title": "=HYPERLINK(\"http://evil\")", "customer": customer["id"], "amount": "10.00",
                   "signed_on": "2026-02-01", "items": [{"product": "软件", "quantity": 1, "unit_price": "10.00"}]},
                  who="li", form="contracts")
    english = {"Accept-Language": "en"}
    url = URL + "/widgets/contracts_by_month.xlsx?period=2026-01-01..2026-03-31"
    answer = scoped.client.get(url, headers=scoped.headers("li", **english))
    assert answer.status_code == 200, answer.data[:300]
    assert answer.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert 'filename="sales-contracts_by_month.xlsx"' in answer.headers["Content-Disposition"]
    rows = _sheet(answer)
    assert rows[0] == ["Signed on", "Amount", "Contracts"]
    assert rows[1:] == [["2026-01", Decimal("1000.50"), 1], ["2026-02", Decimal("1010.50"), 2],
                        ["2026-03", Decimal("1000.50"), 1]]
    table = _sheet(scoped.client.get(URL + "/widgets/largest_unpaid.xlsx", headers=scoped.headers("li")))
    evil = [row for row in table if row[0] and "HYPERLINK" in str(row[1])]
    assert evil and evil[0][1] == "'=HYPERLINK(\"http://evil\")"
    book = openpyxl.load_workbook(io.BytesIO(scoped.client.get(URL + "/widgets/largest_unpaid.xlsx",
                                                                headers=scoped.headers("li")).data))
    assert all(cell.data_type != "f" for row in book.worksheets[0].iter_rows() for cell in row)
    han = _sheet(scoped.client.get(URL + "/widgets/signed_total.xlsx", headers=scoped.headers("han", **english)))
    assert han == [["Measure", "Value", "Previous", "Change"], ["Amount", Decimal("2001.00"), None, None],
                   ["Contracts", 2, None, None]]
    pivot = _sheet(scoped.client.get(URL + "/widgets/level_by_status.xlsx", headers=scoped.headers("li", **english)))
    assert pivot[-1][0] == "Total" and pivot[-1][-1] == 4          # the grand total of contracts
    path = "/api/v1/apps/crm_referral/dashboards/sales/widgets/contracts_by_month.xlsx"
    assert path in scoped.document("li")["paths"]


def test_an_export_is_refused_as_its_widget_is(db):
    world = api_world(db, FORMWORK_API_RATE="off", FORMWORK_POLICY=OwnRowsPolicy(hidden={"contracts": ["amount"]}))
    try:
        hidden = world.client.get(URL + "/widgets/signed_total.xlsx", headers=world.headers("li"))
        assert hidden.status_code == 403 and "amount" in hidden.json["error"]["message"]
        missing = world.client.get(URL + "/widgets/signed_totl.xlsx", headers=world.headers("li"))
        assert missing.status_code == 404 and "signed_total" in missing.get_data(as_text=True)
        assert world.client.get(URL + "/widgets/signed_total.xlsx").status_code == 401
        bad = world.client.get(URL + "/widgets/funnel.xlsx?period=2026-13-01..", headers=world.headers("li"))
        assert bad.status_code == 400 and "YYYY-MM-DD" in bad.json["error"]["message"]
    finally:
        world.dispose()
