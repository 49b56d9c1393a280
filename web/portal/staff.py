"""Staff's side of the portal, on a customer's record page:

    POST /apps/<app>/forms/<form>/records/<id>/portal-link   action=copy: a link to copy (JSON {url})
                                                             action=send: the link to the customer's phone

Thin over runtime/referrals/portal.py staff_link, through runtime_session(): the staff
member must be allowed to edit the customer (else 403), a customer outside their scope is
404, a form that is not the programme's customers form is 404. A plain form POST (no
script) comes back to the record page with the link (or "sent") in a notice.
"""
from __future__ import annotations

from flask import Blueprint, current_app, flash, jsonify, redirect, request, url_for
from flask_babel import gettext as _
from werkzeug.exceptions import NotFound

from runtime.referrals.portal import StaffPanel, staff_link
from web.context import login_required, runtime_session
from web.tables.views import json_body

bp = Blueprint("portal_staff", __name__, url_prefix="/apps/<app_key>/forms/<form_key>/records/<int:record_id>")


@bp.post("/portal-link")
@login_required
def portal_link(app_key: str, form_key: str, record_id: int):
    action = request.form.get("action") if request.form else json_body().get("action")
    if action not in ("copy", "send"):
        action = "copy"
    with runtime_session().write() as uow:
        if not StaffPanel(uow, app_key).applies(form_key):
            raise NotFound()
        made = staff_link(uow, app_key, record_id, secret=current_app.config["SECRET_KEY"],
                          base_url=request.url_root, send=action == "send")
    if request.form:
        if action == "send":
            flash(_("The portal link was sent to %(phone)s. It works once, for 30 minutes.", phone=made["phone"])
                  if made["sent"] else _("A portal link was sent to this customer a few minutes ago; wait before "
                                         "sending another."), "success")
        else:
            flash(_("Portal link (works once, for 30 minutes): %(url)s", url=made["url"]), "success")
        return redirect(url_for("records.record", app_key=app_key, form_key=form_key, record_id=record_id)
                        + "#referrals")
    return jsonify(made)
