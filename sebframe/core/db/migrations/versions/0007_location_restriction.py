"""Network location restriction: locations, IP profiles, exam policies, exceptions, overrides, audit

Revision ID: 0007_location_restriction
Revises: 0006_client_sessions
Create Date: 2026-11-22 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import sebframe.core.db.base

revision: str = '0007_location_restriction'
down_revision: str | None = '0006_client_sessions'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('location',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('hidden', sa.Boolean(), nullable=False),
    sa.Column('created_at', sebframe.core.db.base.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sebframe.core.db.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['institution_id'], ['institution.id'], name=op.f('fk_location_institution_id_institution'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_location')),
    sa.UniqueConstraint('institution_id', 'name', name='uq_location_institution_name')
    )
    with op.batch_alter_table('location', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_location_institution_id'), ['institution_id'], unique=False)

    op.create_table('location_profile',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=False),
    sa.Column('location_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('help_text', sa.Text(), nullable=False),
    sa.Column('default_room', sa.String(length=255), nullable=False),
    sa.Column('hidden', sa.Boolean(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('rules_text', sa.Text(), nullable=False),
    sa.Column('created_at', sebframe.core.db.base.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sebframe.core.db.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['institution_id'], ['institution.id'], name=op.f('fk_location_profile_institution_id_institution'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['location_id'], ['location.id'], name=op.f('fk_location_profile_location_id_location'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_location_profile')),
    sa.UniqueConstraint('institution_id', 'name', name='uq_location_profile_institution_name')
    )
    with op.batch_alter_table('location_profile', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_location_profile_institution_id'), ['institution_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_location_profile_location_id'), ['location_id'], unique=False)

    op.create_table('location_profile_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('profile_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('rules_text', sa.Text(), nullable=False),
    sa.Column('help_text', sa.Text(), nullable=False),
    sa.Column('created_at', sebframe.core.db.base.UTCDateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=255), nullable=False),
    sa.ForeignKeyConstraint(['profile_id'], ['location_profile.id'], name=op.f('fk_location_profile_version_profile_id_location_profile'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_location_profile_version')),
    sa.UniqueConstraint('profile_id', 'version', name='uq_location_profile_version')
    )
    op.create_table('exam_location_policy',
    sa.Column('exam_id', sa.Integer(), nullable=False),
    sa.Column('mode', sa.String(length=16), nullable=False),
    sa.Column('hide_when_outside', sa.Boolean(), nullable=False),
    sa.Column('on_violation', sa.String(length=16), nullable=False),
    sa.Column('suspended', sa.Boolean(), nullable=False),
    sa.Column('suspend_reason', sa.Text(), nullable=False),
    sa.Column('suspended_by', sa.String(length=255), nullable=False),
    sa.Column('suspended_at', sebframe.core.db.base.UTCDateTime(), nullable=True),
    sa.Column('updated_at', sebframe.core.db.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['exam_id'], ['exam.id'], name=op.f('fk_exam_location_policy_exam_id_exam'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('exam_id', name=op.f('pk_exam_location_policy'))
    )
    op.create_table('exam_location_profile',
    sa.Column('exam_id', sa.Integer(), nullable=False),
    sa.Column('profile_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['exam_id'], ['exam.id'], name=op.f('fk_exam_location_profile_exam_id_exam'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['profile_id'], ['location_profile.id'], name=op.f('fk_exam_location_profile_profile_id_location_profile'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('exam_id', 'profile_id', name=op.f('pk_exam_location_profile'))
    )
    op.create_table('location_audit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sebframe.core.db.base.UTCDateTime(), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=True),
    sa.Column('exam_id', sa.Integer(), nullable=True),
    sa.Column('connection_id', sa.Integer(), nullable=True),
    sa.Column('code', sa.Integer(), nullable=False),
    sa.Column('outcome', sa.String(length=8), nullable=False),
    sa.Column('src_ip', sa.String(length=64), nullable=False),
    sa.Column('suser', sa.String(length=255), nullable=False),
    sa.Column('room', sa.String(length=255), nullable=False),
    sa.Column('line', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['exam_id'], ['exam.id'], name=op.f('fk_location_audit_exam_id_exam'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['institution_id'], ['institution.id'], name=op.f('fk_location_audit_institution_id_institution'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_location_audit'))
    )
    with op.batch_alter_table('location_audit', schema=None) as batch_op:
        batch_op.create_index('ix_location_audit_exam_at', ['exam_id', 'at'], unique=False)
        batch_op.create_index('ix_location_audit_institution_at', ['institution_id', 'at'], unique=False)

    op.create_table('location_exception',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('exam_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('members', sa.Text(), nullable=False),
    sa.Column('substitute_profile_id', sa.Integer(), nullable=True),
    sa.Column('valid_from', sebframe.core.db.base.UTCDateTime(), nullable=True),
    sa.Column('valid_to', sebframe.core.db.base.UTCDateTime(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('created_by', sa.String(length=255), nullable=False),
    sa.Column('created_at', sebframe.core.db.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['exam_id'], ['exam.id'], name=op.f('fk_location_exception_exam_id_exam'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['substitute_profile_id'], ['location_profile.id'], name=op.f('fk_location_exception_substitute_profile_id_location_profile'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_location_exception'))
    )
    with op.batch_alter_table('location_exception', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_location_exception_exam_id'), ['exam_id'], unique=False)

    op.create_table('connection_location',
    sa.Column('connection_id', sa.Integer(), nullable=False),
    sa.Column('exam_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.String(length=16), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=True),
    sa.Column('user_id', sa.String(length=255), nullable=True),
    sa.Column('peer_address', sa.String(length=64), nullable=True),
    sa.Column('forwarded_chain', sa.String(length=512), nullable=False),
    sa.Column('profile_id', sa.Integer(), nullable=True),
    sa.Column('profile_version', sa.Integer(), nullable=True),
    sa.Column('rule', sa.String(length=320), nullable=False),
    sa.Column('room', sa.String(length=255), nullable=False),
    sa.Column('seat', sa.String(length=255), nullable=False),
    sa.Column('approval_code', sa.String(length=8), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('violations', sa.Integer(), nullable=False),
    sa.Column('first_allowed_ms', sa.BigInteger(), nullable=True),
    sa.Column('last_change_event_ms', sa.BigInteger(), nullable=True),
    sa.Column('decided_ms', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['connection_id'], ['client_connection.id'], name=op.f('fk_connection_location_connection_id_client_connection'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['exam_id'], ['exam.id'], name=op.f('fk_connection_location_exam_id_exam'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('connection_id', name=op.f('pk_connection_location'))
    )
    with op.batch_alter_table('connection_location', schema=None) as batch_op:
        batch_op.create_index('ix_connection_location_exam_status', ['exam_id', 'status'], unique=False)

    op.create_table('location_override',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('exam_id', sa.Integer(), nullable=False),
    sa.Column('connection_id', sa.Integer(), nullable=True),
    sa.Column('scope', sa.String(length=16), nullable=False),
    sa.Column('user_session_id', sa.String(length=255), nullable=True),
    sa.Column('address', sa.String(length=64), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('created_by', sa.String(length=255), nullable=False),
    sa.Column('created_at', sebframe.core.db.base.UTCDateTime(), nullable=False),
    sa.Column('expires_at', sebframe.core.db.base.UTCDateTime(), nullable=False),
    sa.Column('revoked_at', sebframe.core.db.base.UTCDateTime(), nullable=True),
    sa.Column('revoked_by', sa.String(length=255), nullable=False),
    sa.Column('revoke_reason', sa.Text(), nullable=False),
    sa.Column('active_key', sa.String(length=320), nullable=True),
    sa.ForeignKeyConstraint(['connection_id'], ['client_connection.id'], name=op.f('fk_location_override_connection_id_client_connection'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['exam_id'], ['exam.id'], name=op.f('fk_location_override_exam_id_exam'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_location_override')),
    sa.UniqueConstraint('active_key', name=op.f('uq_location_override_active_key'))
    )
    with op.batch_alter_table('location_override', schema=None) as batch_op:
        batch_op.create_index('ix_location_override_exam', ['exam_id', 'revoked_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('location_override', schema=None) as batch_op:
        batch_op.drop_index('ix_location_override_exam')

    op.drop_table('location_override')
    with op.batch_alter_table('connection_location', schema=None) as batch_op:
        batch_op.drop_index('ix_connection_location_exam_status')

    op.drop_table('connection_location')
    with op.batch_alter_table('location_exception', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_location_exception_exam_id'))

    op.drop_table('location_exception')
    with op.batch_alter_table('location_audit', schema=None) as batch_op:
        batch_op.drop_index('ix_location_audit_institution_at')
        batch_op.drop_index('ix_location_audit_exam_at')

    op.drop_table('location_audit')
    op.drop_table('exam_location_profile')
    op.drop_table('exam_location_policy')
    op.drop_table('location_profile_version')
    with op.batch_alter_table('location_profile', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_location_profile_location_id'))
        batch_op.drop_index(batch_op.f('ix_location_profile_institution_id'))

    op.drop_table('location_profile')
    with op.batch_alter_table('location', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_location_institution_id'))

    op.drop_table('location')
