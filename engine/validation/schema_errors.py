"""The problems the JSON Schema finds, in words: each says what is wrong, where
(its path) and how to fix it, with a "did you mean" where a name is misspelt.
jsonschema's own messages ("'x' is a required property") are never shown as such.

The schema is applied field by field (see `ShapeChecker`): the published schema
picks a field's options with one `if` per field type, which jsonschema evaluates
for every field (28 types, 7,000 fields in a large app: seconds); here each field
goes straight to its type's part of the same schema.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Iterator

from jsonschema import Draft202012Validator, ValidationError

from engine.definition.identifiers import KEY_PATTERN
from engine.definition.model import FORMAT_VERSION
from engine.errors import Problem
from engine.fields.registry import all_types, type_names
from engine.suggest import did_you_mean
from engine.validation.schema import definition_schema, type_def_name

# The path of a field (of a form, or a subform column): forms[1].fields[2].fields[0]
FIELD_PATH = re.compile(r"^forms\[\d+\](?:\.fields\[\d+\])+")

_LANGUAGES = {"zh": "Chinese (zh)", "en": "English (en)"}
_REQUIRED_HINTS = {
    "format_version": f"add `format_version: {FORMAT_VERSION}` as the first line",
    "app": "add `app:` with the app's key and label, e.g. `app: {key: my_app, label: {zh: 我的应用, "
           "en: My app}}`",
    "forms": "add `forms:` with the list of forms (`forms: []` for none yet)",
    "key": "every app, form and field needs a stable key in snake_case, like `key: customer_name`",
    "label": "add `label: {zh: 中文名称, en: English name}`",
    "type": "add the field's type, like `type: text` (the types are in docs/field-types.md)",
    "zh": "add the Chinese text, like `zh: 中文名称`; labels are shown in Chinese and English",
    "en": "add the English text, like `en: English name`; labels are shown in Chinese and English",
    "fields": "add `fields:` with the list of the form's fields",
}


class ShapeChecker:
    """The published JSON Schema, applied as: the document without the options of
    fields (every field's common keys are still checked), then each field against
    the options of its own type, subform columns included. The verdicts are the
    published schema's (a test compares them)."""

    def __init__(self) -> None:
        schema = definition_schema()
        defs = dict(schema["$defs"])
        defs["field"] = {k: v for k, v in defs["field"].items() if k != "allOf"}
        # Looking a $ref up costs more than checking a label: write them out, but for
        # the (recursive) field, which subform columns refer to.
        defs = {name: _inline_refs(part, defs) for name, part in defs.items()}
        schema = _inline_refs({**schema, "$defs": defs}, defs)
        self.document = Draft202012Validator(schema)
        self.by_type = {name: Draft202012Validator({"$defs": defs, "$ref": f"#/$defs/{type_def_name(name)}"})
                        for name in all_types()}
        self.with_columns = {name for name, cls in all_types().items() if "fields" in cls.config_schema}

    def errors(self, data: Any) -> Iterator[tuple[list, ValidationError]]:
        """(path of the validated part, error) for every error in `data`."""
        for error in self.document.iter_errors(data):
            yield [], error
        for path, field in self._fields(data):
            validator = self.by_type.get(_type_name(field))
            if validator is not None:
                for error in validator.iter_errors(field):
                    yield path, error

    def _fields(self, data: Any) -> Iterator[tuple[list, dict]]:
        forms = data.get("forms") if isinstance(data, dict) else None
        for i, form in enumerate(forms if isinstance(forms, list) else []):
            if isinstance(form, dict):
                yield from self._field_list(form.get("fields"), ["forms", i])

    def _field_list(self, fields: Any, parent: list) -> Iterator[tuple[list, dict]]:
        for j, field in enumerate(fields if isinstance(fields, list) else []):
            if isinstance(field, dict):
                path = [*parent, "fields", j]
                yield path, field
                if _type_name(field) in self.with_columns:
                    yield from self._field_list(field.get("fields"), path)


def _inline_refs(part: Any, defs: dict) -> Any:
    """`part` with each {"$ref": "#/$defs/NAME"} but the field's replaced by NAME's schema
    (its other keywords kept beside it)."""
    if isinstance(part, list):
        return [_inline_refs(item, defs) for item in part]
    if not isinstance(part, dict):
        return part
    ref = part.get("$ref", "")
    if ref.startswith("#/$defs/") and ref != "#/$defs/field":
        target = _inline_refs(defs[ref.removeprefix("#/$defs/")], defs)
        beside = {k: _inline_refs(v, defs) for k, v in part.items() if k != "$ref"}
        if set(beside) - {"description", "title"}:   # keywords of its own: keep both apart
            return {**beside, "allOf": [target]}
        return {**beside, **target}
    return {k: (_inline_refs(v, defs) if k != "$defs" else v) for k, v in part.items()}


def _type_name(field: dict) -> str | None:
    kind = field.get("type")
    return kind if isinstance(kind, str) else None


@lru_cache(maxsize=1)
def shape_checker() -> ShapeChecker:
    return ShapeChecker()


def path_text(parts) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def schema_problems(data: Any) -> list[Problem]:
    problems = []
    for prefix, error in shape_checker().errors(data):
        option = _option_problem(error, prefix, data)
        problems.extend([option] if option is not None else _translate(error, prefix))
    return unique_problems(problems)


def _option_problem(error: ValidationError, prefix: list, data: Any) -> Problem | None:
    """A field option whose text its type's pattern refused (a date bound '2000/01/01'),
    explained by the field type rather than by the pattern."""
    if error.validator != "pattern" or not prefix or len(error.absolute_path) != 1:
        return None
    field = _part_at(data, prefix)
    cls = all_types().get(_type_name(field)) if isinstance(field, dict) else None
    if cls is None:
        return None
    option = error.absolute_path[0]
    return cls.option_problem(path_text([*prefix, option]), str(option), error.instance)


def _part_at(data: Any, parts: list) -> Any:
    """The part of the document at a path of keys and indexes (None when there is none)."""
    for part in parts:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def unique_problems(problems: list[Problem]) -> list[Problem]:
    """One message per place is enough: keep the first of each (path, message)."""
    unique, seen = [], set()
    for p in problems:
        if (p.path, p.message) not in seen:
            seen.add((p.path, p.message))
            unique.append(p)
    return unique


def _translate(error: ValidationError, prefix: list) -> list[Problem]:
    path = path_text([*prefix, *error.absolute_path])
    kind = error.validator
    instance = error.instance
    if kind in ("anyOf", "oneOf") and error.context:
        return _translate_alternatives(error, path, prefix)
    if kind == "required":
        return [_missing(path, key, instance) for key in error.validator_value
                if isinstance(instance, dict) and key not in instance]
    if kind == "additionalProperties":
        return _unknown_keys(error, path)
    if kind == "pattern" and error.validator_value == KEY_PATTERN:
        return [_bad_key(path, instance)]
    if kind == "enum" and path.endswith(".type") and "fields[" in path:
        return [_unknown_type(path, instance)]
    if kind == "const" and path == "format_version":
        return [_format_version(instance, error.validator_value)]
    if kind == "type":
        return [_wrong_type(path, error)]
    if kind in ("maxLength", "minLength", "minItems", "maxItems", "minimum", "maximum"):
        return [_out_of_bounds(path, kind, error.validator_value, instance)]
    if kind == "enum":
        options = error.validator_value
        return [Problem(path, f"{instance!r} is not one of {', '.join(map(repr, options))}; use one of them",
                        code="enum", suggestion=did_you_mean(str(instance), [str(o) for o in options]))]
    return [Problem(path, f"{error.message}; see docs/definitions.md", code=kind)]


def _translate_alternatives(error: ValidationError, path: str, prefix: list) -> list[Problem]:
    """A value that matches none of several forms (an option is text or a mapping):
    explain against the form whose kind of value it has, or list the kinds."""
    branches: dict[int, list] = {}
    for sub in error.context:
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)
    for errors in branches.values():
        wrong_kind = any(e.validator == "type" and not e.relative_path for e in errors)
        if not wrong_kind:
            return [p for e in errors for p in _translate(e, prefix)]
    kinds = [branch.get("type") for branch in error.validator_value if isinstance(branch, dict)]
    hint = ": write the option as text, like `- vip`, or as `{value: vip, label: {zh: 贵宾, en: VIP}}`" \
        if ".options[" in path else ""
    return [Problem(path, f"expected {' or '.join(_kind(k) for k in kinds if k)}, got {_kind_of(error.instance)}"
                    f"{hint}", code="type")]


