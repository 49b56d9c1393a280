"""docs/formula-fields.md stays true: its definition files validate as shown, its
`formwork validate` transcripts print what is shown, and its Python examples run, in
order, on SQLite and PostgreSQL."""
import re
import shlex

from click.testing import CliRunner

from tests.support.paths import DOCS
from web.cli import cli

DOC = DOCS / "formula-fields.md"


def _text() -> str:
    return DOC.read_text(encoding="utf-8")


def _files() -> dict[str, str]:
    return dict(re.findall(r"^```yaml file=(\S+)\n(.*?)^```", _text(), re.M | re.S))


def test_the_validate_transcripts_print_what_is_shown(tmp_path, monkeypatch):
    for name, content in _files().items():
        (tmp_path / name).write_text(content, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    transcripts = [block for block in re.findall(r"^```console\n(.*?)^```", _text(), re.M | re.S)
                   if block.startswith("$ formwork validate")]
    assert len(transcripts) == 2
    for block in transcripts:
        command, *expected = block.rstrip("\n").split("\n")
        result = CliRunner().invoke(cli, shlex.split(command)[2:])     # after "$ formwork"
        assert result.output.rstrip("\n").split("\n") == expected


def test_the_examples_run(db, tmp_path, monkeypatch):
    for name, content in _files().items():
        (tmp_path / name).write_text(content, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    blocks = re.findall(r"^```python\n(.*?)^```", _text(), re.M | re.S)
    assert len(blocks) >= 5
    namespace = {"engine": db}
    for number, block in enumerate(blocks, start=1):
        exec(compile(block, f"docs/formula-fields.md python block {number}", "exec"), namespace)
