"""workflow instances, tasks and log (runtime/workflow)

Revision ID: 0004
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
_AT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table('fw_workflow_instances',
    sa.Column('id', _ID, autoincrement=True, nullable=False),
    sa.Column('app_key', sa.String(length=64), nullable=False),
    sa.Column('form_key', sa.String(length=64), nullable=False),
    sa.Column('record_id', _ID, nullable=False),
    sa.Column('workflow_key', sa.String(length=64), nullable=False),
    sa.Column('app_version', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('current_nodes', _JSON, nullable=False),
    sa.Column('state', _JSON, nullable=False),
    sa.Column('parent_id', _ID, nullable=True),
    sa.Column('started_by', _ID, nullable=True),
    sa.Column('started_at', _AT, nullable=False),
    sa.Column('ended_at', _AT, nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fw_workflow_instances'))
    )
    op.create_index('ix_fw_workflow_instances_record', 'fw_workflow_instances',
                    ['app_key', 'form_key', 'record_id'], unique=False)
    op.create_index('ix_fw_workflow_instances_started_by', 'fw_workflow_instances', ['started_by', 'status'],
                    unique=False)
    op.create_index('ix_fw_workflow_instances_parent', 'fw_workflow_instances', ['parent_id'], unique=False)
    op.create_table('fw_workflow_tasks',
    sa.Column('id', _ID, autoincrement=True, nullable=False),
    sa.Column('instance_id', _ID, nullable=False),
    sa.Column('node_key', sa.String(length=64), nullable=False),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('slot', sa.Integer(), nullable=False),
    sa.Column('added', sa.String(length=8), nullable=True),
    sa.Column('parent_task_id', _ID, nullable=True),
    sa.Column('assignee_id', _ID, nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=True),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('signature_file_id', _ID, nullable=True),
    sa.Column('due_at', _AT, nullable=True),
    sa.Column('reminded_at', _AT, nullable=True),
    sa.Column('remind_count', sa.Integer(), server_default='0', nullable=False),
    sa.Column('created_at', _AT, nullable=False),
    sa.Column('acted_at', _AT, nullable=True),
    sa.Column('acted_by', _ID, nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.ForeignKeyConstraint(['instance_id'], ['fw_workflow_instances.id'],
                            name=op.f('fk_fw_workflow_tasks_instance_id_fw_workflow_instances'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fw_workflow_tasks'))
    )
    op.create_index('ix_fw_workflow_tasks_assignee', 'fw_workflow_tasks', ['assignee_id', 'status'], unique=False)
    op.create_index('ix_fw_workflow_tasks_instance', 'fw_workflow_tasks', ['instance_id', 'node_key', 'round'],
                    unique=False)
    op.create_index('ix_fw_workflow_tasks_due', 'fw_workflow_tasks', ['due_at'], unique=False)
    op.create_table('fw_workflow_log',
    sa.Column('id', _ID, autoincrement=True, nullable=False),
    sa.Column('instance_id', _ID, nullable=False),
    sa.Column('task_id', _ID, nullable=True),
    sa.Column('node_key', sa.String(length=64), nullable=True),
    sa.Column('user_id', _ID, nullable=True),
    sa.Column('action', sa.String(length=24), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('changes', _JSON, nullable=True),
    sa.Column('at', _AT, nullable=False),
    sa.ForeignKeyConstraint(['instance_id'], ['fw_workflow_instances.id'],
                            name=op.f('fk_fw_workflow_log_instance_id_fw_workflow_instances'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fw_workflow_log'))
    )
    op.create_index('ix_fw_workflow_log_instance', 'fw_workflow_log', ['instance_id', 'id'], unique=False)


def downgrade() -> None:
    op.drop_table('fw_workflow_log')
    op.drop_table('fw_workflow_tasks')
    op.drop_table('fw_workflow_instances')
