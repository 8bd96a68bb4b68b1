"""Exams remember the exam template applied on import; deleting an exam configuration drops its exam mapping

Revision ID: 0004_exam_template_reference
Revises: 0003_exams
Create Date: 2026-11-22 12:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004_exam_template_reference'
down_revision: str | None = '0003_exams'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Longer than PostgreSQL's and MariaDB's identifier limit: as a conv() name it is shortened as in 0003.
_MAPPING_FK = 'fk_exam_configuration_mapping_configuration_id_exam_configuration'


def upgrade() -> None:
    with op.batch_alter_table('exam', schema=None) as batch_op:
        batch_op.add_column(sa.Column('exam_template_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_exam_exam_template_id_exam_template'), 'exam_template',
                                    ['exam_template_id'], ['id'], ondelete='SET NULL')
    with op.batch_alter_table('exam_configuration_mapping', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f(_MAPPING_FK), type_='foreignkey')
        batch_op.create_foreign_key(batch_op.f(_MAPPING_FK), 'exam_configuration', ['configuration_id'], ['id'],
                                    ondelete='CASCADE')


def downgrade() -> None:
    with op.batch_alter_table('exam_configuration_mapping', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f(_MAPPING_FK), type_='foreignkey')
        batch_op.create_foreign_key(batch_op.f(_MAPPING_FK), 'exam_configuration', ['configuration_id'], ['id'])
    with op.batch_alter_table('exam', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_exam_exam_template_id_exam_template'), type_='foreignkey')
        batch_op.drop_column('exam_template_id')
