"""/account/password and /account/api-keys: the signed-in user's own settings."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from engine.errors import FieldError, RecordValidationError
from engine.i18n import render
from runtime.auth import ApiKeys, epoch_of
from runtime.auth.api_keys import clean_key_name
from web.auth.identity import SESSION_EPOCH
from web.context import current_actor, login_required, page_lang, runtime_session

bp = Blueprint("account", __name__, url_prefix="/account")


@bp.route("/password", methods=["GET", "POST"])
@login_required
def password():
    if request.method == "GET":
        return render_template("account/password.html", errors={})
    errors = _password_problems(request.form)
    if not errors:
        try:
            with runtime_session().write() as uow:
                uow.org.users.set_password(current_actor().user_id, request.form["new_password"])
                new_epoch = epoch_of(uow.conn, current_actor().user_id)
        except RecordValidationError as exc:
            errors = {"new_password": "; ".join(render(i.code, i.params, page_lang()) for i in exc.issues)}
    if errors:
        return render_template("account/password.html", errors=errors), 422
    session[SESSION_EPOCH] = new_epoch          # this session goes on; the others have ended
    flash(_("Your password was changed. Other sessions have been signed out."), "success")
    return redirect(url_for("account.password"))


def _password_problems(form) -> dict[str, str]:
    actor = current_actor()
    errors = {}
    with runtime_session().read() as uow:
        if uow.org.users.check_password(actor.account, form.get("current_password", "")) is None:
            errors["current_password"] = _("The current password is not right.")
    if not form.get("new_password"):
        errors["new_password"] = _("Enter a new password.")
    elif form.get("new_password") != form.get("confirm_password"):
        errors["confirm_password"] = _("The two new passwords are not the same.")
    return errors


@bp.get("/api-keys")
@login_required
def api_keys():
    with runtime_session().read() as uow:
        keys = ApiKeys(uow.conn).list(current_actor().user_id)
    return render_template("account/api_keys.html", keys=keys, new_secret=None, error=None)


@bp.post("/api-keys")
@login_required
def create_api_key():
    try:
        name = clean_key_name(request.form.get("name"))
    except FieldError as exc:
        error = render(exc.code, exc.params, page_lang())
        return _keys_page(error=error), 422
    with runtime_session().write() as uow:
        _key, secret = ApiKeys(uow.conn).create(current_actor().user_id, name)
    return _keys_page(new_secret=secret)


@bp.post("/api-keys/<int:key_id>/revoke")
@login_required
def revoke_api_key(key_id: int):
    with runtime_session().write() as uow:
        key = ApiKeys(uow.conn).revoke(key_id, user_id=current_actor().user_id)
    flash(_("The key “%(name)s” was revoked.", name=key.name), "success")
    return redirect(url_for("account.api_keys"))


def _keys_page(*, new_secret: str | None = None, error: str | None = None) -> str:
    with runtime_session().read() as uow:
        keys = ApiKeys(uow.conn).list(current_actor().user_id)
    return render_template("account/api_keys.html", keys=keys, new_secret=new_secret, error=error)
