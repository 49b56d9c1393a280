"""Migration plans: what must change in the database to go from the installed
definition of an app to a new one. Computed apart from executing it (see
apply.py), so it can be shown to a person first.

Nothing is ever dropped: a removed field's columns (or a removed form's tables)
are renamed into an archive, from which re-adding the field restores them; only an
explicit purge deletes archived data.
"""
from __future__ import annotations

from dataclasses import dataclass, field as dc_field
from typing import Any

from engine.computed.derive import derive_types
from engine.computed.graph import Node
from engine.definition.model import AppDef, FieldDef, FormDef
from engine.errors import FormworkError
from engine.fields.registry import FieldTypes, TypesOfApps
from engine.fields.relation import RelationField
from engine.query.tables import wants_index
from engine.schema_change.recompute_steps import add_recompute_steps


@dataclass
class Step:
    kind: str
    form: str
    field: str | None = None
    description: str = ""
    data: dict[str, Any] = dc_field(default_factory=dict)

    # Steps that move data aside or rewrite it ask for confirmation in the CLI.
    @property
    def needs_confirmation(self) -> bool:
        return self.kind in ("archive_form", "archive_field", "retype_field", "archive_subfield",
                             "retype_subfield") and not self.data.get("stores_nothing")

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "form": self.form, "field": self.field,
                "description": self.description, "data": self.data}


@dataclass
class Plan:
    app_key: str
    steps: list[Step] = dc_field(default_factory=list)
    installing: bool = False
    # Changes the engine will not make (they would lose data or meaning), each saying
    # what to do instead. A plan with refusals is shown but never applied.
    refused: list[str] = dc_field(default_factory=list)
    form_renames: dict[str, str] = dc_field(default_factory=dict)   # new key -> installed key

    @property
    def empty(self) -> bool:
        return not self.steps

    def add(self, kind: str, form: str, fld: str | None, description: str, **data) -> None:
        self.steps.append(Step(kind, form, fld, description, data))


class PlanError(FormworkError):
    pass


# What a settings change says it does to the data; "except recomputing ..." is added
# when the change makes computed values change (_say_recomputes).
NO_DATA_CHANGES = "(no data changes)"


def storage_signature(fdef: FieldDef, types) -> tuple:
    """What the database holds for a field: its storage kind and column types."""
    ftype = types.of(fdef)
    columns = tuple((c.name[len(fdef.key):], type(c.type).__name__, getattr(c.type, "length", None),
                     getattr(c.type, "scale", None)) for c in ftype.columns())
    sub = tuple((s.key, storage_signature(s, types)) for s in fdef.fields) if ftype.storage == "child_table" else ()
    return ftype.storage, columns, sub


def _indexed(form: FormDef, fdef: FieldDef, types) -> tuple[bool, bool]:
    ftype = types.of(fdef)
    unique = (fdef.unique and ftype.can_be_unique) or ftype.always_unique
    return unique, (not unique) and wants_index(form, fdef, types)


def make_plan(installed, new, archived: list[dict] | None = None) -> Plan:
    """`installed` and `new` are compiled apps; `archived`: rows of fw_archived_fields not
    purged nor restored (to restore from)."""
    plan = Plan(new.key, installing=installed is None)
    types = TypesOfApps(new.types, *([installed.types] if installed is not None else []))
    archived = archived or []
    if installed is None:
        for form in new.forms:
            plan.add("add_form", form.key, None, f"create form {form.key!r} ({form.label.zh}) "
                     f"with {len(form.fields)} fields")
        return plan
    old_forms = {f.key: f for f in installed.forms}
    plan.form_renames = {f.key: f.renamed_from for f in new.forms
                         if f.renamed_from and f.key not in old_forms and f.renamed_from in old_forms}
    matched: set[str] = set()
    for form in new.forms:
        old = old_forms.get(form.key)
        if old is None and form.renamed_from:
            old = old_forms.get(form.renamed_from)
            if old is None:
                raise PlanError(f"form {form.key!r} says renamed_from {form.renamed_from!r}, but no such form "
                                "is installed; remove renamed_from")
            plan.add("rename_form", form.key, None, f"rename form {old.key!r} to {form.key!r}", old=old.key)
        if old is None:
            table_archive = _archive_of(archived, form.key, None)
            if table_archive:
                plan.add("restore_form", form.key, None, f"restore archived form {form.key!r} with its data",
                         archive_id=table_archive["id"])
                restored = AppDef.from_dict({"format_version": 1, "app": {"key": new.key, "label": "x"},
                                             "forms": [table_archive["definition"]]})
                old = restored.forms[0]
                old_types = FieldTypes(derive_types(restored)).bind_all(old.fields)
                _plan_fields(plan, form, old, archived, TypesOfApps(old_types, *types.apps_types))
            else:
                plan.add("add_form", form.key, None, f"create form {form.key!r} ({form.label.zh})")
            continue
        matched.add(old.key)
        _plan_fields(plan, form, old, archived, types)
    for key, old in old_forms.items():
        if key not in matched:
            plan.add("archive_form", key, None, f"archive form {key!r}: its tables are kept aside "
                     "(re-adding the form restores them; `formwork purge-archived` deletes them)")
    add_recompute_steps(plan, installed, new)
    _say_recomputes(plan, new.graph)
    for form in new.forms:
        old = old_forms.get(form.key) or old_forms.get(plan.form_renames.get(form.key, ""))
        if old is not None:
            _plan_rules(plan, new, form, old)
    return plan


