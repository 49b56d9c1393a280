"""portal: the one-time sign-in links of the referrer's portal (only token hashes)

Revision ID: 0011
Revises: 0010
"""
from alembic import op
import sqlalchemy as sa

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def _time(name, nullable=True):
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table('fw_portal_links',
    sa.Column('id', _ID, autoincrement=True, nullable=False),
    sa.Column('app_key', sa.String(length=64), nullable=False),
    sa.Column('customer_id', _ID, nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('created_by', _ID, nullable=True),
    _time('created_at', nullable=False),
    _time('expires_at', nullable=False),
    _time('used_at'),
    _time('session_expires_at'),
    _time('ended_at'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fw_portal_links')),
    sa.UniqueConstraint('token_hash', name='uq_fw_portal_links_token_hash'))
    op.create_index('ix_fw_portal_links_customer', 'fw_portal_links', ['app_key', 'customer_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_fw_portal_links_customer', table_name='fw_portal_links')
    op.drop_table('fw_portal_links')
