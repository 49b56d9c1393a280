"""The referral programme at run time (docs/referrals.md): the programme of a compiled
app (compiled.py); the mechanics (codes, links, attribution, fraud checks, the portal)
build on it."""
from runtime.referrals.codes import ShareCode, codes_of, poster_path, resolve, share_code, share_path
from runtime.referrals.compiled import programme_for

__all__ = ["ShareCode", "codes_of", "poster_path", "programme_for", "resolve", "share_code", "share_path"]
