"""The workspace time zone comes from FORMWORK_TIMEZONE (default Asia/Shanghai): TODAY()
turns over at midnight there; a name that is not a time zone is refused by the command
line with the reason, before anything runs."""
from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.support.paths import REPO_ROOT

# 2025-01-01 20:00 UTC is already 2025-01-02 in Shanghai, still 2025-01-01 in New York.
PROGRAM = ("import sys; from web.cli import main; "
           "sys.exit(main(['eval', 'TODAY()', '--now', '2025-01-01T20:00:00+00:00']))")


def _today(zone: str | None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "FORMWORK_TIMEZONE"}
    if zone is not None:
        env["FORMWORK_TIMEZONE"] = zone
    return subprocess.run([sys.executable, "-c", PROGRAM], cwd=REPO_ROOT, env=env, capture_output=True,
                          text=True, timeout=120)


def test_today_follows_the_workspace_time_zone():
    assert json.loads(_today(None).stdout) == {"date": "2025-01-02"}
    assert json.loads(_today("Asia/Shanghai").stdout) == {"date": "2025-01-02"}
    assert json.loads(_today("America/New_York").stdout) == {"date": "2025-01-01"}


def test_a_zone_that_does_not_exist_is_refused_with_the_reason():
    done = _today("Mars/Olympus_Mons")
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.strip() == (
        "error: FORMWORK_TIMEZONE='Mars/Olympus_Mons' is not a time zone; give an IANA name such as "
        "Asia/Shanghai, Asia/Hong_Kong or UTC, or unset it for Asia/Shanghai")
    assert "Traceback" not in done.stderr
