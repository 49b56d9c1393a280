"""Settings of the workspace (the installation), from environment variables with safe
embedded defaults, as every setting of Formwork is (DESIGN.md).

FORMWORK_TIMEZONE   the workspace's time zone, an IANA name (default Asia/Shanghai): the
                    day TODAY() gives and date shortcuts use, the zone date-times are shown
                    and parsed in.

Read once, when the engine is imported. A name that is not a time zone falls back to the
default there, so that importing never fails; the command line checks `problems()` first
and refuses to run with the reason (web/cli/__init__.py).
"""
from __future__ import annotations

import os
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

TIMEZONE_VARIABLE = "FORMWORK_TIMEZONE"
DEFAULT_TIMEZONE = "Asia/Shanghai"


def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _configured_name() -> str:
    return os.environ.get(TIMEZONE_VARIABLE, "").strip() or DEFAULT_TIMEZONE


def problems() -> list[str]:
    """What is wrong with the workspace settings in the environment, as messages."""
    name = _configured_name()
    if _zone(name) is None:
        return [f"{TIMEZONE_VARIABLE}={name!r} is not a time zone; give an IANA name such as "
                f"Asia/Shanghai, Asia/Hong_Kong or UTC, or unset it for {DEFAULT_TIMEZONE}"]
    return []


def workspace_timezone() -> ZoneInfo:
    """The configured time zone (the default when the setting is not a time zone)."""
    return _zone(_configured_name()) or ZoneInfo(DEFAULT_TIMEZONE)


WORKSPACE_TZ = workspace_timezone()
