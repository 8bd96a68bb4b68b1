"""Live SEB client sessions: Exam-API tokens, client connections, events, instructions, notifications, leases

Revision ID: 0006_client_sessions
Revises: 0005_exam_client_security
Create Date: 2026-11-22 14:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import sebframe.core.db.base

revision: str = '0006_client_sessions'
down_revision: str | None = '0005_exam_client_security'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('exam_api_token',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('token_encrypted', sa.Text(), nullable=False),
    sa.Column('connection_config_id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.String(length=64), nullable=False),
    sa.Column('scope', sa.String(length=255), nullable=False),
    sa.Column('issued_at', sebframe.core.db.base.UTCDateTime(), nullable=False),
    sa.Column('expires_at', sebframe.core.db.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['connection_config_id'], ['connection_configuration.id'], name=op.f('fk_exam_api_token_connection_config_id_connection_configuration'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exam_api_token')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_exam_api_token_token_hash'))
    )
    with op.batch_alter_table('exam_api_token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_exam_api_token_connection_config_id'), ['connection_config_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_exam_api_token_expires_at'), ['expires_at'], unique=False)

    op.create_table('client_connection',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('connection_token', sa.String(length=64), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=False),
    sa.Column('exam_id', sa.Integer(), nullable=True),
    sa.Column('connection_config_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('client_address', sa.String(length=64), nullable=True),
    sa.Column('seb_os_name', sa.String(length=255), nullable=True),
    sa.Column('seb_machine_name', sa.String(length=255), nullable=True),
    sa.Column('seb_version', sa.String(length=255), nullable=True),
    sa.Column('seb_client_user_id', sa.String(length=255), nullable=True),
    sa.Column('user_session_id', sa.String(length=255), nullable=True),
    sa.Column('lms_user_session_id', sa.String(length=255), nullable=True),
    sa.Column('ask', sa.String(length=64), nullable=True),
    sa.Column('security_check_granted', sa.Boolean(), nullable=True),
    sa.Column('client_version_granted', sa.Boolean(), nullable=True),
    sa.Column('missing_ping', sa.Boolean(), nullable=False),
    sa.Column('created_ms', sa.BigInteger(), nullable=False),
    sa.Column('last_ping_ms', sa.BigInteger(), nullable=True),
    sa.Column('changed_ms', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['connection_config_id'], ['connection_configuration.id'], name=op.f('fk_client_connection_connection_config_id_connection_configuration'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['exam_id'], ['exam.id'], name=op.f('fk_client_connection_exam_id_exam'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['institution_id'], ['institution.id'], name=op.f('fk_client_connection_institution_id_institution'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_client_connection')),
    sa.UniqueConstraint('connection_token', name=op.f('uq_client_connection_connection_token'))
    )
    with op.batch_alter_table('client_connection', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_client_connection_changed_ms'), ['changed_ms'], unique=False)
        batch_op.create_index('ix_client_connection_exam_status', ['exam_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_client_connection_institution_id'), ['institution_id'], unique=False)

    op.create_table('client_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('connection_id', sa.Integer(), nullable=False),
    sa.Column('exam_id', sa.Integer(), nullable=True),
    sa.Column('event_type', sa.String(length=24), nullable=False),
    sa.Column('client_time_ms', sa.BigInteger(), nullable=False),
    sa.Column('server_time_ms', sa.BigInteger(), nullable=False),
    sa.Column('numeric_value', sa.Float(), nullable=True),
    sa.Column('text', sa.String(length=512), nullable=False),
    sa.ForeignKeyConstraint(['connection_id'], ['client_connection.id'], name=op.f('fk_client_event_connection_id_client_connection'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['exam_id'], ['exam.id'], name=op.f('fk_client_event_exam_id_exam'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_client_event'))
    )
    with op.batch_alter_table('client_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_client_event_connection_id'), ['connection_id'], unique=False)
        batch_op.create_index('ix_client_event_exam_server_time', ['exam_id', 'server_time_ms'], unique=False)

    op.create_table('client_instruction',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('connection_id', sa.Integer(), nullable=False),
    sa.Column('instruction_type', sa.String(length=32), nullable=False),
    sa.Column('attributes', sa.Text(), nullable=False),
    sa.Column('needs_confirmation', sa.Boolean(), nullable=False),
    sa.Column('created_ms', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['connection_id'], ['client_connection.id'], name=op.f('fk_client_instruction_connection_id_client_connection'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_client_instruction'))
    )
    with op.batch_alter_table('client_instruction', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_client_instruction_connection_id'), ['connection_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_client_instruction_created_ms'), ['created_ms'], unique=False)

    op.create_table('client_notification',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('connection_id', sa.Integer(), nullable=False),
    sa.Column('notification_type', sa.String(length=16), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.Column('text', sa.String(length=512), nullable=False),
    sa.Column('created_ms', sa.BigInteger(), nullable=False),
    sa.Column('confirmed_ms', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['connection_id'], ['client_connection.id'], name=op.f('fk_client_notification_connection_id_client_connection'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_client_notification'))
    )
    with op.batch_alter_table('client_notification', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_client_notification_connection_id'), ['connection_id'], unique=False)


    lease = op.create_table('session_lease',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('holder', sa.String(length=64), nullable=False),
    sa.Column('expires_ms', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_session_lease'))
    )
    op.bulk_insert(lease, [{'name': 'supervision', 'holder': '', 'expires_ms': 0}])


def downgrade() -> None:
    op.drop_table('session_lease')
    op.drop_table('client_notification')
    op.drop_table('client_instruction')
    op.drop_table('client_event')
    op.drop_table('client_connection')
    op.drop_table('exam_api_token')
