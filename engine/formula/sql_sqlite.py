"""SQLite's share of the formula back end: Python functions registered on every SQLite
connection (storage/db.py calls `register_functions`), and the rows SQL cannot compute
exactly computed by the formula engine itself.

SQLite has no decimal numbers, no time zones and case rules for ASCII only, so:

    fw_casefold(text) fw_upper(text) fw_lower(text) fw_trim(text)
        Python's casefold/upper/lower and TRIM, for texts that are not plain ASCII
    fw_local_time(utc_text, zone)
        a stored UTC instant as 'YYYY-MM-DD HH:MM:SS.ffffff' wall-clock time in `zone`
    fw_eval_value(formula, spec, zone, now, field values...)
    fw_eval_error(...)
        the value and error code of a part of a formula, computed by the compiled
        evaluator, for the rows whose numbers SQLite cannot hold exactly (a product past
        64 bits, a quotient): see sql_numbers.py. Both are called with the same
        arguments for a row; the second is answered from the first's work.

A formula is passed as text (a bound parameter), parsed and compiled once per text.
"""
from __future__ import annotations

import json
import logging
import math
from datetime import date, datetime, timezone
from decimal import Context, Decimal
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from engine.formula import compile_formula, parse
from engine.formula.diagnostics import FormulaSyntaxError
from engine.formula.functions.text import _trim
from engine.formula.nodes import FieldRef, Node
from engine.formula.sql_values import NotTranslatable, SqlValue
from engine.formula.unparse import unparse
from engine.formula.values import EvalContext, ErrorValue, date_to_serial, to_text

log = logging.getLogger(__name__)

_WIDE = Context(prec=400, Emax=999_999, Emin=-999_999)
_INT64 = 2 ** 63
_MAX_ARGUMENTS = 120          # SQLite's default limit on a function's arguments is 127
_WALL_FORMAT = "%Y-%m-%d %H:%M:%S.%f"


def register_functions(dbapi_connection, _record=None) -> None:
    """Register the formula functions on a new SQLite connection (a `connect` listener)."""
    dbapi_connection.create_function("fw_casefold", 1, _text_function(str.casefold), deterministic=True)
    dbapi_connection.create_function("fw_upper", 1, _text_function(str.upper), deterministic=True)
    dbapi_connection.create_function("fw_lower", 1, _text_function(str.lower), deterministic=True)
    dbapi_connection.create_function("fw_trim", 1, _text_function(_trim), deterministic=True)
    dbapi_connection.create_function("fw_local_time", 2, local_time, deterministic=True)
    # SQLAlchemy 2.1 registers FLOOR as math.floor, which raises on NULL (a division by
    # zero in SQLite gives NULL); SQL's FLOOR(NULL) is NULL.
    dbapi_connection.create_function("floor", 1, _floor, deterministic=True)
    evaluations = _Evaluations()
    dbapi_connection.create_function("fw_eval_value", -1, evaluations.value, deterministic=True)
    dbapi_connection.create_function("fw_eval_error", -1, evaluations.error, deterministic=True)


def _floor(value: Any) -> Any:
    return None if value is None else math.floor(value)


def _text_function(change):
    def apply(value: Any) -> Any:
        return change(value) if isinstance(value, str) else value
    return apply


