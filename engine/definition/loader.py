"""Reading a definition file safely into plain data, with the line and column of
every value so that each problem can point at its place.

    loaded = load_text(raw_bytes_or_text)
    loaded.problems          # [] or one Problem saying why the text was refused
    loaded.data              # plain dicts, lists, str, int, float, bool, None
    loaded.positions         # {"forms[2].fields[0].type": (line, column), ...}  (the value)
    loaded.key_positions     # the same paths, pointing at the key instead of the value
    loaded.position(path)    # the path's position, or its nearest ancestor's

Paths look like JSON paths without the `$`: "" is the root, "app.key",
"forms[2].fields[0].type". Lines and columns are 1-based.

Refused quickly, with a clear message and never a traceback: empty files, binary
junk (NUL bytes, control characters), text that is not UTF-8 (with the byte
offset), files over MAX_BYTES, YAML and JSON syntax errors (with line:column),
duplicate keys (with both places), alias bombs ("billion laughs": the size a
document would expand to is counted while it is composed, before anything is
expanded), nesting deeper than MAX_DEPTH, and anything but plain data: tags that
would build objects (`!!python/object`, `!!binary`, `!!set` ...) are refused,
nothing is ever constructed from a tag.

Scalars follow the YAML 1.2 core schema, not YAML 1.1: only true/false are
booleans (`no`, `on`, `yes` stay text), `1:30` is text, not the number 90, and
dates stay text for the field types to parse. JSON (a text starting with `{` or
`[`) is parsed by the json module, so its numbers, escapes and errors are JSON's,
and its positions come from the same YAML composer (JSON is YAML).
"""
from __future__ import annotations

import gc
import json
import math
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.reader import Reader
from yaml.resolver import BaseResolver

from engine.errors import DefinitionError, Problem

MAX_BYTES = 2 * 1024 * 1024     # 2 MiB; the flagship app is ~30 KB, a very large one ~300 KB
MAX_NODES = 200_000             # values (after expanding aliases) in one document
MAX_DEPTH = 50                  # nesting of mappings and lists
MAX_KEY_LENGTH = 1000           # characters in one mapping key

_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"


def read_source(path: Path) -> bytes:
    """The bytes of a definition file; a file too large or unreadable is a
    DefinitionError naming it (a huge file is refused before it is read)."""
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise DefinitionError([Problem("", f"the file is {size:,} bytes; a definition may be at most "
                                           f"{MAX_BYTES:,} bytes", code="too_large", source=str(path))])
        return path.read_bytes()
    except OSError as exc:
        raise DefinitionError([Problem("", f"cannot read the file: {exc.strerror or exc}",
                                       code="unreadable", source=str(path))]) from None


def _size_text(size: int) -> str:
    return f"{size / 1024 / 1024:.3g} MiB ({size:,} bytes)" if size >= 1024 * 1024 else f"{size:,} bytes"


@dataclass
class Loaded:
    """The outcome of reading one text: data and positions, or the reason it was refused."""

    data: Any = None
    positions: dict[str, tuple[int, int]] = field(default_factory=dict)      # path -> value (line, col)
    key_positions: dict[str, tuple[int, int]] = field(default_factory=dict)  # path -> key (line, col)
    problems: list[Problem] = field(default_factory=list)
    is_json: bool = False
    text: str = ""     # the source, for positions inside a value (a character of a formula)

    def position(self, path: str, key: bool = False) -> tuple[int | None, int | None]:
        """Line and column of `path` (of its key when `key` and the path ends in a key),
        or of its nearest ancestor that has one."""
        if key and path in self.key_positions:
            return self.key_positions[path]
        while True:
            if path in self.positions:
                return self.positions[path]
            if not path:
                return None, None
            path = parent_path(path)


def parent_path(path: str) -> str:
    """"forms[2].fields[0].type" -> "forms[2].fields[0]" -> "forms[2]" -> "forms" -> ""."""
    if path.endswith("]"):
        return path[:path.rfind("[")]
    cut = path.rfind(".")
    return path[:cut] if cut >= 0 else ""


