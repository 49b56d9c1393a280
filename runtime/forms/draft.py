"""Draft evaluation: what a form page shows while the user types, computed by the
engine (never re-implemented in JavaScript), and nothing written.

    draft = evaluate_draft(uow, "crm", "orders", {"title": "x", "amount": "12.5"},
                           changed="amount")
    draft.as_dict("zh")   # {"values": ..., "titles": ..., "visible": ..., "issues": ..., ...}

The values typed so far are cleaned by the record service's own cleaner
(runtime/records/validation.py) through `Records.clean_input`, so the issues are the
ones a save gives: required, types, subform rows and columns, read-only fields,
references (a relation's record, a member, a department, a file that is not there)
and, when the record has no other issue, the form's rules, exactly as
`Records.create` and `Records.update` judge them. Unique values are not checked here
(a query per unique field on every keystroke); `unchecked` says so, and the save
checks them.

Computed, as a save computes them: default values and default formulas of the fields
the user has not touched (a new record), formula fields (in the graph's order, with
the compiled evaluator, reading related records and subform columns), subform row
formulas and the form's aggregates over them, rollups (0 or empty on a new record,
the stored value when editing), lookups of the chosen relations and their titles,
and the visibility conditions.

Statements: none for a new record whose form reads no relation and points at no
member, department or file; one more for the record when editing; one per relation
with a record chosen; one per kind of member, department or file referred to. A
formula reading two relations deep, or a multiple relation's or subform's stored
rows while editing, costs one more each (the formula loader of engine/upkeep).

The actor's permissions apply: the action (create or edit) must be allowed, hidden
fields are never in the answer (not as values, visibility, issues or did-you-mean
hints), fields the actor may not set are refused as a save refuses them, and the
records a relation points at are shown only within the actor's row scope of their
form.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

import sqlalchemy as sa

from engine.computed.env import evaluation_context
from engine.computed.record_rules import fails
from engine.definition.model import FormDef
from engine.errors import FieldIssue, NotFound
from engine.fields.base import parse_id
from engine.formula import compile_formula
from engine.i18n import register_messages
from engine.storage import system
from engine.suggest import hint_for
from engine.upkeep.inputs import InputLoader, Level, links_key, plan_levels, sub_key
from engine.upkeep.upkeep import record_row
from runtime.forms.relations import ChosenRecords, RelationReads
from runtime.permissions import CREATE, EDIT, FormAccess
from runtime.records.service import Records
from runtime.records.validation import CleanedRecord, RecordCleaner

register_messages({
    "draft_record_invalid": {"zh": "记录编号“{value}”无效，应为正整数",
                             "en": "'{value}' is not a record id; give a positive whole number"},
    "draft_version_invalid": {"zh": "版本号“{value}”无效，应为正整数",
                              "en": "'{value}' is not a version; give a positive whole number"},
    "draft_version_conflict": {
        "zh": "这条记录已被他人修改（你编辑的是第 {yours} 版，现在是第 {current} 版）；请重新打开后再修改",
        "en": "Someone else changed this record (you are editing version {yours}, it is now version "
              "{current}); reopen it and make your change again"},
})

UNCHECKED = ("unique",)       # what a save checks that a draft leaves to the save
_REFERENCE_TABLES = {"users": system.users, "departments": system.departments, "files": system.files}


@dataclass
class Draft:
    """The answer of `evaluate_draft` (see the module docstring; `as_dict` is its JSON)."""

    values: dict[str, Any] = field(default_factory=dict)
    titles: dict[str, dict[str, str]] = field(default_factory=dict)
    visible: dict[str, bool] = field(default_factory=dict)
    issues: list[FieldIssue] = field(default_factory=list)
    changed: str | None = None
    record_id: int | None = None
    unchecked: tuple[str, ...] = UNCHECKED

    def issues_by_path(self, lang: str = "zh") -> dict[str, list[dict[str, Any]]]:
        """{"field": [...], "items[0].qty": [...], "*": [...]}: each issue where it is shown."""
        found: dict[str, list[dict[str, Any]]] = {}
        for issue in self.issues:
            shown = issue.as_dict(lang)
            found.setdefault(issue_path(issue), []).append(
                {"code": issue.code, "message": shown["message"], "params": shown["params"]})
        return found

    def as_dict(self, lang: str = "zh") -> dict[str, Any]:
        return {"record_id": self.record_id, "changed": self.changed, "values": self.values,
                "titles": self.titles, "visible": self.visible, "issues": self.issues_by_path(lang),
                "valid": not self.issues, "unchecked": list(self.unchecked)}


def issue_path(issue: FieldIssue) -> str:
    if issue.row is None:
        return issue.field
    return f"{issue.field}[{issue.row}].{issue.subfield}"


def evaluate_draft(uow, app_key: str, form_key: str, values: Any, *, record_id: Any = None,
                   version: Any = None, changed: Any = None, touched: Iterable[str] | None = None) -> Draft:
    """The computed values, visibility and issues of a form being filled in (new when
    `record_id` is None, else an edit of that record at `version`), for `uow`'s actor.
    `values`: what the browser sends (strings for numbers and dates, lists for
    multi-selects, subform rows as lists of dicts). `touched`: the fields the user has
    typed into (a new record: the others get their defaults; None: every key given).
    `changed`: the field whose change asked for this evaluation, echoed back.
    Raises PermissionDenied when the actor may not create (or edit) such records and
    NotFound for a record that does not exist or is outside the actor's scope; bad
    input is never an exception, but issues."""
    records = uow.records(app_key)
    return _DraftRun(records, records.app.require_form(form_key)).run(values, record_id, version, changed, touched)


class _DraftRun:
    def __init__(self, records: Records, form: FormDef):
        self.records, self.form, self.app = records, form, records.app
        self.conn, self.tables = records.conn, records.app.tables
        self.table = self.tables.form_table(form.key)
        self.ctx = records.ctx.for_form(self.tables, form.key)
        self.types = self.app.form_types(form)
        self.draft = Draft()

    # ---- the steps --------------------------------------------------------------------
    def run(self, values, record_id, version, changed, touched) -> Draft:
        creating = record_id is None
        access = self.records.access(self.form.key, CREATE if creating else EDIT)
        self.access = access
        self.draft.changed = changed if isinstance(changed, str) and changed in self.types \
            and access.can_see(changed) else None
        if not isinstance(values, dict):          # as a save: nothing else can be said
            self.draft.issues.append(FieldIssue("*", "invalid_type", {"expected": "object"}))
            return self._finish()
        raw = self._raw_input(values, touched, creating)
        current = None
        if not creating:
            current = self._current(record_id, version)
            if current is None:
                return self._finish()
        cleaner = RecordCleaner(self.app, self.form, self.ctx)
        cleaned = self.records.clean_input(cleaner, access, raw, creating=creating, current=current)
        self.draft.issues.extend(cleaned.issues)
        row = self._root_row(cleaned, current, creating)
        self._load_stored(row)
        chosen = self._read_relations(row, cleaned)
        self._check_other_references(cleaner, cleaned)
        self._compute(row, chosen, judge_rules=not self.draft.issues)
        self._show_values(raw, cleaner, cleaned, row, chosen, creating)
        self._show_visibility(row)
        return self._finish()

    def _raw_input(self, values: dict, touched, creating: bool) -> dict[str, Any]:
        """The typed values; keys the actor cannot see are unknown to them (a
        did-you-mean names only fields they see)."""
        if touched is not None and creating:
            wanted = _keys(touched)
            values = {k: v for k, v in values.items() if k in wanted}
        shown = [key for key in self.types if self.access.can_see(key)]
        raw = {}
        for key, value in values.items():
            if isinstance(key, str) and key in shown:
                raw[key] = value
            else:
                text = str(key)[:100]
                self.draft.issues.append(FieldIssue(text, "unknown_field",
                                                    {"field": text, "hint": hint_for(text, shown)}))
        return raw

    def _current(self, record_id: Any, version: Any):
        rid = parse_id(record_id)
        if rid is None:
            self.draft.issues.append(FieldIssue("*", "draft_record_invalid", {"value": str(record_id)[:50]}))
            return None
        self.draft.record_id = rid
        query = sa.select(self.table).where(self.table.c.id == rid, self.table.c.deleted_at.is_(None))
        if self.access.row_scope is not None:
            query = query.where(self.access.row_scope)
        current = self.conn.execute(query).first()
        if current is None:
            raise NotFound(f"{self.form.key} record #{rid} does not exist or is in the recycle bin")
        if version is not None:
            yours = parse_id(version)
            if yours is None:
                self.draft.issues.append(FieldIssue("*", "draft_version_invalid", {"value": str(version)[:50]}))
            elif yours != current.version:
                self.draft.issues.append(FieldIssue("*", "draft_version_conflict",
                                                    {"yours": yours, "current": current.version}))
        return current

    def _root_row(self, cleaned: CleanedRecord, current, creating: bool) -> dict[str, Any]:
        """The record as the formulas see it: stored values (editing), then the draft's."""
        row: dict[str, Any] = {"id": self.draft.record_id}
        if current is not None:
            row.update({k: t.from_row(current._mapping) for k, t in self.types.items() if t.storage == "column"})
        row.update(record_row(cleaned))
        if creating:
            for key, ftype in self.types.items():
                if ftype.storage == "link_table":
                    row.setdefault(links_key(key), [])
                elif ftype.storage == "child_table":
                    row.setdefault(sub_key(key), [])
                elif ftype.computed_kind == "rollup":
                    row[key] = ftype.empty_value
        return row

    def _load_stored(self, row: dict[str, Any]) -> None:
        """What the formulas read and the draft does not give: an edit's stored subform
        rows and multiple relations (one query each, only those read; none for a new
        record, which has them all)."""
        self.loader = InputLoader(self.conn, self.app, self.tables, self.ctx)
        self.levels = root = plan_levels(self.app, self.form.key, self._formula_paths())
        self.loader.complete(Level(root.form, root.columns, {}, root.links, root.subforms),
                             {row["id"] or 0: row})

    # ---- relations and other references -------------------------------------------------
    def _read_relations(self, row: dict[str, Any], cleaned: CleanedRecord) -> dict[str, ChosenRecords]:
        """One query per relation with a record chosen; issues for chosen ids that are
        not there (only those typed in this draft, as a save checks only what it is given)."""
        self.reads = RelationReads(self.app, self.form, self.ctx, lambda key: self.records.access(key))
        chosen: dict[str, ChosenRecords] = {}
        for key, relation in self.reads.relations.items():
            ids = _ids(row.get(links_key(key)) if relation.multiple else row.get(key))
            if not ids:
                continue
            below = self.levels.relations.get(key)
            found = chosen[key] = self.reads.read(self.conn, key, ids, below.columns if below else set())
            given = cleaned.links.get(key) if relation.multiple else [cleaned.values.get(key)]
            for missing in [i for i in _ids(given) if i not in found.found]:
                self.draft.issues.append(FieldIssue(key, "relation_missing", {"id": missing, "kind": "form"}))
        return chosen

    def _check_other_references(self, cleaner: RecordCleaner, cleaned: CleanedRecord) -> None:
        """Members, departments and files the draft names: one query per kind named."""
        refs = [(key, ref) for key, ref in cleaner.references(cleaned) if ref.kind != "form"]
        wanted: dict[str, set[int]] = {}
        for _key, ref in refs:
            wanted.setdefault(ref.kind, set()).update(ref.ids)
        existing = {kind: set(self.conn.execute(sa.select(_REFERENCE_TABLES[kind].c.id).where(
            _REFERENCE_TABLES[kind].c.id.in_(ids))).scalars()) for kind, ids in wanted.items()}
        for key, ref in refs:
            for missing in [i for i in ref.ids if i not in existing[ref.kind]]:
                self.draft.issues.append(FieldIssue(key, ref.missing_code, {"id": missing, "kind": ref.kind}))

    # ---- formulas -----------------------------------------------------------------------
    def _formula_paths(self):
        specs = self.app.graph.formulas_of(self.form.key)
        rules = self.app.record_formulas(self.form.key).rules
        return [p for s in specs for p in s.paths] + [p for r in rules for p in r.paths]

    def _compute(self, row: dict[str, Any], chosen: dict[str, ChosenRecords], judge_rules: bool) -> None:
        """Formula fields in the graph's order, then (a record with no other issue) the
        form's rules, as Upkeep.before_create / before_update compute them."""
        specs = self.app.graph.formulas_of(self.form.key)
        rules = self.app.record_formulas(self.form.key).rules if judge_rules else []
        if not specs and not rules:
            return
        loader, root = self.loader, self.levels
        root.rows = {row["id"] or 0: row}
        for key, below in root.relations.items():
            found = chosen.get(key)
            loader.complete(below, dict(found.found) if found else {})
        ctx = evaluation_context(self.ctx)
        for spec in specs:
            inputs = loader.inputs(root, [row], spec.paths)[0]
            row[spec.fdef.key] = self.types[spec.fdef.key].stored_value(
                compile_formula(spec.formula)(inputs, ctx), self.ctx.tz)
        for rule in rules:
            if fails(compile_formula(rule.formula)(loader.inputs(root, [row], rule.paths)[0], ctx)):
                self.draft.issues.extend(rule.issues())

    # ---- the answer ---------------------------------------------------------------------
    def _show_values(self, raw, cleaner: RecordCleaner, cleaned: CleanedRecord, row, chosen, creating) -> None:
        values = self.draft.values
        for key, ftype in self.types.items():
            if creating and key not in raw and cleaner.writable(self.form.field(key)) \
                    and ftype.storage == "column" and cleaned.values.get(key) is not None:
                values[key] = ftype.to_json(cleaned.values[key])      # a default
            elif ftype.computed:
                values[key] = ftype.to_json(row.get(key))
        for key in self.reads.relations:
            found = chosen.get(key, ChosenRecords(key))
            selected = row.get(key) if not self.reads.relations[key].multiple else None
            values.update(self.reads.lookup_values(key, found, selected))
            if found.titles:
                self.draft.titles[key] = {str(rid): title for rid, title in found.titles.items()}
        for key, rows in cleaned.subforms.items():
            formulas = cleaner.row_formulas.get(key)
            if formulas is not None:
                columns = [(c, cleaner.sub_types[key][c]) for c in formulas.keys]
                values[key] = [{c: t.to_json(r.get(c)) for c, t in columns} for r in rows]

    def _show_visibility(self, row: dict[str, Any]) -> None:
        formulas = self.app.record_formulas(self.form.key)
        if not formulas.visibility:
            return
        stored = {k: row.get(k) for k, t in self.types.items() if t.storage == "column"}
        hidden = formulas.hidden(self.types, stored, self.ctx)
        self.draft.visible = {key: key not in hidden for key in formulas.visibility}

    def _finish(self) -> Draft:
        """Leave out everything about fields the actor may not see."""
        access: FormAccess = self.access
        draft = self.draft
        draft.values = {k: v for k, v in draft.values.items() if access.can_see(k)}
        draft.titles = {k: v for k, v in draft.titles.items() if access.can_see(k)}
        draft.visible = {k: v for k, v in draft.visible.items() if access.can_see(k)}
        # A hidden key typed in is refused as unknown (_raw_input), like a key no field has.
        draft.issues = [i for i in draft.issues if i.code == "unknown_field" or i.field not in self.types
                        or access.can_see(i.field)]
        return draft


def _keys(touched: Any) -> set[str]:
    """The field keys of `touched` (anything else in it, or a `touched` that is not a
    list, names no field: then every field gets its default)."""
    if not isinstance(touched, (list, tuple, set, frozenset)):
        return set()
    return {key for key in touched if isinstance(key, str)}


def _ids(value: Any) -> list[int]:
    if value is None:
        return []
    return [i for i in (value if isinstance(value, list) else [value]) if isinstance(i, int)]

