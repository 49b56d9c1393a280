"""Fixtures of the browser tests: `browser` (Chromium, once per session), `live_app`
(the app on the `db` fixture's database, SQLite and PostgreSQL, served on a free port)
and `open_page(viewport)` (a fresh context and page, closed afterwards)."""
from __future__ import annotations

import pytest

from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, LiveServer, require_browser
from tests.support.web import make_app


@pytest.fixture(scope="session")
def browser():
    sync_playwright = require_browser()
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def live_app(db, browser):
    app = make_app(db)
    with LiveServer(app) as server:
        yield server
    app.extensions["formwork"].engine.dispose()


@pytest.fixture
def open_page(browser):
    contexts = []

    def open_(viewport: dict, locale: str = "zh-CN"):
        context = browser.new_context(viewport=viewport, locale=locale)
        contexts.append(context)
        return context.new_page()
    yield open_
    for context in contexts:
        context.close()
