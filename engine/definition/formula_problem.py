"""A definition problem at a character of a formula: the validator turns the formula's
offset into the line and column of that character in the YAML or JSON file
(engine/validation/validate.py). Here, below the layers that check formulas
(validation, workflow), so that each of them can report one."""
from __future__ import annotations

from engine.errors import Problem


class FormulaDefinitionProblem(Problem):
    """A problem at a character of a formula: `offset` is 0-based into `formula`."""

    def __init__(self, path: str, message: str, formula: str, offset: int, code: str = "formula",
                 suggestion: str | None = None):
        super().__init__(path, message, code=code, suggestion=suggestion)
        self.formula, self.offset = formula, offset

    def source_position(self, source: str, line: int, column: int) -> tuple[int, int]:
        """Line and column in the definition file of the formula's character at `offset`,
        given where its value starts: past an opening quote or a block scalar's header,
        the formula's characters are matched against the file's, skipping what YAML or
        JSON adds (indentation, folded line breaks, escapes)."""
        index = _offset_of(source, line, column)
        if index is None:
            return line, column
        if source[index] in "\"'":
            index += 1
        elif source[index] in "|>":
            index = source.find("\n", index) + 1 or len(source)
        limit = min(len(source), index + 4 * len(self.formula) + 200)
        matched = 0
        while index < limit and matched < len(self.formula):
            if source[index] == self.formula[matched]:
                if matched == self.offset:
                    break
                matched += 1
            index += 1
        return source.count("\n", 0, index) + 1, index - source.rfind("\n", 0, index)


def _offset_of(source: str, line: int, column: int) -> int | None:
    """The 0-based offset of a 1-based line and column, or None when it is outside."""
    start = 0
    for _ in range(line - 1):
        start = source.find("\n", start) + 1
        if start == 0:
            return None
    index = start + column - 1
    return index if index < len(source) else None
