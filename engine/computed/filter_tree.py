"""The filter language parsed once: a frozen tree of a filter document, and what it reads.

    tree = parse_filter({"and": [{"field": "status", "op": "eq", "value": "ok"},
                                 {"formula": "paid_on >= TODAY() - 30"}]},
                        form, app=app, types=types)
    tree.errors         # () here; else each bad part with its path ("filter.and[1].formula")
    tree.fields         # {("status",), ("paid_on",)}: every field path read, formulas' too
    tree.reads_clock    # True: a date shortcut or TODAY()/NOW() changes the answer with the date
    tree.formulas       # the formula conditions, parsed and type-checked

One walk of a document serves everything that asks about it: its SQL (compile_filter in
engine/query/filters.py walks the tree), the computed graph (a rollup is recomputed when
a field its filter reads changes, and by `recompute --volatile` when its filter reads
the clock) and the definition checks. Parsing never raises: the errors are parts of the
tree (`Invalid`), in document order, with the messages compiling raises. What only the
field types' SQL can tell (a bad value for the operator) or the SQL back end (a formula
that cannot run in the database) is found when the tree is compiled.

The module reads the definition and the formula language only: no table, no database.
"""
from __future__ import annotations

import dataclasses
import threading
import weakref
from dataclasses import dataclass
from typing import Any, Callable, Collection, Iterable, Iterator, Union

from engine.computed.env import AppEnv, field_formula_type
from engine.computed.paths import form_at
from engine.definition.model import AppDef, FieldDef, FormDef
from engine.errors import FormworkError
from engine.fields.base import CLOCK_OPS
from engine.fields.registry import FieldTypes
from engine.fields.system_fields import SYSTEM_FIELD_KEYS, system_field
from engine.formula import FormulaSyntaxError, check, parse
from engine.formula.nodes import Formula
from engine.formula.typecheck import describe
from engine.suggest import did_you_mean

MAX_DEPTH = 8                   # groups nested in groups
MAX_CONDITIONS = 200            # field and formula conditions in one document
MAX_FORMULA_LENGTH = 2_000      # characters of one formula condition


class FilterError(FormworkError):
    def __init__(self, path: str, message: str):
        self.path, self.message = path, message
        super().__init__(f"{path}: {message}")


# ---- the tree ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Group:
    """{"and": [...]} or {"or": [...]}; a bare list is an "and"."""

    path: str
    kind: str                                   # "and" or "or"
    items: tuple["FilterNode", ...]


@dataclass(frozen=True)
class Not:
    path: str
    item: "FilterNode"


@dataclass(frozen=True)
class FieldTest:
    """{"field": ..., "op": ..., "value": ...}: the field exists and supports the operator."""

    path: str
    field: FieldDef
    op: str
    value: Any

    @property
    def reads(self) -> tuple[tuple[str, ...], ...]:
        return ((self.field.key,),)


@dataclass(frozen=True)
class FormulaTest:
    """{"formula": ...}: a formula giving TRUE or FALSE, with the checker's typed tree."""

    path: str
    text: str
    formula: Formula

    @property
    def reads(self) -> tuple[tuple[str, ...], ...]:
        return self.formula.references


@dataclass(frozen=True)
class Invalid:
    """A bad part of the document: compiling reaches it and raises its error."""

    path: str
    message: str
    # The field paths a bad condition still names (a known field with a wrong operator,
    # a formula that fails its type check), so that a caller may refuse a field the
    # reader may not see before this message names it.
    reads: tuple[tuple[str, ...], ...] = ()
    names_at: str = ""              # where the condition names them: its field or formula

    def error(self) -> FilterError:
        return FilterError(self.path, self.message)

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


FilterNode = Union[Group, Not, FieldTest, FormulaTest, Invalid]


@dataclass(frozen=True, eq=False)
class FilterTree:
    """A parsed filter document of `form`; `root` is None for no filter (every record).
    With `related` False its formulas may read only the record's own fields (a rollup's)."""

    form: FormDef
    related: bool
    root: FilterNode | None
    errors: tuple[Invalid, ...]
    fields: frozenset[tuple[str, ...]]
    reads_clock: bool
    formulas: tuple[FormulaTest, ...]

    @property
    def own_fields(self) -> frozenset[str]:
        """The keys of the record's own fields it reads: each path's first step (a path
        through a relation reads the relation field first)."""
        return frozenset(path[0] for path in self.fields)

    def tests(self) -> Iterator["FieldTest | FormulaTest | Invalid"]:
        """The field and formula conditions in document order, with the bad ones that
        still name fields (Invalid.reads)."""
        stack = [self.root] if self.root is not None else []
        while stack:
            node = stack.pop()
            if isinstance(node, Group):
                stack.extend(reversed(node.items))
            elif isinstance(node, Not):
                stack.append(node.item)
            elif isinstance(node, (FieldTest, FormulaTest)) or (isinstance(node, Invalid) and node.reads):
                yield node


# The keys of the fields of a form that its reader may not see (runtime/permissions):
# a "did you mean" never offers one.
HiddenOf = Callable[[FormDef], Collection[str]]


