"""'Did you mean' suggestions for misspelt names."""
from __future__ import annotations

import difflib
from typing import Iterable


def did_you_mean(name: str, candidates: Iterable[str]) -> str | None:
    """The closest candidate to `name`, or None when nothing is close enough."""
    pool = [c for c in candidates if isinstance(c, str)]
    if not isinstance(name, str) or not pool:
        return None
    lowered = {c.lower(): c for c in pool}
    if name.lower() in lowered and lowered[name.lower()] != name:
        return lowered[name.lower()]
    # Short names (two Chinese characters, say) differ by a larger share per typo.
    cutoff = 0.5 if len(name) <= 4 else 0.6
    matches = difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=cutoff)
    return lowered[matches[0]] if matches else None
