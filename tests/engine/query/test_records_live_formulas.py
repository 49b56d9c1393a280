"""Formula fields that read the clock (TODAY(), NOW()) are computed when read, in SQL, with
the reader's clock: get, list, filters, sorts, page cursors, counts and export see today's
value, not the one stored when the record was written; on SQLite and PostgreSQL."""
import csv
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
import sqlalchemy as sa

from engine.compiled.app import compiled
from engine.fields.base import DEFAULT_TZ
from engine.formula import ErrorValue
from engine.validation import load_definition
from engine.validation.validate import check_text
from runtime.apps import apply_app
from runtime.import_export import export_records
from runtime.recompute import recompute_app
from runtime.records import Records
from runtime.seed import seed_app
from runtime.seed.crm_referral import ANCHOR, _at
from tests.support.paths import FLAGSHIP_APP as FLAGSHIP

DEFINITION = """
format_version: 1
app: {key: care, label: {zh: 客户关怀, en: Care}}
forms:
  - key: customers
    label: {zh: 客户, en: Customers}
    title_field: name
    fields:
      - {key: name, type: text, label: {zh: 名称, en: Name}, required: true}
      - {key: last_contact, type: date, label: {zh: 最近联系, en: Last contact}}
      - {key: cycle, type: number, precision: 0, label: {zh: 周期, en: Cycle}}
      - {key: days_since, type: formula, label: {zh: 距今天数, en: Days since},
         formula: 'DAYS(TODAY(), last_contact)', precision: 0}
      - {key: quarter_days, type: formula, label: {zh: 四分之一, en: Quarter}, result: number,
         formula: 'DAYS(TODAY(), last_contact) * 0.25', precision: 1}
      - {key: cycle_day, type: formula, label: {zh: 周期内天数, en: Day of cycle},
         formula: 'MOD(DAYS(TODAY(), last_contact), cycle)', precision: 0}
      - {key: overdue, type: formula, label: {zh: 超期, en: Overdue}, formula: 'days_since > 30'}
      - {key: care_note, type: formula, label: {zh: 提示, en: Note}, result: text,
         formula: 'IF(ISBLANK(last_contact), "", IF(days_since > 30, "call", ""))'}
      - {key: next_call, type: formula, label: {zh: 下次联系, en: Next call}, result: date,
         formula: 'DATEDELTA(TODAY(), 7)'}
      - {key: checked_at, type: formula, label: {zh: 查看时间, en: Checked at}, result: datetime,
         formula: 'NOW()'}
      - {key: weeks_since, type: formula, label: {zh: 周数, en: Weeks}, result: number,
         formula: 'DAYS(TODAY(), last_contact) / 7', precision: 1}
      - {key: years_text, type: formula, label: {zh: 年份, en: Years}, result: text,
         formula: 'TEXT(last_contact, "yyyy") & "-" & TEXT(TODAY(), "yyyy")'}
  - key: visits
    label: {zh: 拜访, en: Visits}
    fields:
      - {key: title, type: text, label: {zh: 标题, en: Title}}
      - {key: customer, type: relation, target: customers, label: {zh: 客户, en: Customer}}
      - {key: customer_days, type: formula, label: {zh: 客户未联系天数, en: Customer days},
         formula: 'DAYS(TODAY(), customer.last_contact)', precision: 0}
      - {key: customer_overdue, type: formula, label: {zh: 客户超期, en: Customer overdue},
         formula: 'customer.days_since > 30'}
      - {key: customer_since, type: lookup, label: {zh: 客户距今天数, en: Customer days since},
         relation: customer, field: days_since}
"""

D = datetime(2025, 9, 15, 2, 30, tzinfo=timezone.utc)          # 10:30 in Shanghai
TODAY = date(2025, 9, 15)
LATER = D + timedelta(days=3)


@pytest.fixture
def care(db):
    app, problems = check_text(DEFINITION, "care.yaml")
    assert not problems, "\n".join(p.format() for p in problems)
    apply_app(db, app)
    return db, app


def make(conn, app, now=D):
    r = Records(conn, app, now=now)
    ids = {}
    for name, back, cycle in (("近", 10, 7), ("远", 40, 0), ("无", None, 7), ("中", 25, 7)):
        ids[name] = r.create("customers", {"name": name, "cycle": cycle, "last_contact":
                                           None if back is None else (now.astimezone(DEFAULT_TZ).date()
                                                                       - timedelta(days=back))})["id"]
    return ids


def stored(conn, app, form_key: str) -> dict[int, dict]:
    """What the columns hold, read past the record service."""
    form = app.require_form(form_key)
    table = compiled(app).tables.form_table(form_key)
    types = {f.key: compiled(app).types.of(f) for f in form.fields if compiled(app).types.of(f).storage == "column"}
    return {m["id"]: {k: t.from_row(m) for k, t in types.items()}
            for m in conn.execute(sa.select(table)).mappings()}


