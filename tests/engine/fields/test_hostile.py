"""Hostile values against every field type: SQL metacharacters, unicode, 1 MB
strings, NUL, lone surrogates, huge and odd numbers, wrong shapes. Each is either
accepted (and then stored, read back and filtered on both databases) or refused
with a coded error that has zh and en text; never another exception."""
from decimal import Decimal

import pytest

from engine.errors import FieldError
from engine.query.filters import FilterError
from tests.support.fields import CTX, CTX_EN, WORKING_CONFIGS as CONFIGS, Lab, L, make, messages

TYPES: set[str] = set()   # every type is swept here; the family modules own the types

BIG = "长" * 1_000_000
NASTY = [
    "'; DROP TABLE lab__items; --", '" OR 1=1 --', "%", "_", "\\", "名字🙂\u200b𠀀", "\u202e反转\u202c", "ｆｕｌｌ",
    "\x00", "a\ud800b", BIG, "9" * 5000, " ", "null", "NaN", "-0", "1e309", str(2 ** 63), 2 ** 63, -(2 ** 63) - 1,
    10 ** 400, 1e308, float("nan"), float("-inf"), True, [], [None], [[["深"]]], {}, {"id": None},
    {"province": ["x"], "lng": {}, "lat": []}, Decimal("NaN"), Decimal("-0"), b"bytes",
]
SAMPLE = [v for v in NASTY if not (isinstance(v, str) and len(v) > 5000)]   # the DB filter sweep


def _attempt(call, *args):
    """Run one field-type call: its value, or the FieldError it raised (checked to be
    a registered code with complete zh and en text)."""
    try:
        return call(*args)
    except FieldError as error:
        messages(error.code, error.params)
        return error


@pytest.mark.parametrize("type_name", sorted(CONFIGS))
def test_every_type_answers_hostile_input_with_a_value_or_a_coded_error(type_name):
    ftype = make(type_name, **CONFIGS[type_name])
    for raw in NASTY:
        for ctx in (CTX, CTX_EN):
            value = _attempt(ftype.clean, raw, ctx)
            if not isinstance(value, FieldError):
                ftype.to_json(value), ftype.display(value, ctx), ftype.export_value(value, ctx)
                ftype.to_row(value)
        _attempt(ftype.parse_cell, raw, CTX)
        if isinstance(raw, str):
            _attempt(ftype.parse_text, raw, CTX)
        if ftype.operators and ftype.storage == "column":
            _attempt(ftype.clean_operand, raw, CTX)


# One field of every type (keys f_text, f_number...; the relation is `ref`, read by a lookup).
FIELDS = [{"key": "title", "type": "text", "label": L("标题")}] + [
    {"key": "ref" if name == "relation" else f"f_{name}", "type": name, "label": L(name), **config}
    for name, config in CONFIGS.items()]


def test_hostile_values_through_the_database(db):
    lab = Lab(db, FIELDS)
    types = {f["key"]: make(f["type"], **{k: v for k, v in f.items() if k not in ("key", "type", "label")})
             for f in FIELDS}
    writable = [key for key, ftype in types.items()
                if not (ftype.system_assigned or ftype.storage == "none" or getattr(ftype, "computed", False))]
    assert len(writable) == len(CONFIGS) - 4 + 1   # all but serial, lookup, formula, rollup; and title
    written = {}
    with db.begin() as conn:
        records = lab.records(conn)
        for raw in NASTY:
            rows = [{key: raw} for key in writable]
            ids, refused = records.create_many("items", rows, skip_invalid=True)
            accepted = [key for index, key in enumerate(writable) if index not in refused]
            for issues in refused.values():
                for issue in issues:
                    messages(issue.code, issue.params)
            written.update({rid: (key, raw) for rid, key in zip(ids, accepted)})
    assert written, "no hostile value was accepted at all"
    with db.connect() as conn:
        page = lab.records(conn).list("items", page_size=500, with_count=False)
        assert {r["id"] for r in page.records} == set(written)
        for record in page.records:
            key, raw = written[record["id"]]
            assert (record["fields"][key] in (None, [])) == types[key].is_empty(raw), (key, raw)
            assert record["fields"]["f_serial"].startswith("NO2025-")


@pytest.mark.parametrize("op", ["eq", "ne", "in", "contains", "starts_with", "gt", "between"])
def test_hostile_filters_are_refused_or_answered(db, op):
    lab = Lab(db, FIELDS)
    lab.create(title="一条")
    with db.connect() as conn:
        records = lab.records(conn)
        for fdef in FIELDS:
            if op not in make(fdef["type"], **CONFIGS.get(fdef["type"], {})).operators:
                continue
            for raw in SAMPLE:
                operand = [raw, raw] if op == "between" else ([raw] if op == "in" else raw)
                try:
                    records.list("items", filter={"field": fdef["key"], "op": op, "value": operand},
                                 with_count=False)
                except FilterError as error:
                    assert str(error).startswith("filter.value: "), str(error)
