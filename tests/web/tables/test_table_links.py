"""The data table's head on the flagship under its own permission sets: the import link
for those who may import into the form, the export of the current view (its search kept)
for those who may export, neither for a salesperson (manage_own: no import, no export),
whose export address is refused with 403 as well."""
from __future__ import annotations

import html
import re

from runtime.permissions import ROLE_POLICY
from runtime.session import Session
from tests.support.web import PASSWORD, install_flagship, make_app, sign_in

BASE = "/apps/crm_referral/forms/customers"


def _people(db) -> None:
    with Session(db).write() as uow:
        users, roles = uow.org.users, uow.org.roles
        seller = users.add("wang.fang", "王芳", password=PASSWORD).id
        manager = users.add("zhou.min", "周敏", password=PASSWORD).id
        users.add("boss", "老板", password=PASSWORD, is_admin=True)
        roles.create("sales", "销售")
        roles.create("sales_manager", "销售经理")
        roles.assign("sales", [seller])
        roles.assign("sales_manager", [manager])
        uow.records("crm_referral").create("customers", {"name": "上海明达科技", "kind": "企业", "owner": seller})


def _client(app, account):
    client = app.test_client()
    assert sign_in(client, account).status_code == 302
    return client


def test_import_link_and_export_of_the_view_follow_the_permission_sets(db):
    install_flagship(db)
    _people(db)
    app = make_app(db, FORMWORK_POLICY=ROLE_POLICY)
    pages = {who: _client(app, who).get(BASE + "?q=明达").get_data(as_text=True)
             for who in ("wang.fang", "zhou.min", "boss")}
    seller, manager, boss = pages["wang.fang"], pages["zhou.min"], pages["boss"]
    assert "data-import" not in seller and "data-export" not in seller
    assert "data-import" not in manager and 'data-export="xlsx"' in manager
    assert f'href="{BASE}/import" data-import' in boss and 'data-export="csv"' in boss
    export_links = [html.unescape(link) for link in re.findall(r'href="([^"]*/export\?[^"]*)"', boss)]
    assert export_links and len(export_links) == 2 and all("q=" in link for link in export_links)          # the view as shown
    assert _client(app, "wang.fang").get(BASE + "/export?format=csv").status_code == 403
    assert _client(app, "wang.fang").get(BASE + "/import").status_code == 403
    exported = _client(app, "zhou.min").get(BASE + "/export?format=csv&q=明达")
    assert exported.status_code == 200
    assert _client(app, "boss").get(BASE + "/import").status_code == 200
    app.extensions["formwork"].engine.dispose()
