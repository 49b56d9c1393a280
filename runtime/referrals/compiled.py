"""The referral programme of a compiled app, read once per App (the definition's
`referrals` block, engine/referrals). An app without the block has None."""
from __future__ import annotations

from engine.compiled.app import App, AppCache
from engine.referrals.model import ReferralProgramme, referral_programme_of

_CACHE = AppCache(64)


def programme_for(app: App) -> ReferralProgramme | None:
    found = _CACHE.get(id(app))
    if found is not None and found[0] is app:
        return found[1]
    made = referral_programme_of(app.definition)
    _CACHE.put(id(app), (app, made))
    return made
