"""The referral programme of a compiled app, read once per App (the definition's
`referrals` block, engine/referrals). An app without the block has None."""
from __future__ import annotations

import sqlalchemy as sa

from engine.compiled.app import App, AppCache
from engine.errors import NotFound
from engine.referrals.model import FormMap, ReferralProgramme, referral_programme_of

_CACHE = AppCache(64)


def programme_for(app: App) -> ReferralProgramme | None:
    found = _CACHE.get(id(app))
    if found is not None and found[0] is app:
        return found[1]
    made = referral_programme_of(app.definition)
    _CACHE.put(id(app), (app, made))
    return made


class NoProgramme(NotFound):
    """The app declares no referral programme."""


def require_programme(app: App) -> ReferralProgramme:
    programme = programme_for(app)
    if programme is None:
        raise NoProgramme(f"app {app.key!r} declares no referral programme (a `referrals` block, docs/referrals.md)")
    return programme


def field_column(app: App, mapping: FormMap, part: str) -> sa.ColumnElement:
    """The column of the form's table holding the field that plays `part`."""
    form = app.definition.form(mapping.form)
    return app.tables.form_table(mapping.form).c[app.types.of(form.field(mapping[part])).columns()[0].name]
