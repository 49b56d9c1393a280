"""The field-type contract. One subclass per field type owns everything about it:
its config schema, input coercion and validation, storage columns, import
parsing, export and display formatting, and the filter operators it supports.

Nothing outside `engine/fields` may branch on a field's type name; ask the
field type instead.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from dataclasses import field as dc_field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Callable, ClassVar, Iterable, Mapping
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from engine.definition.model import AppDef, FieldDef, FormDef, Label
from engine.errors import FieldError, Problem
from engine.formula.values import ErrorValue
from engine.i18n import register_messages
from engine.storage.types import utcnow
from engine.workspace import WORKSPACE_TZ

DEFAULT_TZ = WORKSPACE_TZ    # FORMWORK_TIMEZONE, default Asia/Shanghai (engine/workspace.py)

# The date shortcuts of the filter language: they compare with today in the workspace
# time zone, so a filter using one reads the clock (its answer changes with the date).
CLOCK_OPS = frozenset({"today", "this_week", "this_month", "last_n_days"})
# Every filter operator of the structured filter language.
ALL_OPERATORS = frozenset({
    "eq", "ne", "in", "not_in", "gt", "gte", "lt", "lte", "between", "contains",
    "starts_with", "empty", "not_empty",
}) | CLOCK_OPS
ORDERED_OPS = frozenset({"eq", "ne", "in", "not_in", "gt", "gte", "lt", "lte", "between",
                         "empty", "not_empty"})
TEXT_OPS = frozenset({"eq", "ne", "in", "not_in", "contains", "starts_with", "empty", "not_empty"})
DATE_OPS = ORDERED_OPS | CLOCK_OPS
CHOICE_OPS = frozenset({"eq", "ne", "in", "not_in", "empty", "not_empty"})

register_messages({
    "required": {"zh": "此项为必填项", "en": "This field is required"},
    "unique": {"zh": "该值“{value}”已存在，必须唯一", "en": "The value '{value}' is already used; it must be unique"},
    "invalid_type": {"zh": "值的类型不正确，应为{expected}", "en": "Wrong kind of value; expected {expected}"},
    "operator_unsupported": {"zh": "字段不支持筛选条件“{op}”，可用：{allowed}",
                             "en": "This field does not support the filter operator '{op}'; use one of {allowed}"},
    "member_missing": {"zh": "成员 #{id} 不存在", "en": "There is no member #{id}"},
    "department_missing": {"zh": "部门 #{id} 不存在", "en": "There is no department #{id}"},
    "file_missing": {"zh": "文件 #{id} 不存在，请重新上传", "en": "There is no file #{id}; upload it again"},
    "operand_needs_list": {"zh": "筛选条件“{op}”需要一个值的列表",
                           "en": "Bad value for filter operator '{op}': give a list of values"},
    "operand_needs_pair": {"zh": "筛选条件“{op}”需要两个值：[下限, 上限]",
                           "en": "Bad value for filter operator '{op}': give [low, high]"},
    "operand_needs_value": {"zh": "筛选条件“{op}”需要一个值",
                            "en": "Bad value for filter operator '{op}': a value is needed"},
    "operand_needs_days": {"zh": "筛选条件“{op}”需要 1 到 36500 之间的整数天数",
                           "en": "Bad value for filter operator '{op}': give a whole number of days "
                                 "from 1 to 36500"},
})


NO_MATCH = object()   # see FieldType.comparable
_ID = re.compile(r"#?\s*([0-9]{1,19})")
MAX_ID = 2 ** 63 - 1   # ids are 64-bit on both databases


def _whole(number: float | Decimal) -> bool:
    return (number.is_finite() if isinstance(number, Decimal) else number == number and
            abs(number) != float("inf")) and number == int(number) and abs(number) < 2 ** 63


def parse_id(raw: Any) -> int | None:
    """A positive id from 12, 12.0, "12", " #12 " or {"id": 12}; None when `raw` is none."""
    if isinstance(raw, dict):
        raw = raw.get("id")
    if isinstance(raw, bool):
        return None
    if isinstance(raw, (float, Decimal)) and _whole(raw):   # 12.0, Decimal("12") (a formula's)
        raw = int(raw)
    if isinstance(raw, int):
        return raw if 1 <= raw <= MAX_ID else None
    if isinstance(raw, str):
        m = _ID.fullmatch(raw.strip())
        if m and 1 <= int(m.group(1)) <= MAX_ID:
            return int(m.group(1))
    return None


def blank(value: Any) -> bool:
    """None, an empty list, or text that is empty or only spaces: no value at all."""
    if isinstance(value, str):
        return not value.strip()
    return value is None or (isinstance(value, list) and not value)


def preview(raw: Any, limit: int = 50) -> str:
    """`raw` as a short text for an error message, whatever it is (Python will not even
    turn an integer of thousands of digits into text)."""
    if isinstance(raw, int) and not isinstance(raw, bool) and raw.bit_length() > 1000:
        return f"{Decimal(raw):.3e}"
    return str(raw)[:limit]


@dataclass
class ValueContext:
    """What a field type may need to know while cleaning or formatting a value.

    The runtime loads what a batch or a page refers to in bulk and hands it in here (never
    a query per value): `names` for display and export and `lookups` for import, each by
    Reference kind ("users", "departments", "files"); `links`, the link tables of the
    form's multiple relations by field key, for their filters (`for_form`); `titles`, the
    titles of related records by relation field key, for display."""

    lang: str = "zh"
    tz: ZoneInfo = DEFAULT_TZ
    now: datetime | None = None
    user_id: int | None = None
    names: Mapping[str, Mapping[int, str]] = dc_field(default_factory=dict)     # kind -> {id: name}
    lookups: Mapping[str, Mapping[str, int]] = dc_field(default_factory=dict)   # kind -> {text: id}
    titles: Mapping[str, Mapping[int, str]] = dc_field(default_factory=dict)    # relation key -> {id: title}
    links: Mapping[str, Any] = dc_field(default_factory=dict)                   # field key -> link table

    def current_time(self) -> datetime:
        return self.now or utcnow()

    def today(self) -> date:
        return self.current_time().astimezone(self.tz).date()

    def for_form(self, tables: Any, form_key: str) -> "ValueContext":
        """This context with the link tables of `form_key` in `tables` (an AppTables)."""
        links = {key: table for (owner, key), table in tables.links.items() if owner == form_key}
        return replace(self, links=links)


@dataclass(frozen=True)
class DerivedType:
    """What only the whole app can tell about a computed field (engine/computed/derive.py):
    the result type a formula gives when the definition does not say, and a rollup's
    result type and decimal places (those of the field it adds up)."""

    result: str | None = None
    precision: int | None = None


@dataclass
class DefinitionContext:
    """Handed to `check_definition`: the whole app, to resolve references, and its field
    types bound to what the app tells about them (`types.of(fdef)`)."""

    app: AppDef
    form: FormDef
    parent: FieldDef | None = None   # the subform when checking a subform column
    facts: Any = None                # engine.validation.checks.AppFacts: what the validator worked out

    @property
    def types(self):
        """The app's field types (engine.fields.registry.FieldTypes)."""
        return self.facts.types


