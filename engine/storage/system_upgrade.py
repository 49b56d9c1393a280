"""Bring the system tables up to date with Alembic."""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from engine.storage.db import read_connection

ALEMBIC_DIR = Path(__file__).parent / "alembic"
VERSION_TABLE = "fw_alembic_version"


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(ALEMBIC_DIR))
    return cfg


def upgrade_system(engine: Engine, revision: str = "head") -> None:
    """Create or upgrade the system tables (idempotent). Every CLI command starts with
    it, so when they are already at head it only reads: on SQLite a write transaction
    would wait for any writer at work (an import) and make the next ones wait for it."""
    cfg = alembic_config()
    if revision == "head" and _at_head(engine, cfg):
        return
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def _at_head(engine: Engine, cfg: Config) -> bool:
    with read_connection(engine) as conn:
        current = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE}).get_current_heads()
    return set(current) == set(ScriptDirectory.from_config(cfg).get_heads())
