"""record pages: saved views per user, comments on records

Revision ID: 0006
Revises: 0001
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


def upgrade() -> None:
    op.create_table('fw_saved_views',
    sa.Column('id', _ID, autoincrement=True, nullable=False),
    sa.Column('user_id', _ID, nullable=False),
    sa.Column('app_key', sa.String(length=64), nullable=False),
    sa.Column('form_key', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('spec', _JSON, nullable=False),
    sa.Column('is_default', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['fw_users.id'], name=op.f('fk_fw_saved_views_user_id_fw_users'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fw_saved_views')),
    sa.UniqueConstraint('user_id', 'app_key', 'form_key', 'name', name='uq_fw_saved_views_name')
    )
    op.create_table('fw_record_comments',
    sa.Column('id', _ID, autoincrement=True, nullable=False),
    sa.Column('app_key', sa.String(length=64), nullable=False),
    sa.Column('form_key', sa.String(length=64), nullable=False),
    sa.Column('record_id', _ID, nullable=False),
    sa.Column('author_id', _ID, nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('mentions', _JSON, nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('edited_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fw_record_comments'))
    )
    op.create_index('ix_fw_record_comments_record', 'fw_record_comments',
                    ['app_key', 'form_key', 'record_id', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_fw_record_comments_record', table_name='fw_record_comments')
    op.drop_table('fw_record_comments')
    op.drop_table('fw_saved_views')
