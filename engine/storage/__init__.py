"""Values at rest, below any app: column types that behave the same on SQLite and
PostgreSQL (types), the system tables (system) and their upgrades (system_upgrade,
with Alembic), connections and transactions (db), serial-number counters (serials)
and the file store (files). An app's own tables are in engine/query/tables.py.
"""
