"""docs/records.md, "Formula conditions", stays true on SQLite and PostgreSQL: its Python
example runs, its commands print what the page shows, and its list of functions that run
in the database is the back end's own."""
from __future__ import annotations

import re
import shlex

import pytest

from engine.formula.sql_functions import TRANSLATIONS
from engine.validation import load_definition
from runtime.apps import apply_app
from tests.support.paths import DOCS, FLAGSHIP_APP
from web.cli import main

TEXT = (DOCS / "records.md").read_text(encoding="utf-8")
SECTION = TEXT[TEXT.index("### Formula conditions"):TEXT.index("## Pages, sorting")]


def blocks(kind: str) -> list[str]:
    return re.findall(rf"^```{kind}\n(.*?)^```", SECTION, re.M | re.S)


@pytest.fixture
def crm(db):
    apply_app(db, load_definition(FLAGSHIP_APP))
    return db


def test_the_python_example_runs(crm):
    (example,) = blocks("python")
    exec(compile(example, "docs/records.md formula example", "exec"), {"engine": crm})


def test_the_commands_print_what_the_page_shows(crm, db_url, capsys):
    (console,) = blocks("console")
    lines = console.splitlines()
    commands = [(i, line[2:]) for i, line in enumerate(lines) if line.startswith("$ ")]
    assert len(commands) == 3
    for index, command in commands:
        expected = lines[index + 1]
        args = shlex.split(command)
        assert args[0] == "formwork"
        capsys.readouterr()
        assert main(["--database-url", db_url] + args[1:]) == 2
        printed = capsys.readouterr()
        assert printed.err.strip() == expected, command


def test_the_listed_functions_are_those_that_run_in_the_database():
    listed = re.search(r"the functions (.*?); and any part", SECTION, re.S).group(1).split()
    assert listed == sorted(TRANSLATIONS)
