"""What is wrong with a formula, and where: syntax errors and type-check problems.

Both carry a 0-based offset into the formula text and a 1-based line and column, and
render a caret line under the offending spot so a user sees at once where to look:

    IF(a > 1, "x", "y", "z")
                        ^
"""
from __future__ import annotations

from dataclasses import dataclass

from engine.errors import FormworkError


def line_column(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of a 0-based offset (columns count characters)."""
    offset = max(0, min(offset, len(text)))
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, column


def caret_excerpt(text: str, offset: int, width: int = 1) -> str:
    """The line of `text` holding `offset`, and a caret line pointing at it."""
    offset = max(0, min(offset, len(text)))
    start = text.rfind("\n", 0, offset) + 1
    end = text.find("\n", offset)
    line = text[start:] if end < 0 else text[start:end]
    # Long lines are cut around the spot, so the excerpt stays readable.
    column = offset - start
    if len(line) > 100:
        cut = max(0, column - 50)
        line = ("…" if cut else "") + line[cut:cut + 100] + ("…" if cut + 100 < len(line) else "")
        column = column - cut + (1 if cut else 0)
    # Tabs keep their width on the caret line so the caret lands under the character.
    pad = "".join("\t" if ch == "\t" else " " for ch in line[:column])
    return f"{line}\n{pad}{'^' * max(1, width)}"


class FormulaSyntaxError(FormworkError):
    """A formula that cannot be parsed: unknown token, unbalanced bracket, unknown
    function, wrong number of arguments, over a size limit.

    `str(error)` is one line ("unexpected ')' at 1:9"); `error.excerpt()` adds the
    formula line with a caret under the spot.
    """

    def __init__(self, message: str, position: int, line: int, column: int,
                 text: str | None = None, width: int = 1):
        self.message = message
        self.position = position
        self.line = line
        self.column = column
        self.text = text
        self.width = width
        super().__init__(message)

    @classmethod
    def at(cls, text: str, offset: int, message: str, hint: str = "",
           width: int = 1) -> "FormulaSyntaxError":
        """An error at `offset` of `text`: "<message> at line:column<hint>", where the
        hint says how to fix it (e.g. "; add ')'" or ", did you mean 'SUM'?")."""
        line, column = line_column(text, offset)
        return cls(f"{message} at {line}:{column}{hint}", offset, line, column, text, width)

    def excerpt(self) -> str:
        """The message, then the formula line with a caret under the spot."""
        if self.text is None:
            return self.message
        return f"{self.message}\n{caret_excerpt(self.text, self.position, self.width)}"


@dataclass(frozen=True)
class FormulaProblem:
    """One finding of the type checker: what is wrong, where, and the nearest valid name."""

    message: str              # ends with " at line:column"; says how to fix it
    position: int             # 0-based offset into the formula text
    line: int
    column: int
    code: str = "type"        # unknown_field, argument_type, argument_count, operand_type...
    suggestion: str | None = None

    def as_dict(self) -> dict:
        return {"message": self.message, "position": self.position, "line": self.line,
                "column": self.column, "code": self.code, "suggestion": self.suggestion}
