"""rewards: the reward ledger and its counters (caps, budgets, tier counts)

Revision ID: 0007
Revises: 0006
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def _time(name, nullable=True):
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _id():
    return sa.Column('id', _ID, autoincrement=True, nullable=False)


def upgrade() -> None:
    op.create_table('fw_reward_entries', _id(),
    sa.Column('app_key', sa.String(length=64), nullable=False),
    sa.Column('rule_key', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('beneficiary_id', _ID, nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('once_key', sa.String(length=128), nullable=False),
    sa.Column('source_form', sa.String(length=64), nullable=False),
    sa.Column('source_id', _ID, nullable=False),
    sa.Column('friend_id', _ID, nullable=False),
    sa.Column('reward_kind', sa.String(length=16), nullable=False),
    sa.Column('coupon', sa.String(length=64), nullable=True),
    sa.Column('amount_cents', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('earned_on', sa.String(length=10), nullable=False),
    sa.Column('vests_on', sa.String(length=10), nullable=False),
    sa.Column('paid_on', sa.String(length=10), nullable=True),
    sa.Column('counters', _JSON, nullable=False),
    sa.Column('explanation', _JSON, nullable=False),
    sa.Column('original_id', _ID, nullable=True),
    _time('created_at', nullable=False),
    _time('updated_at', nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fw_reward_entries')),
    sa.UniqueConstraint('app_key', 'rule_key', 'beneficiary_id', 'once_key', 'kind',
                        name='uq_fw_reward_entries_key'))
    op.create_index('ix_fw_reward_entries_source', 'fw_reward_entries', ['app_key', 'source_form', 'source_id'],
                    unique=False)
    op.create_index('ix_fw_reward_entries_status', 'fw_reward_entries', ['app_key', 'status'], unique=False)
    op.create_table('fw_reward_counters', _id(),
    sa.Column('app_key', sa.String(length=64), nullable=False),
    sa.Column('counter_key', sa.String(length=255), nullable=False),
    sa.Column('used_cents', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('count', sa.Integer(), server_default='0', nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fw_reward_counters')),
    sa.UniqueConstraint('app_key', 'counter_key', name='uq_fw_reward_counters_key'))


def downgrade() -> None:
    op.drop_table('fw_reward_counters')
    op.drop_index('ix_fw_reward_entries_status', table_name='fw_reward_entries')
    op.drop_index('ix_fw_reward_entries_source', table_name='fw_reward_entries')
    op.drop_table('fw_reward_entries')
