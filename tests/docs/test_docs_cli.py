"""docs/cli.md stays true: every command is documented, and every example runs.

The examples are a transcript (its format, reader and runner: tests/support/transcripts.py),
played in document order in a fresh folder with its own SQLite database (and `apps/` of
the repository). To see what the examples print now, from the repository's root:
`.venv/bin/python -m tests.docs.test_docs_cli [docs/cli.md]`.
"""
from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import click
import pytest

from tests.support.paths import DOCS
from tests.support.transcripts import Example, FileBlock, matches, play, read_transcript

CLI_DOC = DOCS / "cli.md"


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
    steps = read_transcript(DOCS / doc)
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
