"""The web app's configuration, from the environment with safe embedded defaults.

DATABASE_URL            the database (default: SQLite in the instance folder, as the CLI)
REDIS_URL               Redis for jobs and rate limits (unset: inline jobs, in-process limits)
FORMWORK_SECRET_KEY     signs session cookies; unset: a secret generated once and kept in
                        <instance>/secret_key (file mode 0600), so sessions survive restarts
                        and every gunicorn worker signs alike
FORMWORK_INSTANCE       the instance folder (default ./instance)
FORMWORK_SECURE_COOKIES 1: session cookies are Secure even when the request is not HTTPS
                        (behind a proxy that terminates TLS without saying so)
FORMWORK_API_RATE       requests per API key (or signed-in user) in a window, e.g. 600/minute
                        (the default), 10/second; "off": no limit. Counted in Redis when
                        REDIS_URL is set (shared by every worker), else in each process
FORMWORK_REDIS_PREFIX   the start of every Redis key Formwork writes (default "formwork:")
FORMWORK_REFERRAL_APP   the app whose referral programme /r/<code> serves (unset: the installed
                        app whose programme the code names; docs/referrals.md)
FORMWORK_REFERRAL_RATE  referral forms sent per address in a window (default 20/hour)
FORMWORK_PUBLIC_URL     the site's address for absolute links, e.g. https://crm.example.com
                        (unset: the host a request came to): the QR codes of posters
"""
from __future__ import annotations

import os
import secrets
import time
from pathlib import Path
from typing import Any

from engine.storage.db import database_url, instance_dir

SECRET_FILE = "secret_key"
MAX_CONTENT_LENGTH = 2 * 1024 * 1024
DEFAULT_API_RATE = "600/minute"


def from_environment() -> dict[str, Any]:
    """The settings a create_app() without arguments runs with."""
    instance = instance_dir()
    return {
        "DATABASE_URL": database_url(),
        "REDIS_URL": os.environ.get("REDIS_URL") or None,
        "SECRET_KEY": os.environ.get("FORMWORK_SECRET_KEY") or instance_secret(instance),
        "FORMWORK_INSTANCE": str(instance.resolve()),
        "FORMWORK_SECURE_COOKIES": os.environ.get("FORMWORK_SECURE_COOKIES", "") == "1",
        "FORMWORK_API_RATE": os.environ.get("FORMWORK_API_RATE") or DEFAULT_API_RATE,
        "FORMWORK_REDIS_PREFIX": os.environ.get("FORMWORK_REDIS_PREFIX") or "formwork:",
        "FORMWORK_REFERRAL_APP": os.environ.get("FORMWORK_REFERRAL_APP") or None,
        "FORMWORK_REFERRAL_RATE": os.environ.get("FORMWORK_REFERRAL_RATE") or "20/hour",
        "FORMWORK_PUBLIC_URL": os.environ.get("FORMWORK_PUBLIC_URL") or None,
    }


def defaults() -> dict[str, Any]:
    """Settings that do not come from the environment (a test may override any)."""
    return {
        "SESSION_COOKIE_NAME": "formwork_session",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "PERMANENT_SESSION_LIFETIME": 14 * 24 * 3600,
        "MAX_CONTENT_LENGTH": MAX_CONTENT_LENGTH,
        "BABEL_DEFAULT_LOCALE": "zh_CN",
        "BABEL_TRANSLATION_DIRECTORIES": str(Path(__file__).parent / "translations" / ".compiled"),
        "PROPAGATE_EXCEPTIONS": False,
        "TRAP_HTTP_EXCEPTIONS": False,
        # Seconds a sign-in waits per failure beyond the second (tests set 0).
        "FORMWORK_SIGN_IN_DELAY": 0.5,
        "FORMWORK_API_RATE": DEFAULT_API_RATE,
        "REDIS_URL": None,
    }


def instance_secret(instance: Path) -> str:
    """The secret kept in the instance folder, made (mode 0600) the first time."""
    path = instance / SECRET_FILE
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    secret = secrets.token_hex(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:          # another worker made it first: use theirs, once written
        return _written_secret(path)
    with os.fdopen(fd, "w") as handle:
        handle.write(secret + "\n")
    return secret


def _written_secret(path: Path, waits: int = 100) -> str:
    for _ in range(waits):
        text = path.read_text().strip()
        if text:
            return text
        time.sleep(0.01)
    raise RuntimeError(f"{path} stays empty: remove it, or set FORMWORK_SECRET_KEY")
