"""Issue #9's journey "a salesperson who sees only their own customers", on the flagship
under its own permission sets (apps/crm_referral.yaml, set `sales`: manage_own on
customers, "own" being the account owner or who entered it), at phone and desktop width:
two salespeople each own some customers; 王芳 signs in and the customers table lists only
hers (the count too), a search finds none of 赵强's, his record's address is the 404 page,
and the API with her key answers the same."""
from __future__ import annotations

import pytest

from runtime.permissions import ROLE_POLICY
from runtime.session import Session
from tests.support.browser import DESKTOP, PHONE, LiveServer, screenshot, sign_in_page
from tests.support.web import PASSWORD, install_flagship, make_app
from tests.support.web_api import api_key, bearer

BASE = "/apps/crm_referral/forms/customers"
API = "/api/v1/apps/crm_referral/forms/customers/records"
HERS = ["上海明达科技", "杭州云帆贸易", "苏州恒信机电"]
HIS = ["南京金陵食品", "无锡太湖纺织"]


def _two_salespeople(engine) -> dict:
    """王芳 (wang.fang) and 赵强 (zhao.qiang) hold the role `sales`; each is the account
    owner of some customers, entered by someone else (the system), so only the `owner`
    field makes them theirs."""
    with Session(engine).write() as uow:
        users = uow.org.users
        fang = users.add("wang.fang", "王芳", password=PASSWORD).id
        qiang = users.add("zhao.qiang", "赵强", password=PASSWORD).id
        uow.org.roles.create("sales", "销售")
        uow.org.roles.assign("sales", [fang, qiang])
        records = uow.records("crm_referral")
        hers = [records.create("customers", {"name": n, "kind": "企业", "owner": fang})["id"] for n in HERS]
        his = [records.create("customers", {"name": n, "kind": "企业", "owner": qiang})["id"] for n in HIS]
    return {"fang": fang, "qiang": qiang, "hers": hers, "his": his}


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_a_salesperson_sees_only_their_own_customers(db, browser, open_page, viewport, request):
    install_flagship(db)
    world = _two_salespeople(db)
    key = api_key(db, world["fang"])
    app = make_app(db, FORMWORK_POLICY=ROLE_POLICY, FORMWORK_API_RATE="off")
    width, backend = viewport["width"], request.node.callspec.params.get("db_url", "db")
    shot = lambda page, name: screenshot(page, f"own-customers-{name}-{width}-{backend}")   # noqa: E731
    with LiveServer(app) as server:
        page = open_page(viewport)
        sign_in_page(page, server.url, "wang.fang", PASSWORD)
        page.goto(server.url + BASE)
        titles = page.locator("tr[data-id] a.record-link").all_inner_texts()
        assert sorted(titles) == sorted(HERS)
        assert "共 3 条记录" in page.locator("[data-count]").inner_text()
        assert not any(name in page.content() for name in HIS)
        assert page.locator("[data-import], [data-export]").count() == 0     # manage_own: no import, no export
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        shot(page, "list")

        page.fill("input[name=q]", "南京")            # 赵强's customer: not found
        page.press("input[name=q]", "Enter")
        page.wait_for_load_state()
        assert page.locator("tr[data-id]").count() == 0
        assert "没有符合筛选或搜索条件的记录" in page.locator(".empty").inner_text()
        shot(page, "search-theirs")
        page.fill("input[name=q]", "杭州")            # her own: found
        page.press("input[name=q]", "Enter")
        page.wait_for_load_state()
        assert page.locator("tr[data-id] a.record-link").all_inner_texts() == ["杭州云帆贸易"]

        answer = page.goto(f"{server.url}{BASE}/records/{world['his'][0]}")
        assert answer.status == 404
        assert "404" in page.locator(".error-status").inner_text()
        assert HIS[0] not in page.content()
        shot(page, "theirs-404")
        answer = page.goto(f"{server.url}{BASE}/records/{world['hers'][0]}")
        assert answer.status == 200 and HERS[0] in page.locator("h1").inner_text()
        shot(page, "mine")

    client = app.test_client()
    listed = client.get(API, headers=bearer(key))
    assert listed.status_code == 200
    assert sorted(r["fields"]["name"] for r in listed.json["items"]) == sorted(HERS)
    assert listed.json["count"]["value"] == 3
    searched = client.get(API, query_string={"search": "南京"}, headers=bearer(key))
    assert searched.status_code == 200 and searched.json["items"] == []
    theirs = client.get(f"{API}/{world['his'][0]}", headers=bearer(key))
    assert theirs.status_code == 404 and theirs.json["error"]["code"] == "not_found"
    assert HIS[0] not in theirs.get_data(as_text=True)
    app.extensions["formwork"].engine.dispose()
