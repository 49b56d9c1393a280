"""zh_CN by default, English by the switch or Accept-Language; catalogs complete."""
from __future__ import annotations

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from tests.support.paths import REPO_ROOT
from tests.support.web import post_form
from web.i18n import TRANSLATIONS, compile_catalogs


def test_chinese_by_default(client):
    assert "登录 Formwork" in client.get("/login").get_data(as_text=True)


def test_accept_language_english(client):
    html = client.get("/login", headers={"Accept-Language": "en-US,en;q=0.9"}).get_data(as_text=True)
    assert "Sign in to Formwork" in html and '<html lang="en">' in html


def test_switch_is_kept_in_the_session_over_accept_language(client):
    post_form(client, "/lang", {"lang": "en", "next": "/login"}, token_from="/login")
    assert "Sign in to Formwork" in client.get("/login", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    post_form(client, "/lang", {"lang": "zh_CN"}, token_from="/login")
    assert "登录 Formwork" in client.get("/login", headers={"Accept-Language": "en"}).get_data(as_text=True)


def test_unknown_language_is_ignored(client):
    post_form(client, "/lang", {"lang": "fr"}, token_from="/login")
    assert "登录 Formwork" in client.get("/login").get_data(as_text=True)


def _catalog(locale: str):
    with (TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle)


def test_every_message_is_translated_into_chinese():
    untranslated = [m.id for m in _catalog("zh_CN") if m.id and not m.string]
    assert untranslated == []


def test_catalogs_hold_every_string_of_the_code():
    methods = [("**.py", "python"), ("templates/**.html", "jinja2.ext:babel_extract")]
    found = extract_from_dir(str(REPO_ROOT / "web"), method_map=methods)
    wanted = {message for _file, _line, message, _comments, _context in found}
    for locale in ("zh_CN", "en"):
        missing = wanted - {m.id for m in _catalog(locale)}
        assert not missing, f"run pybabel update (docs/web.md): {locale} lacks {sorted(missing)}"


def test_compiling_makes_the_mo_files(tmp_path):
    compile_catalogs(TRANSLATIONS, tmp_path)
    assert (tmp_path / "zh_Hans_CN" / "LC_MESSAGES" / "messages.mo").stat().st_size > 0
    assert (tmp_path / "en" / "LC_MESSAGES" / "messages.mo").exists()
