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

# ---- workflows (runtime/workflow): one row per instance, per task, per logged action ----
workflow_instances = sa.Table(
    "fw_workflow_instances", metadata, _id(),
    sa.Column("app_key", sa.String(64), nullable=False),
    sa.Column("form_key", sa.String(64), nullable=False),
    sa.Column("record_id", RecordId, nullable=False),
    sa.Column("workflow_key", sa.String(64), nullable=False),
    sa.Column("app_version", sa.Integer, nullable=False),     # the definition version it runs on
    sa.Column("status", sa.String(16), nullable=False),       # running approved rejected withdrawn ended
    sa.Column("current_nodes", JSONValue, nullable=False),    # keys of the nodes waiting for people
    sa.Column("state", JSONValue, nullable=False),            # joins, trail, rounds, chosen approvers
    sa.Column("parent_id", RecordId, nullable=True),          # the instance whose sub-flow node started it
    sa.Column("started_by", RecordId, nullable=True),
    sa.Column("started_at", UTCDateTime(), nullable=False),
    sa.Column("ended_at", UTCDateTime(), nullable=True),
    sa.Column("version", sa.Integer, nullable=False, server_default="1"),
    sa.Index("ix_fw_workflow_instances_record", "app_key", "form_key", "record_id"),
    sa.Index("ix_fw_workflow_instances_started_by", "started_by", "status"),
    sa.Index("ix_fw_workflow_instances_parent", "parent_id"),
    sa.Index("ix_fw_workflow_instances_started_page", "started_by", "started_at", "id"),   # 我发起的, keyset
)

