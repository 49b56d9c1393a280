"""The app's stylesheet parses as its authors meant: a block left open swallows every
rule after it into that block (a merge once left a phone-only @media open, and the
desktop pages lost their admin, form and inbox styles)."""
from __future__ import annotations

import re

from tests.support.paths import REPO_ROOT

CSS = REPO_ROOT / "web" / "static" / "css" / "app.css"


def _without_comments(text: str) -> str:
    return re.sub(r"/\*.*?\*/", "", text, flags=re.S)


def test_every_block_of_the_stylesheet_is_closed():
    depth = 0
    for number, line in enumerate(_without_comments(CSS.read_text(encoding="utf-8")).splitlines(), 1):
        # inside a block, rules are indented: an unindented rule there means the block was left open
        assert not (depth > 0 and "{" in line and not line.startswith((" ", "}"))), (
            f"app.css line {number}: a top-level rule sits inside a block opened earlier: {line.strip()[:60]}")
        depth += line.count("{") - line.count("}")
        assert depth >= 0, f"app.css line {number}: a '}}' closes a block that was not opened"
    assert depth == 0, "app.css ends with a block still open"


def test_no_selector_is_ruled_twice_at_the_top_level():
    tops = [line.split("{")[0].strip() for line in _without_comments(CSS.read_text(encoding="utf-8")).splitlines()
            if line and not line.startswith((" ", "@", "}")) and "{" in line]
    repeated = sorted({sel for sel in tops if tops.count(sel) > 1})
    assert repeated == [], f"selectors with two top-level rules (merge them into one): {repeated}"
