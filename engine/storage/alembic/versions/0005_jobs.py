"""jobs: the outbox (fw_jobs) and cron schedules (fw_job_schedules)

Revision ID: 0005
Revises: 0004
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def _time(name, nullable=True):
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table('fw_jobs',
    sa.Column('id', _ID, autoincrement=True, nullable=False),
    sa.Column('kind', sa.String(length=64), nullable=False),
    sa.Column('payload', _JSON, nullable=True),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('max_attempts', sa.Integer(), nullable=False),
    _time('run_at', nullable=False),
    sa.Column('actor_id', _ID, nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('lease_owner', sa.String(length=128), nullable=True),
    _time('lease_until'),
    _time('dispatched_at'),
    _time('created_at', nullable=False),
    _time('started_at'),
    _time('finished_at'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fw_jobs')),
    sa.UniqueConstraint('key', name=op.f('uq_fw_jobs_key'))
    )
    op.create_index('ix_fw_jobs_status_run_at', 'fw_jobs', ['status', 'run_at'], unique=False)
    op.create_table('fw_job_schedules',
    sa.Column('id', _ID, autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('cron', sa.String(length=100), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=64), nullable=False),
    sa.Column('payload', _JSON, nullable=True),
    sa.Column('enabled', sa.Boolean(), server_default=sa.true(), nullable=False),
    _time('next_run_at', nullable=False),
    _time('last_run_at'),
    _time('created_at', nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fw_job_schedules')),
    sa.UniqueConstraint('name', name=op.f('uq_fw_job_schedules_name'))
    )


def downgrade() -> None:
    op.drop_table('fw_job_schedules')
    op.drop_index('ix_fw_jobs_status_run_at', table_name='fw_jobs')
    op.drop_table('fw_jobs')
