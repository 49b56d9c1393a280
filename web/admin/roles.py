"""/admin/roles: every role with its members count and the apps' permission sets that
name it, adding a role; a role's page: rename, add and remove members, delete."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine.errors import CodedError, RecordValidationError
from runtime.apps import installed_apps
from runtime.permissions.overview import overview
from web.admin.blueprint import bp, change_or_refuse, coded, field_errors, id_list
from web.context import admin_required, page_lang, runtime_session


def _sets_by_role(uow) -> dict[str, list[str]]:
    """For each role key, where the installed apps use it ("CRM: 销售 (sets)", "admins")."""
    used: dict[str, list[str]] = {}
    lang = page_lang()
    for row in installed_apps(uow.conn):
        app = uow.app(row["key"])
        sets = overview(app, lang)
        app_label = app.label.get(lang) or app.key
        for key in sets.admins:
            used.setdefault(key, []).append(_("%(app)s: administers the app", app=app_label))
        seen: set[tuple[str, str]] = set()
        for form in sets.forms:
            for entry in form.entries:
                for key in entry.roles:
                    if (key, entry.set_key) not in seen:
                        seen.add((key, entry.set_key))
                        used.setdefault(key, []).append(f"{app_label}: {entry.set_label}")
    return used


@bp.get("/roles")
@admin_required
def roles():
    return _roles_page()


def _roles_page(*, values=None, errors=None, status=200):
    with runtime_session().read() as uow:
        listed = uow.org.roles.list()
        used = _sets_by_role(uow)
    known = {role.key for role, _count in listed}
    missing = sorted(key for key in used if key not in known)
    return render_template("admin/roles.html", roles=listed, used=used, missing=missing,
                           values=values or {}, errors=errors or {}), status


@bp.post("/roles")
@admin_required
def add_role():
    values = {k: request.form.get(k, "").strip() for k in ("key", "name", "description")}
    try:
        with runtime_session().write() as uow:
            role = uow.org.roles.create(values["key"], values["name"], values["description"] or None)
    except RecordValidationError as exc:
        return _roles_page(values=values, errors=field_errors(exc), status=422)
    except CodedError as exc:
        return _roles_page(values=values, errors={"key": coded(exc)}, status=422)
    flash(_("The role %(name)s was added.", name=role.name), "success")
    return redirect(url_for("admin.role", role_id=role.id))


@bp.get("/roles/<int:role_id>")
@admin_required
def role(role_id: int):
    return _role_page(role_id)


def _role_page(role_id: int, *, values=None, errors=None, status=200):
    with runtime_session().read() as uow:
        found = uow.org.roles.get(role_id)
        members = uow.org.roles.members(found.id, active_only=False)
        used = _sets_by_role(uow).get(found.key, [])
    return render_template("admin/role.html", role=found, members=members, used=used,
                           values=values or {}, errors=errors or {}), status


def _change(role_id: int, field: str, values: dict, change, done: str):
    return change_or_refuse(lambda uow: change(uow.org.roles), field=field, values=values, done=done,
                            page=lambda **kw: _role_page(role_id, **kw), to=url_for("admin.role", role_id=role_id))


@bp.post("/roles/<int:role_id>/rename")
@admin_required
def rename_role(role_id: int):
    values = {k: request.form.get(k, "").strip() for k in ("name", "description")}
    return _change(role_id, "name", values, lambda r: r.rename(role_id, values["name"], values["description"] or None),
                   _("The role was saved."))


@bp.post("/roles/<int:role_id>/members")
@admin_required
def add_role_members(role_id: int):
    text = request.form.get("accounts", "")
    return _change(role_id, "accounts", {"accounts": text}, lambda r: r.assign(role_id, id_list(text)),
                   _("The members were added."))


@bp.post("/roles/<int:role_id>/members/<int:user_id>/remove")
@admin_required
def remove_role_member(role_id: int, user_id: int):
    return _change(role_id, "members", {}, lambda r: r.unassign(role_id, [user_id]), _("The member was removed."))


@bp.post("/roles/<int:role_id>/delete")
@admin_required
def delete_role(role_id: int):
    try:
        with runtime_session().write() as uow:
            uow.org.roles.delete(role_id, force=request.form.get("force") == "1")
    except CodedError as exc:
        return _role_page(role_id, errors={"delete": coded(exc)}, status=422)
    flash(_("The role was deleted."), "success")
    return redirect(url_for("admin.roles"))
