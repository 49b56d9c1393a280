"""'Did you mean' suggestions for misspelt names, and the hints that offer them.

Every hint is made here: `hint` gives a catalogue message's `{hint}` parameter its text
in each language (the wording is the one `did_you_mean` entry of engine/errors.py), so a
Chinese message says 是不是 and an English one "did you mean", never the other's.
"""
from __future__ import annotations

import difflib
from typing import Callable, Iterable

from engine.errors import suggestion_text
from engine.i18n import LANGS, PerLanguage


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


def did_you_mean_path(name: str, candidates: Iterable[str],
                      columns: Callable[[str], Iterable[str] | None], dots: str = ".") -> str | None:
    """The closest name to `name`, where "parent.column" is a path into a subform:
    `columns(parent)` gives the names of a subform's columns (None for a field without
    columns). A path whose parent is (nearly) a subform is matched against that
    subform's columns only, so `items.qtty` suggests `items.qty`, not `items`."""
    pool = [c for c in candidates if isinstance(c, str)]
    for at in (i for i, ch in enumerate(name) if ch in dots) if isinstance(name, str) else ():
        head, rest = name[:at], name[at + 1:]
        parent = head if columns(head) is not None else did_you_mean(head, pool)
        inner = columns(parent) if parent is not None else None
        if inner is not None:     # a path into a subform: one of its columns, or nothing
            inner = list(inner)
            column = rest if rest in inner else did_you_mean(rest, inner)
            return f"{parent}{name[at]}{column}" if column is not None else None
    return did_you_mean(name, pool)


def hint(suggestion: str | None) -> PerLanguage:
    """The `{hint}` of a catalogue message: the suggestion offered in each language's own
    words, or nothing in every language when there is none."""
    return PerLanguage({lang: suggestion_text(suggestion, lang) for lang in LANGS})


def hint_for(name: str, candidates: Iterable[str]) -> PerLanguage:
    """`hint` for the candidate closest to `name`."""
    return hint(did_you_mean(name, candidates))