@dataclass(frozen=True)
class Reference:
    """Ids a value points at, checked in bulk by the runtime (one query per target)."""

    kind: str          # "users", "departments", "files" or "form"
    target: str | None  # form key when kind == "form"
    ids: tuple[int, ...]

    @property
    def missing_code(self) -> str:
        """The error code for one of `ids` that does not exist (its param is `id`)."""
        return _MISSING_CODES[self.kind]


_MISSING_CODES = {"form": "relation_missing", "users": "member_missing", "departments": "department_missing",
                  "files": "file_missing"}


@dataclass(frozen=True)
class SchemaContext:
    """Handed to `json_schema`: which side of the API a value schema describes, and what a
    type reading another field's value (a lookup) needs of the app.

    "read" is what the API returns (FieldType.to_json); "write" is what a create or an
    update accepts (FieldType.clean), usually more forms than reads give back (a date as
    any text people write, an option by its label, an id as "#12")."""

    mode: str = "read"                  # "read" or "write"
    lang: str = "en"                    # of titles and descriptions
    # The type of the field a lookup shows (on the related form), None when unknown.
    lookup_target: Callable[["FieldType"], "FieldType | None"] = lambda ftype: None

    @property
    def writing(self) -> bool:
        return self.mode == "write"


# JSON Schemas shared by the field types' value schemas (engine/fields/*.json_schema).
DECIMAL_PATTERN = r"^-?[0-9]+(\.[0-9]+)?$"
DECIMAL_TEXT = {"type": "string", "pattern": DECIMAL_PATTERN, "format": "decimal"}
ID_PATTERN = r"^\s*#?\s*[0-9]{1,19}\s*$"
READ_ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
# An id as parse_id takes it: 12, "12", "#12" or {"id": 12}.
WRITE_ID = {"type": ["integer", "string", "object"], "minimum": 1, "maximum": MAX_ID, "pattern": ID_PATTERN,
            "properties": {"id": READ_ID}, "required": ["id"]}


