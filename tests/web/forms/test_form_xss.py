"""An XSS corpus written into every text-like field (and the text parts of address,
location, subform cells and relation titles) comes back escaped on the form page:
edit page, re-rendered 422 page, and the draft's JSON."""
from __future__ import annotations

import json

import pytest

from runtime.session import Session
from tests.support.form_pages import post_page

CORPUS = ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>', "javascript:alert(1)",
          "{{7*7}}", "'><svg onload=alert(1)>"]
DANGEROUS = ["<script>alert(1)</script>", "<img src=x onerror", "<svg onload", '"><img']


def _assert_escaped(html: str, payload: str):
    for bad in DANGEROUS:
        assert bad not in html, bad
    assert 'href="javascript:' not in html and "src=\"javascript:" not in html
    if payload == "{{7*7}}":
        assert "{{7*7}}" in html and 'value="49"' not in html and ">49<" not in html


@pytest.mark.parametrize("payload", CORPUS)
def test_the_edit_page_escapes_every_text_like_field(db, signed_in, payload):
    session = Session(db)
    order = session.write(lambda uow: uow.records("desk").create("orders", {"title": payload[:50]}))
    record = session.write(lambda uow: uow.records("desk").create("everything", {
        "text": None, "textarea": payload, "radio": None,
        "address": {"province": "广东省", "city": "深圳市", "detail": payload},
        "location": {"lng": "113.9", "lat": "22.5", "name": payload},
        "subform": [{"cell": payload}], "relation": order["id"]}))
    html = signed_in.get(f"/apps/desk/forms/everything/records/{record['id']}/edit").get_data(as_text=True)
    _assert_escaped(html, payload)
    shown = payload.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&#34;") \
        .replace("'", "&#39;")
    assert html.count(shown) >= 4     # the text is there, escaped: textarea, detail, place name, cell


@pytest.mark.parametrize("payload", CORPUS)
def test_a_refused_post_is_re_rendered_escaped(signed_in, payload):
    fields = {"text": payload, "textarea": payload, "email": payload, "url": payload, "phone": payload,
              "idcard": payload, "number": payload, "date": payload, "pick": payload,
              "subform": json.dumps([{"cell": payload}]),
              "address": json.dumps({"province": payload, "detail": payload}),
              "location": json.dumps({"lng": payload, "lat": "1", "name": payload})}
    answer = post_page(signed_in, "/apps/desk/forms/everything/new", fields)
    assert answer.status_code == 422
    _assert_escaped(answer.get_data(as_text=True), payload)


def test_the_draft_answer_is_json_not_html(signed_in):
    answer = post_page(signed_in, "/apps/desk/forms/everything/draft",
                       {"text": CORPUS[0], "_touched": ["text"]})
    assert answer.headers["Content-Type"].startswith("application/json")
    assert "<script>" not in answer.get_data(as_text=True)
