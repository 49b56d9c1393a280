"""Formula text into tokens: numbers, texts, names, operators, brackets.

The lexer is a single left-to-right loop; it never backtracks and never recurses.
Every token keeps its 0-based start and end offsets. Mistakes people actually make get
a message that says how to fix them: full-width punctuation typed with a Chinese input
method (`（` `，` `“`), `&&`/`||` from programming languages, `[字段名]` brackets.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

from engine.formula.diagnostics import FormulaSyntaxError
from engine.formula.limits import DEFAULT_LIMITS, ParseLimits

# Token kinds.
NUMBER, TEXT, NAME, OP, LPAREN, RPAREN, LBRACE, RBRACE, COMMA, DOT, END = (
    "number", "text", "name", "operator", "(", ")", "{", "}", ",", ".", "end")

# Longest first, so "<=" wins over "<".
OPERATORS = ("<>", "<=", ">=", "==", "!=", "+", "-", "*", "/", "^", "%", "&", "=", "<", ">")
SPELLING = {"==": "=", "!=": "<>"}   # accepted spellings normalised to Excel's
PUNCTUATION = {"(": LPAREN, ")": RPAREN, "{": LBRACE, "}": RBRACE, ",": COMMA, ".": DOT}

# Characters a Chinese input method produces where ASCII punctuation is meant.
FULL_WIDTH = {
    "（": "(", "）": ")", "，": ",", "＂": '"', "“": '"', "”": '"', "‘": "'", "’": "'",
    "＋": "+", "－": "-", "＊": "*", "／": "/", "＝": "=", "＜": "<", "＞": ">", "％": "%",
    "＆": "&", "．": ".", "。": ".", "；": ";", "｛": "{", "｝": "}", "×": "*", "÷": "/",
    "≠": "<>", "≤": "<=", "≥": ">=",
}
MISTAKES = {
    "&&": "write AND(a, b)",
    "||": "write OR(a, b)",
    "!": "write NOT(a), or '<>' for 'not equal'",
    ";": "arguments are separated by ','",
    "$": "refer to a field by its key, e.g. amount",
    "[": "fields are written by their key without brackets, e.g. amount or customer.level",
    "]": "fields are written by their key without brackets, e.g. amount or customer.level",
    ":": "ranges such as A1:B2 do not exist here; refer to a field, e.g. items.price",
    "#": "error values such as #N/A are not typed in a formula: NA() gives #N/A, "
         "ISERROR(x) and IFERROR(x, 0) test for errors",
}
WHITESPACE = " \t\r\n\u3000\u00a0"   # the ideographic and no-break spaces count as blanks


@dataclass(frozen=True, slots=True)
class Token:
    kind: str
    value: str      # the text of the token (operators normalised; texts unquoted)
    start: int
    end: int


def iter_tokens(text: str, limits: ParseLimits = DEFAULT_LIMITS) -> Iterator[Token]:
    """The tokens of `text` one by one, ending with an END token. Lazy, so a parser
    reports the first mistake in the text, not a later one the lexer would meet first."""
    pos, length = 0, len(text)
    while pos < length:
        ch = text[pos]
        if ch in WHITESPACE:
            pos += 1
        elif ch.isdigit() and ch.isascii() or ch == "." and _digit_at(text, pos + 1):
            token = _number(text, pos, limits)
            yield token
            pos = token.end
        elif ch == '"' or ch == "'":
            token = _text(text, pos, limits)
            yield token
            pos = token.end
        elif _name_start(ch):
            end = pos + 1
            while end < length and _name_part(text[end]):
                end += 1
            yield Token(NAME, text[pos:end], pos, end)
            pos = end
        else:
            token = _symbol(text, pos)
            yield token
            pos = token.end
    yield Token(END, "", length, length)


def _digit_at(text: str, pos: int) -> bool:
    return pos < len(text) and text[pos].isascii() and text[pos].isdigit()


def _name_start(ch: str) -> bool:
    return ch == "_" or ch.isalpha()


def _name_part(ch: str) -> bool:
    return ch == "_" or ch.isalpha() or (ch.isdigit() and ch.isascii())


def _number(text: str, start: int, limits: ParseLimits) -> Token:
    """1, 1.5, .5, 1., 1e3, 1.5E-3 (digits are ASCII only)."""
    pos = start
    while _digit_at(text, pos):
        pos += 1
    if pos < len(text) and text[pos] == ".":
        pos += 1
        while _digit_at(text, pos):
            pos += 1
    if pos < len(text) and text[pos] in "eE":
        mark = pos + 1
        if mark < len(text) and text[mark] in "+-":
            mark += 1
        if not _digit_at(text, mark):
            raise FormulaSyntaxError.at(
                text, start, f"number {text[start:mark]!r} has an exponent without digits",
                "; write e.g. 1e3 or 1.5E-2", width=mark - start)
        pos = mark
        while _digit_at(text, pos):
            pos += 1
    if pos < len(text) and _name_part(text[pos]):
        end = pos
        while end < len(text) and _name_part(text[end]):
            end += 1
        raise FormulaSyntaxError.at(
            text, start, f"{text[start:end]!r} is neither a number nor a field key",
            "; field keys start with a letter", width=end - start)
    return Token(NUMBER, text[start:pos], start, pos)


def _text(text: str, start: int, limits: ParseLimits) -> Token:
    """A quoted text in double or single quotes; a doubled quote stands for one quote."""
    quote = text[start]
    parts: list[str] = []
    pos = start + 1
    while True:
        end = text.find(quote, pos)
        if end < 0:
            raise FormulaSyntaxError.at(
                text, start, "unclosed text starting",
                f"; close it with {quote} (write {quote}{quote} for a {quote} inside the text)")
        parts.append(text[pos:end])
        if end + 1 < len(text) and text[end + 1] == quote:
            parts.append(quote)
            pos = end + 2
            continue
        value = "".join(parts)
        if len(value) > limits.max_string_literal:
            raise FormulaSyntaxError.at(
                text, start, f"text of {len(value)} characters",
                f" is longer than the {limits.max_string_literal} allowed in a formula; keep "
                f"long texts in a field", width=end + 1 - start)
        return Token(TEXT, value, start, end + 1)


def _symbol(text: str, pos: int) -> Token:
    ch = text[pos]
    if ch in PUNCTUATION:
        return Token(PUNCTUATION[ch], ch, pos, pos + 1)
    two = text[pos:pos + 2]
    if two in MISTAKES:
        raise FormulaSyntaxError.at(text, pos, f"unexpected {two!r}", f"; {MISTAKES[two]}",
                                    width=2)
    for op in OPERATORS:
        if text.startswith(op, pos):
            return Token(OP, SPELLING.get(op, op), pos, pos + len(op))
    if ch in MISTAKES:
        raise FormulaSyntaxError.at(text, pos, f"unexpected {ch!r}", f"; {MISTAKES[ch]}")
    if ch in FULL_WIDTH:
        raise FormulaSyntaxError.at(
            text, pos, f"full-width {ch!r}", f"; type the ASCII {FULL_WIDTH[ch]!r} instead "
            f"(switch the input method to half-width)")
    raise FormulaSyntaxError.at(text, pos, f"unexpected character {_describe(ch)}")


def _describe(ch: str) -> str:
    if ch.isprintable():
        return repr(ch)
    return f"U+{ord(ch):04X}"
