"""ops: indexes of the admin pages (jobs by status or kind newest first, an app's run
log by automation newest first, the runs of a job)

Revision ID: 0009
Revises: 0008
"""
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_fw_jobs_status_id', 'fw_jobs', ['status', 'id'], unique=False)
    op.create_index('ix_fw_jobs_kind_id', 'fw_jobs', ['kind', 'id'], unique=False)
    op.create_index('ix_fw_automation_runs_app_id', 'fw_automation_runs', ['app_key', 'id'], unique=False)
    op.create_index('ix_fw_automation_runs_app_automation_id', 'fw_automation_runs',
                    ['app_key', 'automation_key', 'id'], unique=False)
    op.create_index('ix_fw_automation_runs_job', 'fw_automation_runs', ['job_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_fw_automation_runs_job', table_name='fw_automation_runs')
    op.drop_index('ix_fw_automation_runs_app_automation_id', table_name='fw_automation_runs')
    op.drop_index('ix_fw_automation_runs_app_id', table_name='fw_automation_runs')
    op.drop_index('ix_fw_jobs_kind_id', table_name='fw_jobs')
    op.drop_index('ix_fw_jobs_status_id', table_name='fw_jobs')
