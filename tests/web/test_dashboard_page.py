"""The dashboard page: the flagship's sales dashboard rendered for a signed-in user over
records the test writes (not the seeded sample data), with its controls, a chart per
chart widget (ECharts from npm) carrying the figures of those records, each group's
drill-down link to the data table, an Excel link per widget with the page's control
values, and the widgets' statements one each."""
from __future__ import annotations

import json
import re
from urllib.parse import parse_qs, urlparse

from runtime.dashboards import CACHE
from tests.support.flagship_records import write_records
from tests.support.web import add_user, install_flagship, make_app, sign_in

URL = "/apps/crm_referral/dashboards/sales"
CUSTOMERS = [{"name": "甲公司", "level": "vip"}, {"name": "乙公司", "level": "normal"}]
CONTRACTS = [
    {"title": "一月大单", "customer": "甲公司", "amount": "1000.00", "signed_on": "2026-01-15"},
    {"title": "三月小单", "customer": "甲公司", "amount": "250.50", "signed_on": "2026-03-31"},
    {"title": "二月普通", "customer": "乙公司", "amount": "400.00", "signed_on": "2026-02-10"},
    {"title": "去年", "customer": "甲公司", "amount": "99.00", "signed_on": "2025-12-31"},
]


def test_the_page_shows_every_widget_and_drills_down(db, count_statements):
    install_flagship(db)
    write_records(db, customers=CUSTOMERS, contracts=CONTRACTS)
    add_user(db, "boss", "老板", is_admin=True)
    app = make_app(db)
    client = app.test_client()
    sign_in(client, "boss")
    CACHE.clear()
    with count_statements(app.extensions["formwork"].engine) as counted:
        page = client.get(URL + "?period.from=2026-01-01&period.to=2026-03-31&level=vip")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert html.count('data-widget="') == 9 and "echarts.min.js" in html and "js/dashboard.js" in html
    assert 'name="period.from" value="2026-01-01"' in html and '<option value="vip" selected>' in html
    assert len([s for s in counted.statements if "crm_referral__" in s]) == 9
    assert "1250.50" in html                                   # the KPI: January and March, vip only
    charts = {key: json.loads(block) for key, block in re.findall(
        r'data-widget="(\w+)".*?<script type="application/json" data-chart>(.*?)</script>', html, re.S)}
    assert len(charts) == 5
    by_month = charts["contracts_by_month"]["rows"]
    assert [(r["keys"][0], r["values"]["total"], r["values"]["contracts"]) for r in by_month] == \
        [("2026-01", "1000.00", 1), ("2026-03", "250.50", 1)]
    march = by_month[1]["filter"]["and"]
    assert {"field": "signed_on", "op": "lt", "value": "2026-04-01"} in march
    links = re.findall(r'data-xlsx download\s+href="([^"]+)"', html)
    assert len(links) == 9
    query = parse_qs(urlparse(links[0].replace("&amp;", "&")).query)
    assert query == {"period": ["2026-01-01..2026-03-31"], "level": ["vip"]}
    sheet = client.get(links[2].replace("&amp;", "&"))
    assert sheet.status_code == 200 and sheet.data[:2] == b"PK"


def test_refusals_are_pages_not_errors(db):
    install_flagship(db)
    add_user(db, "boss", "老板", is_admin=True)
    app = make_app(db)
    client = app.test_client()
    sign_in(client, "boss")
    assert client.get("/apps/crm_referral/dashboards/nope").status_code == 404
    bad = client.get(URL + "?period.from=2026-13-01")
    assert bad.status_code == 400 and "YYYY-MM-DD" in bad.get_data(as_text=True)
    unknown = client.get(URL + "?perod=this_month")
    assert unknown.status_code == 400 and "perod" in unknown.get_data(as_text=True)
    assert client.get("/static/js/dashboard.js").status_code == 200
