"""Serial numbers: patterns, allocation in order and in batches, date-part resets,
numbers given back on rollback, imported numbers never handed out again."""
from datetime import datetime, timezone

import pytest
import sqlalchemy as sa

from engine.errors import RecordValidationError
from engine.fields import ValueContext
from engine.storage.system import serial_counters
from runtime.records import Records
from tests.support.fields import CTX, NOW, Lab, L, make, problem_at, refused

TYPES = {"serial"}
CONTRACT = "HT{YYYY}{MM}{DD}-{counter:4}"


def at(text: str) -> datetime:
    """A moment given in Shanghai time, as UTC."""
    local = datetime.fromisoformat(text + "+08:00")
    return local.astimezone(timezone.utc)


def test_pattern_formatting():
    serial = make("serial", pattern=CONTRACT)
    assert serial.format(7, CTX) == "HT20250315-0007"
    assert serial.format(12345, CTX) == "HT20250315-12345"            # grows past its width
    assert make("serial", pattern="{YY}年{MM}月第{counter:3}号").format(5, CTX) == "25年03月第005号"
    late = ValueContext(now=at("2025-03-31T23:59:59"))
    assert make("serial", pattern="{YYYY}{MM}{DD}{counter:1}").format(1, late) == "202503311"


def test_serial_numbers_are_not_typed_in():
    serial = make("serial", pattern=CONTRACT)
    refused(serial, "HT20250315-0001", "serial_read_only", zh=["系统生成"], en=["assigned by the system"])
    assert serial.parse_text(" HT20240101-0042 ", CTX) == "HT20240101-0042"     # imports keep old numbers
    refused(serial, "HT2024-42", "serial_invalid", zh=[CONTRACT], en=[CONTRACT], how="parse_text")


@pytest.mark.parametrize("pattern, fragment", [
    ("HT{YYYY}", "exactly one {counter:N}"),
    ("{counter:3}-{counter:3}", "exactly one {counter:N}, found 2"),
    ("{counter:0}", "from 1 to 12 digits"), ("{counter:13}", "from 1 to 12 digits"), ("{counter}", "{counter:N}"),
    ("{YYYYMM}{counter:4}", "unknown part {YYYYMM}"),
    ("{MM}{DD}-{counter:4}", "{MM} without {YYYY} or {YY} repeats the same numbers every year"),
    ("{YYYY}{DD}-{counter:4}", "{DD} without {MM} repeats the same numbers every month"),
    ("{YYYY}{YYYY}{counter:2}", "only once"), ("{YYYY}{YY}{counter:2}", "only once"),
])
def test_pattern_errors(pattern, fragment):
    problem_at([{"key": "no", "type": "serial", "label": L("编号"), "pattern": pattern}],
               "forms[0].fields[0].pattern", fragment)


def test_other_definition_errors():
    problem_at([{"key": "no", "type": "serial", "label": L("编号")}], "forms[0].fields[0]", "pattern")
    problem_at([{"key": "no", "type": "serial", "label": L("编号"), "pattern": "{counter:4}", "default": "1"}],
               "forms[0].fields[0].default", "cannot have a default")
    problem_at([{"key": "items", "type": "subform", "label": L("明细"), "fields": [
        {"key": "line", "type": "serial", "label": L("行号"), "pattern": "{counter:3}"}]}],
        "forms[0].fields[0].fields[0].type", "cannot be a column of a subform")


FIELDS = [
    {"key": "title", "type": "text", "label": L("标题", "Title")},
    {"key": "no", "type": "serial", "label": L("合同编号", "Contract no."), "pattern": CONTRACT},
    {"key": "month_no", "type": "serial", "label": L("月编号", "Monthly no."), "pattern": "{YYYY}{MM}-{counter:3}"},
    {"key": "plain", "type": "serial", "label": L("序号", "No."), "pattern": "{counter:2}"},
]


def _create(lab, now: datetime, count: int = 1, **values) -> list[dict]:
    with lab.engine.begin() as conn:
        return Records(conn, lab.app, now=now).bulk_create("items", [dict(values) for _ in range(count)])


def test_numbers_in_order_and_in_batches(db, count_statements):
    lab = Lab(db, FIELDS)
    with count_statements(db) as counter:
        batch = _create(lab, NOW, 3)
    allocations = [s for s in counter.statements if "fw_serial_counters" in s]
    assert len(allocations) == 3                  # one per serial field, not one per record
    assert [r["fields"]["no"] for r in batch] == ["HT20250315-0001", "HT20250315-0002", "HT20250315-0003"]
    assert [r["fields"]["plain"] for r in batch] == ["01", "02", "03"]
    assert lab.create(title="第四")["fields"]["no"] == "HT20250315-0004"


