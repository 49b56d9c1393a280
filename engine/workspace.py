"""Settings of the workspace (the installation), from environment variables with safe
embedded defaults, as every setting of Formwork is (DESIGN.md).

FORMWORK_TIMEZONE   the workspace's time zone, an IANA name (default Asia/Shanghai): the
                    day TODAY() gives and date shortcuts use, the zone date-times are shown
                    and parsed in.
FORMWORK_LANGUAGE   the workspace's language, zh or en (default zh): what commands answer
                    in when they are not told (`--lang`), and the language of an actor
                    (runtime/actor.py) whose own is not known.

The time zone is read once, when the engine is imported; the language each time it is
asked for (it is only a name). A name that is not a time zone falls back to the
default there, so that importing never fails; the command line checks `problems()` first
and refuses to run with the reason (web/cli/__init__.py).
"""
from __future__ import annotations

import os
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from engine.i18n import DEFAULT_LANG, LANGS

TIMEZONE_VARIABLE = "FORMWORK_TIMEZONE"
DEFAULT_TIMEZONE = "Asia/Shanghai"
LANGUAGE_VARIABLE = "FORMWORK_LANGUAGE"


def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _configured_name() -> str:
    return os.environ.get(TIMEZONE_VARIABLE, "").strip() or DEFAULT_TIMEZONE


def _configured_language() -> str:
    return os.environ.get(LANGUAGE_VARIABLE, "").strip().lower() or DEFAULT_LANG


def problems() -> list[str]:
    """What is wrong with the workspace settings in the environment, as messages."""
    found = []
    name = _configured_name()
    if _zone(name) is None:
        found.append(f"{TIMEZONE_VARIABLE}={name!r} is not a time zone; give an IANA name such as "
                     f"Asia/Shanghai, Asia/Hong_Kong or UTC, or unset it for {DEFAULT_TIMEZONE}")
    language = _configured_language()
    if language not in LANGS:
        found.append(f"{LANGUAGE_VARIABLE}={os.environ.get(LANGUAGE_VARIABLE)!r} is not a language of "
                     f"Formwork; give one of {', '.join(LANGS)}, or unset it for {DEFAULT_LANG}")
    return found


def workspace_language() -> str:
    """The configured language, "zh" or "en" (the default when the setting is neither)."""
    language = _configured_language()
    return language if language in LANGS else DEFAULT_LANG


def workspace_timezone() -> ZoneInfo:
    """The configured time zone (the default when the setting is not a time zone)."""
    return _zone(_configured_name()) or ZoneInfo(DEFAULT_TIMEZONE)


WORKSPACE_TZ = workspace_timezone()
