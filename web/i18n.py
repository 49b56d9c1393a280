"""Page languages with Flask-Babel: zh_CN by default, English by choice.

The choice (POST /lang, web/auth/views.py) is kept in the session cookie; without one
the browser's Accept-Language decides. `g.lang` holds the runtime's name for it ("zh"
or "en", web/context.py page_lang), so runtime messages (engine/i18n.py) are shown in
the page language.

Catalogs: web/translations/<locale>/LC_MESSAGES/messages.po (committed). They are
compiled when the app starts, if missing or older than the .po, into
web/translations/.compiled/<Babel's locale name>/ (ignored by git; Babel looks zh_CN up
as zh_Hans_CN), so a fresh clone works without a build step. To add strings:

    pybabel extract -F web/babel.cfg -o web/translations/messages.pot web
    pybabel update -i web/translations/messages.pot -d web/translations
    (translate the zh_CN msgstr; English msgids need none)
"""
from __future__ import annotations

import os
from pathlib import Path

from babel import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, g, request, session
from flask_babel import Babel, get_locale

LOCALES = ("zh_CN", "en")
DEFAULT_LOCALE = "zh_CN"
RUNTIME_LANG = {"zh_CN": "zh", "en": "en"}
TRANSLATIONS = Path(__file__).parent / "translations"
COMPILED = TRANSLATIONS / ".compiled"
SESSION_KEY = "lang"


def select_locale() -> str:
    chosen = session.get(SESSION_KEY)
    if chosen in LOCALES:
        return chosen
    best = request.accept_languages.best_match(["zh_CN", "zh", "en"], default=DEFAULT_LOCALE)
    return "en" if best == "en" else DEFAULT_LOCALE


def remember_lang() -> None:
    """Before each request: the runtime's name of the page language, in g.lang."""
    g.lang = RUNTIME_LANG.get(str(get_locale()), "zh")


def init_i18n(app: Flask) -> None:
    compile_catalogs()
    Babel(app, locale_selector=select_locale)
    app.before_request(remember_lang)


def compile_catalogs(folder: Path = TRANSLATIONS, target: Path = COMPILED) -> None:
    """Compile each messages.po into target/<locale>/LC_MESSAGES/messages.mo when it is
    missing or stale (atomically: gunicorn workers may start together)."""
    for po in folder.glob("*/LC_MESSAGES/messages.po"):
        mo = target / str(Locale.parse(po.parent.parent.name)) / "LC_MESSAGES" / "messages.mo"
        mo.parent.mkdir(parents=True, exist_ok=True)
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as source:
            catalog = read_po(source, locale=po.parent.parent.name)
        partial = mo.with_name(f"messages.mo.{os.getpid()}")
        with partial.open("wb") as handle:
            write_mo(handle, catalog)
        os.replace(partial, mo)
