"""The referral programme of a compiled app, read once per App (the definition's
`referrals` block, engine/referrals). An app without the block has None."""
from __future__ import annotations

import sqlalchemy as sa

from engine.compiled.app import App, AppCache
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
