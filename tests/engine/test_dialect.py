"""engine/dialect.py: each fact of a Dialect is what its database really does.

Every fact is checked against the database it describes (the `db_url` fixture gives
SQLite and PostgreSQL), so a fact written down wrong fails here, not in the code that
branches on it. SQLite's busy timeout is cut to 0.2 s, so the one test that meets a
held write lock fails at once instead of waiting 30 s; nothing here measures time.
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql, sqlite

from engine.dialect import DIALECTS, POSTGRESQL, SQLITE, Dialect, UnsupportedDatabase
from engine.storage import db as storage_db
from engine.storage.db import make_engine, read_connection
from engine.storage.types import ExactDecimal, UTCDateTime
from tests.conftest import StatementCounter

metadata = sa.MetaData()
things = sa.Table(
    "dialect_things", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("amount", ExactDecimal(2)),
    sa.Column("n", sa.Integer, nullable=False, server_default="0"),
    sa.Column("day", sa.Date),
    sa.Column("at", UTCDateTime),
    sa.Index("ix_dialect_things_n", "n"),
)


@pytest.fixture
def engine(db_url, monkeypatch):
    """An engine (0.2 s SQLite busy timeout) with the `dialect_things` table and two rows."""
    monkeypatch.setattr(storage_db, "SQLITE_BUSY_TIMEOUT", 0.2)
    engine = make_engine(db_url)
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(things.insert(), [{"id": 1, "n": 1}, {"id": 2, "n": 2}])
    yield engine
    engine.dispose()


def succeeds(engine: sa.Engine, sql: str, params: dict | None = None) -> bool:
    """Whether the database runs `sql` (in a transaction rolled back afterwards)."""
    with engine.connect() as conn:
        try:
            conn.execute(sa.text(sql), params or {})
        except sa.exc.DBAPIError:
            return False
        finally:
            conn.rollback()
    return True


# ---- of() --------------------------------------------------------------------------------------

def test_of_a_name_url_engine_connection_sqlalchemy_dialect_and_compiler(db_url):
    expected = SQLITE if db_url.startswith("sqlite") else POSTGRESQL
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            compiler = sa.select(sa.literal(1)).compile(dialect=conn.dialect)
            sources = [expected.name, sa.make_url(db_url), engine, conn, conn.dialect, compiler, expected]
            assert [Dialect.of(source) for source in sources] == [expected] * len(sources)
            assert all(Dialect.of(source) is expected for source in sources)
    finally:
        engine.dispose()


def test_of_refuses_another_database_saying_which_ones_formwork_runs_on():
    for source in ("mysql", sa.make_url("mysql+pymysql://u@h/db"), mysql.dialect()):
        with pytest.raises(UnsupportedDatabase) as refused:
            Dialect.of(source)
        assert str(refused.value) == (
            "Formwork runs on PostgreSQL or SQLite, not 'mysql': set DATABASE_URL (or "
            "--database-url) to postgresql://user@host/dbname or sqlite:///path/to/formwork.db")
    with pytest.raises(UnsupportedDatabase, match="not 'oracle'"):
        make_engine("oracle://scott@host/orcl")


def test_of_refuses_what_is_no_database_by_type():
    for source in (None, 3, object()):
        with pytest.raises(TypeError, match="Dialect.of takes a connection, engine, compiler"):
            Dialect.of(source)


def test_comparing_a_dialect_with_text_is_a_type_error():
    with pytest.raises(TypeError, match="compared with the text 'sqlite': ask for a fact"):
        SQLITE == "sqlite"      # noqa: B015
    with pytest.raises(TypeError):
        "postgresql" == POSTGRESQL      # noqa: B015
    with pytest.raises(TypeError):
        POSTGRESQL != "sqlite"      # noqa: B015
    with pytest.raises(TypeError):
        "sqlite" in DIALECTS      # noqa: B015
    assert SQLITE == Dialect.of("sqlite") and SQLITE != POSTGRESQL
    assert {SQLITE: 1, POSTGRESQL: 2}[Dialect.of("postgresql")] == 2
    assert SQLITE != 0 and repr(SQLITE) == "Dialect(sqlite)"


def test_a_dialect_is_frozen():
    with pytest.raises(AttributeError):
        SQLITE.row_locks = True


# ---- each fact, as the database behaves ------------------------------------------------------

def test_row_locks(engine):
    """With row locks a second writer is kept off the locked row only; without, the
    first write transaction holds the whole database."""
    dialect = Dialect.of(engine)
    with engine.connect() as first, engine.connect() as second:
        first.begin()
        if dialect.row_locks:
            first.execute(sa.select(things.c.id).where(things.c.id == 1).with_for_update())
            with pytest.raises(sa.exc.OperationalError, match="could not obtain lock"):
                second.execute(sa.select(things.c.id).where(things.c.id == 1).with_for_update(nowait=True))
            second.rollback()
            assert second.execute(sa.select(things.c.id).where(things.c.id == 2)
                                  .with_for_update(nowait=True)).scalar_one() == 2
        else:
            first.execute(things.update().where(things.c.id == 1).values(n=10))
            compiled = str(sa.select(things.c.id).with_for_update().compile(dialect=engine.dialect))
            assert "FOR UPDATE" not in compiled
            with pytest.raises(sa.exc.OperationalError, match="database is locked"):
                second.execute(things.update().where(things.c.id == 2).values(n=20))
        first.rollback()
        second.rollback()


def test_advisory_locks(engine):
    dialect = Dialect.of(engine)
    assert succeeds(engine, "SELECT pg_try_advisory_xact_lock(42)") is dialect.advisory_locks
    if dialect.advisory_locks:
        with engine.connect() as first, engine.connect() as second:
            first.execute(sa.text("SELECT pg_advisory_xact_lock(42)"))
            assert second.execute(sa.text("SELECT pg_try_advisory_xact_lock(42)")).scalar() is False
            first.rollback()
            assert second.execute(sa.text("SELECT pg_try_advisory_xact_lock(42)")).scalar() is True


def test_scaled_numbers(engine):
    """Without an exact decimal type (SQLite's NUMERIC is a float) numbers are stored
    as scaled integers (ExactDecimal)."""
    with engine.connect() as conn:
        tenths = conn.execute(sa.text("SELECT CAST('0.1' AS NUMERIC) + CAST('0.2' AS NUMERIC)")).scalar()
    assert (tenths == Decimal("0.3")) is not Dialect.of(engine).scaled_numbers
    with engine.begin() as conn:
        conn.execute(things.update().where(things.c.id == 1).values(amount=Decimal("12.34")))
        raw = conn.exec_driver_sql("SELECT amount FROM dialect_things WHERE id = 1").scalar()
        assert conn.execute(sa.select(things.c.amount).where(things.c.id == 1)).scalar() == Decimal("12.34")
    assert raw == (1234 if Dialect.of(engine).scaled_numbers else Decimal("12.34"))
    assert type(raw) is (int if Dialect.of(engine).scaled_numbers else Decimal)


def test_ordered_returning(engine):
    """An INSERT of many rows returning them in the rows' order is one statement only
    where the database can promise that order (else SQLAlchemy sends one per row)."""
    rows = [{"id": 10 + i, "n": i} for i in range(5)]
    with StatementCounter(engine) as counted, engine.begin() as conn:
        ids = conn.execute(things.insert().returning(things.c.id, sort_by_parameter_order=True), rows).scalars()
        assert list(ids) == [10, 11, 12, 13, 14]
    assert (counted.count == 1) is Dialect.of(engine).ordered_returning
    assert counted.count in (1, len(rows))


def test_nulls_sort_smallest(engine):
    with engine.begin() as conn:
        conn.execute(things.update().where(things.c.id == 2).values(amount=Decimal(1)))
        first = conn.execute(sa.select(things.c.amount).order_by(things.c.amount.asc()).limit(1)).scalar()
    assert (first is None) is Dialect.of(engine).nulls_sort_smallest


def test_array_parameters(engine):
    dialect = Dialect.of(engine)
    assert succeeds(engine, "SELECT :ids", {"ids": [1, 2]}) is dialect.array_parameters
    if dialect.array_parameters:
        with engine.connect() as conn:
            found = conn.execute(sa.text("SELECT id FROM dialect_things WHERE id = ANY(CAST(:ids AS BIGINT[]))"),
                                 {"ids": [2, 3]}).scalars()
            assert list(found) == [2]


def test_zoned_datetimes_and_dates_as_text(engine):
    moment = datetime(2024, 3, 1, 12, 30, tzinfo=timezone.utc)
    dialect = Dialect.of(engine)
    with engine.begin() as conn:
        conn.execute(things.update().where(things.c.id == 1).values(at=moment, day=date(2024, 3, 1)))
        at, day = conn.exec_driver_sql("SELECT at, day FROM dialect_things WHERE id = 1").one()
        assert conn.execute(sa.select(things.c.at, things.c.day).where(things.c.id == 1)).one() \
            == (moment, date(2024, 3, 1))
    assert (isinstance(at, datetime) and at.tzinfo is not None) is dialect.zoned_datetimes
    assert (day == "2024-03-01") is dialect.dates_as_text
    assert (day == date(2024, 3, 1)) is not dialect.dates_as_text


def test_typed_literals(engine):
    """Where literals are typed, casting one decides how it computes (1 as NUMERIC
    divides exactly); elsewhere a value keeps its own type whatever the cast says."""
    with engine.connect() as conn:
        quarter = conn.execute(sa.text("SELECT CAST(1 AS NUMERIC) / 4")).scalar()
        assert conn.execute(sa.text("SELECT 1 / 4")).scalar() == 0
    assert (quarter == Decimal("0.25")) is Dialect.of(engine).typed_literals
    assert (quarter == 0) is not Dialect.of(engine).typed_literals


def test_python_functions(engine):
    assert succeeds(engine, "SELECT fw_upper('straße')") is Dialect.of(engine).python_functions
    if Dialect.of(engine).python_functions:
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT fw_upper('straße')")).scalar() == "STRASSE"


def test_renames_indexes(engine):
    assert succeeds(engine, "ALTER INDEX ix_dialect_things_n RENAME TO ix_dialect_things_m") \
        is Dialect.of(engine).renames_indexes


def test_alters_by_copy(engine):
    """Only where a column cannot be changed in place is the table copied to change it."""
    assert succeeds(engine, "ALTER TABLE dialect_things ALTER COLUMN n DROP NOT NULL") \
        is not Dialect.of(engine).alters_by_copy
    assert succeeds(engine, "ALTER TABLE dialect_things ADD COLUMN added INTEGER")


def test_row_estimates(engine):
    dialect = Dialect.of(engine)
    assert succeeds(engine, "EXPLAIN (FORMAT JSON) SELECT id FROM dialect_things") is dialect.row_estimates
    if dialect.row_estimates:
        with engine.connect() as conn:
            plan = conn.exec_driver_sql("EXPLAIN (FORMAT JSON) SELECT id FROM dialect_things").scalar()
        assert isinstance(plan[0]["Plan"]["Plan Rows"], int)


def test_read_only_options(engine):
    """The options begin a READ ONLY transaction on PostgreSQL; SQLite has none to give
    (read_connection's transactions are made read-only by db.py's BEGIN handler)."""
    dialect = Dialect.of(engine)
    if dialect is SQLITE:
        assert dict(dialect.read_only_options) == {}
        with read_connection(engine) as reader:
            assert reader.exec_driver_sql("PRAGMA query_only").scalar() == 1
        return
    with engine.connect() as conn:
        reader = conn.execution_options(**dialect.read_only_options)
        assert reader.exec_driver_sql("SHOW transaction_read_only").scalar() == "on"
        reader.rollback()
        assert conn.execution_options(postgresql_readonly=False) \
            .exec_driver_sql("SHOW transaction_read_only").scalar() == "off"


def test_insert_upserts_with_the_databases_own_insert(engine):
    dialect = Dialect.of(engine)
    statement = dialect.insert(things)
    assert isinstance(statement, postgresql.Insert if dialect is POSTGRESQL else sqlite.Insert)
    with engine.begin() as conn:
        for n in (5, 6):
            upsert = dialect.insert(things).values(id=1, n=n)
            conn.execute(upsert.on_conflict_do_update(index_elements=["id"], set_={"n": upsert.excluded.n}))
        conn.execute(dialect.insert(things).values(id=2, n=99).on_conflict_do_nothing())
        assert conn.execute(sa.select(things.c.n).order_by(things.c.id)).scalars().all() == [6, 2]
