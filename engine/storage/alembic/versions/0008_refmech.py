"""referrals: the touches of share links and poster scans (attribution)

Revision ID: 0008
Revises: 0007
"""
from alembic import op
import sqlalchemy as sa

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('fw_referral_touches',
    sa.Column('id', _ID, autoincrement=True, nullable=False),
    sa.Column('app_key', sa.String(length=64), nullable=False),
    sa.Column('campaign_id', _ID, nullable=False),
    sa.Column('referrer_id', _ID, nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('visitor', sa.String(length=64), nullable=False),
    sa.Column('ip', sa.String(length=45), nullable=True),
    sa.Column('user_agent', sa.String(length=255), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fw_referral_touches')))
    op.create_index('ix_fw_referral_touches_visitor', 'fw_referral_touches',
                    ['app_key', 'visitor', 'campaign_id', 'created_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_fw_referral_touches_visitor', table_name='fw_referral_touches')
    op.drop_table('fw_referral_touches')
