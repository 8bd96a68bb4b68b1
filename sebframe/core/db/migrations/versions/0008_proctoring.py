"""Live proctoring: per-exam meeting-service settings, rooms, and the connections' room assignment

Revision ID: 0008_proctoring
Revises: 0007_location_restriction
Create Date: 2026-12-08 01:25:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import sebframe.core.db.base

revision: str = '0008_proctoring'
down_revision: str | None = '0007_location_restriction'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_context().dialect.name == "sqlite":
        # Instruction ids must never be reused: a late confirmation of a withdrawn JOIN would confirm the next one.
        with op.batch_alter_table("client_instruction", recreate="always",
                                  table_kwargs={"sqlite_autoincrement": True}):
            pass
    op.create_table('proctoring_setting',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('exam_id', sa.Integer(), nullable=True),
    sa.Column('institution_id', sa.Integer(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('service_type', sa.String(length=64), nullable=False),
    sa.Column('server_url', sa.String(length=512), nullable=False),
    sa.Column('settings_encrypted', sa.Text(), nullable=False),
    sa.Column('collecting_room_size', sa.Integer(), nullable=False),
    sa.Column('features', sa.String(length=255), nullable=False),
    sa.Column('last_test_ok', sa.Boolean(), nullable=True),
    sa.Column('last_test_message', sa.Text(), nullable=False),
    sa.Column('updated_at', sebframe.core.db.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['exam_id'], ['exam.id'], name=op.f('fk_proctoring_setting_exam_id_exam'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['institution_id'], ['institution.id'], name=op.f('fk_proctoring_setting_institution_id_institution'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_proctoring_setting')),
    sa.UniqueConstraint('exam_id', name=op.f('uq_proctoring_setting_exam_id'))
    )
    with op.batch_alter_table('proctoring_setting', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_proctoring_setting_institution_id'), ['institution_id'], unique=False)

    op.create_table('proctoring_room',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('setting_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('slot', sa.String(length=64), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('subject', sa.String(length=255), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('data_encrypted', sa.Text(), nullable=False),
    sa.Column('receive_audio', sa.Boolean(), nullable=False),
    sa.Column('receive_video', sa.Boolean(), nullable=False),
    sa.Column('allow_chat', sa.Boolean(), nullable=False),
    sa.Column('created_ms', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['setting_id'], ['proctoring_setting.id'], name=op.f('fk_proctoring_room_setting_id_proctoring_setting'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_proctoring_room')),
    sa.UniqueConstraint('setting_id', 'slot', name='uq_proctoring_room_setting_slot')
    )
    with op.batch_alter_table('proctoring_room', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_proctoring_room_setting_id'), ['setting_id'], unique=False)

    op.create_table('proctoring_participant',
    sa.Column('connection_id', sa.Integer(), nullable=False),
    sa.Column('setting_id', sa.Integer(), nullable=False),
    sa.Column('room_id', sa.Integer(), nullable=True),
    sa.Column('breakout_room_id', sa.Integer(), nullable=True),
    sa.Column('joined_room_id', sa.Integer(), nullable=True),
    sa.Column('instruction_id', sa.Integer(), nullable=True),
    sa.Column('instruction_ms', sa.BigInteger(), nullable=True),
    sa.Column('confirmed_ms', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['breakout_room_id'], ['proctoring_room.id'], name=op.f('fk_proctoring_participant_breakout_room_id_proctoring_room'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['connection_id'], ['client_connection.id'], name=op.f('fk_proctoring_participant_connection_id_client_connection'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['room_id'], ['proctoring_room.id'], name=op.f('fk_proctoring_participant_room_id_proctoring_room'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['setting_id'], ['proctoring_setting.id'], name=op.f('fk_proctoring_participant_setting_id_proctoring_setting'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('connection_id', name=op.f('pk_proctoring_participant'))
    )
    with op.batch_alter_table('proctoring_participant', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_proctoring_participant_breakout_room_id'), ['breakout_room_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_proctoring_participant_room_id'), ['room_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_proctoring_participant_setting_id'), ['setting_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('proctoring_participant', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_proctoring_participant_setting_id'))
        batch_op.drop_index(batch_op.f('ix_proctoring_participant_room_id'))
        batch_op.drop_index(batch_op.f('ix_proctoring_participant_breakout_room_id'))

    op.drop_table('proctoring_participant')
    with op.batch_alter_table('proctoring_room', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_proctoring_room_setting_id'))

    op.drop_table('proctoring_room')
    with op.batch_alter_table('proctoring_setting', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_proctoring_setting_institution_id'))

    op.drop_table('proctoring_setting')
