"""Browser test support: the app served on a free port in a background thread, and
Debian's Chromium driven by Playwright's sync API.

Without chromium or playwright the browser tests skip with a loud reason, except under
CI=true, where they fail."""
from __future__ import annotations

import os
import shutil
import threading
import warnings
from pathlib import Path

import pytest
from werkzeug.serving import make_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SCREENSHOTS = Path(__file__).resolve().parents[1] / "browser" / "screenshots"
IN_CI = os.environ.get("CI", "").lower() == "true"
PHONE = {"width": 375, "height": 740}
DESKTOP = {"width": 1280, "height": 800}


def require_browser():
    """The sync_playwright function, or a loud skip (a failure under CI=true)."""
    why = None
    try:
        from playwright.sync_api import sync_playwright  # optional: skipped loudly when absent
    except ImportError as exc:
        why, sync_playwright = f"playwright is not installed ({exc})", None
    if why is None and not (Path(CHROMIUM).exists() or shutil.which("chromium")):
        why = f"{CHROMIUM} is missing (scripts/setup.sh installs Debian's chromium)"
    if why is not None:
        if IN_CI:
            pytest.fail(f"CI=true requires the browser tests: {why}", pytrace=False)
        warnings.warn(f"SKIPPING browser tests: {why}")
        pytest.skip(f"SKIPPED LOUDLY: {why}")
    return sync_playwright


class LiveServer:
    """A werkzeug server of a Flask app on 127.0.0.1 and a free port, in a thread."""

    def __init__(self, app):
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "LiveServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.thread.join(timeout=10)


def screenshot(page, name: str) -> Path:
    """Save a full-page PNG under tests/browser/screenshots/ (ignored by git)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def sign_in_page(page, base_url: str, account: str, password: str) -> None:
    """Fill the sign-in form as a person would and submit it."""
    page.goto(f"{base_url}/login")
    page.fill("input[name=account]", account)
    page.fill("input[name=password]", password)
    page.click("form.login-form button[type=submit]")
    page.wait_for_load_state()
