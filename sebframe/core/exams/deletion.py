"""Deleting exams: what goes with an exam, and the user-account deletion options that delete exams.

An exam takes its indicators, supporter assignments and configuration mapping with it (the configuration
goes back to Ready To Use). Rows of other domains that hang on the exam (SEB client connections with their
events, instructions and notifications; location settings and audit records) go through the database's
``ON DELETE CASCADE``; the report lists the client connections. The SEB restriction on the LMS is released
after the deletion is committed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import delete, event, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from sebframe.core.accounts.dependencies import DeleteOption, Dependent, UserDependencies
from sebframe.core.accounts.roles import EntityType
from sebframe.core.db import utc_now
from sebframe.core.db.models import (
    ClientConnection,
    Exam,
    ExamConfiguration,
    ExamConfigurationMapping,
    ExamSupporter,
    Indicator,
)
from sebframe.types import QuizData

log = logging.getLogger(__name__)

IN_USE, READY_TO_USE = "IN_USE", "READY_TO_USE"


@dataclass(frozen=True, slots=True)
class ExamDeletionReport:
    exam_id: int
    exam_name: str
    indicators: list[str]
    supporters: list[str]
    configuration: str | None  # goes back to Ready To Use
    restriction: str | None  # the SEB restriction that is released on the LMS
    other: list[tuple[str, list[str]]]  # data of other domains deleted by cascade (SEB client connections)
    warnings: list[str] = field(default_factory=list)  # after deleting: what did not work (LMS release)


@dataclass(frozen=True, slots=True)
class PendingRelease:
    """A SEB restriction to release on the LMS once its exam's deletion is committed."""

    setup_id: int
    quiz: QuizData
    exam_name: str


def quiz_of(exam: Exam) -> QuizData:
    """The exam's course as restriction APIs need it (the id is what the LMS knows the quiz by)."""
    return QuizData(id=exam.external_id, name=exam.name, start_time=exam.start_time, end_time=exam.end_time,
                    start_url=exam.start_url, description=exam.description)


async def other_dependencies(session: AsyncSession, exam_id: int) -> list[tuple[str, list[str]]]:
    """What other domains keep of the exam, for the report: its SEB client connections (with their logs)."""
    rows = await session.execute(select(ClientConnection.id, ClientConnection.user_session_id)
                                 .where(ClientConnection.exam_id == exam_id).order_by(ClientConnection.id))
    names = [row.user_session_id or f"connection {row.id}" for row in rows]
    return [("SEB client connections with their logs", names)] if names else []


async def delete_exam_rows(session: AsyncSession, exam_ids: Sequence[int], *, release_configs: bool = True
                           ) -> list[PendingRelease]:
    """Delete exams with everything that belongs to them; returns the restrictions to release afterwards.

    ``release_configs`` sets their In Use configurations back to Ready To Use here (the service path does it
    through the configuration service instead, to log it)."""
    if not exam_ids:
        return []
    ids = list(exam_ids)
    exams = list((await session.execute(select(Exam).where(Exam.id.in_(ids)))).scalars())
    pending = [PendingRelease(exam.lms_setup_id, quiz_of(exam), exam.name) for exam in exams
               if exam.restriction_applied and exam.lms_setup_id is not None]
    if release_configs:
        config_ids = [row.configuration_id for row in await session.execute(
            select(ExamConfigurationMapping.configuration_id).where(ExamConfigurationMapping.exam_id.in_(ids)))]
        if config_ids:
            await session.execute(update(ExamConfiguration)
                                  .where(ExamConfiguration.id.in_(config_ids), ExamConfiguration.status == IN_USE)
                                  .values(status=READY_TO_USE, updated_at=utc_now()))
    await session.execute(delete(ExamConfigurationMapping).where(ExamConfigurationMapping.exam_id.in_(ids)))
    await session.execute(delete(Indicator).where(Indicator.exam_id.in_(ids)))
    await session.execute(delete(ExamSupporter).where(ExamSupporter.exam_id.in_(ids)))
    await session.execute(delete(Exam).where(Exam.id.in_(ids)))
    return pending


# -- user deletion with exams ------------------------------------------------------------------------


def owned_exams(release: Callable[[list[PendingRelease]], None]) -> UserDependencies:
    """The exams a user owns, deleted with the account (``WITH_EXAMS``, ``WITH_ALL``); ``release`` gets their
    SEB restrictions once the deletion is committed (the exam service releases them in the background)."""

    async def find(session: AsyncSession, user_id: int) -> list[Dependent]:
        rows = await session.execute(select(Exam.id, Exam.name).where(Exam.owner_id == user_id).order_by(Exam.name))
        return [Dependent(EntityType.EXAM.value, str(row.id), row.name) for row in rows]

    async def delete(session: AsyncSession, user_id: int) -> None:
        owned = [int(dependent.entity_id) for dependent in await find(session, user_id)]
        pending = await delete_exam_rows(session, owned)
        if pending:
            event.listen(session.sync_session, "after_commit", lambda _session: release(pending), once=True)

    return UserDependencies("Exams", frozenset({DeleteOption.WITH_EXAMS, DeleteOption.WITH_ALL}), find, delete)
