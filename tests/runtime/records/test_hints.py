"""Record input naming a field (or a subform column) that does not exist: the Chinese
message suggests in Chinese, the English one in English, and a subform row's unknown
column suggests one of that subform's columns."""
from engine.compiled.app import compiled
from engine.fields.base import ValueContext
from runtime.records.validation import RecordCleaner
from tests.support.records_app import shop_app


def issues(form_key, raw):
    app = compiled(shop_app())
    cleaner = RecordCleaner(app, app.require_form(form_key), ValueContext())
    return cleaner.clean(raw, creating=True).issues


def test_an_unknown_field_is_suggested_in_the_language_of_each_message():
    [unknown] = [i for i in issues("customers", {"name": "甲", "nmae": "乙"}) if i.code == "unknown_field"]
    shown = unknown.as_dict("zh")
    assert shown["message"] == "表单中没有字段“nmae”（是不是“name”？）"
    assert shown["message_en"] == "The form has no field 'nmae' (did you mean 'name'?)"
    assert shown["params"]["hint"] == {"zh": "（是不是“name”？）", "en": " (did you mean 'name'?)"}


def test_an_unknown_subform_column_suggests_a_column_of_that_subform():
    found = issues("orders", {"title": "O1", "items": [{"product": "笔", "qty": 1}, {"product": "纸", "qyt": 2}]})
    [unknown] = [i for i in found if i.code == "subform_unknown_column"]
    assert (unknown.field, unknown.row, unknown.subfield) == ("items", 1, "qyt")
    shown = unknown.as_dict("zh")
    assert shown["message"] == "子表单没有字段“qyt”（是不是“qty”？）"
    assert shown["message_en"] == "The subform has no field 'qyt' (did you mean 'qty'?)"


def test_nothing_close_means_no_hint_in_either_language():
    [unknown] = [i for i in issues("customers", {"name": "甲", "zzzz": 1}) if i.code == "unknown_field"]
    assert unknown.as_dict("zh")["message"] == "表单中没有字段“zzzz”"
    assert unknown.as_dict("zh")["message_en"] == "The form has no field 'zzzz'"
