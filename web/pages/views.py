"""The home page: the installed apps and the forms this user may use."""
from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, render_template

from runtime.apps import installed_apps
from runtime.permissions import CREATE, VIEW, accessible_forms
from web.context import current_actor, login_required, page_lang, runtime_session

bp = Blueprint("pages", __name__)


@dataclass(frozen=True)
class FormLink:
    app_key: str
    form_key: str
    label: str
    can_view: bool
    can_create: bool


@dataclass(frozen=True)
class AppCard:
    key: str
    label: str
    forms: list[FormLink]


@bp.get("/")
@login_required
def home():
    return render_template("pages/home.html", apps=usable_apps())


def usable_apps() -> list[AppCard]:
    """Each installed app with the forms the permission policy lets this user view or
    fill in; apps with none are left out."""
    session, actor, lang = runtime_session(), current_actor(), page_lang()
    cards = []
    with session.read() as uow:
        for row in installed_apps(uow.conn):
            app = uow.app(row["key"])
            links = []
            for form in accessible_forms(app, actor, session.policy):
                access = session.policy.access(app, form, actor)
                links.append(FormLink(app.key, form.key, form.label.get(lang) or form.key,
                                      access.can(VIEW), access.can(CREATE)))
            if links:
                cards.append(AppCard(app.key, app.label.get(lang) or app.key, links))
    return cards
