"""Turning user input into storable values, collecting every problem at once."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from engine.computed.env import evaluation_context
from engine.computed.row_formulas import subforms_with_formulas
from engine.definition.model import AppDef, FieldDef, FormDef
from engine.errors import FieldError, FieldIssue
from engine.fields.base import FieldType, Reference, ValueContext
from engine.i18n import register_messages
from engine.query.tables import AppTables
from engine.storage import system
from engine.suggest import hint_for

register_messages({
    "unknown_field": {"zh": "表单中没有字段“{field}”{hint}", "en": "The form has no field '{field}'{hint}"},
    "read_only": {"zh": "该字段由系统生成，不能修改", "en": "This field is assigned by the system and cannot be changed"},
})

MISSING = object()
_REFERENCE_TABLES = {"users": system.users, "departments": system.departments, "files": system.files}


@dataclass
class CleanedRecord:
    """One record's cleaned values, split by where they are stored."""

    values: dict[str, Any] = field(default_factory=dict)          # key -> Python value (column fields)
    links: dict[str, list[int]] = field(default_factory=dict)      # multiple relations
    subforms: dict[str, list[dict]] = field(default_factory=dict)  # subform rows (cleaned)
    issues: list[FieldIssue] = field(default_factory=list)


class RecordCleaner:
    """Cleans input for one form; used for one record or a whole batch."""

    def __init__(self, app: AppDef, form: FormDef, ctx: ValueContext):
        self.app, self.form, self.ctx = app, form, ctx
        self.types: dict[str, FieldType] = {f.key: app.types.of(f) for f in form.fields}
        self.sub_types: dict[str, dict[str, FieldType]] = {
            f.key: {s.key: app.types.of(s) for s in f.fields} for f in form.fields if f.fields}
        self.formulas = app.record_formulas(form.key)   # default formulas, visibility conditions
        # Formula columns of subforms (line totals), computed as each record's rows are cleaned.
        self.row_formulas = {f.key: app.row_formulas(f) for f in subforms_with_formulas(form)}
        self._row_context = evaluation_context(ctx) if self.row_formulas else None
        # Asked for every field of every record of a batch (100k rows in an import): once here.
        self._known = frozenset(self.types)
        self._writable = {f.key: self.writable(f) for f in form.fields}
        self._referring = frozenset(key for key, t in self.types.items()
                                    if type(t).references is not FieldType.references)

    def writable(self, fdef: FieldDef) -> bool:
        return self.types[fdef.key].accepts_input

    def clean(self, raw: dict[str, Any], *, creating: bool,
              already_clean: frozenset[str] = frozenset(), current: Any = None) -> CleanedRecord:
        """`already_clean` names fields whose values came out of the field type's own
        parser (imports): they are not cleaned twice, but required, references and
        unique are still checked. `current` is the stored row of a record being updated
        (its visibility conditions read the fields the update leaves as they are)."""
        out = CleanedRecord()
        if not isinstance(raw, dict):
            out.issues.append(FieldIssue("*", "invalid_type", {"expected": "object"}))
            return out
        known = self._known
        for key in raw:
            if key not in known:
                out.issues.append(FieldIssue(str(key), "unknown_field",
                                             {"field": str(key)[:100], "hint": hint_for(str(key), list(known))}))
            elif self.types[key].computed:
                out.issues.append(FieldIssue(key, "computed_read_only"))
            elif self.types[key].system_assigned and not creating:
                out.issues.append(FieldIssue(key, "read_only"))
            elif self.types[key].storage == "none":
                out.issues.append(FieldIssue(key, "lookup_read_only"))
        defaulted: list[FieldDef] = []
        for fdef in self.form.fields:
            if not self._writable[fdef.key]:
                # An import may keep the serial numbers of historic records.
                if creating and fdef.key in already_clean and raw.get(fdef.key) is not None \
                        and self.types[fdef.key].system_assigned:
                    out.values[fdef.key] = raw[fdef.key]
                continue
            value = raw.get(fdef.key, MISSING)
            if value is MISSING:
                if not creating:
                    continue
                if fdef.key in self.formulas.defaults:
                    defaulted.append(fdef)      # after the fields it may read
                    continue
                value = self._initial(fdef)
            elif fdef.key in already_clean:
                self._keep_clean(fdef, value, out)
                continue
            self._clean_one(fdef, value, out)
        for fdef in defaulted:
            self._default_from_formula(fdef, out)
        if self.formulas.visibility:
            self._apply_visibility(raw, out, creating, current)
        return out

    def _default_from_formula(self, fdef: FieldDef, out: CleanedRecord) -> None:
        try:
            value = self.formulas.default_value(fdef, self.types[fdef.key], out.values, self.types, self.ctx)
        except FieldError as exc:
            out.issues.append(FieldIssue(fdef.key, exc.code, exc.params))
            return
        self._clean_one(fdef, value, out, already_clean=True)

    def _apply_visibility(self, raw: dict, out: CleanedRecord, creating: bool, current: Any) -> None:
        """A hidden field is never required; a field an update makes visible must be
        filled in if it is required."""
        values = {} if current is None else {
            key: t.from_row(current._mapping) for key, t in self.types.items() if t.storage == "column"}
        values.update(out.values)
        hidden = self.formulas.hidden(self.types, values, self.ctx)
        waived = [i for i in out.issues if i.code == "required" and i.field in hidden]
        out.issues = [i for i in out.issues if i not in waived]
        for key in {i.field for i in waived if i.row is None}:
            self._store_empty(key, out)    # the hidden field is emptied as asked
        if creating:
            return
        flagged = {i.field for i in out.issues}
        for key in self.formulas.visibility:
            fdef = self.form.field(key)
            if fdef.required and key not in hidden and key not in flagged and key not in raw \
                    and self.types[key].storage == "column" and self.types[key].is_empty(values.get(key)):
                out.issues.append(FieldIssue(key, "required"))

    def _store_empty(self, key: str, out: CleanedRecord) -> None:
        storage = self.types[key].storage
        if storage == "link_table":
            out.links[key] = []
        elif storage == "child_table":
            out.subforms[key] = []
        else:
            out.values[key] = None

    def _keep_clean(self, fdef: FieldDef, value: Any, out: CleanedRecord) -> None:
        ftype = self.types[fdef.key]
        if fdef.required and (value is None or ftype.is_empty(value)):
            out.issues.append(FieldIssue(fdef.key, "required"))
        elif ftype.storage == "link_table":
            out.links[fdef.key] = list(value or [])
        else:
            out.values[fdef.key] = value

    def _initial(self, fdef: FieldDef) -> Any:
        ftype = self.types[fdef.key]
        if fdef.default is not None:
            return fdef.default
        initial = getattr(ftype, "initial_value", None)
        return initial(self.ctx) if initial else None

    def _clean_one(self, fdef: FieldDef, raw: Any, out: CleanedRecord, already_clean: bool = False) -> None:
        ftype = self.types[fdef.key]
        if ftype.is_empty(raw):   # the type decides (a subform with min_rows: no rows is too few)
            value = None
        elif already_clean:
            value = raw
        else:
            try:
                value = ftype.clean(raw, self.ctx)
            except FieldError as exc:
                out.issues.append(FieldIssue(fdef.key, exc.code, exc.params))
                return
        if fdef.required and (value is None or ftype.is_empty(value)):
            out.issues.append(FieldIssue(fdef.key, "required"))
            return
        if ftype.storage == "child_table":
            out.subforms[fdef.key] = self._clean_rows(fdef, value or [], out)
        elif ftype.storage == "link_table":
            out.links[fdef.key] = list(value or [])
        else:
            out.values[fdef.key] = value

    def _clean_rows(self, fdef: FieldDef, rows: list[dict], out: CleanedRecord) -> list[dict]:
        types = self.sub_types[fdef.key]
        cleaned_rows = []
        for index, row in enumerate(rows):
            cleaned: dict[str, Any] = {}
            for key in row:
                if key not in types and key != "id":
                    params = {"column": str(key)[:100], "hint": hint_for(str(key), list(types))}
                    out.issues.append(FieldIssue(fdef.key, "subform_unknown_column", params,
                                                 row=index, subfield=str(key)))
                elif key in types and types[key].computed:
                    out.issues.append(FieldIssue(fdef.key, "subform_computed_read_only",
                                                 {"column": key, "row": index + 1}, row=index, subfield=key))
            for sub in fdef.fields:
                stype = types[sub.key]
                if stype.computed:
                    continue        # computed below, once the row's other columns are clean
                raw = row.get(sub.key, MISSING)
                if raw is MISSING:
                    raw = sub.default
                value = None
                if raw is not None and not stype.is_empty(raw):
                    try:
                        value = stype.clean(raw, self.ctx)
                    except FieldError as exc:
                        out.issues.append(FieldIssue(fdef.key, exc.code, exc.params, row=index, subfield=sub.key))
                        continue
                if sub.required and value is None:
                    out.issues.append(FieldIssue(fdef.key, "required", {}, row=index, subfield=sub.key))
                    continue
                cleaned[sub.key] = value
            cleaned_rows.append(cleaned)
        formulas = self.row_formulas.get(fdef.key)
        if formulas is not None:
            formulas.compute(cleaned_rows, self.ctx, self._row_context)
        return cleaned_rows

    def references(self, record: CleanedRecord) -> list[tuple[str, Reference]]:
        """(field key, Reference) for every id the record points at."""
        found = []
        referring = self._referring
        for key, value in list(record.values.items()) + list(record.links.items()):
            if key in referring:
                ref = self.types[key].references(value)
                if ref:
                    found.append((key, ref))
        for key, rows in record.subforms.items():
            for row in rows:
                for sub_key, value in row.items():
                    ref = self.sub_types[key][sub_key].references(value)
                    if ref:
                        found.append((key, ref))
        return found


