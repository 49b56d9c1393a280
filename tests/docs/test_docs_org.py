"""docs/org.md stays true: its Python examples run, in order, on SQLite and PostgreSQL."""
import re

from tests.support.paths import DOCS

DOC = DOCS / "org.md"


def test_the_examples_of_docs_org_md_run(db):
    text = DOC.read_text(encoding="utf-8")
    blocks = re.findall(r"^```python\n(.*?)^```", text, re.M | re.S)
    assert len(blocks) >= 5
    namespace = {"engine": db}
    for number, block in enumerate(blocks, start=1):
        exec(compile(block, f"docs/org.md python block {number}", "exec"), namespace)
