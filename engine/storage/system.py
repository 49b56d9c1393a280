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

# ---- jobs and the outbox (runtime/jobs, issue #10) ---------------------------------------
# A job is written in the transaction of the change that causes it; the row is the source
# of truth (RQ only carries its id). Status: queued -> running -> done, or back to queued
# with run_at pushed (a retry), or failed (attempts used up, the error kept), or dead
# (its kind is registered nowhere).
jobs = sa.Table(
    "fw_jobs", metadata, _id(),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("payload", JSONValue, nullable=True),
    sa.Column("key", sa.String(255), nullable=False, unique=True),    # idempotency key
    sa.Column("status", sa.String(8), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("max_attempts", sa.Integer, nullable=False),
    sa.Column("run_at", UTCDateTime(), nullable=False),
    sa.Column("actor_id", RecordId, nullable=True),                   # None: the system
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("lease_owner", sa.String(128), nullable=True),
    sa.Column("lease_until", UTCDateTime(), nullable=True),
    sa.Column("dispatched_at", UTCDateTime(), nullable=True),         # handed to a runner at
    _created(),
    sa.Column("started_at", UTCDateTime(), nullable=True),
    sa.Column("finished_at", UTCDateTime(), nullable=True),
    sa.Index("ix_fw_jobs_status_run_at", "status", "run_at"),
)

# Cron schedules: each fires its job kind at every occurrence, claimed by moving
# next_run_at on with a compare-and-set, so two schedulers fire an occurrence once.
job_schedules = sa.Table(
    "fw_job_schedules", metadata, _id(),
    sa.Column("name", sa.String(128), nullable=False, unique=True),
    sa.Column("cron", sa.String(100), nullable=False),
    sa.Column("timezone", sa.String(64), nullable=False),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("payload", JSONValue, nullable=True),
    sa.Column("enabled", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("next_run_at", UTCDateTime(), nullable=False),
    sa.Column("last_run_at", UTCDateTime(), nullable=True),
    _created(),
)

# ---- automations, notifications, outgoing webhooks (runtime/automations, runtime/notifications,
# runtime/webhooks; issue #10) ---------------------------------------------------------------
# One row per run of an automation: what triggered it, its inputs (the job's payload, so a
# run can be run again), each action's result or error, and how it ended.
automation_runs = sa.Table(
    "fw_automation_runs", metadata, _id(),
    sa.Column("app_key", sa.String(64), nullable=False),
    sa.Column("automation_key", sa.String(64), nullable=False),
    sa.Column("trigger", sa.String(32), nullable=False),
    sa.Column("record_id", RecordId, nullable=True),
    sa.Column("inputs", JSONValue, nullable=True),
    sa.Column("actions", JSONValue, nullable=True),          # [{kind, status, result | error}]
    sa.Column("status", sa.String(16), nullable=False),      # done skipped failed stopped
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("depth", sa.Integer, nullable=False, server_default="0"),
    sa.Column("duration_ms", sa.Float, nullable=True),
    sa.Column("job_id", RecordId, nullable=True),
    sa.Column("rerun_of", RecordId, nullable=True),
    _created(),
    sa.Index("ix_fw_automation_runs_app_status", "app_key", "status"),
)

# A date trigger's claims: one row per (automation, record, due date), so a record's due
# date fires its automation once, whichever scheduler claims it first.
automation_date_fires = sa.Table(
    "fw_automation_date_fires", metadata, _id(),
    sa.Column("app_key", sa.String(64), nullable=False),
    sa.Column("automation_key", sa.String(64), nullable=False),
    sa.Column("record_id", RecordId, nullable=False),
    sa.Column("due_on", sa.String(32), nullable=False),      # the date (ISO) the trigger fired for
    sa.Column("fired_at", UTCDateTime(), nullable=False),
    sa.UniqueConstraint("app_key", "automation_key", "record_id", "due_on", name="uq_fw_automation_date_fires"),
)

# Round-robin rotations (assign_round_robin): the next turn per scope, moved with one
# UPDATE so two workers never pick the same turn.
round_robin = sa.Table(
    "fw_round_robin", metadata, _id(),
    sa.Column("scope", sa.String(255), nullable=False, unique=True),
    sa.Column("turn", sa.BigInteger, nullable=False, server_default="0"),
)

# In-app notifications and each user's channels per kind of notification.
notifications = sa.Table(
    "fw_notifications", metadata, _id(),
    sa.Column("user_id", RecordId, sa.ForeignKey("fw_users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("body", sa.Text, nullable=True),
    sa.Column("link", sa.String(500), nullable=True),
    sa.Column("key", sa.String(255), nullable=True, unique=True),    # a retried send writes once
    _created(),
    sa.Column("read_at", UTCDateTime(), nullable=True),
    sa.Index("ix_fw_notifications_user_read", "user_id", "read_at"),
)

notification_preferences = sa.Table(
    "fw_notification_preferences", metadata,
    sa.Column("user_id", RecordId, sa.ForeignKey("fw_users.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("kind", sa.String(64), primary_key=True),      # "*": every kind without its own row
    sa.Column("channels", JSONValue, nullable=False),        # ["in_app", "email", ...]
)

# Every attempt to deliver an outgoing webhook.
webhook_deliveries = sa.Table(
    "fw_webhook_deliveries", metadata, _id(),
    sa.Column("webhook", sa.String(128), nullable=False),
    sa.Column("delivery_id", sa.String(64), nullable=False),
    sa.Column("attempt", sa.Integer, nullable=False),
    sa.Column("url", sa.String(1000), nullable=False),
    sa.Column("status_code", sa.Integer, nullable=True),
    sa.Column("response_excerpt", sa.Text, nullable=True),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("duration_ms", sa.Float, nullable=True),
    _created(),
    sa.Index("ix_fw_webhook_deliveries_delivery", "delivery_id"),
)