def id_list_schema(ctx: SchemaContext, max_items: int | None = None, *, text: bool = False) -> dict:
    """Ids (members, departments, records, files): a list of them when read; when written a
    list, or one id, or (with `text`) ids in one text separated by commas."""
    if not ctx.writing:
        schema = {"type": "array", "items": READ_ID, "uniqueItems": True}
    else:
        one = {k: v for k, v in WRITE_ID.items() if not (text and k == "pattern")}
        schema = {**one, "type": ["array", *WRITE_ID["type"]], "items": WRITE_ID}
    if max_items:
        schema["maxItems"] = max_items
    return schema


def with_null(schema: dict) -> dict:
    """`schema` or null: an empty value reads as null, and writing null empties a field."""
    kinds = schema.get("type")
    if isinstance(kinds, str):
        return {**schema, "type": [kinds, "null"]}
    if isinstance(kinds, list):
        return schema if "null" in kinds else {**schema, "type": [*kinds, "null"]}
    if "enum" in schema and "anyOf" not in schema and "const" not in schema:
        return {**schema, "enum": [*schema["enum"], None]} if None not in schema["enum"] else schema
    return {"anyOf": [schema, {"type": "null"}]}


@dataclass(frozen=True)
class WidgetContext:
    """Handed to `FieldType.widget`: the language of labels and the whole app (a relation
    names its target form's title field, a lookup the kind of the field it shows)."""

    lang: str
    app: AppDef

    def text(self, label: Label | None) -> str | None:
        return None if label is None else label.get(self.lang)


@dataclass(frozen=True)
class AssignScope:
    """Where a system-assigned value is allocated (its counter's scope)."""

    app_key: str
    form_key: str
    field_key: str


