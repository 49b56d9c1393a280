"""automations: run log, date-trigger claims, round-robin turns, notifications and their
preferences, webhook deliveries

Revision ID: 0006
Revises: 0005
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def _time(name, nullable=True):
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _id():
    return sa.Column('id', _ID, autoincrement=True, nullable=False)


def upgrade() -> None:
    op.create_table('fw_automation_runs', _id(),
    sa.Column('app_key', sa.String(length=64), nullable=False),
    sa.Column('automation_key', sa.String(length=64), nullable=False),
    sa.Column('trigger', sa.String(length=32), nullable=False),
    sa.Column('record_id', _ID, nullable=True),
    sa.Column('inputs', _JSON, nullable=True),
    sa.Column('actions', _JSON, nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('depth', sa.Integer(), server_default='0', nullable=False),
    sa.Column('duration_ms', sa.Float(), nullable=True),
    sa.Column('job_id', _ID, nullable=True),
    sa.Column('rerun_of', _ID, nullable=True),
    _time('created_at', nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fw_automation_runs')))
    op.create_index('ix_fw_automation_runs_app_status', 'fw_automation_runs', ['app_key', 'status'], unique=False)
    op.create_table('fw_automation_date_fires', _id(),
    sa.Column('app_key', sa.String(length=64), nullable=False),
    sa.Column('automation_key', sa.String(length=64), nullable=False),
    sa.Column('record_id', _ID, nullable=False),
    sa.Column('due_on', sa.String(length=32), nullable=False),
    _time('fired_at', nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fw_automation_date_fires')),
    sa.UniqueConstraint('app_key', 'automation_key', 'record_id', 'due_on', name='uq_fw_automation_date_fires'))
    op.create_table('fw_round_robin', _id(),
    sa.Column('scope', sa.String(length=255), nullable=False),
    sa.Column('turn', sa.BigInteger(), server_default='0', nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fw_round_robin')),
    sa.UniqueConstraint('scope', name=op.f('uq_fw_round_robin_scope')))
    op.create_table('fw_notifications', _id(),
    sa.Column('user_id', _ID, nullable=False),
    sa.Column('kind', sa.String(length=64), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=True),
    sa.Column('link', sa.String(length=500), nullable=True),
    sa.Column('key', sa.String(length=255), nullable=True),
    _time('created_at', nullable=False),
    _time('read_at'),
    sa.ForeignKeyConstraint(['user_id'], ['fw_users.id'], name=op.f('fk_fw_notifications_user_id_fw_users'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fw_notifications')),
    sa.UniqueConstraint('key', name=op.f('uq_fw_notifications_key')))
    op.create_index('ix_fw_notifications_user_read', 'fw_notifications', ['user_id', 'read_at'], unique=False)
    op.create_table('fw_notification_preferences',
    sa.Column('user_id', _ID, nullable=False),
    sa.Column('kind', sa.String(length=64), nullable=False),
    sa.Column('channels', _JSON, nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['fw_users.id'],
                            name=op.f('fk_fw_notification_preferences_user_id_fw_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'kind', name=op.f('pk_fw_notification_preferences')))
    op.create_table('fw_webhook_deliveries', _id(),
    sa.Column('webhook', sa.String(length=128), nullable=False),
    sa.Column('delivery_id', sa.String(length=64), nullable=False),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('url', sa.String(length=1000), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=True),
    sa.Column('response_excerpt', sa.Text(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('duration_ms', sa.Float(), nullable=True),
    _time('created_at', nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fw_webhook_deliveries')))
    op.create_index('ix_fw_webhook_deliveries_delivery', 'fw_webhook_deliveries', ['delivery_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_fw_webhook_deliveries_delivery', table_name='fw_webhook_deliveries')
    op.drop_table('fw_webhook_deliveries')
    op.drop_table('fw_notification_preferences')
    op.drop_index('ix_fw_notifications_user_read', table_name='fw_notifications')
    op.drop_table('fw_notifications')
    op.drop_table('fw_round_robin')
    op.drop_table('fw_automation_date_fires')
    op.drop_index('ix_fw_automation_runs_app_status', table_name='fw_automation_runs')
    op.drop_table('fw_automation_runs')
