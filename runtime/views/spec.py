"""What a data table shows: a filter, columns, a sort and a page size, checked against
the form and what the reader may see.

`ViewSpec.checked(...)` is strict (saving a view, a request naming columns): the first
problem raises ViewError in zh and en, saying where and what to do. `ViewSpec.pruned(...)`
is lenient (loading a saved view): a column, condition or sort key that names a field
removed from the app since, or one the reader may no longer see, is left out with a
warning, so an old view still opens. Neither runs a query.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from engine.computed.filter_tree import FilterError, parse_filter
from engine.definition.model import FormDef, Label
from engine.query.columns import read_columns
from engine.query.filters import compile_filter
from engine.query.pages import parse_sort
from engine.suggest import hint_for
from runtime.permissions.errors import PermissionDenied
from runtime.permissions.fields import refuse_hidden_in_filter
from runtime.records.service import MAX_PAGE_SIZE, Records
from runtime.views.errors import ViewError, warning

DEFAULT_PAGE_SIZE = 50
SYSTEM_LABELS = {
    "id": Label("编号", "ID"), "created_at": Label("创建时间", "Created"),
    "updated_at": Label("更新时间", "Updated"), "created_by": Label("创建人", "Created by"),
    "updated_by": Label("修改人", "Updated by"), "owner_id": Label("拥有者", "Owner"),
}


@dataclass
class ViewSpec:
    filter: Any = None
    columns: list[str] | None = None        # None: every field the reader may see
    sort: list[dict[str, str]] | None = None
    page_size: int = DEFAULT_PAGE_SIZE
    warnings: list[dict] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"filter": self.filter, "columns": self.columns, "sort": self.sort,
                "page_size": self.page_size}

    @classmethod
    def checked(cls, records: Records, form: FormDef, *, filter=None, columns=None, sort=None,
                page_size=DEFAULT_PAGE_SIZE) -> "ViewSpec":
        check = _Checker(records, form)
        return cls(check.filter(filter), check.columns(columns), check.sort(sort), check.page_size(page_size))

    @classmethod
    def pruned(cls, records: Records, form: FormDef, stored: dict[str, Any]) -> "ViewSpec":
        prune = _Pruner(records, form)
        spec = cls(prune.filter(stored.get("filter")), prune.columns(stored.get("columns")),
                   prune.sort(stored.get("sort")), prune.page_size(stored.get("page_size")))
        spec.warnings = prune.warnings
        return spec


def normal_sort(spec: Any) -> list[dict[str, str]] | None:
    """[{field, dir}] from the forms parse_sort takes ("-amount,name" text too)."""
    if spec in (None, "", []):
        return None
    if isinstance(spec, str):
        return [{"field": part.strip().lstrip("-+"), "dir": "desc" if part.strip().startswith("-") else "asc"}
                for part in spec.split(",") if part.strip()]
    return spec


class _Checker:
    """The strict checks; each raises the first problem it finds."""

    def __init__(self, records: Records, form: FormDef):
        self.records, self.form, self.app = records, form, records.app
        self.access = records.access(form)

    def filter(self, spec: Any) -> Any:
        problem = filter_problem(self.records, self.form, spec, "filter")
        if problem is not None:
            raise problem
        return spec if spec not in ({}, []) else None

    def columns(self, columns: Any) -> list[str] | None:
        if columns is None:
            return None
        if not isinstance(columns, list) or not all(isinstance(c, str) for c in columns) or not columns:
            raise ViewError("view_columns_invalid")
        seen: set[str] = set()
        for i, key in enumerate(columns):
            path = f"columns[{i}]"
            if key in seen:
                raise ViewError("view_column_twice", path=path, field=key)
            seen.add(key)
            if key in SYSTEM_LABELS:
                continue
            if self.form.field(key) is None:
                raise ViewError("view_column_unknown", path=path, field=key, form=self.form.key,
                                hint=hint_for(key, visible_keys(self.form, self.access)))
            if not self.access.can_see(key):
                raise ViewError("view_column_hidden", path=path, field=key)
        return list(columns)

    def sort(self, spec: Any) -> list[dict[str, str]] | None:
        items = normal_sort(spec)
        if items is None:
            return None
        problem = sort_problem(self.records, self.form, items)
        if problem is not None:
            raise problem
        return items

    @staticmethod
    def page_size(value: Any) -> int:
        if value is None:
            return DEFAULT_PAGE_SIZE
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_PAGE_SIZE:
            raise ViewError("view_page_size_invalid", max=MAX_PAGE_SIZE, value=str(value)[:20])
        return value


class _Pruner:
    """The lenient reading of a stored view: what no longer fits is left out, with a warning."""

    def __init__(self, records: Records, form: FormDef):
        self.records, self.form = records, form
        self.access = records.access(form)
        self.lang = records.ctx.lang
        self.warnings: list[dict] = []

    def warn(self, code: str, **params) -> None:
        self.warnings.append(warning(code, self.lang, **params))

    def filter(self, spec: Any, path: str = "filter") -> Any:
        if spec in (None, {}, []):
            return None
        groups = _group_items(spec)
        if groups is not None:
            kind, items = groups
            kept = [k for i, item in enumerate(items)
                    if (k := self.filter(item, f"{path}.{kind}[{i}]" if isinstance(spec, dict)
                                         else f"{path}[{i}]")) is not None]
            return {kind: kept} if kept else None
        if isinstance(spec, dict) and set(spec) == {"not"}:
            inner = self.filter(spec["not"], f"{path}.not")
            return {"not": inner} if inner is not None else None
        problem = filter_problem(self.records, self.form, spec, path)
        if problem is None:
            return spec
        if problem.code == "view_field_hidden":
            self.warn("view_condition_dropped_hidden")
        else:
            self.warn("view_condition_dropped", path=path, detail=problem.params.get("detail", ""))
        return None

    def columns(self, columns: Any) -> list[str] | None:
        if not isinstance(columns, list):
            return None
        kept = []
        for key in columns:
            if not isinstance(key, str) or key in kept:
                continue
            if key in SYSTEM_LABELS:
                kept.append(key)
            elif self.form.field(key) is None:
                self.warn("view_column_dropped_removed", field=key)
            elif not self.access.can_see(key):
                self.warn("view_column_dropped_hidden")
            else:
                kept.append(key)
        return kept or None

    def sort(self, spec: Any) -> list[dict[str, str]] | None:
        items = normal_sort(spec) if isinstance(spec, (list, str)) else None
        kept = []
        for i, item in enumerate(items or []):
            problem = sort_problem(self.records, self.form, [item], first=i)
            if problem is None:
                kept.append(item)
            elif problem.code == "view_field_hidden":
                self.warn("view_sort_dropped_hidden")
            else:
                self.warn("view_sort_dropped", path=problem.params["path"], detail=problem.params["detail"])
        return kept or None

    @staticmethod
    def page_size(value: Any) -> int:
        ok = isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_PAGE_SIZE
        return value if ok else DEFAULT_PAGE_SIZE


def _group_items(spec: Any) -> tuple[str, list] | None:
    """("and" | "or", items) of a group of conditions, or None for anything else."""
    if isinstance(spec, list):
        return "and", spec
    if isinstance(spec, dict) and len(spec) == 1:
        kind = next(iter(spec))
        if kind in ("and", "or") and isinstance(spec[kind], list):
            return kind, spec[kind]
    return None


def visible_keys(form: FormDef, access) -> list[str]:
    return [key for key in form.field_keys() if access.can_see(key)]


def filter_problem(records: Records, form: FormDef, spec: Any, path: str) -> ViewError | None:
    """Why `spec` cannot filter `form` for this reader (a field it may not see first,
    before any message that would describe that field), or None."""
    app = records.app
    tree = parse_filter(spec, form, app=app.definition, types=app.types, path=path)
    try:
        refuse_hidden_in_filter(app, form, tree, records.access)
    except PermissionDenied as refused:
        return ViewError("view_field_hidden", where=refused.params.get("path", path),
                         field=refused.params.get("field"))
    if tree.errors:
        return ViewError("view_filter_invalid", path=tree.errors[0].path, detail=tree.errors[0].message)
    try:
        table = app.tables.form_table(form.key)
        ctx = records.ctx.for_form(app.tables, form.key)
        compile_filter(form, read_columns(app, form, table, ctx), tree, ctx, tables=app.tables)
    except FilterError as exc:
        return ViewError("view_filter_invalid", path=exc.path, detail=exc.message)
    return None


def sort_problem(records: Records, form: FormDef, items: list, first: int = 0) -> ViewError | None:
    """Why `items` cannot sort `form` for this reader (a hidden field first), or None;
    `first` is the position of items[0] in the whole sort, for the message's path."""
    access = records.access(form)
    for i, item in enumerate(items):
        key = item.get("field") if isinstance(item, dict) else None
        if isinstance(key, str) and form.field(key) is not None and not access.can_see(key):
            return ViewError("view_field_hidden", where=f"sort[{first + i}]", field=key)
    app = records.app
    try:
        parse_sort(form, app.tables.form_table(form.key), items, app.types)
    except FilterError as exc:
        path = re.sub(r"^sort\[(\d+)\]", lambda m: f"sort[{int(m.group(1)) + first}]", exc.path)
        return ViewError("view_sort_invalid", path=path, detail=exc.message)
    return None


def column_label(form: FormDef, key: str, lang: str) -> str:
    fdef = form.field(key)
    return (fdef.label if fdef is not None else SYSTEM_LABELS[key]).get(lang)

