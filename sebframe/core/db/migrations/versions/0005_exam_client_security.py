"""Exams get the SEB client checks: app-signature-key salt, check, trust threshold and grants, allowed SEB
versions and the alternative Browser Exam Key

Revision ID: 0005_exam_client_security
Revises: 0004_exam_template_reference
Create Date: 2026-11-22 13:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005_exam_client_security'
down_revision: str | None = '0004_exam_template_reference'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = ('app_signature_salt', 'signature_key_check_enabled', 'signature_key_trust_threshold',
            'signature_key_grants', 'allowed_seb_versions', 'alternative_bek')


def upgrade() -> None:
    with op.batch_alter_table('exam', schema=None) as batch_op:
        batch_op.add_column(sa.Column('app_signature_salt', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('signature_key_check_enabled', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.add_column(sa.Column('signature_key_trust_threshold', sa.Integer(), nullable=False,
                                      server_default='2'))
        # A TEXT column may not have a default on MySQL: add it nullable, fill it, then make it required.
        batch_op.add_column(sa.Column('signature_key_grants', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('allowed_seb_versions', sa.String(length=1024), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('alternative_bek', sa.String(length=255), nullable=True))
    op.execute(sa.text("UPDATE exam SET signature_key_grants = ''"))
    with op.batch_alter_table('exam', schema=None) as batch_op:
        batch_op.alter_column('signature_key_grants', existing_type=sa.Text(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('exam', schema=None) as batch_op:
        for column in reversed(_COLUMNS):
            batch_op.drop_column(column)
