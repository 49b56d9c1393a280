"""Which spreadsheet column goes to which field: by key, by the Chinese or English
label, or by an explicit mapping file.

A subform column is named "subform.column" (by key or label, e.g. "明细.数量" or
"items.qty"). A mapping file (YAML or JSON) maps column headers to field keys;
`null` ignores a column; a relation may say which field of the related form the
cells hold:

    客户名称: name
    手机: phone
    推荐人手机: {field: referrer, match: phone}
    产品名称: items.product
    内部备注: null

Columns of values that a spreadsheet cannot give (lookups, which are read through
a relation; formulas and rollups, which the app computes; files, which are uploaded)
are left out with a note, so an export can be imported again as it is.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from engine.definition.model import FieldDef, FormDef
from engine.errors import FormworkError, suggestion_text
from engine.fields.base import FieldType
from engine.fields.registry import FieldTypes
from engine.suggest import did_you_mean, did_you_mean_path

SPEC_KEYS = frozenset({"field", "match"})


class MappingError(FormworkError):
    pass


@dataclass
class Column:
    index: int
    header: str
    field: str                  # the field the cells fill (a subform's column for subform cells)
    ftype: FieldType
    match: str | None = None    # relation: the target field the cells hold
    subform: str | None = None  # the subform's key, for a subform column


@dataclass
class ColumnMap:
    main: list[Column]
    subform: list[Column]                            # cells of subform rows, on the same sheet
    notes: list[str] = field(default_factory=list)  # columns left out on purpose, and why

    def header_index(self, field_key: str) -> int:
        """The index of the main column filling `field_key` (the field must have one)."""
        return next(c.index for c in self.main if c.field == field_key)

    def header_of(self, field_key: str, subform: str | None = None) -> str:
        for column in self.subform if subform else self.main:
            if column.field == field_key and column.subform == subform:
                return column.header
        return f"{subform}.{field_key}" if subform else field_key


def _norm(text: Any) -> str:
    return "".join(str(text).split()).lower()


def _names(fdef: FieldDef) -> tuple[str, ...]:
    return (fdef.key, fdef.label.zh, fdef.label.en)


def _column_names(subform: FieldDef) -> list[str]:
    """What a subform's columns may be suggested as: their Chinese labels, then keys."""
    return [s.label.zh for s in subform.fields] + [s.key for s in subform.fields]


