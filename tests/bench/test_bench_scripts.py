"""Every benchmark still starts: it imports what it measures and parses its command line
(`--help`), so a change to the code it drives cannot leave it broken until someone runs
it. The figures themselves are never asserted (see bench/)."""
from __future__ import annotations

import subprocess
import sys

import pytest

from tests.support.paths import REPO_ROOT

SCRIPTS = sorted((REPO_ROOT / "bench").glob("bench_*.py"))


def test_there_are_benchmarks():
    assert len(SCRIPTS) >= 10


@pytest.mark.parametrize("script", SCRIPTS, ids=[s.name for s in SCRIPTS])
def test_the_benchmark_starts(script):
    done = subprocess.run([sys.executable, str(script), "--help"], capture_output=True, text=True,
                          timeout=120, cwd=REPO_ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "usage:" in done.stdout
