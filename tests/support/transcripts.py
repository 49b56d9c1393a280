"""Transcripts of `formwork` commands in the docs (docs/cli.md's format), read and run.

In document order:
- a ```console block holds commands (`$ formwork ...`, optionally fed by
  `echo 'text' | `) each followed by what it prints (stdout, then stderr); a
  command that must fail ends with `# exits N`;
- in the expected output, a line `...` stands for any number of lines and `...`
  inside a line for any text (timestamps, timings);
- a fenced block whose info string has `file=NAME` (```csv file=new.csv) writes
  that file for the commands after it.
"""
from __future__ import annotations

import io
import os
import re
import shlex
import sys
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

from tests.support.paths import APPS
from web.cli import main

_FENCE = re.compile(r"^```([^\n]*)\n(.*?)^```[ \t]*$", re.M | re.S)
_EXIT = re.compile(r"\s+#\s*exits\s+(\d+)\s*$")
_ECHO = re.compile(r"^echo\s+(?P<text>'[^']*'|\"[^\"]*\"|\S+)\s*\|\s*(?P<rest>.*)$")


@dataclass
class Example:
    line: int                  # of the `$ ` line in the document
    command: str               # as written after "$ "
    expected: str
    exit_code: int
    stdin: str | None


@dataclass
class FileBlock:
    line: int
    name: str
    text: str


def read_transcript(doc: Path) -> list[Example | FileBlock]:
    text = doc.read_text(encoding="utf-8")
    steps: list[Example | FileBlock] = []
    for fence in _FENCE.finditer(text):
        info, body = fence.group(1).strip(), fence.group(2)
        first_line = text.count("\n", 0, fence.start()) + 2
        named = re.search(r"\bfile=(\S+)", info)
        if named:
            steps.append(FileBlock(first_line, named.group(1), body))
        elif info.split()[:1] == ["console"]:
            steps += _examples(body, first_line)
    return steps


def _examples(body: str, first_line: int) -> list[Example]:
    examples: list[Example] = []
    for offset, line in enumerate(body.splitlines()):
        if line.startswith("$ "):
            command = line[2:]
            exit_code = 0
            marker = _EXIT.search(command)
            if marker:
                command, exit_code = command[:marker.start()], int(marker.group(1))
            stdin = None
            piped = _ECHO.match(command)
            if piped:
                stdin = shlex.split(piped.group("text"))[0] + "\n"
                command = piped.group("rest")
            examples.append(Example(first_line + offset, command, "", exit_code, stdin))
        elif examples:
            examples[-1].expected += line + "\n"
    return examples


def run_command(command: str, stdin: str | None, database_url: str) -> tuple[int, str]:
    """Run one `formwork ...` line in-process; returns (exit code, stdout + stderr)."""
    args = shlex.split(command)
    if not args or args[0] != "formwork":
        raise AssertionError(f"examples run only `formwork` commands, not {command!r}")
    out, err = io.StringIO(), io.StringIO()
    saved_stdin = sys.stdin
    sys.stdin = io.StringIO(stdin or "")
    try:
        with redirect_stdout(out), redirect_stderr(err):
            code = main(["--database-url", database_url, *args[1:]])
    finally:
        sys.stdin = saved_stdin
    return code, out.getvalue() + err.getvalue()


def matches(expected: str, actual: str) -> bool:
    """`...` on its own line: any lines; inside a line: any text. Trailing spaces ignored."""
    pattern = ""
    for line in expected.rstrip("\n").split("\n") if expected.strip() else []:
        if line.strip() == "...":
            pattern += r"(?:[^\n]*\n)*?"
        else:
            pattern += ".*?".join(re.escape(part) for part in line.rstrip().split("...")) + r"\n"
    normalised = "".join(line.rstrip() + "\n" for line in actual.splitlines())
    return re.fullmatch(pattern, normalised) is not None


def play(doc: Path, workdir: Path, check: bool = True) -> list[tuple[Example, int, str]]:
    """Run a document's transcript in `workdir`; with check, stop at the first mismatch."""
    (workdir / "apps").symlink_to(APPS, target_is_directory=True)
    database_url = f"sqlite:///{workdir / 'formwork.db'}"
    results = []
    here = os.getcwd()
    os.chdir(workdir)
    try:
        for step in read_transcript(doc):
            if isinstance(step, FileBlock):
                (workdir / step.name).write_text(step.text, encoding="utf-8")
                continue
            code, output = run_command(step.command, step.stdin, database_url)
            results.append((step, code, output))
            if check:
                where = f"{doc.name}:{step.line}: $ {step.command}"
                assert code == step.exit_code, f"{where}\nexit code {code}, expected {step.exit_code}:\n{output}"
                assert matches(step.expected, output), \
                    f"{where}\nexpected:\n{step.expected}\nactual:\n{output}"
    finally:
        os.chdir(here)
    return results