def test_which_fields_are_computed_when_read(care):
    _, app = care
    tables = compiled(app).tables
    customers = compiled(app).live_plan("customers")
    assert [f.key for f in customers.live] == ["days_since", "quarter_days", "cycle_day", "overdue",
                                               "care_note", "next_call", "checked_at"]
    assert customers.stored == {
        "weeks_since": "its formula cannot run in the database: it gives a number SQLite cannot "
                       "compute exactly in SQL (a quotient, or a value past 18 digits)",
        "years_text": "its formula cannot run in the database: it uses TEXT, which runs only "
                      "outside the database (at 1:1)"}
    visits = compiled(app).live_plan("visits")
    assert [f.key for f in visits.live] == ["customer_days"]
    assert visits.stored == {"customer_overdue": "it reads customer.days_since, whose value changes with "
                                                 "the date and is read here from its stored column"}


def test_a_read_at_the_write_clock_gives_the_stored_values(care):
    """The SQL gives the Python values the stored columns give: Decimals at the field's
    places (rounded half away from zero), dates, date-times, booleans, empty for empty
    text, and NULL with the error code for an error."""
    db, app = care
    with db.begin() as conn:
        ids = make(conn, app)
        r = Records(conn, app, now=D)
        live = {rec["id"]: rec["fields"] for rec in r.list("customers", page_size=50).records}
        kept = stored(conn, app, "customers")
        assert live == kept
        near, far, none = live[ids["近"]], live[ids["远"]], live[ids["无"]]
        assert near["days_since"] == Decimal("10") and str(near["days_since"]) == "10"
        assert near["quarter_days"] == Decimal("2.5") and str(near["quarter_days"]) == "2.5"
        assert far["cycle_day"] == ErrorValue("#DIV/0!")
        assert none["days_since"] is None and none["cycle_day"] == 0     # MOD(empty, 7), as stored
        assert none["care_note"] is None and far["care_note"] == "call" and near["care_note"] is None
        assert near["next_call"] == TODAY + timedelta(days=7)
        assert near["checked_at"] == D and (near["overdue"], far["overdue"]) == (False, True)
        assert r.get("customers", ids["远"])["fields"] == kept[ids["远"]]


def test_reads_see_the_readers_day(care):
    db, app = care
    with db.begin() as conn:
        ids = make(conn, app)
        kept = stored(conn, app, "customers")
        r = Records(conn, app, now=LATER)
        near = r.get("customers", ids["近"])["fields"]
        assert kept[ids["近"]]["days_since"] == 10 and near["days_since"] == Decimal(13)
        assert near["quarter_days"] == Decimal("3.3")              # 3.25, half away from zero
        assert near["cycle_day"] == Decimal(6)                     # 13 mod 7
        assert near["next_call"] == date(2025, 9, 25) and near["checked_at"] == LATER
        assert r.get("customers", ids["远"])["fields"]["cycle_day"] == ErrorValue("#DIV/0!")
        middle = r.get("customers", ids["中"])["fields"]           # 25 days when written, 28 now
        assert (middle["days_since"], middle["overdue"], middle["care_note"]) == (Decimal(28), False, None)

        page = r.list("customers", filter={"field": "days_since", "op": "gt", "value": 12},
                      sort=[{"field": "days_since", "dir": "asc"}])
        assert [rec["fields"]["days_since"] for rec in page.records] == [13, 28, 43]
        assert page.count.value == 3
        assert r.count("customers", filter={"field": "days_since", "op": "gt", "value": 40}).value == 1
        assert r.count("customers", filter={"field": "days_since", "op": "between", "value": [13, 28]}).value == 2
        assert r.count("customers", filter={"field": "cycle_day", "op": "empty"}).value == 1   # the error
        assert r.count("customers", filter={"field": "next_call", "op": "eq",
                                            "value": "2025-09-25"}).value == 4
        assert r.count("customers", filter={"field": "care_note", "op": "eq", "value": "call"}).value == 1
        assert r.count("customers", filter={"formula": "AND(days_since >= 13, quarter_days < 4)"}).value == 1
        assert r.count("customers", search="call").value == 1


def test_the_day_moves_a_record_across_a_filter(care):
    db, app = care
    with db.begin() as conn:
        ids = make(conn, app)
        overdue = {"field": "overdue", "op": "eq", "value": True}
        assert [x["id"] for x in Records(conn, app, now=D).list("customers", filter=overdue).records] == [ids["远"]]
        later = Records(conn, app, now=D + timedelta(days=6))     # 中: 25 -> 31 days
        assert {x["id"] for x in later.list("customers", filter=overdue).records} == {ids["远"], ids["中"]}
        assert later.get("customers", ids["中"])["fields"]["care_note"] == "call"


def test_keyset_pages_follow_the_live_order(care):
    db, app = care
    with db.begin() as conn:
        make(conn, app)
        r = Records(conn, app, now=LATER)
        seen, cursor = [], None
        while True:
            page = r.list("customers", sort="-quarter_days", page_size=1, cursor=cursor,
                          filter={"field": "quarter_days", "op": "not_empty"})
            seen += [rec["fields"]["quarter_days"] for rec in page.records]
            cursor = page.next_cursor
            if not cursor:
                break
        assert seen == [Decimal("10.8"), Decimal("7.0"), Decimal("3.3"), Decimal("0.0")]   # empty * 0.25 is 0