def child_path(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def _refused(message: str, line: int | None = None, column: int | None = None, code: str = "load") -> Loaded:
    return Loaded(problems=[Problem("", message, line, column, code=code)])


class _Refused(Exception):
    """Stops reading; carries the message and the place."""

    def __init__(self, message: str, mark: Any = None, code: str = "load", path: str = ""):
        super().__init__(message)
        mark = getattr(mark, "start_mark", mark)
        self.message, self.code, self.path = message, code, path
        self.line = mark.line + 1 if mark is not None else None
        self.column = mark.column + 1 if mark is not None else None

    def loaded(self) -> Loaded:
        return Loaded(problems=[Problem(self.path, self.message, self.line, self.column, code=self.code)])


# ---- the text ------------------------------------------------------------------------

_NON_PRINTABLE = Reader.NON_PRINTABLE   # what YAML refuses: C0/C1 controls, DEL, U+FFFE/U+FFFF...


def load_text(raw: bytes | str, name: str | None = None) -> Loaded:
    """Read one definition text (YAML or JSON) into plain data with positions.

    Never raises for bad input: the reason is in `Loaded.problems` (at most one,
    since a text that cannot be read says nothing about the rest)."""
    if isinstance(raw, str):
        raw = raw.encode("utf-8", errors="surrogatepass")
    elif not isinstance(raw, (bytes, bytearray, memoryview)):
        return _refused(f"expected the text of a definition, got {type(raw).__name__}", code="type")
    raw = bytes(raw)
    if len(raw) > MAX_BYTES:
        return _refused(f"the file is {_size_text(len(raw))}; a definition may be at most "
                        f"{_size_text(MAX_BYTES)}. Split a huge app, or remove embedded data",
                        code="too_large")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return _refused("the file is UTF-16 text; save it as UTF-8", 1, 1, code="encoding")
    if not raw.strip():
        return _refused("the file is empty: a definition starts with `format_version: 1`, "
                        "then `app:` and `forms:`", 1, 1, code="empty")
    nul = raw.find(b"\x00")
    if nul >= 0:
        return _refused(f"binary data, not a YAML or JSON text: a NUL byte at byte offset {nul}",
                        *_line_col_bytes(raw, nul), code="binary")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return _refused(f"not UTF-8 text: invalid byte 0x{raw[exc.start]:02x} at byte offset {exc.start}; "
                        "save the file as UTF-8", *_line_col_bytes(raw, exc.start), code="encoding")
    bad = _NON_PRINTABLE.search(text)
    if bad:
        offset = bad.start()
        line, column = _line_col(text, offset)
        return _refused(f"binary data or a control character (U+{ord(bad.group()):04X}) at line {line}, "
                        f"column {column}: a definition is plain text; remove it", line, column, code="binary")
    if not text.strip():
        return _refused("the file is empty: a definition starts with `format_version: 1`, "
                        "then `app:` and `forms:`", 1, 1, code="empty")
    with _gc_paused():
        try:
            if text.lstrip()[:1] in ("{", "["):
                loaded = _load_json(text)
            else:
                loaded = _load_yaml(text)
        except _Refused as exc:
            return exc.loaded()
        except RecursionError:
            return _refused(f"nested too deeply (more than {MAX_DEPTH} levels)", code="too_deep")
    loaded.text = text
    if not loaded.problems and not isinstance(loaded.data, dict):
        line, column = loaded.positions.get("", (1, 1))
        what = "a list" if isinstance(loaded.data, list) else "a single value"
        return _refused(f"the top level is {what}; it must be a mapping with the keys format_version, "
                        "app and forms", line, column, code="type")
    return loaded


def _line_col(text: str, offset: int) -> tuple[int, int]:
    return text.count("\n", 0, offset) + 1, offset - text.rfind("\n", 0, offset)


def _line_col_bytes(raw: bytes, offset: int) -> tuple[int, int]:
    line_start = raw.rfind(b"\n", 0, offset) + 1
    column = len(raw[line_start:offset].decode("utf-8", errors="replace")) + 1
    return raw.count(b"\n", 0, offset) + 1, column


@contextmanager
def _gc_paused():
    """Building many small objects triggers the cyclic collector again and again (a
    1 MB file loads ten times slower with it on); none of them form cycles."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


# ---- YAML ----------------------------------------------------------------------------

class _Resolver(BaseResolver):
    """The YAML 1.2 core schema: no yes/no booleans, no sexagesimal numbers, no
    timestamps, no merge keys, no `=`."""


_Resolver.add_implicit_resolver(_BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
_Resolver.add_implicit_resolver(_NULL, re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""])
_Resolver.add_implicit_resolver(_INT, re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"),
                                list("-+0123456789"))
_Resolver.add_implicit_resolver(
    _FLOAT, re.compile(r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
                       r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"), list("-+.0123456789"))

try:   # libyaml scans and parses ten times faster; the composing stays in Python (below)
    from yaml._yaml import CParser as _CParser
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    _CParser = None


class _Composer(Composer, _Resolver):
    """Composes the node graph, refusing while it goes: nesting deeper than
    MAX_DEPTH, more than MAX_NODES nodes, and documents whose aliases would expand
    to more than MAX_NODES values (each node carries its expanded size, so a
    "billion laughs" is refused after a few dozen nodes, before any expansion).

    PyYAML's own C composer recurses without limit and crashes the process on a
    deeply nested text, so only the scanner and parser come from libyaml."""

    def __init__(self, text: str):
        if _CParser is not None:
            self._parser = _CParser(text)
        else:
            self._parser = yaml.SafeLoader(text)
        Composer.__init__(self)
        _Resolver.__init__(self)
        self._depth = 0
        self._nodes = 0

    def check_event(self, *choices):
        return self._parser.check_event(*choices)

    def peek_event(self):
        return self._parser.peek_event()

    def get_event(self):
        return self._parser.get_event()

    def dispose(self):
        self._parser.dispose()

    def compose_node(self, parent, index):
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _Refused(f"nested more than {MAX_DEPTH} levels deep: a definition is much flatter "
                               "than this", self.peek_event(), code="too_deep")
            if self.check_event(AliasEvent):
                event = self.peek_event()
                node = super().compose_node(parent, index)
                size = getattr(node, "_expanded", None)
                if size is None:
                    raise _Refused(f"the alias *{event.anchor} refers to a value that contains it "
                                   "(a recursive alias); write the value out", event, code="aliases")
                return node
            self._nodes += 1
            if self._nodes > MAX_NODES:
                raise _Refused(f"more than {MAX_NODES:,} values: far more than any app needs; refused",
                               self.peek_event(), code="too_large")
            node = super().compose_node(parent, index)
            if isinstance(node, ScalarNode):
                node._expanded = 1
            elif isinstance(node, SequenceNode):
                node._expanded = 1 + sum(child._expanded for child in node.value)
            else:
                node._expanded = 1 + sum(k._expanded + v._expanded for k, v in node.value)
            if node._expanded > MAX_NODES:
                raise _Refused(f"the aliases (*name) here would expand to more than {MAX_NODES:,} values: "
                               "refused as an alias bomb; write the values out", node, code="aliases")
            return node
        finally:
            self._depth -= 1


def _compose(text: str) -> Node | None:
    composer = _Composer(text)
    try:
        return composer.get_single_node()
    finally:
        composer.dispose()


# What PyYAML says when a line is indented too far or not far enough.
_INDENTATION_SIGNS = ("expected '-' indicator", "expected <block end>", "did not find expected key",
                      "mapping values are not allowed here")


def _yaml_syntax_problem(exc: yaml.YAMLError, text: str) -> Loaded:
    if not isinstance(exc, yaml.MarkedYAMLError):
        return _refused(f"YAML error: {exc}", code="syntax")
    mark = exc.problem_mark or exc.context_mark
    what = exc.problem or exc.context or "syntax error"
    if exc.context and exc.problem and exc.context_mark is not None:
        what = f"{exc.problem} ({exc.context} at line {exc.context_mark.line + 1})"
    if mark is not None and _char_at(text, mark.line, mark.column) == "\t":
        what += "; indent with spaces, not tabs"
    elif any(sign in what for sign in _INDENTATION_SIGNS):
        what += "; check the indentation: the entries of one mapping or list start in the same column"
        if "mapping values" in what:
            what += ", and text that contains ': ' must be in quotes"
    return _refused(f"YAML syntax error: {what}", mark.line + 1 if mark else None,
                    mark.column + 1 if mark else None, code="syntax")


def _char_at(text: str, line: int, column: int) -> str:
    lines = text.split("\n", line + 1)
    return lines[line][column:column + 1] if line < len(lines) else ""


def _load_yaml(text: str) -> Loaded:
    try:
        node = _compose(text)
    except yaml.YAMLError as exc:
        return _yaml_syntax_problem(exc, text)
    if node is None:
        return _refused("the file holds no data (only comments?): a definition starts with "
                        "`format_version: 1`, then `app:` and `forms:`", 1, 1, code="empty")
    loaded = Loaded()
    loaded.data = _Builder(loaded).build(node, "")
    return loaded


class _Builder:
    """Turns composed nodes into plain data, recording each value's position and
    refusing duplicate keys, non-text keys, merge keys and object-building tags."""

    def __init__(self, loaded: Loaded):
        self.loaded = loaded

    def build(self, node: Node, path: str) -> Any:
        positions = self.loaded.positions
        if path not in positions:
            positions[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
        if isinstance(node, MappingNode):
            if node.tag != _MAP:
                raise _tag_refused(node, path)
            result: dict[str, Any] = {}
            seen: dict[str, Any] = {}
            for key_node, value_node in node.value:
                key = self._key(key_node, path)
                if key in seen:
                    first = seen[key]
                    raise _Refused(f"duplicate key {key!r}: it is first at line {first.line + 1}, column "
                                   f"{first.column + 1}, and again here; each key may appear only once in a "
                                   "mapping (remove or rename one)", key_node, code="duplicate_key",
                                   path=child_path(path, key))
                seen[key] = key_node.start_mark
                child = child_path(path, key)
                self.loaded.key_positions[child] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
                result[key] = self.build(value_node, child)
            return result
        if isinstance(node, SequenceNode):
            if node.tag != _SEQ:
                raise _tag_refused(node, path)
            return [self.build(item, child_path(path, i)) for i, item in enumerate(node.value)]
        return _scalar(node, path)

    def _key(self, node: Node, path: str) -> str:
        if not isinstance(node, ScalarNode):
            raise _Refused("a key must be plain text, not a list or a mapping", node, code="type", path=path)
        if node.tag == _STR and not node.style and node.value == "<<":   # plain, not quoted
            raise _Refused("merge keys (<<) are not supported: write the keys out", node, code="merge",
                           path=path)
        if node.tag not in (_STR, _INT, _FLOAT, _BOOL, _NULL):
            raise _tag_refused(node, path)
        if len(node.value) > MAX_KEY_LENGTH:
            raise _Refused(f"a key of {len(node.value):,} characters: keys are short names", node,
                           code="too_large", path=path)
        return node.value   # the text as written: `1:` is the key "1", `true:` the key "true"


def _tag_refused(node: Node, path: str) -> _Refused:
    return _Refused(f"unsupported tag {node.tag!r}: a definition holds only plain data (text, numbers, "
                    "true/false, null, lists and mappings)", node, code="tag", path=path)


def _scalar(node: ScalarNode, path: str) -> Any:
    tag, value = node.tag, node.value
    if tag == _STR:
        return value
    try:
        if tag == _NULL:
            if value not in ("", "~", "null", "Null", "NULL"):
                raise ValueError
            return None
        if tag == _BOOL:
            lowered = value.lower()
            if lowered not in ("true", "false"):
                raise ValueError
            return lowered == "true"
        if tag == _INT:
            if len(value) > 100:
                raise _Refused(f"a number of {len(value)} digits is too long", node, code="number", path=path)
            return int(value, 0) if value[:2] in ("0o", "0x") else int(value, 10)
        if tag == _FLOAT:
            if len(value) > 100:
                raise _Refused(f"a number of {len(value)} characters is too long", node, code="number", path=path)
            number = float(value.lower().replace(".inf", "inf").replace(".nan", "nan"))
            if not math.isfinite(number):
                raise _Refused(f"{value!r} is not a finite number; write a real number or quote it as text",
                               node, code="number", path=path)
            return number
    except ValueError:
        raise _Refused(f"{value!r} is not a valid {tag.rsplit(':', 1)[-1]}", node, code="number",
                       path=path) from None
    raise _tag_refused(node, path)


# ---- JSON ----------------------------------------------------------------------------

def _load_json(text: str) -> Loaded:
    """JSON's own parser for the data (exact numbers, escapes, error messages), and
    the YAML composer over the same text for positions, duplicates and limits."""
    duplicates: list[str] = []

    def pairs(items):
        result = {}
        for key, value in items:
            if key in result:
                duplicates.append(key)
            result[key] = value
        return result

    def constant(name):
        raise _Refused(f"{name} is not a finite number; JSON definitions use real numbers", code="number")

    def parse_float(text_value):
        number = float(text_value)
        if not math.isfinite(number):
            raise _Refused(f"{text_value} is too large a number", code="number")
        return number

    try:
        data = json.loads(text, object_pairs_hook=pairs, parse_constant=constant, parse_float=parse_float)
    except json.JSONDecodeError as exc:
        hint = ""
        if "Expecting property name enclosed in double quotes" in exc.msg:
            hint = " (JSON keys and texts use double quotes, and no comma may follow the last item)"
        return _refused(f"JSON syntax error: {exc.msg}{hint}", exc.lineno, exc.colno, code="syntax")
    except ValueError:   # an integer of thousands of digits
        return _refused("a number of more than 4,300 digits: far too long", code="number")
    loaded = Loaded(data=data, is_json=True)
    # JSON allows tabs between tokens, YAML does not; a valid JSON text has no tab inside
    # a string, so replacing them keeps every position and meaning.
    try:
        node = _compose(text.replace("\t", " "))
    except yaml.YAMLError:
        node = None      # a JSON text YAML cannot read (a key over 1024 characters): no positions
    if node is not None:
        _Builder(loaded).build(node, "")   # positions; raises _Refused on a duplicate key
    else:
        loaded.positions[""] = (1, 1)
    if duplicates:     # found by json but not by the position pass
        raise _Refused(f"duplicate key {duplicates[0]!r}: each key may appear only once in an object",
                       code="duplicate_key")
    return loaded