def parse_filter(spec: Any, form: FormDef, *, app: AppDef, types: FieldTypes, related: bool = True,
                 path: str = "filter", hidden: HiddenOf | None = None) -> FilterTree:
    """The tree of a filter document over `form` of `app` (None or {} means everything);
    `types` are the app's bound field types. With `hidden`, the messages of its errors
    suggest no field `hidden(form)` names (a reader's filter, with their permissions)."""
    parser = _Parser(form, app, types, related, hidden)
    root = None if spec is None or spec == {} else parser.node(spec, path, 0)
    return FilterTree(form, related, root, tuple(parser.errors), frozenset(parser.fields),
                      parser.clock, tuple(parser.formulas))


# ---- fields --------------------------------------------------------------------------------------

def find_field(form: FormDef, key: Any, hidden: Collection[str] = ()) -> FieldDef | str:
    """The field (or system column) named `key`, or why there is none (suggesting no
    field of `hidden`)."""
    if not isinstance(key, str):
        return "a condition needs \"field\": the key of a field"
    fdef = form.field(key) or system_field(key)
    if fdef is not None:
        return fdef
    hint = did_you_mean(key, [k for k in form.field_keys() if k not in hidden] + list(SYSTEM_FIELD_KEYS))
    return f"form {form.key!r} has no field {key!r}" + (f"; did you mean {hint!r}?" if hint else "")


def resolve_field(form: FormDef, key: Any, path: str, hidden: Collection[str] = ()) -> FieldDef:
    found = find_field(form, key, hidden)
    if isinstance(found, str):
        raise FilterError(path, found)
    return found


# ---- the walk ------------------------------------------------------------------------------------

class _Parser:
    def __init__(self, form: FormDef, app: AppDef, types: FieldTypes, related: bool,
                 hidden: HiddenOf | None = None):
        self.form, self.app, self.types, self.related = form, app, types, related
        self.hidden = hidden
        self.conditions = 0
        self.errors: list[Invalid] = []
        self.fields: set[tuple[str, ...]] = set()
        self.clock = False
        self.formulas: list[FormulaTest] = []

    def invalid(self, path: str, message: str, reads: tuple[tuple[str, ...], ...] = (),
                names_at: str = "") -> Invalid:
        found = Invalid(path, message, reads, names_at)
        self.errors.append(found)
        return found

    @property
    def full(self) -> bool:
        """Past the bound of conditions: the rest of the document is not walked."""
        return self.conditions > MAX_CONDITIONS

    def node(self, spec: Any, path: str, depth: int) -> FilterNode:
        if depth > MAX_DEPTH:
            return self.invalid(path, f"filters nest at most {MAX_DEPTH} groups deep")
        if isinstance(spec, list):      # "all of these", its items at their place: filter[1]
            return self.items(spec, "and", path, path, depth)
        if not isinstance(spec, dict):
            return self.invalid(path, "expected an object: a condition or an and/or group")
        groups = [key for key in ("and", "or") if key in spec]
        if groups:
            return self.group(spec, groups[0], path, depth)
        if "not" in spec and len(spec) == 1:
            return Not(path, self.node(spec["not"], f"{path}.not", depth + 1))
        self.conditions += 1
        if self.full:
            return self.invalid(path, f"at most {MAX_CONDITIONS} conditions in one filter")
        if "formula" in spec:
            return self.formula(spec, path)
        return self.field(spec, path)

    def group(self, spec: dict, key: str, path: str, depth: int) -> FilterNode:
        if len(spec) != 1:
            extra = sorted(set(spec) - {key}, key=str)
            return self.invalid(path, f"a group has only one key ('and' or 'or'), also found {extra}")
        items = spec[key]
        if not isinstance(items, list):
            return self.invalid(f"{path}.{key}", "expected a list of conditions")
        return self.items(items, key, path, f"{path}.{key}", depth)

    def items(self, items: list, kind: str, path: str, list_path: str, depth: int) -> Group:
        parts: list[FilterNode] = []
        for index, item in enumerate(items):
            if self.full:
                break
            parts.append(self.node(item, f"{list_path}[{index}]", depth + 1))
        return Group(path, kind, tuple(parts))

    def field(self, spec: dict, path: str) -> FilterNode:
        unknown = set(spec) - {"field", "op", "value"}
        if unknown:
            return self.invalid(path, f"unknown key(s) {sorted(unknown, key=str)}; a condition has field, op "
                                      "and value (or is {\"formula\": \"...\"})")
        fdef = find_field(self.form, spec.get("field"), self.hidden(self.form) if self.hidden else ())
        if isinstance(fdef, str):
            return self.invalid(f"{path}.field", fdef)
        try:
            operators = self.types.of(fdef).operators
        except Exception:   # a field whose type or config is broken: reported on the field itself
            return self.invalid(f"{path}.field", f"field {fdef.key!r} cannot be filtered until its own "
                                                 "definition is fixed")
        op = spec.get("op", "eq")
        if not isinstance(op, str) or op not in operators:
            allowed = ", ".join(sorted(operators)) or "none"
            hint = did_you_mean(op, operators) if isinstance(op, str) else None
            return self.invalid(f"{path}.op", f"field {fdef.key!r} ({fdef.type}) does not support "
                                f"operator {op!r}; use one of: {allowed}"
                                + (f" (did you mean {hint!r}?)" if hint else ""),
                                ((fdef.key,),), f"{path}.field")
        test = FieldTest(path, fdef, op, spec.get("value"))
        self.fields.update(test.reads)
        self.clock = self.clock or op in CLOCK_OPS
        return test

    def formula(self, spec: dict, path: str) -> FilterNode:
        where = f"{path}.formula"
        unknown = set(spec) - {"formula"}
        if unknown:
            return self.invalid(path, "a formula condition has only the key 'formula', also found "
                                      f"{sorted(unknown, key=str)}")
        text = spec["formula"]
        if not isinstance(text, str) or not text.strip():
            return self.invalid(where, 'expected the formula as text, e.g. {"formula": "amount * 2 > credit"}')
        if len(text) > MAX_FORMULA_LENGTH:
            return self.invalid(where, f"the formula has {len(text)} characters, at most {MAX_FORMULA_LENGTH}")
        checked = _CHECKED.get(self, text) if self.hidden is None else \
            checked_formula(text, FilterEnv(self.form, self.app, self.types, self.related, self.hidden))
        if isinstance(checked, str):
            return self.invalid(where, checked, _references(text), where)
        test = FormulaTest(path, text, checked)
        self.formulas.append(test)
        self.fields.update(test.reads)
        self.clock = self.clock or checked.volatile
        return test


