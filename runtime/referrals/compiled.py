"""The referral programme of a compiled app, read once per App (the definition's
`referrals` block, engine/referrals). An app without the block has None."""
from __future__ import annotations

import sqlalchemy as sa

from engine.compiled.app import App, AppCache
from engine.errors import NotFound
from engine.referrals.model import FormMap, ReferralProgramme, referral_programme_of

# The fraud checks' verdicts (a referral's fraud_status).
CLEAR, FLAGGED, BLOCKED = "clear", "flagged", "blocked"

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


def part_column(app: App, mapping: FormMap, part: str) -> sa.Column | None:
    """The column of the field playing `part` in a form of the programme; None when the
    part is not mapped."""
    key = mapping[part]
    if not key or not mapping.form:
        return None
    fdef = app.require_form(mapping.form).field(key)
    if fdef is None:
        return None
    return app.tables.form_table(mapping.form).c[app.types.of(fdef).columns()[0].name]


def field_column(app: App, mapping: FormMap, part: str) -> sa.Column:
    """The column of a part the programme must map (the validator saw to it)."""
    column = part_column(app, mapping, part)
    if column is None:
        raise NoProgramme(f"the referral programme of app {app.key!r} maps no field to {mapping.path}.{part}")
    return column
