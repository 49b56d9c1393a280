"""Widget descriptions (FieldType.widget in each field type's class, runtime/forms/
widgets.py): every registered field type describes its widget as JSON-able data."""
from __future__ import annotations

import json

import pytest

from engine.compiled.app import compile_app
from engine.definition.model import FieldDef, Label
from engine.fields.base import FieldType, WidgetContext
from engine.fields.registry import all_types, type_names
from runtime.forms.widgets import describe_form
from runtime.session import Session
from tests.support.forms_app import desk_app, install_desk

KIND_BY_KEY = {
    "text": "text", "textarea": "textarea", "address": "address", "radio": "radio", "pick": "select",
    "checkbox": "checkbox", "multiselect": "multiselect", "number": "number", "money": "money",
    "percent": "percent", "formula": "formula", "rollup": "rollup", "phone": "phone", "email": "email",
    "url": "url", "idcard": "id-card", "attachment": "attachment", "image": "image", "signature": "signature",
    "location": "location", "member": "member", "members": "members", "department": "department",
    "departments": "departments", "relation": "relation", "lookup": "lookup", "subform": "subform",
    "serial": "serial", "switch": "switch", "rating": "rating", "date": "date", "datetime": "datetime",
}
READ_ONLY_KINDS = {"formula", "rollup", "lookup", "serial"}


def _widgets(lang="en"):
    app = compile_app(desk_app())
    ctx = WidgetContext(lang, app.definition)
    return {f.key: app.types.of(f).widget(ctx) for f in app.require_form("everything").fields}


def test_every_registered_type_has_a_field_here_and_describes_its_widget():
    widgets = _widgets()
    assert {w["type"] for w in widgets.values()} == set(type_names()), \
        "add a field of each new type to the `everything` form of tests/support/forms_app.py"
    for name, cls in all_types().items():
        assert cls.widget_kind, f"field type {name} sets no widget_kind"
    assert {key: w["kind"] for key, w in widgets.items()} == KIND_BY_KEY
    json.dumps(widgets, ensure_ascii=False)           # plain data, nothing else


def test_a_type_without_a_widget_cannot_be_shown():
    class Nameless(FieldType):
        name = "nameless"
        label = Label("无", "None")
    fdef = FieldDef(key="x", type="nameless", label=Label("x", "x"), path="forms[0].fields[0]")
    with pytest.raises(NotImplementedError, match="widget_kind"):
        Nameless(fdef).widget(WidgetContext("en", desk_app()))


@pytest.mark.parametrize("key", sorted(KIND_BY_KEY))
def test_what_every_widget_has(key):
    widget = _widgets()[key]
    assert set(widget) >= {"key", "kind", "type", "label", "help", "required", "read_only", "default",
                           "has_default_formula", "conditional", "options"}
    assert widget["read_only"] is (widget["kind"] in READ_ONLY_KINDS)


def test_the_type_parts_carry_limits_choices_and_targets():
    w = _widgets("zh")
    assert w["pick"]["options"]["choices"] == [{"value": "a", "label": "甲", "color": "red"}]
    assert w["multiselect"]["options"]["max_selected"] == 1
    assert {k: w["number"]["options"][k] for k in ("min", "max", "precision")} == {"min": 0, "max": 9, "precision": 2}
    assert w["money"]["options"]["currency"] == "元" and w["percent"]["options"]["precision"] == 4
    assert w["attachment"]["options"] == {"max_files": 3, "max_bytes": 5 * 1024 * 1024, "accept": [".pdf"]}
    assert w["image"]["options"]["accept"] == ["image/*"]
    assert w["relation"]["options"] == {"target": "orders", "target_label": "订单", "title_field": "title",
                                        "multiple": False, "max": None}
    assert w["lookup"]["options"] == {"relation": "relation", "field": "amount", "shows": "formula"}
    assert w["address"]["options"]["levels"] == ["province", "city"]
    assert w["member"]["options"]["default_current_user"] is True
    assert w["members"]["options"] == {"multiple": True, "max": 3}
    assert w["rating"]["options"] == {"max": 3}
    assert w["date"]["options"]["min"] == "2020-01-01"
    assert w["text"]["options"]["pattern_message"] == "大写字母"
    assert w["phone"]["options"]["phone_kind"] == "mobile"
    assert w["serial"]["options"] == {"pattern": "E{counter:4}"}
    assert [c["key"] for c in w["subform"]["options"]["columns"]] == ["cell"]
    assert w["subform"]["options"]["columns"][0]["required"] is True


def test_labels_in_the_users_language(db):
    install_desk(db)
    with Session(db).read() as uow:
        zh = describe_form(uow, "desk", "orders", lang="zh")
        en = describe_form(uow, "desk", "orders", lang="en")
    assert (zh["label"], en["label"]) == ("订单", "Orders")
    assert [f["label"] for f in zh["fields"]][:2] == ["标题", "客户"]
    assert [f["label"] for f in en["fields"]][:2] == ["Title", "Customer"]
    by_key = {f["key"]: f for f in en["fields"]}
    assert by_key["due"]["has_default_formula"] and by_key["bulk_note"]["conditional"]
    assert by_key["price"]["default"] == 10
    line_total = by_key["items"]["options"]["columns"][-1]
    assert (line_total["kind"], line_total["read_only"]) == ("formula", True)
