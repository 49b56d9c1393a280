"""the inbox pages by keyset: (assignee, created time, id) on tasks, (submitter, start
time, id) on instances

Revision ID: 0010
Revises: 0009
"""
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_fw_workflow_tasks_inbox', 'fw_workflow_tasks', ['assignee_id', 'created_at', 'id'],
                    unique=False)
    op.create_index('ix_fw_workflow_instances_started_page', 'fw_workflow_instances',
                    ['started_by', 'started_at', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_fw_workflow_instances_started_page', table_name='fw_workflow_instances')
    op.drop_index('ix_fw_workflow_tasks_inbox', table_name='fw_workflow_tasks')
