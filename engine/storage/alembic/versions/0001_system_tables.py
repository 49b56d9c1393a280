"""system tables

Revision ID: 0001
Revises: 
Create Date: 2026-11-22 16:14:14.108743
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('fw_apps',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('label', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('current_version', sa.Integer(), server_default='0', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fw_apps')),
    sa.UniqueConstraint('key', name=op.f('uq_fw_apps_key'))
    )
    op.create_table('fw_archived_fields',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('app_key', sa.String(length=64), nullable=False),
    sa.Column('form_key', sa.String(length=64), nullable=False),
    sa.Column('field_key', sa.String(length=64), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('physical_name', sa.String(length=128), nullable=False),
    sa.Column('original_name', sa.String(length=128), nullable=False),
    sa.Column('definition', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('archived_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('purged_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('restored_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fw_archived_fields'))
    )
    op.create_table('fw_files',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('content_type', sa.String(length=127), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('storage_key', sa.String(length=255), nullable=False),
    sa.Column('created_by', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fw_files'))
    )
    op.create_index('ix_fw_files_sha256', 'fw_files', ['sha256'], unique=False)
    op.create_table('fw_record_history',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('app_key', sa.String(length=64), nullable=False),
    sa.Column('form_key', sa.String(length=64), nullable=False),
    sa.Column('record_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('changes', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fw_record_history'))
    )
    op.create_index('ix_fw_record_history_record', 'fw_record_history', ['app_key', 'form_key', 'record_id', 'id'], unique=False)
    op.create_table('fw_roles',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fw_roles')),
    sa.UniqueConstraint('key', name=op.f('uq_fw_roles_key'))
    )
    op.create_table('fw_serial_counters',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('app_key', sa.String(length=64), nullable=False),
    sa.Column('form_key', sa.String(length=64), nullable=False),
    sa.Column('field_key', sa.String(length=64), nullable=False),
    sa.Column('period', sa.String(length=32), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fw_serial_counters')),
    sa.UniqueConstraint('app_key', 'form_key', 'field_key', 'period', name='uq_fw_serial_counters_scope')
    )
    op.create_table('fw_users',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('account', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('phone', sa.String(length=32), nullable=True),
    sa.Column('password_hash', sa.String(length=255), nullable=True),
    sa.Column('is_active', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.Column('is_admin', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fw_users')),
    sa.UniqueConstraint('account', name=op.f('uq_fw_users_account'))
    )
    op.create_index('ix_fw_users_name', 'fw_users', ['name'], unique=False)
    op.create_table('fw_app_versions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('app_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('definition', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('source', sa.Text(), nullable=True),
    sa.Column('checksum', sa.String(length=64), nullable=False),
    sa.Column('plan', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('installed_by', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('installed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['app_id'], ['fw_apps.id'], name=op.f('fk_fw_app_versions_app_id_fw_apps'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fw_app_versions')),
    sa.UniqueConstraint('app_id', 'version', name='uq_fw_app_versions_app_version')
    )
    op.create_table('fw_departments',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('parent_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('head_user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('position', sa.Integer(), server_default='0', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['head_user_id'], ['fw_users.id'], name=op.f('fk_fw_departments_head_user_id_fw_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['parent_id'], ['fw_departments.id'], name=op.f('fk_fw_departments_parent_id_fw_departments'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fw_departments'))
    )
    op.create_index('ix_fw_departments_parent', 'fw_departments', ['parent_id'], unique=False)
    op.create_table('fw_role_members',
    sa.Column('role_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['role_id'], ['fw_roles.id'], name=op.f('fk_fw_role_members_role_id_fw_roles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['fw_users.id'], name=op.f('fk_fw_role_members_user_id_fw_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('role_id', 'user_id', name=op.f('pk_fw_role_members'))
    )
    op.create_index('ix_fw_role_members_user', 'fw_role_members', ['user_id'], unique=False)
    op.create_table('fw_department_members',
    sa.Column('department_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('is_primary', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.ForeignKeyConstraint(['department_id'], ['fw_departments.id'], name=op.f('fk_fw_department_members_department_id_fw_departments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['fw_users.id'], name=op.f('fk_fw_department_members_user_id_fw_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('department_id', 'user_id', name=op.f('pk_fw_department_members'))
    )
    op.create_index('ix_fw_department_members_user', 'fw_department_members', ['user_id'], unique=False)



def downgrade() -> None:

    op.drop_index('ix_fw_department_members_user', table_name='fw_department_members')
    op.drop_table('fw_department_members')
    op.drop_index('ix_fw_role_members_user', table_name='fw_role_members')
    op.drop_table('fw_role_members')
    op.drop_index('ix_fw_departments_parent', table_name='fw_departments')
    op.drop_table('fw_departments')
    op.drop_table('fw_app_versions')
    op.drop_index('ix_fw_users_name', table_name='fw_users')
    op.drop_table('fw_users')
    op.drop_table('fw_serial_counters')
    op.drop_table('fw_roles')
    op.drop_index('ix_fw_record_history_record', table_name='fw_record_history')
    op.drop_table('fw_record_history')
    op.drop_index('ix_fw_files_sha256', table_name='fw_files')
    op.drop_table('fw_files')
    op.drop_table('fw_archived_fields')
    op.drop_table('fw_apps')

