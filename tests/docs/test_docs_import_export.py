"""The examples of docs/import-export.md and docs/sample-data.md, run as written, on
SQLite and PostgreSQL.

In those pages, a ```csv file=NAME``` (or yaml) block is a file the next commands
use; ```csv file=NAME check``` is a file a command wrote, compared as it is; a
```console``` block is commands (`$ formwork ...`, `$ echo $?`) and the exact
standard output each prints, where a line "…" stands for any lines and a line ending
in "…" for any rest of the line. ```python``` blocks run with `engine` bound to the
same database.
"""
from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import pytest

from tests.support.paths import DOCS, FLAGSHIP_APP
from web.cli import main

PAGES = ["import-export.md", "sample-data.md"]
_BLOCK = re.compile(r"^```([^\n]*)\n(.*?)^```$", re.M | re.S)


def blocks(page: str):
    for m in _BLOCK.finditer((DOCS / page).read_text(encoding="utf-8")):
        info = m.group(1).split()
        yield (info[0] if info else ""), info[1:], m.group(2)


def expected_pattern(lines: list[str]) -> re.Pattern:
    parts = []
    for line in lines:
        if line == "…":
            parts.append(r"(?:[^\n]*\n)*?")
        elif line.endswith("…"):
            parts.append(re.escape(line[:-1]) + r"[^\n]*\n")
        else:
            parts.append(re.escape(line) + r"\n")
    return re.compile("".join(parts))


def run_console(text: str, db_url: str, capsys) -> None:
    commands: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        if line.startswith("$ "):
            commands.append((line[2:], []))
        else:
            commands[-1][1].append(line)
    last_code = 0
    for command, output in commands:
        capsys.readouterr()
        if command == "echo $?":
            assert output == [str(last_code)], f"`{commands}`: exit code {last_code}, the page says {output}"
            continue
        args = shlex.split(command)
        assert args[0] == "formwork", command
        last_code = main(["--database-url", db_url] + args[1:])
        printed = capsys.readouterr().out
        assert expected_pattern(output).fullmatch(printed), f"$ {command}\n--- printed:\n{printed}--- page:\n" + \
            "\n".join(output)


@pytest.mark.parametrize("page", PAGES)
def test_page_examples(page, db, db_url, tmp_path, monkeypatch, capsys):
    (tmp_path / "apps").mkdir()
    shutil.copy(FLAGSHIP_APP, tmp_path / "apps")
    monkeypatch.chdir(tmp_path)
    ran = 0
    for kind, options, body in blocks(page):
        name = next((o[5:] for o in options if o.startswith("file=")), None)
        if name and "check" in options:
            assert (tmp_path / name).read_text(encoding="utf-8-sig") == body, name
        elif name:
            (tmp_path / name).write_text(body, encoding="utf-8")
        elif kind == "console":
            run_console(body, db_url, capsys)
        elif kind == "python":
            exec(compile(body, f"docs/{page}", "exec"), {"engine": db, "Path": Path})
        else:
            continue
        ran += 1
    assert ran, f"docs/{page} has no runnable examples"