def _missing(path: str, key: str, instance: dict) -> Problem:
    if ".default_sort[" in path:
        hint = "name the field to sort by, like `{field: created_at, dir: desc}`"
    elif ".options[" in path:
        hint = "an option needs the value to store, like `{value: vip, label: {zh: 贵宾, en: VIP}}`"
    elif path.startswith("permissions[") and path.endswith("]"):
        hint = ("a permission set names its `key`, who holds it (the `roles`, or `users` by account, or "
                "both) and, under `forms`, what it allows on each form; see docs/permissions.md")
    elif path.startswith("automations[") and isinstance(instance.get("kind"), str):
        hint = f"a {instance['kind']} {'trigger' if path.endswith('.trigger') else 'action'} needs it; see " \
               "docs/automations.md"
    elif key in _REQUIRED_HINTS:
        hint = _REQUIRED_HINTS[key]
    else:   # an option of a field type
        hint = f"a {instance.get('type')} field needs it; see docs/field-types.md"
    return Problem(path, f"missing required key {key!r}: {hint}", code="required")


def _unknown_keys(error, path: str) -> list[Problem]:
    allowed = sorted((error.schema.get("properties") or {}).keys())
    instance = error.instance
    field_type = instance.get("type") if isinstance(instance, dict) and "fields[" in path else None
    where = f" for a {field_type} field" if isinstance(field_type, str) else ""
    return [Problem(f"{path}.{key}" if path else key,
                    f"unknown key {key!r}{where}: remove it or use one of {', '.join(allowed)}",
                    code="unknown_key", suggestion=did_you_mean(key, allowed))
            for key in instance if key not in allowed]