workflow_tasks = sa.Table(
    "fw_workflow_tasks", metadata, _id(),
    sa.Column("instance_id", RecordId, sa.ForeignKey("fw_workflow_instances.id", ondelete="CASCADE"),
              nullable=False),
    sa.Column("node_key", sa.String(64), nullable=False),
    sa.Column("round", sa.Integer, nullable=False),           # which visit of the node (returns visit again)
    sa.Column("kind", sa.String(16), nullable=False),         # approve fill cc resubmit
    sa.Column("slot", sa.Integer, nullable=False),            # the approver's place; transfers keep it
    sa.Column("added", sa.String(8), nullable=True),          # before / after: a signer added (加签)
    sa.Column("parent_task_id", RecordId, nullable=True),     # the task an added signer was added to
    sa.Column("assignee_id", RecordId, nullable=True),
    sa.Column("status", sa.String(16), nullable=False),       # pending waiting done cancelled transferred cc
    sa.Column("action", sa.String(16), nullable=True),        # approve reject return transfer ...
    sa.Column("comment", sa.Text, nullable=True),
    sa.Column("signature_file_id", RecordId, nullable=True),
    sa.Column("due_at", UTCDateTime(), nullable=True),        # the next timeout (fire_due claims it)
    sa.Column("reminded_at", UTCDateTime(), nullable=True),
    sa.Column("remind_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("acted_at", UTCDateTime(), nullable=True),
    sa.Column("acted_by", RecordId, nullable=True),
    sa.Column("version", sa.Integer, nullable=False, server_default="1"),
    sa.Index("ix_fw_workflow_tasks_assignee", "assignee_id", "status"),
    sa.Index("ix_fw_workflow_tasks_instance", "instance_id", "node_key", "round"),
    sa.Index("ix_fw_workflow_tasks_due", "due_at"),
    sa.Index("ix_fw_workflow_tasks_inbox", "assignee_id", "created_at", "id"),     # the inbox, keyset
)

workflow_log = sa.Table(
    "fw_workflow_log", metadata, _id(),
    sa.Column("instance_id", RecordId, sa.ForeignKey("fw_workflow_instances.id", ondelete="CASCADE"),
              nullable=False),
    sa.Column("task_id", RecordId, nullable=True),
    sa.Column("node_key", sa.String(64), nullable=True),
    sa.Column("user_id", RecordId, nullable=True),            # None: the system (a timeout, an automated step)
    sa.Column("action", sa.String(24), nullable=False),
    sa.Column("comment", sa.Text, nullable=True),
    sa.Column("changes", JSONValue, nullable=True),           # {field: {"from": x, "to": y}}, or details
    sa.Column("at", UTCDateTime(), nullable=False),
    sa.Index("ix_fw_workflow_log_instance", "instance_id", "id"),
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
    # the admin pages (runtime/jobs/manage.py): by status or kind, newest first, keyset
    sa.Index("ix_fw_jobs_status_id", "status", "id"),
    sa.Index("ix_fw_jobs_kind_id", "kind", "id"),
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
    # the run log page (runtime/automations/runs.py run_page) and a job's runs
    sa.Index("ix_fw_automation_runs_app_id", "app_key", "id"),
    sa.Index("ix_fw_automation_runs_app_automation_id", "app_key", "automation_key", "id"),
    sa.Index("ix_fw_automation_runs_job", "job_id"),
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

# The reward ledger (runtime/rewards, docs/rewards.md): one entry per rule, beneficiary,
# source event (`once_key`: the source record, or the friend for first-deal rules) and kind
# (reward, or the clawback of one), so a retried or concurrent settlement enters it once.
# Amounts are integers of 1/100 (fen; points too), exact on both databases.
reward_entries = sa.Table(
    "fw_reward_entries", metadata, _id(),
    sa.Column("app_key", sa.String(64), nullable=False),
    sa.Column("rule_key", sa.String(64), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),                 # reward | clawback
    sa.Column("beneficiary_id", RecordId, nullable=False),
    sa.Column("level", sa.Integer, nullable=False),                   # 0 friend, 1 referrer, 2 indirect
    sa.Column("once_key", sa.String(128), nullable=False),
    sa.Column("source_form", sa.String(64), nullable=False),
    sa.Column("source_id", RecordId, nullable=False),
    sa.Column("friend_id", RecordId, nullable=False),
    sa.Column("reward_kind", sa.String(16), nullable=False),          # cash | points | coupon
    sa.Column("coupon", sa.String(64), nullable=True),
    sa.Column("amount_cents", sa.BigInteger, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("earned_on", sa.String(10), nullable=False),            # ISO dates
    sa.Column("vests_on", sa.String(10), nullable=False),
    sa.Column("paid_on", sa.String(10), nullable=True),
    sa.Column("counters", JSONValue, nullable=False),                 # the counter keys it used
    sa.Column("explanation", JSONValue, nullable=False),
    sa.Column("original_id", RecordId, nullable=True),                # a clawback's reward
    _created(),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.UniqueConstraint("app_key", "rule_key", "beneficiary_id", "once_key", "kind", name="uq_fw_reward_entries_key"),
    sa.Index("ix_fw_reward_entries_source", "app_key", "source_form", "source_id"),
    sa.Index("ix_fw_reward_entries_status", "app_key", "status"),
)

# What each cap, budget and tier count has used, one row per counter, locked while a
# reward is settled (SELECT ... FOR UPDATE) so concurrent workers never exceed a cap.
reward_counters = sa.Table(
    "fw_reward_counters", metadata, _id(),
    sa.Column("app_key", sa.String(64), nullable=False),
    sa.Column("counter_key", sa.String(255), nullable=False),
    sa.Column("used_cents", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("count", sa.Integer, nullable=False, server_default="0"),
    sa.UniqueConstraint("app_key", "counter_key", name="uq_fw_reward_counters_key"),
)

# The clicks of referral share links and poster scans (runtime/referrals/attribution.py,
# docs/referrals.md): one row per visit of /r/<code>, with the visitor's first-party
# cookie, so a friend's referral is credited to the first (or last) link they clicked in
# the campaign's window.
referral_touches = sa.Table(
    "fw_referral_touches", metadata, _id(),
    sa.Column("app_key", sa.String(64), nullable=False),
    sa.Column("campaign_id", RecordId, nullable=False),
    sa.Column("referrer_id", RecordId, nullable=False),
    sa.Column("code", sa.String(64), nullable=False),
    sa.Column("channel", sa.String(16), nullable=False),               # link | qr
    sa.Column("visitor", sa.String(64), nullable=False),               # the cookie's random id
    sa.Column("ip", sa.String(45), nullable=True),
    sa.Column("user_agent", sa.String(255), nullable=True),
    _created(),
    sa.Index("ix_fw_referral_touches_visitor", "app_key", "visitor", "campaign_id", "created_at"),
)

# One-time sign-in links of the referrer's portal (runtime/referrals/portal.py,
# docs/referrals.md): only the SHA-256 of a link's token is kept. A link is used once;
# the portal session it starts lives until `session_expires_at` or its sign-out
# (`ended_at`), and is checked on every portal request.
portal_links = sa.Table(
    "fw_portal_links", metadata, _id(),
    sa.Column("app_key", sa.String(64), nullable=False),
    sa.Column("customer_id", RecordId, nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False),
    sa.Column("channel", sa.String(16), nullable=False),               # staff_copy | staff_send | self
    sa.Column("created_by", RecordId, nullable=True),                  # the staff user, None for the referrer
    _created(),
    sa.Column("expires_at", UTCDateTime(), nullable=False),
    sa.Column("used_at", UTCDateTime(), nullable=True),
    sa.Column("session_expires_at", UTCDateTime(), nullable=True),
    sa.Column("ended_at", UTCDateTime(), nullable=True),
    sa.UniqueConstraint("token_hash", name="uq_fw_portal_links_token_hash"),
    sa.Index("ix_fw_portal_links_customer", "app_key", "customer_id"),
)
