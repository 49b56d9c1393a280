import sqlalchemy as sa

from engine.storage import system


def test_system_tables_exist_after_migration(db):
    names = set(sa.inspect(db).get_table_names())
    assert {t.name for t in system.metadata.sorted_tables} <= names


def test_migration_is_idempotent(db):
    from alembic.script import ScriptDirectory
    from engine.storage.system_upgrade import alembic_config, upgrade_system
    upgrade_system(db)
    with db.connect() as conn:     # at the newest revision, whichever that is
        assert conn.execute(sa.text("SELECT version_num FROM fw_alembic_version")).scalars().all() == \
            ScriptDirectory.from_config(alembic_config()).get_heads()


def test_postgresql_connections_run_without_jit_and_keep_their_url_options(pg_schema):
    """JIT compiling costs more than Formwork's short queries (engine/storage/db.py);
    options the URL gives (the test schema's search_path) are kept, and a URL that sets
    jit itself wins."""
    from engine.storage.db import make_engine
    schema = pg_schema.rsplit("%3D", 1)[1]
    for url, jit in ((pg_schema, "off"), (pg_schema + "%20-c%20jit%3Don", "on")):
        engine = make_engine(url)
        try:
            with engine.connect() as conn:
                assert conn.execute(sa.text("SHOW jit")).scalar() == jit
                assert conn.execute(sa.text("SHOW search_path")).scalar() == schema
        finally:
            engine.dispose()
