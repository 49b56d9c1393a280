"""The Alembic revisions build exactly the system tables that engine/storage/system.py
declares: a table or column added to one and not the other fails here, on both
back ends, before it can reach a user's database."""
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from engine.storage import system
from engine.storage.system_upgrade import VERSION_TABLE, alembic_config


def _differences(conn):
    context = MigrationContext.configure(conn, opts={
        "version_table": VERSION_TABLE, "compare_type": False,
        "include_name": lambda name, kind, parent: kind != "table" or name.startswith("fw_")})
    return [diff for diff in compare_metadata(context, system.metadata)
            if not (isinstance(diff, tuple) and diff[0] == "remove_table" and diff[1].name == VERSION_TABLE)]


def test_migrated_tables_match_the_declared_system_tables(db):
    with db.connect() as conn:
        assert _differences(conn) == []


def test_the_revisions_form_one_line(db):
    """One head: revisions added by parallel work are chained, never left as branches."""
    assert len(ScriptDirectory.from_config(alembic_config()).get_heads()) == 1
