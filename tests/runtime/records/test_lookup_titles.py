"""A lookup showing a relation of the related record (an order's `customer.referrer`)
holds an id, like the relation itself, and names it the same way: `titles` has the
title of the record it points at (issue #8). It is joined into the page query: no
statement more per page."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from engine.definition.model import AppDef
from runtime.apps import apply_app
from runtime.records import Records
from runtime.records.serialize import record_to_json
from tests.runtime.import_export.trial_app import install_trial


@pytest.fixture
def orders(db):
    app = install_trial(db)
    with db.begin() as conn:
        r = Records(conn, app)
        jia = r.create("customers", {"name": "甲"})["id"]
        yi = r.create("customers", {"name": "乙", "referrer": jia})["id"]
        bing = r.create("customers", {"name": "丙", "referrer": yi})["id"]
        made = r.bulk_create("orders", [{"title": "O1", "customer": yi}, {"title": "O2", "customer": jia},
                                        {"title": "O3", "customer": bing}])
        r.delete("customers", [yi])    # 丙's referrer, in the recycle bin
    return db, app, {"甲": jia, "乙": yi, "丙": bing}, {o["fields"]["title"]: o["id"] for o in made}


def test_list_and_get_name_the_record_a_lookup_of_a_relation_points_at(orders):
    db, app, people, ids = orders
    with db.connect() as conn:
        r = Records(conn, app)
        page = {o["fields"]["title"]: o for o in r.list("orders", sort="title").records}
        got = r.get("orders", ids["O3"])
    assert page["O1"]["fields"]["customer_referrer"] == people["甲"]
    assert page["O1"]["titles"]["customer_referrer"] == {people["甲"]: {"title": "甲", "deleted": False}}
    assert page["O1"]["titles"]["customer"] == {people["乙"]: {"title": "乙", "deleted": True}}
    assert page["O2"]["fields"]["customer_referrer"] is None and "customer_referrer" not in page["O2"]["titles"]
    assert page["O3"]["titles"]["customer_referrer"] == {people["乙"]: {"title": "乙", "deleted": True}}
    assert got["titles"]["customer_referrer"] == page["O3"]["titles"]["customer_referrer"]
    shown = record_to_json(app, "orders", page["O1"])
    assert shown["fields"]["customer_referrer"] == people["甲"]
    assert shown["titles"]["customer_referrer"] == {str(people["甲"]): {"title": "甲", "deleted": False}}


def test_a_page_of_only_the_lookup_still_names_it(orders):
    db, app, people, _ = orders
    with db.connect() as conn:
        page = Records(conn, app).list("orders", fields=["title", "customer_referrer"], sort="title")
    first = page.records[0]
    assert first["titles"] == {"customer_referrer": {people["甲"]: {"title": "甲", "deleted": False}}}


def test_the_titles_cost_no_statement_more(orders, count_statements):
    db, app, _, _ = orders
    counts = {}
    for size in (1, 3):
        with db.connect() as conn, count_statements(db) as counter:
            page = Records(conn, app).list("orders", page_size=size, sort="title")
            assert len(page.records) == size
        counts[size] = counter.count
    assert counts[1] == counts[3] == 2    # the page (both customers joined) and the count


LIVE = {"format_version": 1, "app": {"key": "live", "label": {"zh": "实时", "en": "Live"}}, "forms": [
    {"key": "people", "label": {"zh": "人", "en": "People"}, "title_field": "shown", "fields": [
        {"key": "name", "type": "text", "label": {"zh": "姓名", "en": "Name"}},
        {"key": "mentor", "type": "relation", "label": {"zh": "导师", "en": "Mentor"}, "target": "people"},
        {"key": "shown", "type": "formula", "label": {"zh": "称呼", "en": "Shown"}, "result": "text",
         "formula": 'IF(TODAY() >= DATE(2030, 1, 1), "老" & name, name)'}]},
    {"key": "notes", "label": {"zh": "笔记", "en": "Notes"}, "fields": [
        {"key": "person", "type": "relation", "label": {"zh": "人", "en": "Person"}, "target": "people"},
        {"key": "person_mentor", "type": "lookup", "label": {"zh": "导师", "en": "Mentor"},
         "relation": "person", "field": "mentor"}]},
]}


def test_a_title_computed_with_the_clock_is_the_readers(db):
    app = AppDef.from_dict(LIVE)
    apply_app(db, app)
    with db.begin() as conn:
        r = Records(conn, app, now=datetime(2026, 1, 1, tzinfo=timezone.utc))
        zhang = r.create("people", {"name": "张"})["id"]
        li = r.create("people", {"name": "李", "mentor": zhang})["id"]
        r.create("notes", {"person": li})
    for now, title in ((datetime(2026, 1, 1, tzinfo=timezone.utc), "张"),
                       (datetime(2031, 1, 1, tzinfo=timezone.utc), "老张")):
        with db.connect() as conn:
            note = Records(conn, app, now=now).list("notes").records[0]
        assert note["titles"]["person_mentor"] == {zhang: {"title": title, "deleted": False}}
        assert note["titles"]["person"][li]["title"] == title.replace("张", "李")