def _say_recomputes(plan: Plan, graph) -> None:
    """A settings change of a computed field (its formula, its precision...) recomputes
    it and the fields reading it: its step says so instead of "no data changes"."""
    fields = {(s.form, s.field) for s in plan.steps if s.kind == "recompute_field"}
    rows = {(s.form, s.field): s.data["columns"] for s in plan.steps if s.kind == "recompute_subform"}
    for step in plan.steps:
        if step.kind == "change_field" and (step.form, step.field) in fields:
            names, start = [], {Node(step.form, step.field)}
        elif step.kind == "change_subfield" and step.data["sub"] in rows.get((step.form, step.field), ()):
            names = [f"{step.form}.{step.field}.{column}" for column in rows[(step.form, step.field)]]
            start = graph.readers_of({(step.form, step.field)})
        else:
            continue
        names += [str(node) for node in graph.dependents(start) if (node.form, node.field) in fields]
        step.description = step.description.replace(
            NO_DATA_CHANGES, f"(no data changes except recomputing {', '.join(names)})")


# Steps after which the stored values of a field are not yet what the rules will read.
_CHANGES_VALUES = ("add_field", "rename_field", "retype_field", "restore_field", "recompute_field",
                   "add_subfield", "rename_subfield", "retype_subfield", "restore_subfield", "recompute_subform")


def _plan_rules(plan: Plan, new, form: FormDef, old_form: FormDef) -> None:
    """A step per validation rule added, changed or removed. Rules change no data: the
    records that break a new rule are kept, and refused on their next edit until fixed;
    the plan counts them (runtime/migration_preview.py) unless the rule reads a field
    whose values this plan changes, which cannot be counted before it is applied."""
    old_rules = {r["key"]: r for r in old_form.rules
                 if isinstance(r, dict) and isinstance(r.get("key"), str)}
    parsed = {rule.key: rule for rule in new.record_formulas(form.key).rules}
    changing = {(s.form, s.field) for s in plan.steps if s.kind in _CHANGES_VALUES}
    for raw in form.rules:
        key = raw.get("key") if isinstance(raw, dict) else None
        if not isinstance(key, str):
            continue
        name, text, before = f"{form.key}.{key}", str(raw.get("formula")), old_rules.pop(key, None)
        reads = sorted({f"{f}.{k}" for path in (parsed[key].paths if key in parsed else [])
                        for f, k in _fields_walked(path) if (f, k) in changing})
        if before is None:
            plan.add("add_rule", form.key, None, f"add rule {name}: {text}", rule=key, formula=text,
                     changed_reads=reads)
        elif str(before.get("formula")) != text:
            plan.add("change_rule", form.key, None, f"change rule {name} to {text} (was {before.get('formula')})",
                     rule=key, formula=text, changed_reads=reads)
        elif raw != before:
            plan.add("change_rule", form.key, None, f"update the message or fields of rule {name} "
                     "(no data changes)", rule=key)
    for key in old_rules:
        plan.add("remove_rule", form.key, None, f"remove rule {form.key}.{key} (no data changes)", rule=key)


def _fields_walked(path) -> list[tuple[str, str]]:
    """(form, field) of every field a resolved formula path reads on its way."""
    return [(hop.form, hop.field) for hop in path.hops] + [(path.form, path.field.key)]


def _archive_of(archived: list[dict], form_key: str, field_key: str | None) -> dict | None:
    """The latest archive of a field (field_key "subform.column" for a subform column) or,
    with field_key None, of a whole form (its own table, not the tables of its parts)."""
    hits = [a for a in archived if a["form_key"] == form_key and a["field_key"] == field_key
            and a["kind"] != "table_part"]
    return hits[-1] if hits else None


