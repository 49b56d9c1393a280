"""Helpers of the field-type tests: one field on its own, its errors in both
languages, definition problems, and a one-form app on a real database ("a lab").
"""
from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from typing import Any, Iterable

import pytest

import engine.fields  # noqa: F401  (registers every field type)
from engine.definition.model import AppDef, FieldDef, Label
from engine.errors import FieldError, Problem, RecordValidationError
from engine.fields import ValueContext
from engine.fields.base import FieldType
from engine.fields.registry import FieldTypes
from engine.i18n import render
from engine.validation import check_definition_text
from runtime.apps import apply_app
from runtime.records import Records

# A fixed "now" keeps date shortcuts and serial numbers deterministic:
# 2025-03-15 12:00 in Asia/Shanghai (a Saturday).
NOW = datetime(2025, 3, 15, 4, 0, tzinfo=timezone.utc)
CTX = ValueContext(lang="zh", now=NOW)
CTX_EN = ValueContext(lang="en", now=NOW)
_CJK = re.compile(r"[\u4e00-\u9fff]")
_PLACEHOLDER = re.compile(r"\{[a-z_]+\}")


def L(zh: str, en: str | None = None) -> dict[str, str]:
    return {"zh": zh, "en": en or zh}


HOSTILE_OPTIONS = ["甲", "'; DROP TABLE x; --", "%"]
# A working config for every type: the hostile sweep makes one field of each
# (test_hostile.py); test_registry.py checks that none is missing.
WORKING_CONFIGS = {
    "text": {}, "textarea": {}, "number": {"precision": 2}, "date": {}, "datetime": {},
    "radio": {"options": HOSTILE_OPTIONS}, "select": {"options": HOSTILE_OPTIONS},
    "checkbox": {"options": HOSTILE_OPTIONS}, "multiselect": {"options": HOSTILE_OPTIONS},
    "switch": {}, "rating": {}, "phone": {}, "email": {}, "url": {},
    "idcard": {}, "address": {}, "location": {}, "member": {}, "members": {}, "department": {},
    "departments": {}, "serial": {"pattern": "NO{YYYY}-{counter:4}"}, "attachment": {}, "image": {},
    "signature": {}, "relation": {"target": "items"}, "lookup": {"relation": "ref", "field": "title"},
    "subform": {"fields": [{"key": "line", "type": "text", "label": L("行")}]},
    "formula": {"formula": 'title & "!"'}, "rollup": {"source": "items", "via": "ref", "aggregate": "count"},
}


def make(type_name: str, key: str = "f", **config: Any) -> FieldType:
    """A field type bound to a definition that has only `config` (not validated)."""
    fdef = FieldDef(key=key, type=type_name, label=Label(key, key), path="forms[0].fields[0]",
                    config=config, fields=[FieldDef.from_dict(f, f"forms[0].fields[0].fields[{i}]")
                                           for i, f in enumerate(config.pop("fields", []))])
    return FieldTypes({}).of(fdef)   # a lone field: nothing derived from an app


def messages(code: str, params: dict) -> tuple[str, str]:
    """The zh and en text of an error, checked to be complete and in its language."""
    zh, en = render(code, params, "zh"), render(code, params, "en")
    for text in (zh, en):
        assert text != code and not _PLACEHOLDER.search(text), f"{code}: unrendered message {text!r}"
    assert _CJK.search(zh), f"{code}: the zh message has no Chinese: {zh!r}"
    own_words = en
    for value in sorted(map(str, params.values()), key=len, reverse=True):
        own_words = own_words.replace(value, "")   # values, names, options: the user's own words
    own_words = re.sub(r"'[^']*'", "", own_words)   # quoted: examples of data
    assert not _CJK.search(own_words), f"{code}: the en message has Chinese of its own: {en!r}"
    return zh, en


def refused(ftype: FieldType, raw: Any, code: str, *, zh: Iterable[str] = (), en: Iterable[str] = (),
            how: str = "clean", ctx: ValueContext = CTX) -> FieldError:
    """Assert that `ftype.<how>(raw)` refuses the value with `code`, and that the zh and
    en messages mention each of the given fragments."""
    with pytest.raises(FieldError) as caught:
        getattr(ftype, how)(raw, ctx)
    error = caught.value
    assert error.code == code, f"expected {code}, got {error.code}: {error}"
    zh_text, en_text = messages(error.code, error.params)
    for part in zh:
        assert part in zh_text, f"{part!r} not in {zh_text!r}"
    for part in en:
        assert part in en_text, f"{part!r} not in {en_text!r}"
    return error


