"""Every key the validator accepts works on both databases: keys at their maximum
lengths (table names past PostgreSQL's 63 characters are shortened with a hash),
keys made of SQL words, and labels full of SQL and markup, through install,
create, filter, subform rows and a many-to-many relation."""
from __future__ import annotations

import yaml

from engine.validation import check_definition_text, load_definition
from runtime.apps import apply_app
from runtime.records import Records

APP_KEY = "a" * 29 + "z"                       # 30 characters, the most an app key may have
FORM_KEY = "select_from_where_order_by_drop"[:30]
OTHER_FORM_KEY = "b" * 30
LONG_FIELD = "delete_from_" + "x" * 28          # 40 characters, the most a field key may have
HOSTILE_LABEL = {"zh": "'; DROP TABLE fw_apps; --", "en": '<script>alert("x")</script>'}


def definition() -> str:
    return yaml.safe_dump({
        "format_version": 1,
        "app": {"key": APP_KEY, "label": HOSTILE_LABEL},
        "forms": [
            {"key": OTHER_FORM_KEY, "label": HOSTILE_LABEL, "fields": [
                {"key": "table_name", "type": "text", "label": HOSTILE_LABEL, "unique": True}]},
            {"key": FORM_KEY, "label": HOSTILE_LABEL, "title_field": LONG_FIELD, "fields": [
                {"key": LONG_FIELD, "type": "text", "label": HOSTILE_LABEL, "required": True, "index": True},
                {"key": "group_by", "type": "number", "label": HOSTILE_LABEL, "precision": 0},
                {"key": "user_" + "y" * 35, "type": "relation", "label": HOSTILE_LABEL,
                 "target": OTHER_FORM_KEY, "multiple": True},
                {"key": "insert_into_" + "z" * 28, "type": "subform", "label": HOSTILE_LABEL, "fields": [
                    {"key": "values_" + "v" * 33, "type": "text", "label": HOSTILE_LABEL}]},
            ]},
        ],
    }, allow_unicode=True)


def test_the_definition_uses_every_limit_and_is_valid():
    app, problems = check_definition_text(definition())
    assert problems == []
    assert len(app.key) == 30 and len(FORM_KEY) == 30
    assert {len(f.key) for f in app.form(FORM_KEY).fields} >= {40}


def test_keys_at_the_limits_install_and_hold_records(db):
    app = load_definition(definition())
    apply_app(db, app)
    relation_key, subform_key = app.form(FORM_KEY).fields[2].key, app.form(FORM_KEY).fields[3].key
    column_key = app.form(FORM_KEY).fields[3].fields[0].key
    with db.begin() as conn:
        records = Records(conn, app)
        targets = [records.create(OTHER_FORM_KEY, {"table_name": name})["id"] for name in ("t1", "t2")]
        created = records.create(FORM_KEY, {LONG_FIELD: "'; DROP TABLE x; --", "group_by": 7,
                                            relation_key: targets,
                                            subform_key: [{column_key: "行一"}, {column_key: "行二"}]})
        fetched = records.get(FORM_KEY, created["id"])["fields"]
        assert fetched[LONG_FIELD] == "'; DROP TABLE x; --"
        assert sorted(fetched[relation_key]) == sorted(targets)
        assert [row[column_key] for row in fetched[subform_key]] == ["行一", "行二"]
        page = records.list(FORM_KEY, filter={"field": relation_key, "op": "contains", "value": targets[1]})
        assert [r["id"] for r in page.records] == [created["id"]]
        page = records.list(FORM_KEY, filter={"field": LONG_FIELD, "op": "starts_with", "value": "';"})
        assert [r["id"] for r in page.records] == [created["id"]]