def _bad_key(path: str, value: str) -> Problem:
    bad = re.search(r"[^a-z0-9_]", value)
    if not value:
        why = "it is empty"
    elif not value.isascii():
        why = "keys are ASCII (the Chinese name belongs in the label)"
    elif bad and bad.group().isupper():
        why = "keys are lower case"
    elif bad:
        why = f"{bad.group()!r} is not allowed in a key"
    elif "__" in value:
        why = "double underscores are reserved for table names"
    elif not value[0].isalpha():
        why = "a key starts with a letter"
    else:
        why = "a key does not end with an underscore"
    return Problem(path, f"{value!r} is not a valid key: {why}; write it in snake_case: lower-case letters, "
                   "digits and single underscores, starting with a letter, like 'customer_name'",
                   code="bad_key", suggestion=_snake_case(value))


def _snake_case(text: str) -> str | None:
    """'CustomerLevel' -> 'customer_level', 'a;drop table' -> 'a_drop_table'; None if
    nothing usable is left (a Chinese name, say)."""
    text = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", text).lower()
    slug = re.sub(r"_+", "_", re.sub(r"[^a-z0-9]+", "_", text)).strip("_")
    return slug if re.fullmatch(KEY_PATTERN, slug) else None


def _unknown_type(path: str, name: Any) -> Problem:
    if not isinstance(name, str):
        return Problem(path, f"a field type is one name, like `type: text`, got {_kind_of(name)}",
                       code="type")
    return Problem(path, f"unknown field type {name!r}; the types are listed in docs/field-types.md",
                   code="unknown_type", suggestion=did_you_mean(str(name), type_names()))


def _format_version(value: Any, supported: int) -> Problem:
    if str(value).strip() == str(supported):
        return Problem("format_version", f"format_version must be the number {supported}, not the text "
                       f"{value!r}: write `format_version: {supported}` without quotes", code="format_version")
    return Problem("format_version", f"format_version {value!r} is not supported; this Formwork reads "
                   f"format_version {supported}: write `format_version: {supported}`", code="format_version")


def _wrong_type(path: str, error) -> Problem:
    expected, instance = error.validator_value, error.instance
    if error.schema.get("required") == ["zh", "en"]:
        example = instance if isinstance(instance, str) and len(instance) <= 40 else "中文"
        return Problem(path, f"a label has a Chinese and an English text, got {_kind_of(instance)}: write it "
                       f"as `{{zh: {example}, en: English text}}`", code="type")
    hint = ""
    if expected == "object" and FIELD_PATH.fullmatch(path):
        hint = ": a field is a mapping like `{key: phone, type: phone, label: {zh: 电话, en: Phone}}`"
    elif expected == "object" and re.fullmatch(r"forms\[\d+\]", path):
        hint = ": a form is a mapping with key, label and fields"
    elif expected == "object":
        hint = ": write `name: value` pairs, one per line"
    elif expected == "string" and isinstance(instance, (int, float)):
        hint = ": write text (in quotes if it looks like a number)"
    elif expected == "boolean" and isinstance(instance, str):
        hint = " (yes/no/on/off are text here): write true or false"
    elif expected in ("integer", "number") and isinstance(instance, str):
        hint = ": write the number without quotes"
    elif expected == "array" and instance is not None:
        hint = ": write a list, one `- item` per line"
    return Problem(path, f"expected {_kind(expected)}, got {_kind_of(instance)}{hint}", code="type")


def _out_of_bounds(path: str, kind: str, limit: int, instance: Any) -> Problem:
    name = path.rsplit(".", 1)[-1] if path else "value"
    if kind == "maxLength":
        return Problem(path, f"{name} is {len(instance)} characters long; at most {limit} are allowed: shorten it",
                       code="too_long")
    if kind == "minLength" and name in _LANGUAGES:
        return Problem(path, f"the {_LANGUAGES[name]} text is empty: write it, labels are shown in Chinese and "
                       "English", code="too_short")
    if kind == "minLength":
        return Problem(path, f"{name} is empty: write the text", code="too_short")
    if kind == "minItems":
        return Problem(path, f"{name} is empty: list at least {limit} item{'s' if limit > 1 else ''}",
                       code="too_short")
    if kind == "maxItems":
        return Problem(path, f"{name} has {len(instance)} items; at most {limit} are allowed", code="too_long")
    relation = "less than the minimum" if kind == "minimum" else "greater than the maximum"
    return Problem(path, f"{name} {instance} is {relation} {limit}: use a value from the allowed range",
                   code="out_of_range")


def _kind(expected) -> str:
    names = {"object": "a mapping", "array": "a list", "string": "text", "integer": "a whole number",
             "number": "a number", "boolean": "true or false", "null": "null"}
    if isinstance(expected, list):
        return " or ".join(names.get(e, e) for e in expected)
    return names.get(expected, expected)


def _kind_of(value) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if value is None:
        return "nothing (null)"
    return f"text {str(value)[:40]!r}"