# ---- formula conditions --------------------------------------------------------------------------

def _references(text: str) -> tuple[tuple[str, ...], ...]:
    """The field paths a formula names, when it parses (it may fail its type check)."""
    try:
        return tuple(parse(text).references)
    except FormulaSyntaxError:
        return ()


def checked_formula(text: str, env: "FilterEnv") -> Formula | str:
    """The formula with the checker's typed tree, or what is wrong with it."""
    try:
        formula = parse(text)
    except FormulaSyntaxError as error:
        return str(error)
    result = check(formula, env)
    if result.problems:
        return "; ".join(problem.message for problem in result.problems[:3])
    if result.result_type not in ("boolean", "any"):
        return (f"the formula gives {describe(result.result_type)}; a filter needs TRUE or FALSE, "
                "e.g. a comparison such as amount > 100")
    return dataclasses.replace(formula, tree=result.tree)


class _CheckedFormulas:
    """Formula conditions already checked, kept beside each app's field types (and gone
    with them): the next page or count with the same formula is not checked again (a
    check costs more than a page's statement takes to build). An entry serves only the
    same form and app, by identity."""

    SIZE = 256                      # formulas per app; the oldest goes first

    def __init__(self):
        self._by_types: weakref.WeakKeyDictionary[FieldTypes, dict] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def get(self, parser: _Parser, text: str) -> Formula | str:
        key = (parser.form.key, parser.related, text)
        with self._lock:
            store = self._by_types.setdefault(parser.types, {})
            entry = store.get(key)
        if entry is not None and entry[0] is parser.form and entry[1] is parser.app:
            return entry[2]
        found = checked_formula(text, FilterEnv(parser.form, parser.app, parser.types, parser.related))
        with self._lock:
            if len(store) >= self.SIZE:
                del store[next(iter(store))]
            store[key] = (parser.form, parser.app, found)
        return found


_CHECKED = _CheckedFormulas()


class FilterEnv:
    """The type environment of a filter formula: the form's fields and system columns,
    and unless `related` is False, paths through relations (engine/computed/env.py)."""

    def __init__(self, form: FormDef, app: AppDef, types: FieldTypes, related: bool = True,
                 hidden: HiddenOf | None = None):
        self.form, self.app, self.types, self.hidden = form, app, types, hidden
        self.system = {key: system_field(key) for key in SYSTEM_FIELD_KEYS}
        self.app_env = AppEnv(app, form, types=types) if related else None

    def field_type(self, path: tuple[str, ...]) -> str | None:
        if len(path) == 1 and self.form.field(path[0]) is None and path[0] in self.system:
            return field_formula_type(self.system[path[0]])
        if self.app_env is not None:
            return self.app_env.field_type(path)
        if len(path) > 1:
            return "any"             # the SQL resolver says why it cannot be read
        fdef = self.form.field(path[0])
        return None if fdef is None else field_formula_type(fdef, self.types)

    def candidates(self, prefix: tuple[str, ...]) -> Iterable[str]:
        if prefix:
            found = self.app_env.candidates(prefix) if self.app_env is not None else []
            return self._shown(found, form_at(self.app, self.form, prefix))
        return self._shown(self.form.field_keys(), (self.form, None)) + list(self.system)

    def _shown(self, keys: Iterable[str], place) -> list[str]:
        """`keys` less those the reader may not see (a subform's columns go with it)."""
        if self.hidden is None or place is None or place[1] is not None:
            return list(keys)
        hidden = self.hidden(place[0])
        return [k for k in keys if k not in hidden]