def _plan_fields(plan: Plan, form: FormDef, old_form: FormDef, archived: list[dict], types) -> None:
    old_fields = {f.key: f for f in old_form.fields}
    kept: set[str] = set()
    for fdef in form.fields:
        old = old_fields.get(fdef.key)
        if old is None and fdef.renamed_from:
            old = old_fields.get(fdef.renamed_from)
            if old is None:
                raise PlanError(f"field {form.key}.{fdef.key} says renamed_from {fdef.renamed_from!r}, but "
                                f"form {form.key!r} has no such field installed; remove renamed_from")
            plan.add("rename_field", form.key, fdef.key, f"rename field {form.key}.{old.key} to {fdef.key}",
                     old=old.key)
        if old is None:
            archive = _archive_of(archived, form.key, fdef.key)
            if archive and storage_signature(FieldDef.from_dict(archive["definition"], "x"), types) == \
                    storage_signature(fdef, types):
                plan.add("restore_field", form.key, fdef.key, f"restore field {form.key}.{fdef.key} "
                         "from the archive, with its data", archive_id=archive["id"])
                old = FieldDef.from_dict(archive["definition"], "x")
            else:
                default = fdef.default is not None and types.of(fdef).storage == "column"
                plan.add("add_field", form.key, fdef.key, f"add field {form.key}.{fdef.key} ({fdef.type})"
                         + (f", existing records get the default {fdef.default!r}" if default else ""))
                continue
        kept.add(old.key)
        _plan_changes(plan, form, fdef, old, old_form, archived, types)
    for key, old in old_fields.items():
        if key in kept:
            continue
        if types.of(old).storage == "none":     # a lookup: shows another record's value
            plan.add("archive_field", form.key, key, f"remove field {form.key}.{key} (stores nothing)",
                     stores_nothing=True)
        else:
            plan.add("archive_field", form.key, key, f"archive field {form.key}.{key}: its values are kept "
                     "aside (re-adding the field restores them)")


def _plan_changes(plan: Plan, form: FormDef, fdef: FieldDef, old: FieldDef, old_form: FormDef,
                  archived: list[dict], types) -> None:
    new_type, old_type = types.of(fdef), types.of(old)
    name = f"{form.key}.{fdef.key}"
    old_config = old.config
    if isinstance(new_type, RelationField) and isinstance(old_type, RelationField) \
            and plan.form_renames.get(new_type.target) == old_type.target:
        old_config = dict(old.config, target=new_type.target)   # follows its form's rename
    elif isinstance(new_type, RelationField) and isinstance(old_type, RelationField) \
            and new_type.target != old_type.target:
        plan.refused.append(
            f"{name}: a relation cannot change its target form ({old_type.target!r} to {new_type.target!r}): "
            f"its values are ids of {old_type.target!r} records. Add a new relation field with a new key "
            f"(and remove {fdef.key!r}: its values are archived and can be restored)")
        return
    if new_type.storage == old_type.storage == "child_table":
        _plan_subform(plan, form, fdef, old, archived, types)
    elif storage_signature(fdef, types) != storage_signature(old, types):
        _plan_retype(plan, form, fdef, old, types)
        return
    unique, indexed = _indexed(form, fdef, types)
    was_unique, was_indexed = _indexed(old_form, old, types)
    if unique and not was_unique:
        plan.add("add_unique", form.key, fdef.key, f"make field {name} unique")
    if was_unique and not unique:
        plan.add("drop_unique", form.key, fdef.key, f"field {name} is no longer unique")
    if indexed and not was_indexed:
        plan.add("add_index", form.key, fdef.key, f"index field {name}")
    if was_indexed and not indexed:
        plan.add("drop_index", form.key, fdef.key, f"drop the index of {name}")
    settings = fdef.config != old_config or fdef.required != old.required
    if settings or fdef.label != old.label or fdef.default != old.default:
        # Stored values are kept as they are; the plan counts those the new settings
        # would refuse (a removed option, a shorter limit, a newly required field).
        plan.add("change_field", form.key, fdef.key, f"update the settings of {name} "
                 f"{NO_DATA_CHANGES}", check_values=settings and new_type.storage == "column"
                 and not new_type.computed)