def local_time(utc_text: Any, zone: str) -> str | None:
    if utc_text is None:
        return None
    moment = _utc(utc_text)
    return moment.astimezone(_zone(zone)).strftime(_WALL_FORMAT)


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _utc(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment


# ---- the translator's side: a node computed by Python -----------------------------------------

def python_fallback(t, node: Node, native: SqlValue, exact_text: bool = False) -> tuple[Any, Any]:
    """(value, error) SQL calling Python for `node` of translator `t`."""
    text = unparse(node)
    try:
        parse(text)
    except FormulaSyntaxError:
        raise t.refuse(node, "is nested too deeply to run in SQLite") from None
    paths = list(dict.fromkeys(n.path for n in node.walk() if isinstance(n, FieldRef)))
    fields, arguments = [], []
    for path in paths:
        field = t.fields[path]
        fields.append([".".join(path), field.kind, field.scale, field.error is not None])
        arguments.append(field.value)
        if field.error is not None:
            arguments.append(field.error)
    if len(arguments) + 4 > _MAX_ARGUMENTS:
        raise NotTranslatable(f"reads more than {_MAX_ARGUMENTS - 4} fields in one part, too many "
                              "for SQLite", node.start)
    spec = json.dumps({"kind": native.kind, "scale": native.scale if native.kind == "number" else 0,
                       "exact_text": exact_text, "fields": fields}, separators=(",", ":"))
    lit = t.lit
    head = [lit.text(text), lit.text(spec), lit.text(t.ctx.tz.key), lit.text(t.ctx.now.isoformat())]
    return sa.func.fw_eval_value(*head, *arguments), sa.func.fw_eval_error(*head, *arguments)


# ---- the connection's side: computing it ------------------------------------------------------

class _Evaluations:
    """fw_eval_value / fw_eval_error of one connection (used by one thread at a time)."""

    def __init__(self):
        self.last_args: tuple | None = None
        self.last: tuple[Any, Any] = (None, None)
        self.contexts: dict[tuple[str, str], EvalContext] = {}

    def value(self, *args: Any) -> Any:
        return self.evaluate(args)[0]

    def error(self, *args: Any) -> Any:
        return self.evaluate(args)[1]

    def evaluate(self, args: tuple) -> tuple[Any, Any]:
        if args != self.last_args:
            try:
                self.last = self._compute(args)
            except Exception:      # a defect must not break the query: the row shows #VALUE!
                log.exception("formula part %r could not be computed for SQLite", args[:1])
                self.last = (None, "#VALUE!")
            self.last_args = args
        return self.last

    def _compute(self, args: tuple) -> tuple[Any, Any]:
        text, spec_text, zone, now, *raw = args
        spec = _spec(spec_text)
        ctx = self.contexts.get((zone, now))
        if ctx is None:
            ctx = self.contexts[(zone, now)] = EvalContext(tz=_zone(zone), now=datetime.fromisoformat(now))
        inputs = _inputs(spec["fields"], raw, ctx.tz)
        result = compile_formula(parse(text))(inputs, ctx)
        return _encode(result, spec, ctx.tz)


@lru_cache(maxsize=512)
def _spec(text: str) -> dict:
    return json.loads(text)


def _inputs(fields: list, raw: list, zone: ZoneInfo) -> dict[str, Any]:
    inputs, position = {}, 0
    for dotted, kind, scale, has_error in fields:
        value = _DECODE[kind](raw[position], scale, zone) if raw[position] is not None else None
        position += 1
        if has_error:
            if raw[position]:
                value = ErrorValue(raw[position])
            position += 1
        inputs[dotted] = value
    return inputs


_DECODE = {
    "number": lambda raw, scale, zone: Decimal(int(raw)).scaleb(-scale, _WIDE),
    "text": lambda raw, scale, zone: str(raw),
    "boolean": lambda raw, scale, zone: bool(raw),
    "date": lambda raw, scale, zone: date.fromisoformat(raw),
    "datetime": lambda raw, scale, zone: _utc(raw).astimezone(zone),
}


def _encode(result: Any, spec: dict, zone: ZoneInfo) -> tuple[Any, Any]:
    """A formula value as the SQL of the node's kind (a number at its scale, or a REAL
    when it does not fit one: the next node that needs it exactly asks again)."""
    if type(result) is ErrorValue:
        return None, result.code
    if result is None:
        return None, None
    kind = spec["kind"]
    if kind == "number":
        if isinstance(result, (date, datetime)):
            result = date_to_serial(result)
        if spec["exact_text"]:
            return str(result), None
        scaled = Decimal(result).scaleb(spec["scale"], _WIDE)
        if scaled == scaled.to_integral_value() and abs(scaled) < _INT64:
            return int(scaled), None
        return float(scaled), None
    if kind == "text":
        return to_text(result), None
    if kind == "boolean":
        return int(bool(result)), None
    if kind == "date":
        return (result.date() if isinstance(result, datetime) else result).isoformat(), None
    if kind == "datetime":
        return result.astimezone(timezone.utc).replace(tzinfo=None).strftime(_WALL_FORMAT), None
    raise AssertionError(f"a {kind} node computed by Python")
