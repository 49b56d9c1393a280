"""The compiled app: an app definition worked out once, then used by every request, job
and command.

    app = compile_app(definition)          # App
    app.types.of(fdef)                     # the field's type, bound to what the app tells about it
    app.tables.form_table("customers")     # the physical tables
    app.graph                              # the computed fields' dependency graph
    app.record_formulas("customers")       # default formulas, visibility conditions, rules
    app.row_formulas(subform)              # a subform's formula columns
    app.live_plan("customers")             # the clock-dependent formula fields computed when read
    app.workflows("contracts")             # the form's workflows by key (engine/workflow)

Compiling binds every field to its type (with the result types only the whole app can
tell, engine/computed/derive.py), builds the tables, the graph and its plans, and parses
the rules. The definition is never written to and nothing is hung on it: everything
worked out lives here. An App is immutable once built; the installed apps are kept per
(key, installed version) by the runtime (runtime/apps.py), so a warm process never parses
a definition again.

`compiled(app_or_definition)` gives the App of a definition handed around directly
(tests, benchmarks, an app about to be installed): compiled once per definition object.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Hashable, Mapping

from engine.computed.derive import derive_types
from engine.computed.graph import ComputedGraph
from engine.computed.record_rules import RecordFormulas
from engine.computed.row_formulas import RowFormulas, subforms_with_formulas
from engine.definition.model import AppDef, FieldDef, FormDef, Label
from engine.fields.base import FieldType
from engine.fields.registry import FieldTypes
from engine.query.columns import LivePlan, build_live_plan
from engine.query.tables import AppTables
from engine.workflow.checks import workflows_of
from engine.workflow.model import Workflow


@dataclass(frozen=True, eq=False)
class App:
    definition: AppDef
    version: int | None              # the installed version, None for a definition not installed
    types: FieldTypes
    tables: AppTables
    graph: ComputedGraph
    _record_formulas: Mapping[str, RecordFormulas]
    _row_formulas: Mapping[str, RowFormulas]     # by the subform's path
    _live_plans: Mapping[str, LivePlan]
    _workflows: Mapping[str, Mapping[str, Workflow]]     # form key -> workflow key -> Workflow

    # ---- the definition, as callers read it ---------------------------------------------
    @property
    def key(self) -> str:
        return self.definition.key

    @property
    def label(self) -> Label:
        return self.definition.label

    @property
    def forms(self) -> list[FormDef]:
        return self.definition.forms

    @property
    def raw(self) -> dict:
        return self.definition.raw

    def form(self, key: str) -> FormDef | None:
        return self.definition.form(key)

    def require_form(self, key: str) -> FormDef:
        return self.definition.require_form(key)

    # ---- what compiling worked out ---------------------------------------------------------
    def field_type(self, fdef: FieldDef) -> FieldType:
        return self.types.of(fdef)

    def form_types(self, form: FormDef) -> dict[str, FieldType]:
        return {f.key: self.types.of(f) for f in form.fields}

    def record_formulas(self, form_key: str) -> RecordFormulas:
        return self._record_formulas[form_key]

    def row_formulas(self, subform: FieldDef) -> RowFormulas:
        return self._row_formulas[subform.path]

    def has_row_formulas(self, subform: FieldDef) -> bool:
        return subform.path in self._row_formulas

    def live_plan(self, form_key: str) -> LivePlan:
        return self._live_plans[form_key]

    def workflows(self, form_key: str) -> Mapping[str, Workflow]:
        """The workflows of a form, by key (engine/workflow)."""
        return self._workflows.get(form_key, {})

    @property
    def has_live_fields(self) -> bool:
        return any(plan.live for plan in self._live_plans.values())


def compile_app(definition: AppDef, version: int | None = None) -> App:
    """Everything the runtime needs of a valid definition, worked out once."""
    types = FieldTypes(derive_types(definition))
    for form in definition.forms:
        types.bind_all(form.fields)
    tables = AppTables.build(definition, types)
    graph = ComputedGraph.build(definition, types)
    row_formulas = {sub.path: RowFormulas.build(sub, types)
                    for form in definition.forms for sub in subforms_with_formulas(form)}
    record_formulas = {form.key: RecordFormulas(definition, form) for form in definition.forms}
    live_plans = {form.key: build_live_plan(definition, tables, graph, form) for form in definition.forms}
    workflows = {form.key: {w.key: w for w in workflows_of(definition, form)} for form in definition.forms}
    return App(definition, version, types, tables, graph, record_formulas, row_formulas, live_plans, workflows)


class AppCache:
    """Compiled apps (or what holds them) by key, the `size` most recently used kept;
    safe to share between threads."""

    def __init__(self, size: int):
        self.size, self._entries, self._lock = size, OrderedDict(), threading.Lock()

    def get(self, key: Hashable) -> Any:
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
            return found

    def put(self, key: Hashable, value: Any) -> None:
        with self._lock:
            self._entries[key] = value
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)


_BY_DEFINITION = AppCache(64)       # id(definition) -> (definition, App)


def compiled(app: App | AppDef) -> App:
    """The App of `app`: itself when compiled, else its definition compiled once (kept for
    the last few definition objects, by identity: the entry holds the definition, so its
    id cannot be reused while kept)."""
    if isinstance(app, App):
        return app
    found = _BY_DEFINITION.get(id(app))
    if found is not None and found[0] is app:
        return found[1]
    made = compile_app(app)
    _BY_DEFINITION.put(id(app), (app, made))
    return made