class FieldType:
    """Base of all field types; a subclass sets the class attributes and overrides hooks."""

    name: ClassVar[str]
    label: ClassVar[Label]
    # JSON Schema properties of the type-specific keys of a field, and which are required.
    config_schema: ClassVar[dict[str, dict]] = {}
    config_required: ClassVar[tuple[str, ...]] = ()
    # Storage: "column" (columns on the form table), "none" (computed at read time),
    # "child_table" (subform) or "link_table" (multiple relation).
    storage: ClassVar[str] = "column"
    can_be_unique: ClassVar[bool] = False
    always_unique: ClassVar[bool] = False   # unique whatever the definition says (serials)
    sortable: ClassVar[bool] = True
    searchable: ClassVar[bool] = False     # included in the quick search across text fields
    operators: ClassVar[frozenset[str]] = frozenset()
    formula_type: ClassVar[str | None] = None   # number text boolean date datetime array
    python_type_name: ClassVar[str] = "value"   # for messages: what the user should give
    can_have_default: ClassVar[bool] = True
    allowed_in_subform: ClassVar[bool] = True
    # Values assigned by the system when a record is created (serial numbers); user
    # input for such a field is ignored on create and refused on update.
    system_assigned: ClassVar[bool] = False
    # Values computed by the engine from other data (formula and rollup fields, see
    # engine/computed); user input for such a field is always refused.
    computed: ClassVar[bool] = False
    # Whether a spreadsheet cell can name a record by this field's value (an import's
    # relation cell matched on it, as a mapping's `match:` asks): one column compared
    # exactly, holding what people write to tell records apart (a name, a phone, a
    # contract number). Never computed values, files, long text or several values.
    can_match: ClassVar[bool] = False

    # Whether the type needs what only the whole app can tell (DerivedType): such a type is
    # bound through the app's FieldTypes (engine/fields/registry.py), never alone.
    needs_derived: ClassVar[bool] = False
    has_subfields: ClassVar[bool] = False   # a subform: its columns are field definitions too
    # How a field path (`customer.level`) treats the field: "relation" and "lookup" are
    # walked through, "subform" gives its columns, "value" ends the path.
    path_kind: ClassVar[str] = "value"
    # "formula" or "rollup" for a field the engine computes (engine/computed), else None.
    computed_kind: ClassVar[str | None] = None
    # The input a form page shows for the type ("text", "date", "relation"...): see `widget`.
    widget_kind: ClassVar[str | None] = None

    def __init__(self, fdef: FieldDef, derived: DerivedType | None = None):
        self.fdef = fdef
        self.key = fdef.key

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.key}>"

    # ---- definition time ------------------------------------------------------------
    def check_definition(self, ctx: DefinitionContext) -> Iterable[Problem]:
        """Semantic checks of this field's config beyond the JSON Schema.

        Yield Problems with `path` under `self.fdef.path` (line/column are filled in by
        the validator from the path).
        """
        return ()

    @classmethod
    def option_problem(cls, path: str, option: str, value: Any) -> Problem | None:
        """The problem of an option whose text the JSON Schema's pattern refused, in the
        type's own words (a date bound that is not YYYY-MM-DD); None: the general one."""
        return None

    # ---- form pages -----------------------------------------------------------------
    def widget(self, ctx: WidgetContext) -> dict[str, Any]:
        """What a form page renders this field's input from, as JSON-able data: what
        every field has (key, label, help, required, default, read-only) and the type's
        own part (`widget_options`). A type without `widget_kind` cannot be shown: it
        raises, so a new type must say how it is shown (tests/runtime/forms checks every
        registered type)."""
        if self.widget_kind is None:
            raise NotImplementedError(f"field type {self.name!r} describes no widget: set its "
                                      "widget_kind (and widget_options) in its class")
        fdef = self.fdef
        read_only = self.computed or self.system_assigned or self.storage == "none"
        return {"key": fdef.key, "kind": self.widget_kind, "type": self.name,
                "label": ctx.text(fdef.label), "help": ctx.text(fdef.description),
                "required": bool(fdef.required) and not read_only, "read_only": read_only,
                "default": _jsonable_default(fdef.default),
                "has_default_formula": fdef.default_formula is not None,
                "conditional": fdef.visible_if is not None,
                "options": self.widget_options(ctx)}

    def widget_options(self, ctx: WidgetContext) -> dict[str, Any]:
        """The type's own part of its widget description (limits, choices...)."""
        return {}

    # ---- storage --------------------------------------------------------------------
    @property
    def can_have_default_formula(self) -> bool:
        """Whether a `default_formula` may fill this field in: where a fixed default may,
        unless a type says more (a member field takes CURRENTUSER())."""
        return self.can_have_default and not self.system_assigned

    @property
    def column_name(self) -> str:
        return self.key

    def sa_type(self) -> sa.types.TypeEngine:
        raise NotImplementedError(f"{type(self).__name__} must define sa_type() or columns()")

    def columns(self) -> list[sa.Column]:
        """The physical columns on the form (or child) table. Empty when not stored there."""
        if self.storage != "column":
            return []
        return [sa.Column(self.column_name, self.sa_type(), nullable=True)]

    def indexed(self) -> bool:
        """Whether a plain (non-unique) index helps filters and sorts on this field."""
        return False

    def to_row(self, value: Any) -> dict[str, Any]:
        """Python value -> {column: db value}."""
        return {self.column_name: value}

    def from_row(self, row: Mapping[str, Any]) -> Any:
        """{column: db value} -> Python value."""
        return row.get(self.column_name)

    # ---- input ----------------------------------------------------------------------
    def is_empty(self, value: Any) -> bool:
        """Whether input means "no value" (stored as NULL), so that `empty` filters
        find it and `required` refuses it."""
        return blank(value) or value == {}

    def clean(self, raw: Any, ctx: ValueContext) -> Any:
        """Turn user input (API JSON or Python) into the stored Python value.

        Raise FieldError(code, **params) with a registered message code when the
        value is wrong. Called only for non-empty input; empty becomes None.
        """
        raise NotImplementedError

    def assign_values(self, conn: sa.Connection, scope: "AssignScope", count: int,
                      ctx: ValueContext) -> list[Any]:
        """For system_assigned types: `count` new values, allocated atomically in `conn`'s
        transaction (one statement per call, not per record)."""
        raise NotImplementedError

    def keep_values(self, conn: sa.Connection, scope: "AssignScope", values: list[Any],
                    ctx: ValueContext) -> None:
        """For system_assigned types: values given by an import are kept; make sure
        assign_values never hands them out again."""

    def references(self, value: Any) -> Reference | None:
        """Ids this value refers to, for a bulk existence check; None if none."""
        return None

    def parse_text(self, text: str, ctx: ValueContext) -> Any:
        """Parse a CSV cell or other text (import, retype conversion)."""
        return self.clean(text.strip(), ctx)

    def parse_cell(self, cell: Any, ctx: ValueContext) -> Any:
        """Parse a spreadsheet cell value (str, int, float, datetime, bool)."""
        if isinstance(cell, str):
            return self.parse_text(cell, ctx)
        return self.clean(cell, ctx)

    # ---- the API contract ---------------------------------------------------------------
    @property
    def accepts_input(self) -> bool:
        """Whether a create or an update may give this field a value (not a computed,
        system-assigned or read-through field)."""
        return self.storage != "none" and not self.system_assigned and not self.computed

    def json_schema(self, ctx: SchemaContext) -> dict:
        """The JSON Schema (2020-12, as OpenAPI 3.1 uses) of a non-empty value of this
        field: as `to_json` gives it (ctx.mode "read") or as `clean` accepts it ("write",
        asked only of types that accept input). Every type must say: the API document
        (runtime/api/openapi.py) is built from these."""
        raise NotImplementedError(f"{type(self).__name__} must define json_schema()")

    # ---- output ---------------------------------------------------------------------
    def to_json(self, value: Any) -> Any:
        """The API representation (JSON-safe)."""
        return value

    def export_value(self, value: Any, ctx: ValueContext) -> Any:
        """A spreadsheet cell value with its type kept (dates as dates, numbers as numbers)."""
        return self.to_json(value)

    def display(self, value: Any, ctx: ValueContext) -> str:
        """Text for people, in ctx.lang."""
        if value is None:
            return ""
        return str(self.to_json(value))

    def formula_value(self, value: Any, ctx: ValueContext) -> Any:
        """A stored value as formulas see it: datetimes in the workspace's time zone,
        and the displayed text where formulas read this field as text."""
        if value is None or type(value) is ErrorValue:
            return value
        if isinstance(value, datetime):
            return value.astimezone(ctx.tz)
        if self.formula_type == "text" and not isinstance(value, str):
            return self.display(value, ctx)
        return value

    def convert_from(self, old: "FieldType", value: Any, ctx: ValueContext) -> Any:
        """Convert a value stored by another field type (a retype). Raise FieldError if it
        cannot be converted; the migration plan counts and shows those.

        What people saw is tried first (an option's label, a number with its unit); when
        that does not fit, the stored value itself (an option's value, where the new field's
        options name it but not its label)."""
        if value is None:
            return None
        try:
            return self.parse_text(old.display(value, ctx), ctx)
        except FieldError as shown_error:
            try:
                return self.clean(old.to_json(value), ctx)
            except FieldError:
                raise shown_error from None

    # ---- query ----------------------------------------------------------------------
    def sort_expression(self, table: sa.Table) -> sa.ColumnElement:
        return table.c[self.column_name]

    def search_clause(self, table: sa.Table, needle: str) -> sa.ColumnElement | None:
        """A clause matching `needle` in this field for quick search, or None."""
        return None

    def filter_clause(self, table: sa.Table, op: str, operand: Any,
                      ctx: ValueContext) -> sa.ColumnElement:
        """SQL for one condition of the filter language on this field."""
        self.check_operator(op)
        return scalar_filter(self, table.c[self.column_name], op, operand, ctx)

    def check_operator(self, op: str) -> None:
        if op not in self.operators:
            raise FieldError("operator_unsupported", op=op, allowed=", ".join(sorted(self.operators)))

    def clean_operand(self, operand: Any, ctx: ValueContext) -> Any:
        return self.clean(operand, ctx)

    def range_bound(self, day: date, ctx: ValueContext) -> Any:
        """The column value at the start of `day`, for date shortcuts (today, this_week...)."""
        return day

    def comparable(self, op: str, value: Any) -> Any:
        """A cleaned operand as the column compares it for `op` (eq ne gt gte lt lte).

        A type whose stored values are rounded (numbers, to their decimal places)
        rounds the operand in the direction that keeps the operator's meaning, and
        answers NO_MATCH for eq/ne when no stored value can equal the operand."""
        return value


