"""Serial numbers (流水号): allocated by the system when a record is created, from a
pattern of literal text, date parts and one counter:

    pattern: "HT{YYYY}{MM}{DD}-{counter:4}"   ->  HT20250131-0001, HT20250131-0002 ...

Date parts: YYYY YY MM DD (in the workspace time zone). The counter restarts when
the smallest date part in the pattern changes (each day, month or year; never when
the pattern has no date part). It grows past its width rather than failing.

Numbers are allocated in the transaction that creates the records, so a rolled-back
create gives its numbers back: there are no gaps and never a duplicate. Serial
numbers kept by an import move the counter past them.
"""
from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Iterable

import sqlalchemy as sa

from engine.definition.model import Label
from engine.errors import FieldError, Problem
from engine.fields.base import (
    TEXT_OPS,
    AssignScope,
    DefinitionContext,
    FieldType,
    SchemaContext,
    ValueContext,
    WidgetContext,
    contains_text,
)
from engine.fields.registry import register
from engine.fields.text import check_text_content, require_text
from engine.i18n import register_messages
from engine.storage.serials import advance, allocate
from engine.suggest import did_you_mean

register_messages({
    "serial_read_only": {"zh": "流水号由系统生成，不能填写", "en": "Serial numbers are assigned by the system"},
    "serial_invalid": {"zh": "“{value}”不符合流水号格式 {pattern}", "en": "'{value}' does not match the serial pattern {pattern}"},
})

_PART = re.compile(r"\{([^{}]*)\}")
DATE_PARTS = {"YYYY": "%Y", "YY": "%y", "MM": "%m", "DD": "%d"}
_PERIOD_BY_PART = [("DD", "%Y%m%d"), ("MM", "%Y%m"), ("YYYY", "%Y"), ("YY", "%Y")]
_PART_REGEX = {"YYYY": r"(?P<YYYY>\d{4})", "YY": r"(?P<YY>\d{2})", "MM": r"(?P<MM>\d{2})",
               "DD": r"(?P<DD>\d{2})"}
# A day part repeats every month, a month part every year, unless the larger parts are
# there too: (parts needed, as written in a message, how often it would repeat).
_NEEDS = {"DD": ({"MM"}, "{MM}", "month"), "MM": ({"YYYY", "YY"}, "{YYYY} or {YY}", "year")}


