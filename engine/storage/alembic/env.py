"""Alembic environment for Formwork's system tables.

Run through `engine.storage.system_upgrade.upgrade_system(engine)`, which passes the
connection in `config.attributes["connection"]`.
"""
from alembic import context

from engine.dialect import Dialect
from engine.storage.system import metadata
from engine.storage.system_upgrade import VERSION_TABLE

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run system migrations through engine.storage.system_upgrade.upgrade_system()")

context.configure(
    connection=connection,
    target_metadata=metadata,
    version_table=VERSION_TABLE,
    render_as_batch=Dialect.of(connection).alters_by_copy,
    # Form tables are managed by Formwork's own planner, not by Alembic.
    include_name=lambda name, type_, parent: type_ != "table" or name.startswith("fw_"),
)
with context.begin_transaction():
    context.run_migrations()
