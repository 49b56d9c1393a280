"""Pages read related records by position and label, so no field key of a related form
can be mistaken for a column of the page's own bookkeeping."""
from engine.compiled.app import compiled
from engine.definition.model import AppDef
from runtime.apps import apply_app
from runtime.records import Records


def L(text):
    return {"zh": text, "en": text}


# Field keys chosen to look like the page query's own columns.
APP = {"format_version": 1, "app": {"key": "names", "label": L("names")}, "forms": [
    {"key": "labels", "label": L("labels"), "title_field": "source_id", "fields": [
        {"key": "source_id", "type": "text", "label": L("source id")},
        {"key": "deleted", "type": "text", "label": L("deleted")},
        {"key": "target_id", "type": "text", "label": L("target id")}]},
    {"key": "posts", "label": L("posts"), "fields": [
        {"key": "title", "type": "text", "label": L("title")},
        {"key": "label", "type": "relation", "label": L("label"), "target": "labels"},
        {"key": "label_deleted", "type": "lookup", "label": L("lookup"), "relation": "label", "field": "deleted"},
        {"key": "others", "type": "relation", "label": L("others"), "target": "labels", "multiple": True}]},
]}


def test_related_fields_named_like_bookkeeping_columns_are_read_correctly(db):
    app = AppDef.from_dict(APP)
    apply_app(db, app)
    with db.begin() as conn:
        r = Records(conn, app)
        a, b = (x["id"] for x in r.bulk_create("labels", [
            {"source_id": "甲", "deleted": "no", "target_id": "x"}, {"source_id": "乙", "deleted": "yes"}]))
        r.create("posts", {"title": "p", "label": a, "others": [b, a]})
        r.delete("labels", b)
        post = r.list("posts").records[0]
    assert post["fields"]["label_deleted"] == "no"
    assert post["titles"]["label"] == {a: {"title": "甲", "deleted": False}}
    assert post["fields"]["others"] == [b, a]
    assert post["titles"]["others"] == {b: {"title": "乙", "deleted": True}, a: {"title": "甲", "deleted": False}}


def test_page_loaders_kept_per_app_are_bounded(db, monkeypatch):
    """Callers choose which fields a page shows: the loaders kept for those choices do not
    grow without bound."""
    from runtime.records import loading
    from tests.support.records_app import install_shop
    monkeypatch.setattr(loading, "MAX_LOADERS", 8)
    app = install_shop(db)
    keys = [f.key for f in app.require_form("orders").fields]
    assert len(keys) >= 4
    with db.connect() as conn:
        records = Records(conn, app)
        for n in range(1, 2 ** 4):                 # 15 different choices of fields
            page = records.list("orders", fields=[keys[i] for i in range(4) if (n >> i) & 1], page_size=1)
            assert page.records == []
    assert len(loading._LOADERS[compiled(app)]) == 8
