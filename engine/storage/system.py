"""System tables: apps and their installed versions, the org model, record
history, files, serial counters and archived fields.

These are migrated by Alembic (engine/storage/alembic). Form data lives in one
table per form, built from definitions by `physical.py`, not here.
"""
from __future__ import annotations

import sqlalchemy as sa

from engine.storage.types import JSONValue, RecordId, UTCDateTime

metadata = sa.MetaData(naming_convention={
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
})


def _id():
    return sa.Column("id", RecordId, primary_key=True, autoincrement=True)


def _created():
    return sa.Column("created_at", UTCDateTime(), nullable=False)


apps = sa.Table(
    "fw_apps", metadata, _id(),
    sa.Column("key", sa.String(64), nullable=False, unique=True),
    sa.Column("label", JSONValue, nullable=False),
    sa.Column("current_version", sa.Integer, nullable=False, server_default="0"),
    _created(),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
)

app_versions = sa.Table(
    "fw_app_versions", metadata, _id(),
    sa.Column("app_id", RecordId, sa.ForeignKey("fw_apps.id", ondelete="CASCADE"), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("definition", JSONValue, nullable=False),   # the validated document
    sa.Column("source", sa.Text, nullable=True),          # the YAML/JSON text as given
    sa.Column("checksum", sa.String(64), nullable=False),
    sa.Column("plan", JSONValue, nullable=True),          # the migration plan that installed it
    sa.Column("installed_by", RecordId, nullable=True),
    sa.Column("installed_at", UTCDateTime(), nullable=False),
    sa.UniqueConstraint("app_id", "version", name="uq_fw_app_versions_app_version"),
)

archived_fields = sa.Table(
    "fw_archived_fields", metadata, _id(),
    sa.Column("app_key", sa.String(64), nullable=False),
    sa.Column("form_key", sa.String(64), nullable=False),
    sa.Column("field_key", sa.String(64), nullable=True),   # null when a whole form was archived
    sa.Column("kind", sa.String(16), nullable=False),        # column | table
    sa.Column("physical_name", sa.String(128), nullable=False),  # archived column/table name
    sa.Column("original_name", sa.String(128), nullable=False),
    sa.Column("definition", JSONValue, nullable=False),      # the field/form definition it had
    sa.Column("archived_at", UTCDateTime(), nullable=False),
    sa.Column("purged_at", UTCDateTime(), nullable=True),
    sa.Column("restored_at", UTCDateTime(), nullable=True),
)

users = sa.Table(
    "fw_users", metadata, _id(),
    sa.Column("account", sa.String(64), nullable=False, unique=True),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("email", sa.String(254), nullable=True),
    sa.Column("phone", sa.String(32), nullable=True),
    sa.Column("password_hash", sa.String(255), nullable=True),
    sa.Column("is_active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("is_admin", sa.Boolean, nullable=False, server_default=sa.false()),
    _created(),
    sa.Index("ix_fw_users_name", "name"),
)

departments = sa.Table(
    "fw_departments", metadata, _id(),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("parent_id", RecordId, sa.ForeignKey("fw_departments.id", ondelete="RESTRICT"), nullable=True),
    sa.Column("head_user_id", RecordId, sa.ForeignKey("fw_users.id", ondelete="SET NULL"), nullable=True),
    sa.Column("position", sa.Integer, nullable=False, server_default="0"),
    _created(),
    sa.Index("ix_fw_departments_parent", "parent_id"),
)

roles = sa.Table(
    "fw_roles", metadata, _id(),
    sa.Column("key", sa.String(64), nullable=False, unique=True),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("description", sa.Text, nullable=True),
    _created(),
)

department_members = sa.Table(
    "fw_department_members", metadata,
    sa.Column("department_id", RecordId, sa.ForeignKey("fw_departments.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("user_id", RecordId, sa.ForeignKey("fw_users.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("is_primary", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Index("ix_fw_department_members_user", "user_id"),
)

role_members = sa.Table(
    "fw_role_members", metadata,
    sa.Column("role_id", RecordId, sa.ForeignKey("fw_roles.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("user_id", RecordId, sa.ForeignKey("fw_users.id", ondelete="CASCADE"), primary_key=True),
    sa.Index("ix_fw_role_members_user", "user_id"),
)

record_history = sa.Table(
    "fw_record_history", metadata, _id(),
    sa.Column("app_key", sa.String(64), nullable=False),
    sa.Column("form_key", sa.String(64), nullable=False),
    sa.Column("record_id", RecordId, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("action", sa.String(16), nullable=False),   # create update delete restore
    sa.Column("changes", JSONValue, nullable=False),      # {field: {"from": x, "to": y}}
    sa.Column("user_id", RecordId, nullable=True),
    sa.Column("at", UTCDateTime(), nullable=False),
    sa.Index("ix_fw_record_history_record", "app_key", "form_key", "record_id", "id"),
)

files = sa.Table(
    "fw_files", metadata, _id(),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("content_type", sa.String(127), nullable=False),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("storage_key", sa.String(255), nullable=False),  # path under the file store
    sa.Column("created_by", RecordId, nullable=True),
    _created(),
    sa.Index("ix_fw_files_sha256", "sha256"),
)

serial_counters = sa.Table(
    "fw_serial_counters", metadata, _id(),
    sa.Column("app_key", sa.String(64), nullable=False),
    sa.Column("form_key", sa.String(64), nullable=False),
    sa.Column("field_key", sa.String(64), nullable=False),
    sa.Column("period", sa.String(32), nullable=False),   # "" for a counter that never resets
    sa.Column("value", sa.BigInteger, nullable=False),
    sa.UniqueConstraint("app_key", "form_key", "field_key", "period", name="uq_fw_serial_counters_scope"),
)

# ---- web sign-in (issue #9): API keys, sign-in throttling, session epochs ----------
api_keys = sa.Table(
    "fw_api_keys", metadata, _id(),
    sa.Column("user_id", RecordId, sa.ForeignKey("fw_users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("prefix", sa.String(16), nullable=False, unique=True),   # shown when listing
    sa.Column("secret_sha256", sa.String(64), nullable=False, unique=True),
    _created(),
    sa.Column("last_used_at", UTCDateTime(), nullable=True),
    sa.Column("revoked_at", UTCDateTime(), nullable=True),
    sa.Index("ix_fw_api_keys_user", "user_id"),
)

sign_in_failures = sa.Table(
    "fw_sign_in_failures", metadata,
    sa.Column("key", sa.String(200), primary_key=True),      # "account:li.lei" or "ip:10.0.0.7"
    sa.Column("failures", sa.Integer, nullable=False),
    sa.Column("first_failed_at", UTCDateTime(), nullable=False),
    sa.Column("locked_until", UTCDateTime(), nullable=True),
)

session_epochs = sa.Table(
    "fw_session_epochs", metadata,
    sa.Column("user_id", RecordId, sa.ForeignKey("fw_users.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("epoch", sa.Integer, nullable=False),
)

# ---- record pages (runtime/views, runtime/comments): saved views and comments ----------------

saved_views = sa.Table(
    "fw_saved_views", metadata, _id(),
    sa.Column("user_id", RecordId, sa.ForeignKey("fw_users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("app_key", sa.String(64), nullable=False),
    sa.Column("form_key", sa.String(64), nullable=False),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("spec", JSONValue, nullable=False),     # {"filter", "columns", "sort", "page_size"}
    sa.Column("is_default", sa.Boolean, nullable=False, server_default=sa.false()),
    _created(),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.UniqueConstraint("user_id", "app_key", "form_key", "name", name="uq_fw_saved_views_name"),
)

record_comments = sa.Table(
    "fw_record_comments", metadata, _id(),
    sa.Column("app_key", sa.String(64), nullable=False),
    sa.Column("form_key", sa.String(64), nullable=False),
    sa.Column("record_id", RecordId, nullable=False),
    sa.Column("author_id", RecordId, nullable=True),  # None: the system
    sa.Column("body", sa.Text, nullable=False),       # plain text; pages escape it
    sa.Column("mentions", JSONValue, nullable=False),  # [user id, ...] of the @accounts in body
    _created(),
    sa.Column("edited_at", UTCDateTime(), nullable=True),
    sa.Column("deleted_at", UTCDateTime(), nullable=True),   # deleted by its author
    sa.Index("ix_fw_record_comments_record", "app_key", "form_key", "record_id", "id"),
)
