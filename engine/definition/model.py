"""The typed model of an app definition, built from a validated document.

The loader and the JSON Schema guarantee the shape; `semantic.py` guarantees
the meaning (references resolve, keys are unique). Code that runs apps reads
these objects, never the raw dict.

`from_dict` also accepts a document that failed the JSON Schema, so that the
semantic pass can report its other problems at the same time: forms and fields
that are not mappings or have no text key are left out (the others keep their
paths), and types and names that are not text become None. Such a model is only
ever used to find problems.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator
from engine.errors import NotFound
from engine.suggest import did_you_mean

FORMAT_VERSION = 1

# Keys every field may carry; everything else on a field is its type's config.
COMMON_FIELD_KEYS = frozenset({
    "key", "type", "label", "description", "required", "unique", "default",
    "renamed_from", "placeholder", "index", "default_formula", "visible_if",
})


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _keyed(items: Any) -> Iterator[tuple[int, dict]]:
    """(index, item) for the items of a list that are mappings with a text key."""
    if isinstance(items, list):
        for index, item in enumerate(items):
            if isinstance(item, dict) and isinstance(item.get("key"), str):
                yield index, item


@dataclass(frozen=True)
class Label:
    zh: str
    en: str

    @classmethod
    def parse(cls, raw: Any) -> "Label":
        if isinstance(raw, str):
            return cls(raw, raw)
        if isinstance(raw, dict):
            zh = raw.get("zh") or raw.get("en") or ""
            en = raw.get("en") or raw.get("zh") or ""
            return cls(str(zh), str(en))
        return cls("", "")

    def get(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh

    def as_dict(self) -> dict[str, str]:
        return {"zh": self.zh, "en": self.en}


@dataclass
class FieldDef:
    key: str
    type: str
    label: Label
    path: str
    required: bool = False
    unique: bool = False
    default: Any = None
    description: Label | None = None
    renamed_from: str | None = None
    index: bool = False   # ask for a database index (filters and sorts on big tables)
    config: dict[str, Any] = field(default_factory=dict)
    fields: list["FieldDef"] = field(default_factory=list)  # subform columns
    default_formula: str | None = None   # a formula giving a new record's value (docs/formula-fields.md)
    visible_if: str | None = None        # a formula: the field is shown (and may be required) when TRUE

    def option(self, name: str, fallback: Any = None) -> Any:
        return self.config.get(name, fallback)

    def subfield(self, key: str) -> "FieldDef | None":
        return next((f for f in self.fields if f.key == key), None)

    @classmethod
    def from_dict(cls, raw: dict, path: str) -> "FieldDef":
        config = {k: v for k, v in raw.items() if k not in COMMON_FIELD_KEYS and k != "fields"}
        return cls(
            key=raw["key"], type=_text(raw.get("type")), label=Label.parse(raw.get("label")),
            path=path, required=raw.get("required") is True, unique=raw.get("unique") is True,
            default=raw.get("default"),
            description=Label.parse(raw["description"]) if raw.get("description") else None,
            renamed_from=_text(raw.get("renamed_from")), index=raw.get("index") is True,
            config=config,
            fields=[cls.from_dict(sub, f"{path}.fields[{i}]") for i, sub in _keyed(raw.get("fields"))],
            default_formula=_text(raw.get("default_formula")), visible_if=_text(raw.get("visible_if")),
        )


@dataclass
class FormDef:
    key: str
    label: Label
    path: str
    fields: list[FieldDef]
    description: Label | None = None
    renamed_from: str | None = None
    title_field: str | None = None      # shown when a record is referenced
    default_sort: list[dict] = field(default_factory=list)
    # Validation rules: [{key, formula, message: {zh, en}, fields: [...]}] (docs/formula-fields.md).
    rules: list[dict] = field(default_factory=list)
    # Workflows, as written (engine/workflow reads them: model, checks, compiled flows).
    workflows: list[dict] = field(default_factory=list)

    def field(self, key: str) -> FieldDef | None:
        return next((f for f in self.fields if f.key == key), None)

    def field_keys(self) -> list[str]:
        return [f.key for f in self.fields]

    def title_key(self) -> str | None:
        if self.title_field:
            return self.title_field
        first_text = next((f.key for f in self.fields if f.type in ("text", "serial")), None)
        return first_text

    @classmethod
    def from_dict(cls, raw: dict, path: str) -> "FormDef":
        sort = raw.get("default_sort")
        return cls(
            key=raw["key"], label=Label.parse(raw.get("label")), path=path,
            fields=[FieldDef.from_dict(f, f"{path}.fields[{i}]") for i, f in _keyed(raw.get("fields"))],
            description=Label.parse(raw["description"]) if raw.get("description") else None,
            renamed_from=_text(raw.get("renamed_from")), title_field=_text(raw.get("title_field")),
            default_sort=list(sort) if isinstance(sort, list) else [],
            rules=list(raw["rules"]) if isinstance(raw.get("rules"), list) else [],
            workflows=list(raw["workflows"]) if isinstance(raw.get("workflows"), list) else [],
        )


@dataclass
class AppDef:
    key: str
    label: Label
    format_version: int
    forms: list[FormDef]
    version: str | None = None           # the author's version string, informative
    description: Label | None = None
    raw: dict = field(default_factory=dict)   # the validated document, stored on install
    source_name: str | None = None

    def form(self, key: str) -> FormDef | None:
        return next((f for f in self.forms if f.key == key), None)

    def require_form(self, key: str) -> FormDef:
        form = self.form(key)
        if form is None:
            hint = did_you_mean(key, [f.key for f in self.forms])
            raise NotFound(f"app {self.key!r} has no form {key!r}"
                           + (f"; did you mean {hint!r}?" if hint else ""))
        return form

    @classmethod
    def from_dict(cls, raw: dict, source_name: str | None = None) -> "AppDef":
        app = raw.get("app") if isinstance(raw.get("app"), dict) else {}
        version = raw.get("format_version", FORMAT_VERSION)
        return cls(
            key=_text(app.get("key")), label=Label.parse(app.get("label")),
            format_version=version if isinstance(version, int) and not isinstance(version, bool) else 0,
            forms=[FormDef.from_dict(f, f"forms[{i}]") for i, f in _keyed(raw.get("forms"))],
            version=str(app["version"]) if app.get("version") is not None else None,
            description=Label.parse(app["description"]) if app.get("description") else None,
            raw=raw, source_name=source_name,
        )
