"""Bilingual (zh-CN default, English) message catalogue for the engine.

The engine has no request and no Flask, so it cannot use Flask-Babel; it returns
machine-readable problems (a code plus parameters) and renders their text here.
The web layer later maps the same codes through gettext catalogues.
"""
from __future__ import annotations

DEFAULT_LANG = "zh"
LANGS = ("zh", "en")

_CATALOGUE: dict[str, dict[str, str]] = {}


class PerLanguage(dict):
    """A message parameter whose text depends on the language the message is rendered
    in, {"zh": ..., "en": ...}: a "did you mean" hint is written in the message's own
    language (engine/suggest.py makes them)."""


def register_messages(messages: dict[str, dict[str, str]]) -> None:
    """Add message templates: {code: {"zh": "...{param}...", "en": "..."}}.

    Each module that raises a coded error registers its own messages next to it,
    so the code and its wording live in one place.
    """
    for code, texts in messages.items():
        missing = [lang for lang in LANGS if lang not in texts]
        if missing:
            raise ValueError(f"message {code!r} lacks {missing}")
        existing = _CATALOGUE.get(code)
        if existing is not None and existing != texts:
            raise ValueError(f"message {code!r} registered twice with different text")
        _CATALOGUE[code] = dict(texts)


def render(code: str, params: dict | None = None, lang: str = DEFAULT_LANG) -> str:
    """Render a message code with its parameters in one language."""
    texts = _CATALOGUE.get(code)
    if texts is None:
        return code if not params else f"{code} {params}"
    template = texts.get(lang) or texts[DEFAULT_LANG]
    values = {key: (value.get(lang, value.get(DEFAULT_LANG, "")) if isinstance(value, PerLanguage) else value)
              for key, value in (params or {}).items()}
    try:
        return template.format(**values)
    except (KeyError, IndexError, ValueError):
        return template


def known_codes() -> frozenset[str]:
    return frozenset(_CATALOGUE)
