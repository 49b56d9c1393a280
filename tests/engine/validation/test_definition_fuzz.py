"""Whatever the input, validating a definition gives problems, never a crash: only the
project's own DefinitionError (carrying Problems) ever comes out.

Three kinds of input: random bytes (the loader), random YAML documents (the JSON
Schema and the tolerant model), and a valid app with one part replaced by something
random (the semantic pass and every field type's definition checks, which see the
malformed parts beside the well-formed ones).
"""
from __future__ import annotations

import copy
import json
import os

import yaml
from hypothesis import HealthCheck, given, settings, strategies as st

from engine.errors import DefinitionError, Problem
from engine.fields.registry import all_types
from engine.validation import check_definition_text, load_definition
from tests.support.definition_schema import assert_same_verdicts_as_the_published_schema
from tests.support.records_app import DEFINITION, L

# A quick, repeatable run in the suite; FORMWORK_FUZZ_EXAMPLES=5000 for a long random hunt.
_LONG_RUN = int(os.environ.get("FORMWORK_FUZZ_EXAMPLES", "0"))
FUZZ = settings(max_examples=_LONG_RUN or 150, deadline=None, derandomize=not _LONG_RUN, database=None,
                suppress_health_check=[HealthCheck.too_slow])
# Each example of a whole app also runs the published schema as is (slow): fewer of them.
FUZZ_APPS = settings(FUZZ, max_examples=_LONG_RUN or 60)

# Names the definitions use, so that random documents reach the checks behind them.
NAMES = ["key", "type", "label", "zh", "en", "fields", "forms", "app", "format_version", "target",
         "relation", "field", "options", "value", "pattern", "min", "max", "precision", "default",
         "unique", "required", "renamed_from", "title_field", "default_sort", "multiple", "min_rows",
         "max_rows", "customers", "orders", "name", "code", "customer", "items", "text", "number",
         "id", "order", *all_types()]

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-10**20, max_value=10**20),
    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=20), st.sampled_from(NAMES),
    st.sampled_from(["{counter:4}", "KH{YYYY}-{counter:3}", "{DD}", "2024-02-30", "[a-", "vip"]))
values = st.recursive(
    scalars,
    lambda children: st.one_of(st.lists(children, max_size=4),
                               st.dictionaries(st.one_of(st.sampled_from(NAMES), st.text(max_size=8)),
                                               children, max_size=4)),
    max_leaves=20)


def assert_only_problems(text: str | bytes) -> list[Problem]:
    app, problems = check_definition_text(text, "fuzz.yaml")
    assert all(isinstance(p, Problem) and p.message for p in problems)
    assert (app is None) == bool(problems)
    try:
        load_definition(text)
    except DefinitionError as exc:
        assert exc.problems
    return problems


@FUZZ
@given(st.binary(max_size=300))
def test_random_bytes(raw):
    assert_only_problems(raw)


@FUZZ
@given(values)
def test_random_yaml_documents(data):
    assert_only_problems(yaml.safe_dump(data, allow_unicode=True))


def _paths(value, prefix=()):
    """Every place in a document: tuples of keys and indexes."""
    yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _paths(child, prefix + (key,))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _paths(child, prefix + (index,))


# Options that make a field of each type valid (types without required options need none).
_SAMPLE_OPTIONS = {
    "relation": {"target": "customers", "multiple": False},
    "lookup": {"relation": "f_relation", "field": "name"},
    "subform": {"min_rows": 1, "max_rows": 5,
                "fields": [{"key": "qty", "type": "number", "label": L("数量"), "min": 0, "max": 9}]},
    "serial": {"pattern": "KH{YYYY}{MM}-{counter:4}"},
    "number": {"precision": 2, "min": 0, "max": 100, "default": 5},
    "text": {"max_length": 20, "min_length": 1, "pattern": "^[A-Z]+$", "default": "AB"},
    "date": {"min": "2020-01-01", "max": "2030-12-31", "default_formula": "TODAY() + 7"},
    "formula": {"formula": "f_number * 2 + f_rating", "visible_if": "f_switch"},
    "datetime": {"min": "2020-01-01", "max": "2030-12-31"},
}
for _name in ("radio", "select", "checkbox", "multiselect"):
    _SAMPLE_OPTIONS[_name] = {"options": ["a", {"value": "b", "label": L("乙", "B")}], "default": "a"}


def every_type_app() -> dict:
    """A valid app with one field of each registered type (those whose required options
    are known here), so that random changes reach every type's definition checks."""
    fields = []
    for name, cls in sorted(all_types().items()):
        options = _SAMPLE_OPTIONS.get(name, {})
        if set(cls.config_required) <= set(options):
            fields.append({"key": f"f_{name}", "type": name, "label": L(name), **options})
    total = {"key": "things_total", "type": "rollup", "label": L("合计"), "source": "things",
             "via": "f_relation", "aggregate": "sum", "field": "f_number"}
    rule = {"key": "positive", "formula": "f_number >= 0", "message": L("不能为负", "Must not be negative"),
            "fields": ["f_number"]}
    return {"format_version": 1, "app": {"key": "every", "label": L("全部", "Every type")}, "forms": [
        {"key": "customers", "label": L("客户"), "title_field": "name",
         "fields": [{"key": "name", "type": "text", "label": L("名称")}, total]},
        {"key": "things", "label": L("全部"), "rules": [rule], "fields": fields}]}


def test_the_fuzzed_apps_are_valid_to_begin_with():
    for document in (DEFINITION, every_type_app()):
        assert assert_only_problems(json.dumps(document, ensure_ascii=False)) == []


BASES = [DEFINITION, every_type_app()]


@FUZZ_APPS
@given(st.sampled_from(BASES).flatmap(lambda base: st.tuples(st.just(base), st.lists(st.tuples(
    st.sampled_from(list(_paths(base))[1:]), st.one_of(values, st.just("<delete>"))), min_size=1, max_size=3))))
def test_valid_app_with_random_parts(base_and_changes):
    base, changes = base_and_changes
    document = copy.deepcopy(base)
    for path, replacement in changes:
        parent = document
        try:
            for step in path[:-1]:
                parent = parent[step]
            if replacement == "<delete>":
                del parent[path[-1]]
            else:
                parent[path[-1]] = replacement
        except (KeyError, IndexError, TypeError):
            continue   # an earlier change removed this place
    assert_only_problems(json.dumps(document, ensure_ascii=False))
    assert_same_verdicts_as_the_published_schema(document)
