"""engine/suggest.py: every "did you mean" is made here, in the language of the
message it ends (a Chinese message never carries the English hint, nor the reverse), and a
path into a subform column suggests one of that subform's columns."""
from engine.errors import CodedError, Problem
from engine.i18n import PerLanguage, register_messages, render
from engine.suggest import did_you_mean_path, hint, hint_for

register_messages({"test_no_such_thing": {"zh": "没有“{name}”{hint}", "en": "No '{name}'{hint}"}})

SUBFORMS = {"items": ["product", "qty"], "明细": ["产品", "数量"]}


def columns(name):
    return SUBFORMS.get(name)


def test_a_hint_is_written_in_each_language_of_its_message():
    params = {"name": "nmae", "hint": hint_for("nmae", ["name", "title"])}
    assert render("test_no_such_thing", params, "zh") == "没有“nmae”（是不是“name”？）"
    assert render("test_no_such_thing", params, "en") == "No 'nmae' (did you mean 'name'?)"


def test_no_suggestion_gives_no_hint_in_any_language():
    params = {"name": "zzz", "hint": hint_for("zzz", ["name", "title"])}
    assert render("test_no_such_thing", params, "zh") == "没有“zzz”"
    assert render("test_no_such_thing", params, "en") == "No 'zzz'"
    assert hint(None) == PerLanguage(zh="", en="")


def test_coded_errors_and_definition_problems_use_the_same_wording():
    refused = CodedError("test_no_such_thing", name="nmae", hint="", suggestion="name")
    assert refused.message("zh") == "没有“nmae”（是不是“name”？）"
    assert refused.message("en") == "No 'nmae' (did you mean 'name'?)"
    both = Problem.coded("forms[0].title_field", "test_no_such_thing", {"name": "nmae", "hint": ""},
                         suggestion="name")
    assert both.text("zh") == "没有“nmae”（是不是“name”？）"
    assert both.text("en") == "No 'nmae' (did you mean 'name'?)"
    english_only = Problem("forms[0].title_field", "title_field 'nmae' is not a field", suggestion="name")
    assert english_only.text("zh") == "title_field 'nmae' is not a field (did you mean 'name'?)"


def test_a_path_into_a_subform_suggests_its_columns():
    fields = ["title", "items", "明细"]
    assert did_you_mean_path("items.qtty", fields, columns) == "items.qty"
    assert did_you_mean_path("itmes.product", fields, columns) == "items.product"   # the subform misspelt too
    assert did_you_mean_path("明细．数最", fields, columns, dots=".．") == "明细．数量"
    # Not the subform itself: a path names a column, so nothing close is no suggestion.
    assert did_you_mean_path("items.colour", fields, columns) is None
    assert did_you_mean_path("titel", fields, columns) == "title"
    assert did_you_mean_path("title.x", fields, columns) == "title"   # not a subform: the whole name
