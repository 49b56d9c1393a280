"""Reading a definition file safely into plain data, with the line and column of
every value so that each problem can point at its place.

Refused quickly, with a clear message and never a traceback: empty files, binary
junk, text that is not UTF-8, files over MAX_BYTES, YAML syntax errors, duplicate
keys, alias bombs ("billion laughs") and anything but plain data (no tags that
build objects). JSON is read by the same YAML reader (JSON is YAML), so JSON files
get positions too.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from engine.errors import Problem

MAX_BYTES = 2 * 1024 * 1024     # a large app is ~200 KB; 2 MiB leaves room and stops junk
MAX_NODES = 200_000             # values after expanding aliases
MAX_ALIASES = 100               # alias uses (*name): plenty for reuse, far from a bomb
MAX_DEPTH = 40


@dataclass
class Loaded:
    data: Any = None
    positions: dict[str, tuple[int, int]] = field(default_factory=dict)   # path -> (line, column)
    problems: list[Problem] = field(default_factory=list)

    def position(self, path: str) -> tuple[int | None, int | None]:
        """Line and column of `path`, or of its nearest ancestor that has one."""
        while True:
            if path in self.positions:
                return self.positions[path]
            if not path:
                return None, None
            cut = max(path.rfind("."), path.rfind("["))
            path = path[:cut] if cut > 0 else ""


def _problem(message: str, line: int | None = None, column: int | None = None, code: str = "load") -> Loaded:
    return Loaded(problems=[Problem("", message, line, column, code=code)])


def load_text(raw: bytes | str, name: str | None = None) -> Loaded:
    if isinstance(raw, str):
        raw = raw.encode("utf-8", errors="surrogatepass")
    if len(raw) > MAX_BYTES:
        return _problem(f"the file is {len(raw):,} bytes; a definition may be at most {MAX_BYTES:,} bytes "
                        "(split a huge app, or remove embedded data)", code="too_large")
    if not raw.strip():
        return _problem("the file is empty: a definition starts with `format_version: 1`, `app:` and `forms:`",
                        1, 1, code="empty")
    nul = raw.find(b"\x00")
    if nul >= 0:
        return _problem(f"binary data (a NUL byte at offset {nul}): this is not a YAML or JSON text file",
                        code="binary")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        return _problem(f"not UTF-8 text: invalid byte 0x{raw[exc.start]:02x} at offset {exc.start}; "
                        "save the file as UTF-8", line, None, code="encoding")
    controls = [c for c in text if ord(c) < 32 and c not in "\t\n\r"]
    if controls:
        offset = text.index(controls[0])
        return _problem(f"control character U+{ord(controls[0]):04X} in the text: remove it",
                        text[:offset].count("\n") + 1, offset - text.rfind("\n", 0, offset), code="binary")
    try:
        node = yaml.compose(text, Loader=_Loader)
    except _LoadRefused as exc:
        return _problem(exc.message, exc.line, exc.column, code=exc.code)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        what = exc.problem or exc.context or "syntax error"
        return _problem(f"YAML syntax error: {what}", mark.line + 1 if mark else None,
                        mark.column + 1 if mark else None, code="syntax")
    except yaml.YAMLError as exc:
        return _problem(f"YAML error: {exc}", code="syntax")
    if node is None:
        return _problem("the file holds no data", 1, 1, code="empty")
    loaded = Loaded()
    builder = _Builder(loaded)
    try:
        loaded.data = builder.build(node, "", 0)
    except _LoadRefused as exc:
        return _problem(exc.message, exc.line, exc.column, code=exc.code)
    if not isinstance(loaded.data, dict):
        return _problem("the top level must be a mapping with format_version, app and forms",
                        node.start_mark.line + 1, node.start_mark.column + 1, code="type")
    return loaded


class _LoadRefused(Exception):
    def __init__(self, message: str, node_or_mark=None, code: str = "load"):
        mark = getattr(node_or_mark, "start_mark", node_or_mark)
        self.message, self.code = message, code
        self.line = mark.line + 1 if mark is not None else None
        self.column = mark.column + 1 if mark is not None else None


class _Loader(yaml.SafeLoader):
    """Counts alias uses while composing, so a bomb is refused before it expands."""

    def __init__(self, stream):
        super().__init__(stream)
        self._aliases = 0

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                event = self.peek_event()
                raise _LoadRefused(f"more than {MAX_ALIASES} aliases (*name): refused as a possible "
                                   "alias bomb; write the values out", event.start_mark, code="aliases")
        return super().compose_node(parent, index)


class _Builder:
    """Turns composed nodes into plain data and records each value's position."""

    def __init__(self, loaded: Loaded):
        self.loaded = loaded
        self.nodes = 0
        self.constructor = yaml.constructor.SafeConstructor()

    def build(self, node, path: str, depth: int) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise _LoadRefused(f"more than {MAX_NODES:,} values (after expanding aliases): refused",
                               node, code="too_large")
        if depth > MAX_DEPTH:
            raise _LoadRefused(f"nested more than {MAX_DEPTH} levels deep", node, code="too_deep")
        self.loaded.positions.setdefault(path, (node.start_mark.line + 1, node.start_mark.column + 1))
        if isinstance(node, MappingNode):
            result: dict[str, Any] = {}
            seen: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    raise _LoadRefused("merge keys (<<) are not supported: write the keys out", key_node,
                                       code="merge")
                if not isinstance(key_node, ScalarNode):
                    raise _LoadRefused("a key must be plain text", key_node, code="type")
                key = self._scalar(key_node)
                if not isinstance(key, str):
                    key = str(key)
                if key in seen:
                    first = seen[key]
                    raise _LoadRefused(f"duplicate key {key!r} (first at line {first.line + 1}, column "
                                       f"{first.column + 1}); each key may appear once", key_node,
                                       code="duplicate_key")
                seen[key] = key_node.start_mark
                child = f"{path}.{key}" if path else key
                result[key] = self.build(value_node, child, depth + 1)
                self.loaded.positions[child] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            return result
        if isinstance(node, SequenceNode):
            return [self.build(item, f"{path}[{i}]", depth + 1) for i, item in enumerate(node.value)]
        return self._scalar(node)

    def _scalar(self, node: ScalarNode) -> Any:
        allowed = ("tag:yaml.org,2002:str", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float",
                   "tag:yaml.org,2002:bool", "tag:yaml.org,2002:null")
        if node.tag not in allowed:
            if node.tag in ("tag:yaml.org,2002:timestamp",):
                return node.value   # dates stay text; field types parse them
            raise _LoadRefused(f"unsupported tag {node.tag!r}: only plain text, numbers, true/false "
                               "and null are allowed", node, code="tag")
        return self.constructor.construct_object(node)
