"""docs/migrations.md stays true: its example (a transcript of `formwork` commands, then
Python) runs as shown, on SQLite and on PostgreSQL. The transcript format is the one of
docs/cli.md (see tests/support/transcripts.py)."""
import re

from tests.support.paths import DOCS
from tests.support.transcripts import FileBlock, matches, read_transcript, run_command

DOC = DOCS / "migrations.md"


def test_the_example_of_docs_migrations_md_runs_as_shown(db, db_url, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ran = 0
    for step in read_transcript(DOC):
        if isinstance(step, FileBlock):
            (tmp_path / step.name).write_text(step.text, encoding="utf-8")
            continue
        code, output = run_command(step.command, step.stdin, db_url)
        where = f"migrations.md:{step.line}: $ {step.command}"
        assert code == step.exit_code, f"{where}\nexit code {code}, expected {step.exit_code}:\n{output}"
        assert matches(step.expected, output), f"{where}\nexpected:\n{step.expected}\nactual:\n{output}"
        ran += 1
    assert ran >= 15
    blocks = re.findall(r"^```python\n(.*?)^```", DOC.read_text(encoding="utf-8"), re.M | re.S)
    assert blocks
    for number, block in enumerate(blocks, start=1):
        exec(compile(block, f"docs/migrations.md python block {number}", "exec"), {"engine": db})
