"""The dashboard page: the flagship's sales dashboard rendered for a signed-in user, with
its controls, a chart per chart widget (ECharts from npm), each group's drill-down link
to the data table, and the widgets' statements one each."""
from __future__ import annotations

import json
import re

from runtime.dashboards import CACHE
from tests.support.web import add_user, install_flagship, make_app, sign_in

URL = "/apps/crm_referral/dashboards/sales"


def test_the_page_shows_every_widget_and_drills_down(db, count_statements):
    install_flagship(db)
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
    charts = [json.loads(block) for block in re.findall(r'<script type="application/json" data-chart>(.*?)</script>',
                                                         html, re.S)]
    assert len(charts) == 5 and all("rows" in c for c in charts)
    assert client.get("/apps/crm_referral/dashboards/nope").status_code == 404
    assert client.get("/static/js/dashboard.js").status_code == 200
