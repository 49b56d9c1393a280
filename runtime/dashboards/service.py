"""The dashboard service: a dashboard's widgets computed for one reader.

    dashboards = Dashboards(records)            # records: Records of the app, as the reader
    dashboards.index()                           # [{"key", "label"}] of the app's dashboards
    answer = dashboards.load("sales", {"period": "2026-01-01..2026-03-31", "salesperson": 7})

Each widget is one SELECT (engine/dashboards/sql.py) run on the reader's connection, with
the reader's row scope of the widget's form (the same policy answer the record service
enforces: runtime/permissions) in its WHERE, so a salesperson's figures count only what
they may see. A widget over a form the reader may not view, or reading a field they may
not see, answers its refusal in place of its data; the other widgets are still shown.

Results are kept per widget (runtime/dashboards/cache.py), keyed by the installed app
version, the widget, the control values, the language, the day and the reader's scope
(who they are, when some form of the widget limits rows by who reads; nobody in
particular when none does), and by the data generation of the forms the widget reads: a
committed write to one of them makes the next load ask the database again. A cached
widget costs no statement.

    {"dashboard": {"key": "sales", "label": "销售看板"},
     "controls": [{"key": "period", "kind": "date_range", "label": "时间范围", "value": ...}],
     "widgets": [{"key": "funnel", "kind": "funnel", "label": "销售漏斗", "form": "opportunities",
                  "data": {...}, "cached": false}, ...]}
"""
from __future__ import annotations

import json
from typing import Any

from engine.computed.filter_tree import parse_filter
from engine.dashboards.model import Dashboard, Widget, dashboards_of
from engine.dashboards.paths import locate
from engine.dashboards.sql import ControlError, WidgetContext, widget_query
from engine.definition.model import FormDef
from engine.fields.relation import RelationOptions
from engine.suggest import did_you_mean
from runtime.dashboards.cache import CACHE, WidgetCache
from runtime.dashboards.errors import DashboardControlError, DashboardNotFound, DashboardWidgetNotFound
from runtime.dashboards.export import widget_table, xlsx_bytes
from runtime.org import Org
from runtime.org.tree import subtree_ids_select
from runtime.permissions import VIEW
from runtime.permissions.errors import PermissionDenied
from runtime.permissions.fields import refuse_hidden_in_filter, refuse_hidden_path
from runtime.records.service import Records