def document(fields: list[dict], *, forms: Iterable[dict] = (), form_key: str = "items") -> dict:
    return {
        "format_version": 1,
        "app": {"key": "lab", "label": L("实验", "Lab")},
        "forms": [{"key": form_key, "label": L("条目", "Items"), "fields": fields}, *forms],
    }


def definition_problems(fields: list[dict], *, forms: Iterable[dict] = ()) -> list[Problem]:
    """Every problem the definition checker finds in a one-form app with `fields`."""
    text = json.dumps(document(fields, forms=forms), ensure_ascii=False, indent=1)
    _app, problems = check_definition_text(text, "lab.json")
    return problems


def problem_at(fields: list[dict], path: str, *fragments: str, forms: Iterable[dict] = ()) -> Problem:
    """The problem reported at `path` (with a line number), whose message has `fragments`."""
    problems = definition_problems(fields, forms=forms)
    found = [p for p in problems if p.path == path]
    assert found, f"no problem at {path}; got {[p.format() for p in problems]}"
    problem = found[0]
    assert problem.line is not None, problem.format()
    for fragment in fragments:
        assert fragment in problem.message, f"{fragment!r} not in {problem.message!r}"
    return problem


def valid_definition(fields: list[dict], *, forms: Iterable[dict] = ()) -> None:
    problems = definition_problems(fields, forms=forms)
    assert not problems, [p.format() for p in problems]


class Lab:
    """An app with a form `items` holding `fields` (and any extra `forms`), installed on
    a real database; each call runs in its own transaction, as users' requests do."""

    def __init__(self, engine, fields: list[dict], *, forms: Iterable[dict] = (), now: datetime = NOW):
        valid_definition(fields, forms=forms)
        self.engine, self.now = engine, now
        self.app = AppDef.from_dict(document(fields, forms=forms))
        apply_app(engine, self.app)

    def records(self, conn, lang: str = "zh") -> Records:
        return Records(conn, self.app, lang=lang, now=self.now)

    def create(self, form: str = "items", **values: Any) -> dict:
        with self.engine.begin() as conn:
            return self.records(conn).create(form, values)

    def create_many(self, rows: list[dict], form: str = "items") -> list[dict]:
        with self.engine.begin() as conn:
            return self.records(conn).bulk_create(form, rows)

    def get(self, record_id: int, form: str = "items") -> dict:
        with self.engine.connect() as conn:
            return self.records(conn).get(form, record_id)

    def value(self, record_id: int, key: str, form: str = "items") -> Any:
        return self.get(record_id, form)["fields"][key]

    def update(self, record_id: int, form: str = "items", **changes: Any) -> dict:
        with self.engine.begin() as conn:
            return self.records(conn).update(form, record_id, changes)

    def refused(self, values: dict, form: str = "items", record_id: int | None = None) -> dict[str, str]:
        """{field: code} of a create (or update of `record_id`) that must be refused."""
        with pytest.raises(RecordValidationError) as caught, self.engine.begin() as conn:
            if record_id is None:
                self.records(conn).create(form, values)
            else:
                self.records(conn).update(form, record_id, values)
        return {issue.field: issue.code for issue in caught.value.issues}

    def ids(self, filter: Any = None, form: str = "items", sort: Any = None) -> list[int]:
        """Ids of the matching records (in `sort` order, else by id)."""
        with self.engine.connect() as conn:
            page = self.records(conn).list(form, filter=filter, sort=sort or [{"field": "id"}],
                                           page_size=500)
        return [r["id"] for r in page.records]

    def check_filters(self, key: str, cases: list[tuple[str, Any, Iterable[int]]],
                      form: str = "items") -> None:
        """Each (op, value, expected ids) finds exactly the expected records."""
        for op, value, expected in cases:
            spec = {"field": key, "op": op} if value is None else {"field": key, "op": op, "value": value}
            got = self.ids(spec, form)
            assert sorted(got) == sorted(expected), f"{key} {op} {value!r}: got {got}, expected {sorted(expected)}"
