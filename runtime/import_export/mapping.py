"""Which spreadsheet column goes to which field: by key, by the Chinese or English
label, or by an explicit mapping file.

A mapping file (YAML or JSON) maps column headers to field keys; `null` ignores a
column; a relation may say which field of the related form the cells hold:

    客户名称: name
    手机: phone
    推荐人手机: {field: referrer, match: phone}
    内部备注: null
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from engine.definition.model import FormDef
from engine.definition.suggest import did_you_mean
from engine.errors import FormworkError
from engine.fields.base import FieldType
from engine.fields.registry import field_type


class MappingError(FormworkError):
    pass


@dataclass
class Column:
    index: int
    header: str
    field: str
    ftype: FieldType
    match: str | None = None   # relation: the target field the cells hold


def _norm(text: str) -> str:
    return "".join(str(text).split()).lower()


def load_mapping_file(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise MappingError(f"cannot read mapping file {path}: {exc}") from None
    if not isinstance(data, dict):
        raise MappingError(f"mapping file {path} must map column headers to field keys")
    return data


def map_columns(form: FormDef, headers: list[str], explicit: dict[str, Any] | None = None) -> list[Column]:
    """Columns for the headers; unknown or doubly-mapped headers are refused, all at once."""
    by_name: dict[str, str] = {}
    for fdef in form.fields:
        for name in (fdef.key, fdef.label.zh, fdef.label.en):
            by_name.setdefault(_norm(name), fdef.key)
    explicit = {_norm(k): v for k, v in (explicit or {}).items()}
    columns, problems, used = [], [], {}
    for index, header in enumerate(headers):
        if not header:
            continue
        spec = explicit.get(_norm(header), by_name.get(_norm(header)))
        if _norm(header) in explicit and spec is None:
            continue  # ignored on purpose
        match = None
        if isinstance(spec, dict):
            spec, match = spec.get("field"), spec.get("match")
        fdef = form.field(spec) if isinstance(spec, str) else None
        if fdef is None:
            hint = did_you_mean(header, [f.label.zh for f in form.fields] + form.field_keys())
            problems.append(f"column {index + 1} {header!r} matches no field of {form.key!r}"
                            + (f" (did you mean {hint!r}?)" if hint else "")
                            + "; rename the column or map it in a mapping file (null ignores it)")
            continue
        ftype = field_type(fdef)
        if ftype.storage == "none":
            continue  # a value read through a relation (lookup): exported for reading only
        if fdef.key in used:
            problems.append(f"columns {used[fdef.key] + 1} and {index + 1} both go to field {fdef.key!r}")
            continue
        used[fdef.key] = index
        columns.append(Column(index, header, fdef.key, ftype, match))
    if problems:
        raise MappingError("the columns do not match the form:\n  " + "\n  ".join(problems))
    return columns
