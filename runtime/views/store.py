"""Saved views: each user's named filters, columns, sorts and page sizes of a form.

    views = SavedViews(records)                       # records: Records of the app, as the user
    view = views.create("customers", "重要客户", filter={"field": "level", "op": "eq", "value": "vip"},
                        columns=["name", "level", "owner"], sort=[{"field": "name", "dir": "asc"}],
                        default=True)
    views.list("customers")          # [{id, name, form, is_default, filter, columns, sort, page_size, ...}]
    views.load(view["id"])           # the ViewSpec to show, with warnings for what no longer fits
    views.update(view["id"], columns=["name"]); views.rename(view["id"], "VIP"); views.delete(view["id"])

A view belongs to one user: another user's view answers ViewNotFound, as one that does
not exist. Saving checks the view against the form and the user's visible fields
(ViewSpec.checked); loading never fails for a field removed or hidden since
(ViewSpec.pruned). One default view per user and form: making one the default
unsets the other in the same statement set.
"""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from engine.errors import FormworkError
from engine.storage import system
from runtime.records.service import Records
from runtime.views.errors import ViewError, ViewNotFound
from runtime.views.spec import ViewSpec

MAX_NAME = 100
MAX_VIEWS = 200          # per user and form: a list a person can still choose from
_v = system.saved_views
UNSET = object()


def _iso(value):
    return value.isoformat() if value is not None else None