# How a retype moves the data, by (old storage, new storage): "convert" converts each
# value; "to_links" / "from_links" turn a single relation into a multiple one and back;
# "add" creates storage for a field that had none (a lookup); "archive" keeps the old
# values aside for a field that stores nothing now.
def retype_mode(old_type, new_type) -> str | None:
    stores, stored = new_type.storage, old_type.storage
    if stored == stores == "column":
        return "convert"
    if stored == "none":
        return "add"
    if stores == "none":
        return "archive"
    if isinstance(old_type, RelationField) and isinstance(new_type, RelationField):
        return "to_links" if new_type.multiple else "from_links"
    return None


_RETYPE_EFFECT = {
    "convert": "values are converted, the originals archived",
    "to_links": "each record keeps its related record as the first of its list; the old column is archived",
    "from_links": "each record keeps the first of its related records; every link is archived",
    "add": "nothing was stored before",
    "archive": "the field stores nothing now; its values are archived",
}


def _plan_retype(plan: Plan, form: FormDef, fdef: FieldDef, old: FieldDef, types) -> None:
    name = f"{form.key}.{fdef.key}"
    mode = retype_mode(types.of(old), types.of(fdef))
    if mode is None:
        plan.refused.append(
            f"{name}: cannot change a {old.type} field into a {fdef.type} field (their data have different "
            f"shapes). Add a new field with a new key for the {fdef.type}, and remove {fdef.key!r} (its values "
            "are archived and can be restored)")
        return
    plan.add("retype_field", form.key, fdef.key,
             f"change field {name} {_what_changes(old, fdef, types)}; {_RETYPE_EFFECT[mode]}",
             old_type=old.type, mode=mode)


def _what_changes(old: FieldDef, new: FieldDef, types) -> str:
    """What a retype changes, in words: the type, or for the same type what makes it
    stored differently (a relation becoming multiple, fewer decimal places)."""
    if old.type != new.type:
        return f"from {old.type} to {new.type}"
    old_type, new_type = types.of(old), types.of(new)
    if isinstance(old_type, RelationField) and isinstance(new_type, RelationField) \
            and old_type.multiple != new_type.multiple:
        kinds = ("a single relation", "a multiple relation")
        return f"from {kinds[old_type.multiple]} to {kinds[new_type.multiple]} (to {new_type.target!r})"
    options = sorted(set(old.config) | set(new.config))
    changed = [f"{key} {old.option(key)!r} -> {new.option(key)!r}" for key in options
               if old.option(key) != new.option(key)]
    return f"({new.type}): " + (", ".join(changed) if changed else "its storage changes")


def _plan_subform(plan: Plan, form: FormDef, fdef: FieldDef, old: FieldDef, archived: list[dict],
                  types) -> None:
    """Subform columns are diffed like a form's fields, on the child table. Their
    archives are recorded under "subform.column"."""
    olds = {s.key: s for s in old.fields}
    kept = set()
    for sub in fdef.fields:
        prior = olds.get(sub.key) or (olds.get(sub.renamed_from) if sub.renamed_from else None)
        name = f"{form.key}.{fdef.key}.{sub.key}"
        if prior is None:
            archive = _archive_of(archived, form.key, f"{fdef.key}.{sub.key}")
            if archive and storage_signature(FieldDef.from_dict(archive["definition"], "x"), types) == \
                    storage_signature(sub, types):
                plan.add("restore_subfield", form.key, fdef.key, f"restore subform column {name} from the "
                         "archive, with its data", sub=sub.key, archive_id=archive["id"])
            else:
                plan.add("add_subfield", form.key, fdef.key, f"add subform column {name} ({sub.type})",
                         sub=sub.key)
            continue
        kept.add(prior.key)
        if prior.key != sub.key:
            plan.add("rename_subfield", form.key, fdef.key, f"rename subform column {form.key}.{fdef.key}."
                     f"{prior.key} to {sub.key}", sub=sub.key, old=prior.key)
        if storage_signature(sub, types) != storage_signature(prior, types):
            plan.add("retype_subfield", form.key, fdef.key, f"change subform column {name} "
                     f"{_what_changes(prior, sub, types)}; values are converted, the originals archived",
                     sub=sub.key, old_type=prior.type)
        elif sub.config != prior.config or sub.required != prior.required:
            plan.add("change_subfield", form.key, fdef.key, f"update the settings of subform column {name} "
                     f"{NO_DATA_CHANGES}", sub=sub.key, check_values=True)
    for key in olds:
        if key not in kept:
            plan.add("archive_subfield", form.key, fdef.key, f"archive subform column {form.key}.{fdef.key}."
                     f"{key}: its values are kept aside (re-adding the column restores them)", sub=key)
