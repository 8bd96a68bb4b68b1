"""Deleting exams: what goes with an exam, and the user-account deletion options that delete exams.

An exam takes its indicators, supporter assignments and configuration mapping with it (the configuration
goes back to Ready To Use); other domains (monitoring data, once SEB client connections exist) register
``ExamDependencies`` to be listed in the report and deleted too. The SEB restriction on the LMS is released
after the deletion is committed.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import delete, event, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from sebframe.core.accounts.dependencies import DeleteOption, Dependent, UserDependencies, register_user_dependencies
from sebframe.core.accounts.roles import EntityType
from sebframe.core.db import utc_now
from sebframe.core.db.models import Exam, ExamConfiguration, ExamConfigurationMapping, ExamSupporter, Indicator
from sebframe.types import QuizData

log = logging.getLogger(__name__)

IN_USE, READY_TO_USE = "IN_USE", "READY_TO_USE"


@dataclass(frozen=True, slots=True)
class ExamDependencies:
    """One kind of data another domain keeps per exam: how to list it (short texts) and to delete it."""

    label: str
    find: Callable[[AsyncSession, int], Awaitable[list[str]]]
    delete: Callable[[AsyncSession, int], Awaitable[None]]


EXAM_DEPENDENCIES: list[ExamDependencies] = []


def register_exam_dependencies(provider: ExamDependencies) -> None:
    if all(existing.label != provider.label for existing in EXAM_DEPENDENCIES):
        EXAM_DEPENDENCIES.append(provider)


@dataclass(frozen=True, slots=True)
class ExamDeletionReport:
    exam_id: int
    exam_name: str
    indicators: list[str]
    supporters: list[str]
    configuration: str | None  # goes back to Ready To Use
    restriction: str | None  # the SEB restriction that is released on the LMS
    other: list[tuple[str, list[str]]]  # registered dependencies (e.g. monitoring data)
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
    found = []
    for provider in EXAM_DEPENDENCIES:
        items = await provider.find(session, exam_id)
        if items:
            found.append((provider.label, items))
    return found


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
    for provider in EXAM_DEPENDENCIES:
        for exam_id in ids:
            await provider.delete(session, exam_id)
    await session.execute(delete(ExamConfigurationMapping).where(ExamConfigurationMapping.exam_id.in_(ids)))
    await session.execute(delete(Indicator).where(Indicator.exam_id.in_(ids)))
    await session.execute(delete(ExamSupporter).where(ExamSupporter.exam_id.in_(ids)))
    await session.execute(delete(Exam).where(Exam.id.in_(ids)))
    return pending


# -- user deletion with exams ------------------------------------------------------------------------

# Set by the exam service: releases the restrictions of exams deleted with their owner (after the commit).
ReleaseHook = Callable[[list[PendingRelease]], None]
_release_hook: list[ReleaseHook] = []


def set_release_hook(hook: ReleaseHook) -> None:
    _release_hook[:] = [hook]


async def _find_owned(session: AsyncSession, user_id: int) -> list[Dependent]:
    rows = await session.execute(select(Exam.id, Exam.name).where(Exam.owner_id == user_id).order_by(Exam.name))
    return [Dependent(EntityType.EXAM.value, str(row.id), row.name) for row in rows]


async def _delete_owned(session: AsyncSession, user_id: int) -> None:
    owned = [int(dependent.entity_id) for dependent in await _find_owned(session, user_id)]
    pending = await delete_exam_rows(session, owned)
    if pending and _release_hook:
        hook = _release_hook[0]
        event.listen(session.sync_session, "after_commit", lambda _session: hook(pending), once=True)


register_user_dependencies(
    UserDependencies("Exams", frozenset({DeleteOption.WITH_EXAMS, DeleteOption.WITH_ALL}), _find_owned,
                     _delete_owned)
)
