"""/admin/departments: the tree (add a department under any other), and a department's
page: rename, move (the runtime refuses a move under itself or below), set or clear the
head, add and remove members, delete an empty one."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine.errors import CodedError, RecordValidationError
from web.admin.blueprint import bp, change_or_refuse, coded, field_errors, id_list
from web.context import admin_required, runtime_session


def _tree(uow):
    return [node for root in uow.org.departments.tree() for node in root.walk()]


@bp.get("/departments")
@admin_required
def departments():
    return _tree_page()


def _tree_page(*, values=None, errors=None, status=200):
    with runtime_session().read() as uow:
        nodes = _tree(uow)
    return render_template("admin/departments.html", nodes=nodes, values=values or {}, errors=errors or {}), status


@bp.post("/departments")
@admin_required
def add_department():
    values = {"name": request.form.get("name", ""), "parent": request.form.get("parent", "")}
    try:
        with runtime_session().write() as uow:
            dept = uow.org.departments.create(values["name"], values["parent"] or None)
    except RecordValidationError as exc:
        return _tree_page(values=values, errors=field_errors(exc), status=422)
    except CodedError as exc:
        return _tree_page(values=values, errors={"name": coded(exc)}, status=422)
    flash(_("The department %(name)s was added.", name=dept.name), "success")
    return redirect(url_for("admin.departments"))


@bp.get("/departments/<int:dept_id>")
@admin_required
def department(dept_id: int):
    return _department_page(dept_id)


def _department_page(dept_id: int, *, values=None, errors=None, status=200):
    with runtime_session().read() as uow:
        org = uow.org
        dept = org.departments.get(dept_id)
        page = {"dept": dept, "path": org.departments.path(dept.id), "head": org.departments.head_of(dept.id),
                "members": org.departments.members(dept.id, active_only=False), "nodes": _tree(uow),
                "below": set(org.departments.descendant_ids(dept.id))}
    return render_template("admin/department.html", **page, values=values or {}, errors=errors or {}), status


def _change(dept_id: int, field: str, values: dict, change, done: str):
    """Run `change(departments)`; a refusal is shown beside `field`, the values kept."""
    return change_or_refuse(lambda uow: change(uow.org.departments), field=field, values=values, done=done,
                            page=lambda **kw: _department_page(dept_id, **kw),
                            to=url_for("admin.department", dept_id=dept_id), one_field=True)


@bp.post("/departments/<int:dept_id>/rename")
@admin_required
def rename_department(dept_id: int):
    name = request.form.get("name", "")
    return _change(dept_id, "name", {"name": name}, lambda d: d.rename(dept_id, name), _("The department was renamed."))


@bp.post("/departments/<int:dept_id>/move")
@admin_required
def move_department(dept_id: int):
    parent = request.form.get("parent", "")
    return _change(dept_id, "parent", {"parent": parent}, lambda d: d.move(dept_id, parent or None),
                   _("The department was moved."))


@bp.post("/departments/<int:dept_id>/head")
@admin_required
def set_head(dept_id: int):
    head = request.form.get("head", "").strip()
    change = (lambda d: d.set_head(dept_id, head)) if head else (lambda d: d.clear_head(dept_id))
    return _change(dept_id, "head", {"head": head}, change,
                   _("The head was set.") if head else _("The department has no head now."))


@bp.post("/departments/<int:dept_id>/members")
@admin_required
def add_members(dept_id: int):
    text = request.form.get("accounts", "")
    return _change(dept_id, "accounts", {"accounts": text}, lambda d: d.add_members(dept_id, id_list(text)),
                   _("The members were added."))


@bp.post("/departments/<int:dept_id>/members/<int:user_id>/remove")
@admin_required
def remove_member(dept_id: int, user_id: int):
    return _change(dept_id, "members", {}, lambda d: d.remove_members(dept_id, [user_id]),
                   _("The member was removed."))


@bp.post("/departments/<int:dept_id>/delete")
@admin_required
def delete_department(dept_id: int):
    try:
        with runtime_session().write() as uow:
            uow.org.departments.delete(dept_id)
    except CodedError as exc:
        return _department_page(dept_id, errors={"delete": coded(exc)}, status=422)
    flash(_("The department was deleted."), "success")
    return redirect(url_for("admin.departments"))
