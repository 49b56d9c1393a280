"""The document is served per caller, and /api/docs shows it to people: each app's tag,
its operations with their parameters and responses, every schema; for signed-in users."""
from __future__ import annotations

import json

from runtime.api.openapi import installed_document
from tests.support.api_docs import assert_openapi_31
from tests.support.web import sign_in
from tests.support.web_api import CUSTOMERS, OwnRowsPolicy, api_world


def test_the_document_is_the_installed_one_in_english_or_chinese(world, db):
    english = world.client.get("/api/v1/openapi.json", headers=world.headers())
    assert english.status_code == 200 and english.mimetype == "application/json"
    document = json.loads(english.data)
    assert_openapi_31(document)
    with db.connect() as conn:
        assert document == installed_document(conn, lang="en")
    assert CUSTOMERS in document["paths"] and f"{CUSTOMERS}/{{id}}/related/contacts.customer" in document["paths"]
    chinese = json.loads(world.client.get("/api/v1/openapi.json?lang=zh", headers=world.headers()).data)
    assert chinese["paths"][CUSTOMERS]["get"]["summary"] == "列出“客户”的记录"


def test_the_docs_page_shows_tags_operations_parameters_and_schemas(world):
    client = world.app.test_client()
    assert client.get("/api/docs").status_code == 302                  # sign in first
    sign_in(client)
    page = client.get("/api/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for text in ('id="tag-crm_referral"', 'id="op-crm_referral__customers__list"', "<code>filter</code>",
                 'id="schema-crm_referral.customers.Record"', 'href="#schema-crm_referral.customers.Page"',
                 "Authorization: Bearer KEY", "列出“客户”的记录"):
        assert text in html, text
    fields = html.split('id="schema-crm_referral.customers.Fields"')[1].split("</article>")[0]
    assert "<code>referral_code</code>" in fields and "<code>name</code>" in fields and "(read only)" in fields
    assert "://" not in html                                            # nothing from elsewhere (no CDN)


def test_the_docs_page_and_document_leave_out_what_the_caller_may_not_see(db):
    world = api_world(db, FORMWORK_API_RATE="off", FORMWORK_POLICY=OwnRowsPolicy(hidden={"customers": {"phone"}}))
    try:
        document = world.client.get("/api/v1/openapi.json", headers=world.headers()).data.decode()
        assert '"phone"' not in json.dumps(json.loads(document)["components"]["schemas"]["crm_referral.customers.Fields"])
        client = world.app.test_client()
        sign_in(client)
        html = client.get("/api/docs").get_data(as_text=True)
        fields = html.split('id="schema-crm_referral.customers.Fields"')[1].split("</article>")[0]
        assert "<code>referral_code</code>" in fields and "<code>phone</code>" not in fields
    finally:
        world.dispose()