class Dashboards:
    def __init__(self, records: Records, cache: WidgetCache = CACHE):
        self.records, self.app, self.cache = records, records.app, cache
        self.lang = records.ctx.lang

    def index(self) -> list[dict[str, Any]]:
        return [{"key": d.key, "label": d.label.get(self.lang)} for d in dashboards_of(self.app.definition)]

    def dashboard(self, key: str) -> Dashboard:
        found = dashboards_of(self.app.definition)
        for dashboard in found:
            if dashboard.key == key:
                return dashboard
        hint = did_you_mean(key, [d.key for d in found])
        raise DashboardNotFound(self.app.key, key, f" (did you mean '{hint}'?)" if hint else "")

    def load(self, key: str, controls: dict[str, Any] | None = None, widgets: list[str] | None = None
             ) -> dict[str, Any]:
        """Every widget of dashboard `key` (or those named in `widgets`), with the control
        values `controls` ({control key: value}); see the module docstring."""
        dashboard = self.dashboard(key)
        values = self._controls(dashboard, controls or {})
        shown = [w for w in dashboard.widgets if widgets is None or w.key in widgets]
        return {"dashboard": {"key": dashboard.key, "label": dashboard.label.get(self.lang)},
                "controls": [{"key": c.key, "kind": c.kind, "label": c.label.get(self.lang),
                              "value": values.get(c.key, c.default)} for c in dashboard.controls],
                "widgets": [self.widget(dashboard, widget, values) for widget in shown]}

    def page(self, key: str, controls: dict[str, Any] | None = None) -> dict[str, Any]:
        """What the dashboard page shows: `load`'s answer and, under "choices", what each
        picker control offers (`choices`)."""
        return {**self.load(key, controls), "choices": self.choices(key)}

    def export(self, key: str, widget_key: str, controls: dict[str, Any] | None = None) -> tuple[str, bytes]:
        """One widget's data as an XLSX file (runtime/dashboards/export.py): (file name,
        bytes). The reader sees in it what the widget shows them; a widget they may not
        see is refused with its PermissionDenied."""
        dashboard = self.dashboard(key)
        widget = dashboard.widget(widget_key)
        if widget is None:
            hint = did_you_mean(widget_key, [w.key for w in dashboard.widgets])
            raise DashboardWidgetNotFound(dashboard.key, widget_key, f" (did you mean '{hint}'?)" if hint else "")
        form = self.app.require_form(widget.form)
        self.records.access(form, VIEW)
        self._refuse_hidden(dashboard, widget, form)
        answer = self.widget(dashboard, widget, self._controls(dashboard, controls or {}))
        header, lines = widget_table(widget.kind, answer["data"], self.lang)
        label = answer["label"]
        return f"{dashboard.key}-{widget.key}.xlsx", xlsx_bytes(label, header, lines)

    def choices(self, key: str) -> dict[str, list[dict[str, Any]]]:
        """What each member, department and option control of dashboard `key` offers, for a
        page's pickers: [{"value", "label"}] by control key (active members; departments by
        path; a field's options in its order). At most one statement per kind of list."""
        dashboard = self.dashboard(key)
        org, found, people, units = Org(self.records.conn), {}, None, None
        for control in dashboard.controls:
            if control.kind == "member":
                if people is None:
                    people = [{"value": u.id, "label": u.name} for u in org.users.list(limit=1000).users]
                found[control.key] = people
            elif control.kind == "department":
                if units is None:
                    index = org.departments.index()
                    units = sorted(({"value": i, "label": index.path(i)} for i in index.by_id),
                                   key=lambda d: d["label"])
                found[control.key] = units
            elif control.kind == "option":
                form_key, path = next(iter(control.fields.items()))
                located = locate(self.app.definition, self.app.require_form(form_key), path, self.app.types)
                options = getattr(self.app.types.of(located.field), "options", None)
                found[control.key] = [{"value": v, "label": options.labels[v].get(self.lang)}
                                      for v in (options.values if options else [])]
        return found

    def _controls(self, dashboard: Dashboard, given: dict[str, Any]) -> dict[str, Any]:
        known = [c.key for c in dashboard.controls]
        for name in given:
            if name not in known:
                raise DashboardControlError("dashboard_control_unknown", dashboard=dashboard.key, control=name,
                                            known=", ".join(known) or "-")
        return {k: v for k, v in given.items() if v not in (None, "")}

    def widget(self, dashboard: Dashboard, widget: Widget, controls: dict[str, Any]) -> dict[str, Any]:
        head = {"key": widget.key, "kind": widget.kind, "label": widget.label.get(self.lang), "form": widget.form}
        form = self.app.require_form(widget.form)
        try:
            access = self.records.access(form, VIEW)
            self._refuse_hidden(dashboard, widget, form)
        except PermissionDenied as refusal:
            return {**head, "data": None, "error": refusal.as_dict(self.lang)}
        ctx = self.records.ctx
        context = WidgetContext(self.app.tables, self.records.dialect, ctx.tz, ctx.today(), self.lang,
                                self.records.user_id, {form.key: access.row_scope}, subtree_ids_select,
                                now=ctx.current_time())
        key = self._key(dashboard, widget, controls, access.row_scope is not None, context)
        found = self.cache.get(key)
        if found is not None:
            return {**head, "data": found, "cached": True}
        try:
            query = widget_query(dashboard, widget, controls, context)
        except ControlError as error:
            raise DashboardControlError("dashboard_control_invalid", control=error.control,
                                        detail=error.message) from None
        data = query.read(self.records.conn.execute(query.statement).all())
        self.cache.put(key, data)
        return {**head, "data": data, "cached": False}

    def _key(self, dashboard: Dashboard, widget: Widget, controls: dict, scoped: bool, context) -> tuple:
        actor = self.records.actor
        scope = (actor.user_id, tuple(sorted(actor.roles)), actor.department_ids) if scoped else None
        # The database too: a process may serve two (tests do), and a compiled app is shared
        # by every database that installed the same version.
        database = self.records.conn.engine.url.render_as_string(hide_password=True)
        return (database, self.app.key, self.app.version, id(self.app), dashboard.key, widget.key,
                json.dumps(controls, sort_keys=True, default=str), self.lang, context.today, scope,
                self.cache.generations(self.app.key, reachable(self.app.definition, widget.form)))

    def _refuse_hidden(self, dashboard: Dashboard, widget: Widget, form: FormDef) -> None:
        """PermissionDenied when the widget reads a field the reader may not see or goes
        through a form they may not view: in a dimension, a measure, a column, a control
        or a filter (the rule of the table pages, runtime/permissions/fields.py)."""
        paths = [d.field for d in widget.dimensions + widget.columns] + list(widget.fields)
        paths += [m.field for m in widget.measures if m.field is not None]
        paths += [c.fields[form.key] for c in dashboard.controls if form.key in c.fields]
        derived = {d.key for d in widget.derived}
        paths = [p for p in paths if p not in derived]          # a derived value reads these instead:
        for value in widget.derived:
            paths += [value.field] if value.field else []
            paths += list(value.partition) + [o.by for o in value.order]
        for path in paths:
            refuse_hidden_path(self.app, form, tuple(path.split(".")), self.records.access,
                               "dashboard_widget_hidden_field", path)
        for spec in [widget.filter, *(m.filter for m in widget.measures)]:
            if spec is not None:
                tree = parse_filter(spec, form, app=self.app.definition, types=self.app.types)
                refuse_hidden_in_filter(self.app, form, tree, self.records.access)


def reachable(app, form_key: str) -> set[str]:
    """The form and every form its single and multiple relations lead to, at any depth:
    what a widget's figures may read (joins, lookups, formula filters and row scopes
    through relations), so a write to any of them makes the widget stale."""
    seen, todo = set(), [form_key]
    while todo:
        key = todo.pop()
        if key in seen:
            continue
        seen.add(key)
        form = app.form(key)
        for fdef in form.fields if form is not None else ():
            if fdef.type == "relation":
                todo.append(RelationOptions.of(fdef).target)
    return seen