def check_references(conn: sa.Connection, tables: AppTables, cleaner: RecordCleaner,
                     records: list[CleanedRecord]) -> None:
    """Add an issue to each record that points at something missing: one query for all
    the targets of the batch (a UNION ALL of one index lookup per target)."""
    wanted: dict[tuple[str, str | None], set[int]] = {}
    per_record = []
    for record in records:
        refs = cleaner.references(record)
        per_record.append(refs)
        for _key, ref in refs:
            wanted.setdefault((ref.kind, ref.target), set()).update(ref.ids)
    existing: dict[tuple[str, str | None], set[int]] = {target: set() for target in wanted}
    targets = list(wanted)
    parts = []
    for number, (kind, target) in enumerate(targets):
        table = tables.form_table(target) if kind == "form" else _REFERENCE_TABLES[kind]
        alive = (table.c.deleted_at.is_(None),) if kind == "form" else ()
        parts.append(sa.select(sa.literal(number, sa.Integer).label("target"), table.c.id.label("id"))
                     .where(table.c.id.in_(wanted[(kind, target)]), *alive))
    if parts:
        for number, found_id in conn.execute(parts[0] if len(parts) == 1 else sa.union_all(*parts)):
            existing[targets[number]].add(found_id)
    for record, refs in zip(records, per_record):
        for key, ref in refs:
            for missing in [i for i in ref.ids if i not in existing[(ref.kind, ref.target)]]:
                record.issues.append(FieldIssue(key, ref.missing_code, {"id": missing, "kind": ref.kind}))


