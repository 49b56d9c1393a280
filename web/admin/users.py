"""/admin/users: the list (search, paging, active or not), adding a user (with a
department and roles, a password given or generated and shown once), editing name,
email and phone, deactivating (which ends their sessions and API keys: runtime/org),
reactivating, resetting the password, the administrator flag and the user's roles."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine.errors import CodedError, RecordValidationError
from runtime.auth import ApiKeys
from web.admin.blueprint import PAGE_SIZE, bp, coded, field_errors
from web.context import admin_required, current_actor, runtime_session

STATUSES = {"active": True, "inactive": False, "all": None}
EDITABLE = ("name", "email", "phone")


@bp.get("/users")
@admin_required
def users():
    search = request.args.get("q", "").strip()
    status = request.args.get("status", "active")
    page = max(1, request.args.get("page", 1, type=int) or 1)
    with runtime_session().read() as uow:
        org = uow.org
        found = org.users.list(search=search or None, active=STATUSES.get(status, True),
                               limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
        ids = [u.id for u in found.users]
        memberships, roles = org.departments.memberships_of(ids), org.roles.roles_of_many(ids)
    pages = max(1, -(-found.total // PAGE_SIZE))
    return render_template("admin/users.html", found=found, search=search, status=status, page=page, pages=pages,
                           memberships=memberships, roles=roles)


def _choices(uow):
    return {"departments": [node for root in uow.org.departments.tree() for node in root.walk()],
            "roles": [role for role, _count in uow.org.roles.list()]}


@bp.get("/users/new")
@admin_required
def new_user():
    with runtime_session().read() as uow:
        choices = _choices(uow)
    return render_template("admin/user_new.html", values={}, errors={}, **choices)


@bp.post("/users/new")
@admin_required
def add_user():
    form = request.form
    values = {k: form.get(k, "").strip() for k in ("account", "name", "email", "phone", "department")}
    values["roles"] = form.getlist("roles")
    values["is_admin"] = form.get("is_admin") == "1"
    password, generated = form.get("password") or None, None
    errors: dict[str, str] = {}
    try:
        with runtime_session().write() as uow:
            user = uow.org.users.add(values["account"], values["name"], email=values["email"] or None,
                                     phone=values["phone"] or None, password=password, is_admin=values["is_admin"])
            if password is None:
                generated = uow.org.users.reset_password(user.id)
            if values["department"]:
                uow.org.departments.add_members(values["department"], [user.id], primary=True)
            for role in values["roles"]:
                uow.org.roles.assign(role, [user.id])
    except RecordValidationError as exc:
        errors = field_errors(exc)
    except CodedError as exc:       # a taken account, a department or role gone meanwhile
        errors = {"account" if "account" in exc.code else "department" if "department" in exc.code
                  else "roles" if "role" in exc.code else "form": coded(exc)}
    if errors:
        with runtime_session().read() as uow:
            choices = _choices(uow)
        return render_template("admin/user_new.html", values=values, errors=errors, **choices), 422
    return _user_page(user.id, new_password=generated,
                      notice=_("The user %(name)s was added.", name=user.name))


@bp.get("/users/<int:user_id>")
@admin_required
def user(user_id: int):
    return _user_page(user_id)


def _user_page(user_id: int, *, values=None, errors=None, new_password=None, notice=None, status=200):
    with runtime_session().read() as uow:
        org = uow.org
        found = org.users.get(user_id)
        memberships = org.departments.memberships(found.id)
        held = {r.id for r in org.roles.roles_of(found.id)}
        all_roles = [role for role, _count in org.roles.list()]
        keys = ApiKeys(uow.conn).list(found.id)
    return render_template("admin/user.html", user=found, values=values or {}, errors=errors or {},
                           memberships=memberships, held=held, all_roles=all_roles, keys=keys,
                           new_password=new_password, notice=notice,
                           is_self=found.id == current_actor().user_id), status


@bp.post("/users/<int:user_id>")
@admin_required
def edit_user(user_id: int):
    values = {k: request.form.get(k, "").strip() for k in EDITABLE}
    try:
        with runtime_session().write() as uow:
            edited = uow.org.users.edit(user_id, **{k: (v or None) if k != "name" else v for k, v in values.items()})
    except RecordValidationError as exc:
        return _user_page(user_id, values=values, errors=field_errors(exc), status=422)
    flash(_("The changes to %(name)s were saved.", name=edited.name), "success")
    return redirect(url_for("admin.user", user_id=user_id))


@bp.post("/users/<int:user_id>/deactivate")
@admin_required
def deactivate_user(user_id: int):
    return _set_active(user_id, False)


@bp.post("/users/<int:user_id>/reactivate")
@admin_required
def reactivate_user(user_id: int):
    return _set_active(user_id, True)


def _set_active(user_id: int, active: bool):
    with runtime_session().write() as uow:
        (uow.org.users.reactivate if active else uow.org.users.deactivate)([user_id])
        name = uow.org.users.get(user_id).name
    flash(_("%(name)s can sign in again.", name=name) if active else
          _("%(name)s was deactivated: their sessions ended and their API keys were revoked.", name=name), "success")
    return redirect(url_for("admin.user", user_id=user_id))


@bp.post("/users/<int:user_id>/reset-password")
@admin_required
def reset_password(user_id: int):
    with runtime_session().write() as uow:
        password = uow.org.users.reset_password(user_id)
    return _user_page(user_id, new_password=password,
                      notice=_("The password was reset and the user's sessions were ended."))


@bp.post("/users/<int:user_id>/admin")
@admin_required
def set_admin(user_id: int):
    make_admin = request.form.get("is_admin") == "1"
    with runtime_session().write() as uow:
        edited = uow.org.users.edit(user_id, is_admin=make_admin)
    flash(_("%(name)s is now a workspace administrator.", name=edited.name) if make_admin
          else _("%(name)s is no longer a workspace administrator.", name=edited.name), "success")
    return redirect(url_for("admin.user", user_id=user_id))


@bp.post("/users/<int:user_id>/roles")
@admin_required
def set_user_roles(user_id: int):
    wanted = {int(r) for r in request.form.getlist("roles") if r.isdigit()}
    with runtime_session().write() as uow:
        roles = uow.org.roles
        held = {r.id for r in roles.roles_of(user_id)}
        for role_id in wanted - held:
            roles.assign(role_id, [user_id])
        for role_id in held - wanted:
            roles.unassign(role_id, [user_id])
    flash(_("The roles were saved."), "success")
    return redirect(url_for("admin.user", user_id=user_id))
