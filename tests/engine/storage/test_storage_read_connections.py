"""read_connection (engine/storage/db.py): work that only reads never makes writers wait.

On SQLite a reader begins a deferred transaction (no write lock; WAL gives it a
snapshot), writers keep BEGIN IMMEDIATE. SQLite's busy timeout is cut to 0.2 s here, so
a regression (a reader holding the write lock again) fails at once with "database is
locked" instead of waiting 30 s; nothing here measures time.
"""
from __future__ import annotations

import csv
import json
import re

import pytest
import sqlalchemy as sa

from engine.errors import ReadOnlyTransactionError
from engine.storage import db as storage_db
from engine.storage.db import make_engine, read_connection
from engine.storage.system_upgrade import upgrade_system
from runtime.apps import load_installed
from runtime.records import Records, write_transaction
from tests.support.paths import DOCS
from tests.support.records_app import install_shop
from web.cli import main

DOC = (DOCS / "records.md").read_text(encoding="utf-8")


@pytest.fixture
def shop(db_url, monkeypatch):
    """Make an engine (short SQLite busy timeout) on a database with the shop app and
    one customer; yields (engine factory, app, customer)."""
    monkeypatch.setattr(storage_db, "SQLITE_BUSY_TIMEOUT", 0.2)
    engines = []

    def make(**kwargs):
        engines.append(make_engine(db_url, **kwargs))
        return engines[-1]
    engine = make()
    upgrade_system(engine)
    app = install_shop(engine)
    first = write_transaction(engine, lambda conn: Records(conn, app).create("customers", {"name": "甲"}))
    yield make, app, first
    for engine in engines:
        engine.dispose()


def names(conn, app) -> set[str]:
    return {r["fields"]["name"] for r in Records(conn, app).list("customers").records}


def test_a_reader_left_open_does_not_hold_up_writers(shop):
    make, app, _ = shop
    engine = make()
    with read_connection(engine) as reader:
        assert names(reader, app) == {"甲"}
        # Before read_connection, the reader held BEGIN IMMEDIATE: this failed (SQLite).
        write_transaction(engine, lambda conn: Records(conn, app).create("customers", {"name": "乙"}))
        if engine.dialect.name == "sqlite":
            assert names(reader, app) == {"甲"}          # its snapshot, until it ends
        else:
            assert names(reader, app) == {"甲", "乙"}    # READ COMMITTED, as on any connection
    with read_connection(engine) as reader:
        assert names(reader, app) == {"甲", "乙"}


def test_a_write_through_a_read_connection_is_refused_clearly(shop):
    make, app, first = shop
    engine = make(pool_size=1, max_overflow=0)     # one pooled connection: readers and writers share it
    with read_connection(engine) as reader:
        pooled = reader.connection.dbapi_connection
        with pytest.raises(ReadOnlyTransactionError) as refused:
            Records(reader, app).create("customers", {"name": "乙"})
        assert re.match(r"a read-only connection was asked to write \(INSERT INTO \S+", str(refused.value))
        assert "do the write in a transaction of its own (write_transaction(engine, work)" \
            in str(refused.value)
        reader.rollback()
        # The next transaction of the same connection is read-only too.
        with pytest.raises(ReadOnlyTransactionError, match="read-only connection was asked to write"):
            Records(reader, app).delete("customers", [first["id"]])
        reader.rollback()
        assert names(reader, app) == {"甲"}

    def write(conn):
        assert conn.connection.dbapi_connection is pooled    # the same connection writes again
        return Records(conn, app).create("customers", {"name": "乙"})
    write_transaction(engine, write)
    with read_connection(engine) as reader:
        assert names(reader, app) == {"甲", "乙"}
        with pytest.raises(ReadOnlyTransactionError):
            reader.execute(sa.text("CREATE TABLE fw_scratch (id INTEGER)"))


def test_postgresql_reads_in_read_only_transactions_of_unchanged_isolation(shop):
    make, _, _ = shop
    engine = make(pool_size=1, max_overflow=0)
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    with read_connection(engine) as reader:
        assert reader.execute(sa.text("SHOW transaction_read_only")).scalar() == "on"
        assert reader.execute(sa.text("SHOW transaction_isolation")).scalar() == "read committed"
    with engine.begin() as writer:      # the pooled connection is handed back writable
        assert writer.execute(sa.text("SHOW transaction_read_only")).scalar() == "off"


def test_read_commands_run_while_a_writer_holds_the_database(shop, db_url, tmp_path, capsys):
    """SQLite: the CLI's read commands (records, export, eval, status, org listings,
    and upgrade_system, which every command runs first) read without the write lock,
    so a writer at work does not stop them; they see what is committed."""
    make, app, first = shop
    engine = make()
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite only: PostgreSQL readers never waited for writers")

    def cli(*args):
        code = main(["--database-url", db_url, *args])
        out = capsys.readouterr()
        assert code == 0, out.err
        return out.out
    cli("departments", "add", "销售部")
    cli("roles", "add", "sales", "--name", "销售")
    cli("users", "add", "li", "--name", "李雷", "--department", "销售部", "--role", "sales")
    with engine.begin() as writer:     # BEGIN IMMEDIATE, uncommitted until the end
        Records(writer, app).create("customers", {"name": "乙"})
        listed = json.loads(cli("records", "list", "shop", "customers"))
        assert [r["fields"]["name"] for r in listed["records"]] == ["甲"]
        assert json.loads(cli("records", "get", "shop", "customers", str(first["id"])))["id"] == first["id"]
        assert json.loads(cli("records", "history", "shop", "customers", str(first["id"])))
        assert json.loads(cli("eval", "name", "--app", "shop", "--form", "customers",
                              "--record", str(first["id"]))) == {"text": "甲"}
        assert re.search(r"customers\s+\S+\s+1 records", cli("status"))
        cli("archived", "shop")
        assert "1 user(s)" in cli("users", "list")
        assert "销售部" in cli("users", "show", "li")
        assert "li" in cli("departments", "members", "list", "销售部")
        assert "销售部" in cli("departments", "tree")
        assert "1 role(s)" in cli("roles", "list")
        assert "1 user(s) have sales" in cli("roles", "members", "sales")
        assert "exported 1 records" in cli("export", "shop", "customers", "-o", str(tmp_path / "c.csv"))
    with open(tmp_path / "c.csv", encoding="utf-8-sig", newline="") as fh:
        assert [row[0] for row in csv.reader(fh)][1:] == ["甲"]
    with read_connection(engine) as reader:
        assert names(reader, app) == {"甲", "乙"}


def test_docs_say_what_sqlite_does():
    section = DOC[DOC.index("### Concurrent writes"):DOC.index("## The filter language")]
    sqlite = section[section.index("- **SQLite.**"):section.index("```python")]
    assert "`read_connection(engine)`" in sqlite and "`ReadOnlyTransactionError`" in sqlite
    assert f"up to {storage_db.SQLITE_BUSY_TIMEOUT:.0f} s" in sqlite
