import sqlalchemy as sa

from engine.storage import system


def test_system_tables_exist_after_migration(db):
    names = set(sa.inspect(db).get_table_names())
    assert {t.name for t in system.metadata.sorted_tables} <= names


def test_migration_is_idempotent(db):
    from engine.storage.migrate import upgrade_system
    upgrade_system(db)
    with db.connect() as conn:
        assert conn.execute(sa.text("SELECT version_num FROM fw_alembic_version")).scalar() == "0001"
