"""docs/jobs.md stays true: every `jobs.NAME` it names is in runtime.jobs, every `uow.NAME`
on the unit of work, and every command of its command-line block exists with the options
it shows."""
from __future__ import annotations

import re

import pytest

from runtime import jobs
from runtime.session import UnitOfWork
from tests.support.paths import DOCS
from web.cli import main

TEXT = (DOCS / "jobs.md").read_text(encoding="utf-8")
COMMAND_BLOCK = TEXT.split("## The command line", 1)[1].split("```", 2)[1]
COMMANDS = [line.split("#")[0].strip() for line in COMMAND_BLOCK.splitlines() if line.startswith("formwork ")]


def test_the_api_it_names_exists():
    named = set(re.findall(r"\bjobs\.([a-z_]+)\(", TEXT))
    assert {"register", "unregister", "register_due_source", "define_schedule", "remove_schedule",
            "enable_schedule", "builtin_schedule", "load_kinds"} <= named
    assert [name for name in sorted(named) if not hasattr(jobs, name)] == []
    methods = set(re.findall(r"\buow\.([a-z_]+)\(", TEXT))
    assert {"enqueue", "hand_over_after_commit"} <= methods
    assert [name for name in sorted(methods) if name not in ("records",) and not hasattr(UnitOfWork, name)] == []


@pytest.mark.parametrize("command", COMMANDS)
def test_each_command_it_shows_exists_with_its_options(command, capsys):
    words = command.split()[1:]
    path = [w for w in words if re.fullmatch(r"[a-z]+", w)]
    assert main([*path, "--help"]) == 0
    shown = capsys.readouterr().out
    for option in re.findall(r"--[a-z-]+", command):
        assert option in shown, f"{command}: {option} is not an option of formwork {' '.join(path)}"