def load_mapping_file(path: Path) -> dict[str, Any]:
    """Read and check a mapping file: {column header: field key | null | {field, match}}."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError) as exc:
        raise MappingError(f"cannot read mapping file {path}: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise MappingError(f"mapping file {path} is not valid YAML or JSON{where}: "
                           f"{getattr(exc, 'problem', exc)}") from None
    if not isinstance(data, dict):
        raise MappingError(f"mapping file {path} must map column headers to field keys, "
                           "like `客户名称: name` on each line")
    problems = []
    for header, spec in data.items():
        if isinstance(spec, dict):
            unknown = set(spec) - SPEC_KEYS
            if unknown or not isinstance(spec.get("field"), str):
                problems.append(f"{header!r}: give {{field: KEY}} or {{field: KEY, match: KEY}}"
                                + (f" (unknown: {', '.join(sorted(map(str, unknown)))})" if unknown else ""))
        elif spec is not None and not isinstance(spec, str):
            problems.append(f"{header!r}: give a field key, or null to ignore the column")
    if problems:
        raise MappingError(f"mapping file {path}:\n  " + "\n  ".join(problems))
    return data


class _FormNames:
    """Looks fields (and subform columns) up by key or label, ignoring case and spaces."""

    def __init__(self, form: FormDef):
        self.form = form
        self.fields: dict[str, FieldDef] = {}
        for fdef in form.fields:
            for name in _names(fdef):
                self.fields.setdefault(_norm(name), fdef)

    def find(self, name: str) -> tuple[FieldDef, FieldDef | None] | None:
        """(field, subform column or None) for a header or a mapping target."""
        fdef = self.fields.get(_norm(name))
        if fdef is not None:
            return fdef, None
        text = str(name)
        for dot in (i for i, ch in enumerate(text) if ch in ".．"):
            parent = self.fields.get(_norm(text[:dot]))
            if parent is not None and parent.fields:
                wanted = _norm(text[dot + 1:])
                sub = next((s for s in parent.fields if wanted in map(_norm, _names(s))), None)
                if sub is not None:
                    return parent, sub
        return None

    def suggestion(self, header: str) -> str | None:
        """The nearest field, or for "subform.column" the nearest column of that subform."""
        candidates = [f.label.zh for f in self.form.fields] + self.form.field_keys()
        return did_you_mean_path(header, candidates, self._columns, dots=".．")

    def _columns(self, name: str) -> list[str] | None:
        fdef = self.fields.get(_norm(name))
        return _column_names(fdef) if fdef is not None and fdef.fields else None


def map_columns(form: FormDef, headers: list[str], explicit: dict[str, Any] | None = None,
                *, types: FieldTypes, subform_sheets: frozenset[str] = frozenset()) -> ColumnMap:
    """Columns for the headers; unknown or doubly-mapped headers and missing required
    fields are refused, all at once. `subform_sheets` names subforms whose rows come
    from sheets of their own (so their columns need not be on this sheet)."""
    names = _FormNames(form)
    given_explicit = dict(explicit or {})
    explicit = {_norm(k): v for k, v in given_explicit.items()}
    result = ColumnMap([], [])
    problems: list[str] = []
    used: dict[tuple[str, str | None], int] = {}
    for index, header in enumerate(headers):
        if not header:
            continue
        spec = explicit.get(_norm(header), header)
        if spec is None:
            continue  # ignored on purpose
        match = None
        if isinstance(spec, dict):
            spec, match = spec["field"], spec.get("match")
        found = names.find(spec)
        if found is None:
            hint = names.suggestion(header)
            problems.append(f"column {index + 1} {header!r} matches no field of {form.key!r}"
                            + suggestion_text(hint, "en")
                            + "; rename the column or map it in a mapping file (null ignores it)")
            continue
        fdef, sub = found
        target = sub or fdef
        ftype = types.of(target)
        note = _left_out(ftype, header, target)
        if note:
            result.notes.append(note)
            continue
        if sub is None and ftype.storage == "child_table":
            problems.append(f"column {index + 1} {header!r} is the subform {fdef.key!r}: give one column "
                            f"per subform field, named like '{fdef.label.zh}.{fdef.fields[0].label.zh}'")
            continue
        slot = (target.key, fdef.key if sub else None)
        if slot in used:
            problems.append(f"columns {used[slot] + 1} and {index + 1} both go to field "
                            f"{fdef.key + '.' + sub.key if sub else fdef.key!r}")
            continue
        used[slot] = index
        column = Column(index, header, target.key, ftype, match, fdef.key if sub else None)
        (result.subform if sub else result.main).append(column)
    problems += _missing_required(form, result, subform_sheets, types)
    if problems:
        raise MappingError("the columns do not match the form:\n  " + "\n  ".join(problems))
    present = {_norm(h) for h in headers}
    for header in given_explicit:
        if _norm(header) not in present:
            result.notes.append(f"the mapping names column {header!r}, which the file does not have")
    return result


def map_subform_sheet(subform: FieldDef, headers: list[str], sheet: str,
                      notes: list[str] | None = None, *, types: FieldTypes) -> list[Column]:
    """Columns of a sheet holding one subform's rows (as exports write it): the first
    column is the record's row on the main sheet, the others name subform fields.
    Columns left out on purpose (formula columns) are said in `notes`."""
    columns, problems = [], []
    wanted = {_norm(name): sub for sub in subform.fields for name in _names(sub)}
    for index, header in enumerate(headers[1:], start=1):
        if not header:
            continue
        sub = wanted.get(_norm(header))
        if sub is None:
            hint = did_you_mean(header, _column_names(subform))
            problems.append(f"sheet {sheet!r}, column {index + 1} {header!r} matches no field of the subform "
                            f"{subform.key!r}" + suggestion_text(hint, "en"))
            continue
        if types.of(sub).computed:      # exported, computed again on import
            if notes is not None:
                notes.append(f"sheet {sheet!r}, column {header!r} ({subform.key}.{sub.key}) is computed by "
                             "the app and is not imported")
            continue
        columns.append(Column(index, header, sub.key, types.of(sub), subform=subform.key))
    missing = [s for s in subform.fields if _needs_column(s, types) and s.key not in {c.field for c in columns}]
    problems += [f"sheet {sheet!r} has no column for the required subform field {s.key!r} ('{s.label.zh}')"
                 for s in missing]
    if problems:
        raise MappingError("the subform sheet does not match the form:\n  " + "\n  ".join(problems))
    return columns


def _left_out(ftype: FieldType, header: str, fdef: FieldDef) -> str | None:
    if ftype.storage == "none":
        return f"column {header!r} ({fdef.key}) is read through a relation and is not imported"
    if ftype.computed:
        return f"column {header!r} ({fdef.key}) is computed by the app and is not imported"
    if not getattr(ftype, "cell_importable", True):
        return f"column {header!r} ({fdef.key}) holds files, which are uploaded, not imported from a spreadsheet"
    return None


def _missing_required(form: FormDef, columns: ColumnMap, subform_sheets: frozenset[str],
                      types: FieldTypes) -> list[str]:
    """Required fields that no column fills and no default covers. Only a field required
    whatever a row holds counts: one required under a condition (`visible_if`) or filled
    by a default formula is checked row by row by the record service."""
    given = {c.field for c in columns.main}
    given_sub = {(c.subform, c.field) for c in columns.subform}
    subforms_given = {c.subform for c in columns.subform} | set(subform_sheets)
    problems = []
    for fdef in form.fields:
        ftype = types.of(fdef)
        if ftype.storage == "child_table":
            if fdef.key in subforms_given and fdef.key not in subform_sheets:
                problems += [f"the file has no column for {fdef.key}.{sub.key} ('{fdef.label.zh}.{sub.label.zh}'), "
                             "which is required; add the column or map one to it"
                             for sub in fdef.fields if _needs_column(sub, types) and (fdef.key, sub.key) not in given_sub]
            if fdef.key not in subforms_given and (_always_required(fdef) or fdef.option("min_rows")):
                problems.append(f"the file has no columns for the required subform {fdef.key!r} "
                                f"('{fdef.label.zh}.…' columns or a sheet named '{fdef.label.zh}')")
        elif _needs_column(fdef, types) and fdef.key not in given:
            problems.append(f"the file has no column for the required field {fdef.key!r} "
                            f"('{fdef.label.zh}'); add the column or map one to it")
    return problems


def _needs_column(fdef: FieldDef, types: FieldTypes) -> bool:
    ftype = types.of(fdef)
    if not _always_required(fdef) or fdef.default is not None or ftype.system_assigned or ftype.computed \
            or ftype.storage == "none":
        return False
    return getattr(ftype, "initial_value", None) is None   # e.g. the creating user


def _always_required(fdef: FieldDef) -> bool:
    """Required for every row, so that a file without its column can hold no valid row: a
    hidden field (`visible_if` not TRUE) is never required, and a default formula may fill
    the field in."""
    return fdef.required and fdef.visible_if is None and fdef.default_formula is None
