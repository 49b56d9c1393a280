"""Error types shared by every layer.

Two families:
- `Problem`: one finding about an app definition (path, line:column, message).
- `FieldError`/`RecordValidationError`: what is wrong with values a user entered,
  in a machine-readable shape (field, code, params) with rendered zh/en text.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.i18n import PerLanguage, register_messages, render


class FormworkError(Exception):
    """Base of every error the engine and runtime raise on purpose.

    Anything that is not a FormworkError reaching the CLI or the web is a bug.
    """


@dataclass
class Problem:
    """One problem found in an app definition."""

    path: str                  # e.g. "forms[2].fields[0].type"
    message: str               # English text, says what is wrong and how to fix it
    line: int | None = None    # 1-based, for YAML/JSON sources
    column: int | None = None  # 1-based
    code: str = "invalid"
    suggestion: str | None = None  # "did you mean" candidate
    source: str | None = None  # file name
    message_zh: str | None = None  # the same in Chinese, for the problems written in both
    severity: str = "error"    # "warning": allowed, but risky (the definition still loads)

    @classmethod
    def coded(cls, path: str, message: str, params: dict[str, Any], code: str | None = None,
              suggestion: str | None = None) -> "Problem":
        """A problem whose text is the catalogue message `message`, in English and Chinese;
        its code is `code` (the message's own code when None)."""
        return cls(path, render(message, params, "en"), code=code or message, suggestion=suggestion,
                   message_zh=render(message, params, "zh"))

    def text(self, lang: str = "en") -> str:
        """The message in `lang` (English where no Chinese text was written), with its hint."""
        used = "zh" if lang == "zh" and self.message_zh else "en"
        message = self.message_zh if used == "zh" else self.message
        hint = suggestion_text(self.suggestion, used)
        if not hint or "did you mean" in message or hint.strip() in message:
            return message        # no suggestion, or the message offers it itself
        return message + hint

    def format(self, lang: str = "en") -> str:
        where = self.source or "<definition>"
        if self.line is not None:
            where += f":{self.line}:{self.column or 1}"
        warning = "warning: " if self.severity == "warning" else ""
        return f"{where}: {warning}{self.path or '<root>'}: {self.text(lang)}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path, "line": self.line, "column": self.column,
            "code": self.code, "message": self.message, "message_zh": self.message_zh,
            "suggestion": self.suggestion, "source": self.source, "severity": self.severity,
        }


class DefinitionError(FormworkError):
    """A definition could not be loaded or validated; carries every problem found."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(p.format() for p in self.problems))


class FieldError(FormworkError):
    """One value refused by a field type. `code` is a key of the i18n catalogue."""

    def __init__(self, code: str, **params: Any):
        self.code = code
        self.params = params
        super().__init__(render(code, params, "en"))


@dataclass
class FieldIssue:
    """A FieldError bound to a field (and, inside a subform, a row)."""

    field: str
    code: str
    params: dict = field(default_factory=dict)
    row: int | None = None       # subform row index (0-based) when inside a subform
    subfield: str | None = None  # subform column

    def as_dict(self, lang: str = "zh") -> dict[str, Any]:
        data = {
            "field": self.field, "code": self.code, "params": _jsonable(self.params),
            "message": render(self.code, self.params, lang),
            "message_en": render(self.code, self.params, "en"),
        }
        if self.row is not None:
            data["row"] = self.row
            data["subfield"] = self.subfield
        return data


def _jsonable(params: dict) -> dict:
    return {k: (v if isinstance(v, (int, float, str, bool, type(None), list)) else
                dict(v) if isinstance(v, PerLanguage) else str(v)) for k, v in params.items()}


class RecordValidationError(FormworkError):
    """Every field problem of one record at once."""

    def __init__(self, issues: list[FieldIssue]):
        self.issues = issues
        super().__init__("; ".join(
            f"{i.field}{'[' + str(i.row) + '].' + str(i.subfield) if i.row is not None else ''}: "
            f"{render(i.code, i.params, 'en')}" for i in issues))

    def as_dict(self, lang: str = "zh") -> dict[str, Any]:
        return {"error": "validation", "issues": [i.as_dict(lang) for i in self.issues]}


class NotFound(FormworkError):
    pass


class ConflictError(FormworkError):
    """Optimistic locking: the record changed since the caller read it."""

    def __init__(self, form: str, record_id: int, expected: int, actual: int | None):
        self.form, self.record_id, self.expected, self.actual = form, record_id, expected, actual
        super().__init__(
            f"record {form}#{record_id} was changed by someone else (you edited version "
            f"{expected}, it is now version {actual}); reload it and apply your change again")


class IntegrityProblem(FormworkError):
    """A change refused because of other data (a relation that restricts deletion...)."""


register_messages({
    "did_you_mean": {"zh": "（是不是“{suggestion}”？）", "en": " (did you mean '{suggestion}'?)"},
})


def suggestion_text(suggestion: str | None, lang: str) -> str:
    """The one wording of a "did you mean" in `lang`, appended to a message; "" without a
    suggestion. Catalogue messages get theirs from engine/suggest.py `hint`."""
    return render("did_you_mean", {"suggestion": suggestion}, lang) if suggestion is not None else ""


class CodedError(FormworkError):
    """A refusal with a catalogue code and parameters, rendered in zh or en.

    Mix it into the family that says what went wrong (`NotFound`, `IntegrityProblem`)
    so callers can catch by family and show the text in the user's language.
    """

    def __init__(self, code: str, *, suggestion: str | None = None, **params: Any):
        self.code, self.params, self.suggestion = code, params, suggestion
        super().__init__(self.message("en"))

    def message(self, lang: str = "zh") -> str:
        return render(self.code, self.params, lang) + suggestion_text(self.suggestion, lang)

    def as_dict(self, lang: str = "zh") -> dict[str, Any]:
        return {"error": self.code, "params": _jsonable(self.params), "suggestion": self.suggestion,
                "message": self.message(lang), "message_en": self.message("en")}


register_messages({
    "write_contention": {
        "zh": "记录未能保存，因为另一项修改正在同时保存相同的记录；请重试",
        "en": "the record could not be saved because another change was saving the same records "
              "at the same time; try again"},
})


class ConcurrentWriteError(CodedError):
    """The database gave up on a write because other writes held the same records
    (PostgreSQL: deadlock detected or serialization failure, `attempts` times; SQLite:
    the database stayed locked). Nothing of it was applied; trying again is safe."""

    def __init__(self, attempts: int, reason: str):
        self.attempts, self.reason = attempts, reason
        super().__init__("write_contention")


class ReadOnlyTransactionError(FormworkError):
    """A statement that writes, sent through a connection opened for reading only
    (`read_connection` in engine/storage/db.py). The database refused it before it
    changed anything: a bug in the caller, which must write in a transaction of its own."""

    def __init__(self, statement: str):
        self.statement = statement
        shown = " ".join(statement.split())
        shown = shown if len(shown) <= 80 else shown[:77] + "..."
        super().__init__(
            f"a read-only connection was asked to write ({shown}): connections from "
            "read_connection(engine) only read, so that they never make writers wait; do the "
            "write in a transaction of its own (write_transaction(engine, work) or engine.begin())")
