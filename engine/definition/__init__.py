"""App definitions: load, validate and model them.

    from engine.definition import load_definition
    app = load_definition(Path("apps/crm_referral.yaml"))   # DefinitionError lists every problem

`load_definition` takes a `pathlib.Path` for a file and a `str` (or bytes) for the
text itself; a str is never guessed to be a file name.

(The validator needs the field types, which need the model in this package, so it
is imported when first used rather than here.)
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from engine.errors import DefinitionError, Problem

if TYPE_CHECKING:
    from engine.definition.model import AppDef


def read_source(path: Path) -> bytes:
    from engine.definition.loader import MAX_BYTES
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            # Refuse before reading a huge file into memory.
            raise DefinitionError([Problem("", f"the file is {size:,} bytes; a definition may be at most "
                                           f"{MAX_BYTES:,} bytes", code="too_large", source=str(path))])
        return path.read_bytes()
    except OSError as exc:
        raise DefinitionError([Problem("", f"cannot read the file: {exc.strerror or exc}",
                                       code="unreadable", source=str(path))]) from None


def check_definition_text(text: str | bytes, name: str | None = None) -> tuple["AppDef | None", list[Problem]]:
    import engine.fields  # noqa: F401  (registers the field types)
    from engine.definition.validate import check_text
    return check_text(text, name)


def load_definition(source: str | bytes | Path, name: str | None = None) -> "AppDef":
    if isinstance(source, Path):
        name = name or str(source)
        source = read_source(source)
    app, problems = check_definition_text(source, name)
    if problems:
        raise DefinitionError(problems)
    return app