def check_unique(conn: sa.Connection, table: sa.Table, cleaner: RecordCleaner,
                 records: list[CleanedRecord], own_ids: list[int | None]) -> None:
    """Unique fields: one query per unique field for the whole batch, plus duplicates
    inside the batch. The database's unique index backs this up under concurrency."""
    for fdef in cleaner.form.fields:
        ftype = cleaner.types[fdef.key]
        if not ((fdef.unique or ftype.always_unique) and ftype.can_be_unique and ftype.storage == "column"):
            continue
        column = ftype.columns()[0].name
        seen: dict[Any, int] = {}
        candidates = []
        for index, record in enumerate(records):
            if fdef.key not in record.values or record.values[fdef.key] is None:
                continue
            stored = ftype.to_row(record.values[fdef.key])[column]
            if stored in seen:
                record.issues.append(FieldIssue(fdef.key, "unique", {"value": ftype.display(
                    record.values[fdef.key], cleaner.ctx)}))
            else:
                seen[stored] = index
                candidates.append(stored)
        if not candidates:
            continue
        rows = conn.execute(sa.select(table.c.id, table.c[column]).where(
            table.c[column].in_(candidates), table.c.deleted_at.is_(None))).all()
        for row in rows:
            index = seen.get(row[1])
            if index is not None and own_ids[index] != row[0]:
                record = records[index]
                record.issues.append(FieldIssue(fdef.key, "unique", {"value": ftype.display(
                    record.values[fdef.key], cleaner.ctx)}))