def _jsonable_default(value: Any) -> Any:
    """A fixed default as written in the definition (YAML may give a date or a number)."""
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def scalar_filter(ftype: FieldType, column: sa.ColumnElement, op: str, operand: Any,
                  ctx: ValueContext) -> sa.ColumnElement:
    """The filter operators of a field stored in one scalar column."""
    if op == "empty":
        return column.is_(None)
    if op == "not_empty":
        return column.is_not(None)
    if op in ("in", "not_in"):
        if not isinstance(operand, (list, tuple)):
            raise FieldError("operand_needs_list", op=op)
        values = [ftype.comparable("eq", ftype.clean_operand(v, ctx)) for v in operand]
        values = [v for v in values if v is not NO_MATCH]
        if op == "in":
            return column.in_(values) if values else sa.false()
        return sa.or_(column.not_in(values), column.is_(None)) if values else sa.true()
    if op == "between":
        if not isinstance(operand, (list, tuple)) or len(operand) != 2:
            raise FieldError("operand_needs_pair", op=op)
        low, high = (None if v in (None, "") else ftype.comparable(bound_op, ftype.clean_operand(v, ctx))
                     for v, bound_op in zip(operand, ("gte", "lte")))
        parts = []
        if low is not None:
            parts.append(column >= low)
        if high is not None:
            parts.append(column <= high)
        return sa.and_(*parts) if parts else column.is_not(None)
    if op in CLOCK_OPS:
        low, high = date_range(op, operand, ctx)
        return sa.and_(column >= ftype.range_bound(low, ctx), column < ftype.range_bound(high, ctx))
    if operand is None or operand == "":
        raise FieldError("operand_needs_value", op=op)
    value = ftype.comparable(op, ftype.clean_operand(operand, ctx))
    if value is NO_MATCH:   # no stored value can equal the operand
        return sa.false() if op == "eq" else sa.true()
    if op == "eq":
        return column == value
    if op == "ne":
        return sa.or_(column != value, column.is_(None))
    if op == "gt":
        return column > value
    if op == "gte":
        return column >= value
    if op == "lt":
        return column < value
    if op == "lte":
        return column <= value
    if op == "contains":
        return contains_text(column, str(value))
    if op == "starts_with":
        return column.istartswith(str(value), autoescape=True)
    raise FieldError("operator_unsupported", op=op, allowed=", ".join(sorted(ftype.operators)))


def contains_text(column: sa.ColumnElement, needle: str) -> sa.ColumnElement:
    """`column` contains `needle`, ignoring case (the same on SQLite, whose LIKE ignores
    case, and PostgreSQL, where this is ILIKE); % and _ in `needle` are literal."""
    return column.icontains(needle, autoescape=True)


def date_range(op: str, operand: Any, ctx: ValueContext) -> tuple[date, date]:
    """[start, end) dates, in the workspace time zone, of a date shortcut."""
    today = ctx.today()
    if op == "today":
        return today, today + timedelta(days=1)
    if op == "this_week":  # ISO week: Monday first, as Chinese calendars do
        start = today - timedelta(days=today.weekday())
        return start, start + timedelta(days=7)
    if op == "this_month":
        start = today.replace(day=1)
        end = (start + timedelta(days=32)).replace(day=1)
        return start, end
    try:
        days = int(operand)
    except (TypeError, ValueError):
        raise FieldError("operand_needs_days", op=op) from None
    if days < 1 or days > 36500:
        raise FieldError("operand_needs_days", op=op)
    return today - timedelta(days=days - 1), today + timedelta(days=1)