def test_a_rolled_back_create_gives_its_numbers_back(db):
    lab = Lab(db, FIELDS)
    _create(lab, NOW)
    with pytest.raises(RuntimeError), db.begin() as conn:
        Records(conn, lab.app, now=NOW).create("items", {"title": "作废"})
        raise RuntimeError("the request failed after the create")
    with pytest.raises(RecordValidationError), db.begin() as conn:
        Records(conn, lab.app, now=NOW).bulk_create("items", [{"title": "好"}, {"title": "x" * 201}])
    assert _create(lab, NOW)[0]["fields"]["no"] == "HT20250315-0002"       # no gap


def test_date_parts_reset_the_counter(db):
    lab = Lab(db, FIELDS)
    march = [r["fields"] for r in _create(lab, at("2025-03-31T23:59:59"), 2)]
    assert [f["no"] for f in march] == ["HT20250331-0001", "HT20250331-0002"]
    assert [f["month_no"] for f in march] == ["202503-001", "202503-002"]
    april = _create(lab, at("2025-04-01T00:00:00"))[0]["fields"]
    assert (april["no"], april["month_no"], april["plain"]) == ("HT20250401-0001", "202504-001", "03")
    second_april_day = _create(lab, at("2025-04-02T09:00:00"))[0]["fields"]
    assert (second_april_day["no"], second_april_day["month_no"]) == ("HT20250402-0001", "202504-002")
    next_year = _create(lab, at("2026-03-31T08:00:00"))[0]["fields"]
    assert (next_year["no"], next_year["month_no"], next_year["plain"]) == ("HT20260331-0001", "202603-001", "05")
    # The day is the workspace's: 23:30 UTC on 2025-04-02 is already the 3rd in Shanghai
    assert _create(lab, datetime(2025, 4, 2, 23, 30, tzinfo=timezone.utc))[0]["fields"]["no"] == "HT20250403-0001"


def test_imported_numbers_are_never_allocated_again(db):
    lab = Lab(db, FIELDS)
    with db.begin() as conn:
        ids, failures = Records(conn, lab.app, now=NOW).create_many(
            "items", [{"title": "旧合同", "no": "HT20250315-0009", "month_no": "202503-050", "plain": "07"},
                      {"title": "去年", "no": "HT20240101-0100"}],
            skip_invalid=False, already_clean=frozenset({"no", "month_no", "plain"}))
    assert not failures
    last_year = lab.get(ids[1])["fields"]        # its other serials were allocated after the kept ones
    assert (last_year["no"], last_year["month_no"], last_year["plain"]) == ("HT20240101-0100", "202503-051", "08")
    fresh = _create(lab, NOW)[0]["fields"]
    assert (fresh["no"], fresh["month_no"], fresh["plain"]) == ("HT20250315-0010", "202503-052", "09")
    with db.connect() as conn:
        counters = dict(conn.execute(sa.select(serial_counters.c.period, serial_counters.c.value)
                                     .where(serial_counters.c.field_key == "no")).all())
    assert counters == {"20250315": 10, "20240101": 100}


def test_serial_numbers_are_read_only_and_searchable(db):
    lab = Lab(db, FIELDS)
    first, second = (r["id"] for r in _create(lab, NOW, 2))
    typed = lab.create(title="手填", no="HT19990101-0001")       # ignored on create
    assert typed["fields"]["no"] == "HT20250315-0003"
    assert lab.refused({"no": "HT20250315-0099"}, record_id=first) == {"no": "read_only"}
    everyone = [first, second, typed["id"]]
    lab.check_filters("no", [("eq", "HT20250315-0002", [second]), ("ne", "HT20250315-0002", [first, typed["id"]]),
                             ("in", ["HT20250315-0001", "HT20250315-0003"], [first, typed["id"]]),
                             ("not_in", ["HT20250315-0001"], [second, typed["id"]]),
                             ("contains", "0315-000", everyone), ("starts_with", "ht2025", everyone),
                             ("empty", None, []), ("not_empty", None, everyone)])
    assert lab.ids(sort="-no") == [typed["id"], second, first]
    with db.connect() as conn:
        found = Records(conn, lab.app).list("items", search="0315-0001").records
    assert [r["id"] for r in found] == [first]
