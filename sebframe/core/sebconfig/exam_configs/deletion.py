"""Deleting a user account "with all dependencies" deletes the exam configurations the user owns (the option
is wired into the user service by ``Services.create``)."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from sebframe.core.accounts.dependencies import DeleteOption, Dependent, UserDependencies
from sebframe.core.accounts.roles import EntityType
from sebframe.core.db.models import ExamConfiguration, ExamConfigurationRevision

from .types import ConfigKind

__all__ = ["OWNED_EXAM_CONFIGURATIONS"]


async def _find_owned(session: AsyncSession, user_id: int) -> list[Dependent]:
    rows = await session.execute(
        select(ExamConfiguration.id, ExamConfiguration.name)
        .where(ExamConfiguration.owner_id == user_id, ExamConfiguration.kind == ConfigKind.EXAM_CONFIG.value)
        .order_by(ExamConfiguration.name)
    )
    return [Dependent(EntityType.EXAM_CONFIGURATION.value, str(row.id), row.name) for row in rows]


async def _delete_owned(session: AsyncSession, user_id: int) -> None:
    # Ids first: MariaDB refuses a DELETE whose subquery reads the table it deletes from.
    owned = [int(d.entity_id) for d in await _find_owned(session, user_id)]
    if owned:
        await session.execute(delete(ExamConfigurationRevision)
                              .where(ExamConfigurationRevision.configuration_id.in_(owned)))
        await session.execute(delete(ExamConfiguration).where(ExamConfiguration.id.in_(owned)))


OWNED_EXAM_CONFIGURATIONS = UserDependencies("Exam configurations", frozenset({DeleteOption.WITH_ALL}), _find_owned,
                                             _delete_owned)