class SavedViews:
    def __init__(self, records: Records):
        self.records, self.conn, self.app = records, records.conn, records.app
        self.user_id = records.actor.user_id

    # ---- reading ----------------------------------------------------------------------
    def list(self, form_key: str) -> list[dict[str, Any]]:
        """The user's views of a form, the default first, then by name (one query)."""
        self.app.require_form(form_key)
        rows = self.conn.execute(sa.select(_v).where(*self._mine(form_key))
                                 .order_by(_v.c.is_default.desc(), _v.c.name, _v.c.id)).mappings()
        return [self._as_json(row) for row in rows]

    def get(self, view_id: int) -> dict[str, Any]:
        return self._as_json(self._row(view_id))

    def load(self, view_id: int) -> tuple[dict[str, Any], ViewSpec]:
        """(the view, its spec for today's form and reader: what no longer fits left out
        with `spec.warnings`)."""
        row = self._row(view_id)
        spec = self._spec(row)
        return self._as_json(row, spec), spec

    def default(self, form_key: str) -> int | None:
        """The id of the user's default view of the form, or None."""
        if self.user_id is None:
            return None
        return self.conn.execute(sa.select(_v.c.id).where(*self._mine(form_key), _v.c.is_default)).scalar()

    # ---- writing ----------------------------------------------------------------------
    def create(self, form_key: str, name: str, *, filter=None, columns=None, sort=None,
               page_size=None, default: bool = False) -> dict[str, Any]:
        self._need_user()
        form = self.app.require_form(form_key)
        name = self._name(name)
        spec = ViewSpec.checked(self.records, form, filter=filter, columns=columns, sort=sort,
                                page_size=page_size)
        count = self.conn.execute(sa.select(sa.func.count()).select_from(_v).where(*self._mine(form_key))).scalar()
        if count >= MAX_VIEWS:
            raise FormworkError(f"at most {MAX_VIEWS} saved views per form; delete some first")
        if default:
            self._unset_default(form_key)
        now = self._now()
        row = {"user_id": self.user_id, "app_key": self.app.key, "form_key": form_key, "name": name,
               "spec": spec.to_json(), "is_default": bool(default), "created_at": now, "updated_at": now}
        view_id = self._saving(form_key, name, lambda: self.conn.execute(
            _v.insert().returning(_v.c.id), row).scalar_one())
        return self.get(view_id)

    def update(self, view_id: int, *, filter=UNSET, columns=UNSET, sort=UNSET, page_size=UNSET) -> dict[str, Any]:
        """Change some parts of a view; the parts not given stay as saved."""
        row = self._row(view_id)
        form = self.app.require_form(row["form_key"])
        stored = self._spec(row).to_json()       # what no longer fits is dropped for good
        given = {"filter": filter, "columns": columns, "sort": sort, "page_size": page_size}
        stored.update({k: v for k, v in given.items() if v is not UNSET})
        spec = ViewSpec.checked(self.records, form, **stored)
        self.conn.execute(_v.update().where(_v.c.id == view_id).values(spec=spec.to_json(), updated_at=self._now()))
        return self.get(view_id)

    def rename(self, view_id: int, name: str) -> dict[str, Any]:
        row = self._row(view_id)
        name = self._name(name)
        self._saving(row["form_key"], name, lambda: self.conn.execute(
            _v.update().where(_v.c.id == view_id).values(name=name, updated_at=self._now())))
        return self.get(view_id)

    def set_default(self, view_id: int, default: bool = True) -> dict[str, Any]:
        """Make the view the user's default of its form (unsetting the other), or not."""
        row = self._row(view_id)
        if default:
            self._unset_default(row["form_key"])
        self.conn.execute(_v.update().where(_v.c.id == view_id).values(is_default=default))
        return self.get(view_id)

    def delete(self, view_id: int) -> None:
        self._row(view_id)
        self.conn.execute(_v.delete().where(_v.c.id == view_id))

    # ---- helpers ----------------------------------------------------------------------
    def _now(self):
        return self.records.ctx.current_time()

    def _mine(self, form_key: str) -> list:
        return [_v.c.user_id == self.user_id, _v.c.app_key == self.app.key, _v.c.form_key == form_key]

    def _need_user(self) -> None:
        if self.user_id is None:
            raise ViewError("view_needs_user")

    def _row(self, view_id: Any):
        self._need_user()
        if isinstance(view_id, bool) or not isinstance(view_id, int):
            raise ViewNotFound(str(view_id)[:20])
        row = self.conn.execute(sa.select(_v).where(
            _v.c.id == view_id, _v.c.user_id == self.user_id, _v.c.app_key == self.app.key)).mappings().first()
        if row is None or self.app.form(row["form_key"]) is None:
            raise ViewNotFound(view_id)
        return row

    @staticmethod
    def _name(name: Any) -> str:
        text = name.strip() if isinstance(name, str) else ""
        if not text or len(text) > MAX_NAME:
            raise ViewError("view_name_invalid", max=MAX_NAME)
        return text

    def _saving(self, form_key: str, name: str, write):
        """`write()`, with the unique name refused in words (checked first, and by the
        index when two saves race)."""
        taken = self.conn.execute(sa.select(_v.c.id).where(*self._mine(form_key), _v.c.name == name)).first()
        if taken is not None:
            raise ViewError("view_name_taken", name=name, form=form_key)
        try:
            with self.conn.begin_nested():
                return write()
        except IntegrityError:
            raise ViewError("view_name_taken", name=name, form=form_key) from None

    def _unset_default(self, form_key: str) -> None:
        self.conn.execute(_v.update().where(*self._mine(form_key), _v.c.is_default).values(is_default=False))

    def _spec(self, row) -> ViewSpec:
        """The view as it applies today: parts naming fields removed since or hidden from
        the user left out (and said in `warnings`), so no answer names a hidden field."""
        return ViewSpec.pruned(self.records, self.app.require_form(row["form_key"]), row["spec"] or {})

    def _as_json(self, row, spec: ViewSpec | None = None) -> dict[str, Any]:
        spec = spec or self._spec(row)
        return {"id": row["id"], "name": row["name"], "form": row["form_key"], "is_default": row["is_default"],
                "filter": spec.filter, "columns": spec.columns, "sort": spec.sort, "page_size": spec.page_size,
                "warnings": spec.warnings, "created_at": _iso(row["created_at"]),
                "updated_at": _iso(row["updated_at"])}