def test_through_a_relation_and_what_stays_stored(care):
    db, app = care
    with db.begin() as conn:
        ids = make(conn, app)
        visit = Records(conn, app, now=D).create("visits", {"title": "v", "customer": ids["中"]})
        later = Records(conn, app, now=D + timedelta(days=6))
        fields = later.get("visits", visit["id"])["fields"]
        assert fields["customer_days"] == Decimal(31)              # live, through the relation
        assert fields["customer_overdue"] is False                 # stored: read through a relation
        assert fields["customer_since"] == Decimal(31)             # a lookup shows the live value
        assert later.list("visits", fields=["title", "customer_since"]).records[0]["fields"] == \
            {"title": "v", "customer_since": Decimal(31)}
        assert later.count("visits", filter={"field": "customer_days", "op": "gt", "value": 30}).value == 1
        assert later.get("customers", ids["中"])["fields"]["weeks_since"] == Decimal("3.6")   # 25 / 7: stored
        # A filter formula reading it through a relation reads the stored 25 (documented).
        assert later.count("visits", filter={"formula": "customer.days_since > 30"}).value == 0
    # `recompute --volatile` refreshes what stays stored.
    recompute_app(db, "care", volatile=True, now=D + timedelta(days=6))
    with db.connect() as conn:
        later = Records(conn, app, now=D + timedelta(days=6))
        assert later.get("visits", visit["id"])["fields"]["customer_overdue"] is True
        assert later.get("customers", ids["中"])["fields"]["weeks_since"] == Decimal("4.4")   # 31 / 7
        assert stored(conn, app, "customers")[ids["中"]]["years_text"] == "2025-2025"


def test_a_page_stays_one_statement(care, count_statements):
    db, app = care
    with db.begin() as conn:
        make(conn, app)
        r = Records(conn, app, now=LATER)
        with count_statements(db) as counter:
            page = r.list("customers", filter={"field": "days_since", "op": "gt", "value": 12},
                          sort="-days_since", page_size=1)
        assert counter.count == 2                                  # the page and its count
        with count_statements(db) as counter:
            r.list("customers", sort="-days_since", page_size=1, cursor=page.next_cursor)
            r.get("customers", page.records[0]["id"])
        assert counter.count == 2
        r.create("visits", {"title": "v", "customer": page.records[0]["id"]})
        with count_statements(db) as counter:                      # live lookups joined in
            visits = r.list("visits", sort="-customer_days", with_count=False)
        assert counter.count == 1 and visits.records[0]["fields"]["customer_since"] == 43


def test_export_shows_todays_value(care, tmp_path):
    db, app = care
    now = datetime.now(timezone.utc)
    with db.begin() as conn:
        ids = make(conn, app, now=now - timedelta(days=3))         # written three days ago
        assert stored(conn, app, "customers")[ids["近"]]["days_since"] == 10
    out = tmp_path / "customers.csv"
    export_records(db, "care", "customers", out, sort="name", lang="en")
    rows = list(csv.DictReader(out.open(encoding="utf-8-sig")))
    by_name = {row["Name"]: row for row in rows}
    today = datetime.now(DEFAULT_TZ).date()
    expected = (today - ((now - timedelta(days=3)).astimezone(DEFAULT_TZ).date() - timedelta(days=10))).days
    assert by_name["近"]["Days since"] == str(expected)            # 13, unless midnight passed meanwhile
    assert by_name["远"]["Day of cycle"] == "#DIV/0!"


def test_the_flagships_days_since_follow_up_after_a_seed(db):
    """The seed writes as of its anchor day; read three days later, every customer's
    "days since the last follow-up" is three more, in get, list, filter and sort."""
    app = load_definition(FLAGSHIP)
    apply_app(db, app)
    seed_app(db, "crm_referral", 30, seed=3)
    later = _at(ANCHOR) + timedelta(days=3)
    with db.connect() as conn:
        kept = {rid: row["days_since_followup"] for rid, row in stored(conn, app, "customers").items()}
        followed = {rid: days for rid, days in kept.items() if days is not None}
        assert followed and len(followed) < len(kept)          # some customers were never followed up
        r = Records(conn, app, now=later)
        page = r.list("customers", page_size=500, sort="-days_since_followup",
                      filter={"field": "days_since_followup", "op": "not_empty"})
        assert {x["id"]: x["fields"]["days_since_followup"] for x in page.records} == \
            {rid: days + 3 for rid, days in followed.items()}
        values = [x["fields"]["days_since_followup"] for x in page.records]
        assert values == sorted(values, reverse=True)
        some = next(iter(followed))
        assert r.get("customers", some)["fields"]["days_since_followup"] == followed[some] + 3
        limit = sorted(followed.values())[len(followed) // 2]
        over = r.count("customers", filter={"field": "days_since_followup", "op": "gt", "value": limit})
        assert over.value == sum(days + 3 > limit for days in followed.values())
        assert r.count("customers", filter={"field": "days_since_followup", "op": "empty"}).value == \
            len(kept) - len(followed)
