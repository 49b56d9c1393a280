"""web sign-in: API keys, sign-in failures, session epochs (issue #9)

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
_AT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table('fw_api_keys',
    sa.Column('id', _ID, autoincrement=True, nullable=False),
    sa.Column('user_id', _ID, nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('secret_sha256', sa.String(length=64), nullable=False),
    sa.Column('created_at', _AT, nullable=False),
    sa.Column('last_used_at', _AT, nullable=True),
    sa.Column('revoked_at', _AT, nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['fw_users.id'], name=op.f('fk_fw_api_keys_user_id_fw_users'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fw_api_keys')),
    sa.UniqueConstraint('prefix', name=op.f('uq_fw_api_keys_prefix')),
    sa.UniqueConstraint('secret_sha256', name=op.f('uq_fw_api_keys_secret_sha256'))
    )
    op.create_index('ix_fw_api_keys_user', 'fw_api_keys', ['user_id'], unique=False)
    op.create_table('fw_sign_in_failures',
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('first_failed_at', _AT, nullable=False),
    sa.Column('locked_until', _AT, nullable=True),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_fw_sign_in_failures'))
    )
    op.create_table('fw_session_epochs',
    sa.Column('user_id', _ID, nullable=False),
    sa.Column('epoch', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['fw_users.id'], name=op.f('fk_fw_session_epochs_user_id_fw_users'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_fw_session_epochs'))
    )


def downgrade() -> None:
    op.drop_table('fw_session_epochs')
    op.drop_table('fw_sign_in_failures')
    op.drop_index('ix_fw_api_keys_user', table_name='fw_api_keys')
    op.drop_table('fw_api_keys')