@register
class SerialField(FieldType):
    name = "serial"
    label = Label("流水号", "Serial number")
    config_schema = {"pattern": {"type": "string", "minLength": 1, "maxLength": 60}}
    config_required = ("pattern",)
    can_be_unique = True
    always_unique = True
    can_match = True
    system_assigned = True
    can_have_default = False
    allowed_in_subform = False   # numbers are allocated per record, not per subform row
    searchable = True
    operators = TEXT_OPS
    formula_type = "text"
    widget_kind = "serial"   # read-only: assigned when the record is saved

    def __init__(self, fdef):
        super().__init__(fdef)
        self.pattern = fdef.option("pattern") or "{counter:4}"
        parts = _PART.findall(self.pattern)
        self.width = next((int(p.split(":")[1]) for p in parts
                           if p.startswith("counter:") and p.split(":")[1].isdigit()), 4)
        self.period_format = next((fmt for part, fmt in _PERIOD_BY_PART if part in parts), "")

    def check_definition(self, ctx: DefinitionContext) -> Iterable[Problem]:
        counters = 0
        for part in _PART.findall(self.pattern):
            if part.startswith("counter"):
                counters += 1
                m = re.fullmatch(r"counter:(\d{1,2})", part)
                if not m or not 1 <= int(m.group(1)) <= 12:
                    yield Problem(f"{self.fdef.path}.pattern", f"{{{part}}} must be {{counter:N}} with N "
                                  "from 1 to 12 digits", code="bad_pattern")
            elif part not in DATE_PARTS:
                yield Problem(f"{self.fdef.path}.pattern", f"unknown part {{{part}}} in the serial pattern; "
                              f"use YYYY, YY, MM, DD or counter:N", code="bad_pattern",
                              suggestion=did_you_mean(part, list(DATE_PARTS) + ["counter:4"]))
        if counters != 1:
            yield Problem(f"{self.fdef.path}.pattern", f"a serial pattern needs exactly one {{counter:N}}, "
                          f"found {counters}", code="bad_pattern")
        parts = set(_PART.findall(self.pattern))
        for part, (needed, spelled, period) in _NEEDS.items():
            if part in parts and not parts & needed:
                yield Problem(f"{self.fdef.path}.pattern", f"{{{part}}} without {spelled} repeats the same "
                              f"numbers every {period}; add {spelled} to the pattern", code="bad_pattern")
        if len(parts & {"YYYY", "YY"}) > 1 or len(_PART.findall(self.pattern)) != len(parts):
            yield Problem(f"{self.fdef.path}.pattern", "each part may appear only once in a serial pattern",
                          code="bad_pattern")

    def sa_type(self):
        return sa.String(80)

    def widget_options(self, ctx: WidgetContext) -> dict[str, Any]:
        return {"pattern": self.pattern}

    def format(self, number: int, ctx: ValueContext) -> str:
        before, after = self._around_counter(ctx.current_time().astimezone(ctx.tz))
        return f"{before}{str(number).zfill(self.width)}{after}"

    def _around_counter(self, local: datetime) -> tuple[str, str]:
        """The pattern's text before and after the counter, date parts filled in for
        `local`: worked out once per batch, not once per number."""
        def fill(m: re.Match) -> str:
            name = m.group(1)
            return local.strftime(DATE_PARTS[name]) if name in DATE_PARTS else m.group(0)
        counter = next((m for m in _PART.finditer(self.pattern) if m.group(1).startswith("counter")), None)
        if counter is None:   # an invalid pattern (check_definition reports it): number at the end
            return _PART.sub(fill, self.pattern), ""
        return (_PART.sub(fill, self.pattern[:counter.start()]), _PART.sub(fill, self.pattern[counter.end():]))

    def assign_values(self, conn: sa.Connection, scope: AssignScope, count: int,
                      ctx: ValueContext) -> list[Any]:
        local = ctx.current_time().astimezone(ctx.tz)
        period = local.strftime(self.period_format) if self.period_format else ""
        numbers = allocate(conn, scope.app_key, scope.form_key, scope.field_key, period, count)
        before, after = self._around_counter(local)
        return [f"{before}{str(n).zfill(self.width)}{after}" for n in numbers]

    def keep_values(self, conn: sa.Connection, scope: AssignScope, values: list[Any],
                    ctx: ValueContext) -> None:
        """Imported serial numbers are kept: move each period's counter past them so that
        the numbers allocated later never repeat one (one statement for the batch)."""
        highest: dict[str, int] = {}
        for value in values:
            m = self._shape().fullmatch(str(value))
            if m is None:
                continue
            period = self._period_of(m, ctx)
            highest[period] = max(highest.get(period, 0), int(m.group("counter")))
        if highest:
            advance(conn, scope.app_key, scope.form_key, scope.field_key, highest)

    def _period_of(self, match: re.Match, ctx: ValueContext) -> str:
        if not self.period_format:
            return ""
        parts = match.groupdict()
        year = parts.get("YYYY") or str(ctx.current_time().astimezone(ctx.tz).year // 100) + parts["YY"]
        return {"%Y": year, "%Y%m": year + (parts.get("MM") or ""),
                "%Y%m%d": year + (parts.get("MM") or "") + (parts.get("DD") or "")}[self.period_format]

    def clean(self, raw: Any, ctx: ValueContext) -> Any:
        raise FieldError("serial_read_only")

    def json_schema(self, ctx: SchemaContext) -> dict:
        assigned = (f"新建记录时按“{self.pattern}”自动编号" if ctx.lang == "zh"
                    else f"assigned when the record is created, as {self.pattern}")
        return {"type": "string", "maxLength": 100, "description": assigned}

    def _shape(self) -> re.Pattern:
        """A regular expression matching the numbers of this pattern, with a group per part."""
        cached = self.__dict__.get("_shape_regex")
        if cached is None:
            regex, last = "", 0
            for m in _PART.finditer(self.pattern):
                regex += re.escape(self.pattern[last:m.start()])
                name = m.group(1)
                regex += _PART_REGEX.get(name) or (r"(?P<counter>\d{1,18})" if name.startswith("counter")
                                                   else re.escape(m.group(0)))
                last = m.end()
            cached = self.__dict__["_shape_regex"] = re.compile(regex + re.escape(self.pattern[last:]))
        return cached

    def parse_text(self, text: str, ctx: ValueContext) -> Any:
        """Imports keep the serial numbers of historic records when they fit the pattern."""
        text = text.strip()
        if not self._shape().fullmatch(text):
            raise FieldError("serial_invalid", value=text[:60], pattern=self.pattern)
        return text

    def clean_operand(self, operand: Any, ctx: ValueContext) -> Any:
        return check_text_content(require_text(operand)).strip()

    def search_clause(self, table, needle):
        return contains_text(table.c[self.column_name], needle)
