"""docs/cli.md stays true: every command is documented, and every example runs.

The examples are a transcript. In document order, in a fresh folder with its own
SQLite database (and `apps/` of the repository):
- a ```console block holds commands (`$ formwork ...`, optionally fed by
  `echo 'text' | `) each followed by what it prints (stdout, then stderr); a
  command that must fail ends with `# exits N`;
- in the expected output, a line `...` stands for any number of lines and `...`
  inside a line for any text (timestamps, timings);
- a fenced block whose info string has `file=NAME` (```csv file=new.csv) writes
  that file for the commands after it.

To see what the examples print now: `python -m tests.docs.test_docs_cli [docs/cli.md]` (from the repository's root).
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

import click
import pytest

from tests.support.paths import REPO_ROOT as ROOT

CLI_DOC = ROOT / "docs" / "cli.md"
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
    from web.cli import main
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
    (workdir / "apps").symlink_to(ROOT / "apps", target_is_directory=True)
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


def documented_commands(doc: Path) -> set[str]:
    """Command paths named in headings like ### `formwork records list APP FORM`."""
    found = set()
    for heading in re.findall(r"^#{2,4}\s+`formwork ([^`]+)`", doc.read_text(encoding="utf-8"), re.M):
        words = [w for w in heading.split() if re.fullmatch(r"[a-z][a-z-]*", w)]
        found.update(" ".join(words[:n]) for n in range(1, len(words) + 1))
    return found


def command_paths(group: click.Group, prefix: str = "") -> list[str]:
    paths = []
    for name, command in sorted(group.commands.items()):
        paths.append(prefix + name)
        if isinstance(command, click.Group):
            paths += command_paths(command, prefix + name + " ")
    return paths


def test_every_command_of_formwork_help_is_documented(capsys):
    from web.cli import cli, main
    assert main(["--help"]) == 0
    listed = re.findall(r"^  ([a-z][a-z-]*)\s", capsys.readouterr().out.split("Commands:")[1], re.M)
    assert listed and set(listed) == set(cli.commands)
    missing = [path for path in command_paths(cli) if path not in documented_commands(CLI_DOC)]
    assert not missing, ("docs/cli.md has no heading for: " + ", ".join(f"formwork {m}" for m in missing)
                         + " (add a '### `formwork ...`' section with an example)")


def test_the_examples_of_docs_cli_md_run_as_shown(tmp_path, monkeypatch):
    monkeypatch.setenv("FORMWORK_INSTANCE", str(tmp_path / "instance"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    results = play(CLI_DOC, tmp_path)
    assert len(results) >= 40


def test_the_transcript_matcher():
    assert matches("a ... c\n", "a b c\n") and not matches("a ... c\n", "a b d\n")
    assert matches("x\n...\nz\n", "x\n1\n2\nz\n") and matches("x\n...\nz\n", "x\nz\n")
    assert matches("", "") and not matches("", "noise\n") and not matches("x\n", "x\ny\n")


@pytest.mark.parametrize("doc", ["cli.md"])
def test_file_blocks_and_exit_markers_are_read(doc):
    steps = read_transcript(ROOT / "docs" / doc)
    assert any(isinstance(s, FileBlock) for s in steps)
    assert any(isinstance(s, Example) and s.exit_code for s in steps)
    assert any(isinstance(s, Example) and s.stdin for s in steps)


if __name__ == "__main__":
    import tempfile
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else CLI_DOC
    with tempfile.TemporaryDirectory() as folder:
        os.environ["FORMWORK_INSTANCE"] = str(Path(folder) / "instance")
        os.environ.pop("DATABASE_URL", None)
        for example, code, output in play(target.resolve(), Path(folder), check=False):
            flag = "" if code == example.exit_code and matches(example.expected, output) else "   <-- differs"
            print(f"$ {example.command}{f'  # exits {code}' if code else ''}{flag}\n{output}", end="")
