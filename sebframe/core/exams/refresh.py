"""Keeping imported exams in step with their LMS, and their status with the clock (SEB Server's
``ExamUpdateHandler`` and ``ExamSessionControlTask``).

Every ``interval_seconds`` (default 60, ``SEBFRAME_EXAM_REFRESH_INTERVAL_SECONDS``; 0 switches it off) the
active exams of active LMS setups are fetched by quiz id, one call per setup: changed name, description,
times and start URL are copied, quizzes the LMS no longer has (or an LMS that fails) mark the exam
unavailable. Then each exam's status follows its (new) times; an exam that starts running gets its SEB
restriction applied, one that finishes has it released. An LMS error affects only that setup's exams, and a
failing round is logged: the task keeps running until the server stops.

With several server processes each runs the task; the updates are idempotent (the LMS calls repeat).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import select

from sebframe.core.db import Database
from sebframe.core.db.models import Exam, LmsSetup
from sebframe.core.exams.restriction import RestrictionService
from sebframe.core.exams.types import ExamStatus, status_at
from sebframe.core.http import describe_http_failure
from sebframe.core.lms.setups import LmsSetupService
from sebframe.types import QuizData

log = logging.getLogger(__name__)


@dataclass
class RefreshReport:
    """What one round did (for tests and the log)."""

    updated: list[int] = field(default_factory=list)  # exams whose course data changed
    unavailable: list[int] = field(default_factory=list)  # exams whose LMS or quiz is not reachable
    started: list[int] = field(default_factory=list)
    finished: list[int] = field(default_factory=list)
    failures: dict[int, str] = field(default_factory=dict)  # LMS setup id -> why it failed


class ExamRefresher:
    def __init__(self, db: Database, lms_setups: LmsSetupService, restriction: RestrictionService, *,
                 interval_seconds: float = 60.0, timeout_seconds: float = 30.0) -> None:
        self.db = db
        self.lms_setups = lms_setups
        self.restriction = restriction
        self.interval_seconds = interval_seconds
        self.timeout_seconds = timeout_seconds
        self._task: asyncio.Task[None] | None = None

    # -- the periodic task ---------------------------------------------------------------------

    def start(self) -> None:
        """Run ``run_once`` now and every interval, in the background, until ``stop``."""
        if self._task is None and self.interval_seconds > 0:
            self._task = asyncio.get_running_loop().create_task(self._loop(), name="sebframe-exam-refresh")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def _loop(self) -> None:
        while True:
            try:
                await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:  # a bad round (database away, a bug) must not end the task
                log.exception("exam refresh failed; trying again in %g s", self.interval_seconds)
            await asyncio.sleep(self.interval_seconds)

    # -- one round -----------------------------------------------------------------------------

    async def run_once(self, now: datetime | None = None) -> RefreshReport:
        report = RefreshReport()
        async with self.db.read() as session:
            exams = list((await session.execute(select(Exam).where(Exam.active.is_(True)))).scalars())
            setup_ids = {exam.lms_setup_id for exam in exams if exam.lms_setup_id is not None}
            setups = {setup.id: setup for setup in (await session.execute(
                select(LmsSetup).where(LmsSetup.id.in_(setup_ids)))).scalars()} if setup_ids else {}
        by_setup: dict[int | None, list[Exam]] = defaultdict(list)
        for listed in exams:
            by_setup[listed.lms_setup_id].append(listed)
        quizzes: dict[int, QuizData | None] = {}  # exam id -> fresh quiz (None: not available)
        for setup_id, group in by_setup.items():
            setup = setups.get(setup_id) if setup_id is not None else None
            if setup is None or not setup.active:
                quizzes.update({exam.id: None for exam in group})
                continue
            found = await self._fetch(setup, group, report)
            for listed in group:
                quizzes[listed.id] = found.get(listed.external_id) if found is not None else None
        moment = now or datetime.now(UTC)
        async with self.db.transaction() as session:
            for cached in exams:
                exam = await session.get(Exam, cached.id)
                if exam is None or not exam.active:
                    continue
                quiz = quizzes.get(exam.id)
                if quiz is None:
                    if exam.lms_available:
                        exam.lms_available = False
                    report.unavailable.append(exam.id)
                else:
                    if _apply_quiz(exam, quiz):
                        report.updated.append(exam.id)
                    exam.lms_available = True
                    exam.quiz_refreshed_at = moment
                status = status_at(exam.start_time, exam.end_time, moment)
                if status != exam.status:
                    if status == ExamStatus.RUNNING:
                        report.started.append(exam.id)
                    elif status == ExamStatus.FINISHED:
                        report.finished.append(exam.id)
                    log.info("exam %s (%s): %s -> %s", exam.id, exam.name, exam.status, status.value)
                    exam.status = status.value
        for exam_id in report.started:
            await self.restriction.apply_if_supported(exam_id, "exam started")
        for exam_id in report.finished:
            await self.restriction.release_if_applied(exam_id, "exam finished")
        return report

    async def _fetch(self, setup: LmsSetup, exams: list[Exam], report: RefreshReport) -> dict[str, QuizData] | None:
        ids = sorted({exam.external_id for exam in exams})
        try:
            adapter = self.lms_setups.adapter(setup)
            found = await asyncio.wait_for(adapter.get_quizzes(ids), self.timeout_seconds)
        except TimeoutError:
            report.failures[setup.id] = f"{setup.name} did not answer within {self.timeout_seconds:g} s"
        except Exception as exc:
            report.failures[setup.id] = describe_http_failure(exc, setup.url).message
        else:
            return {quiz.id: quiz for quiz in found}
        log.warning("exam refresh: LMS setup %s: %s", setup.id, report.failures[setup.id])
        return None


def _apply_quiz(exam: Exam, quiz: QuizData) -> bool:
    """Copy what the LMS changed; True if anything did."""
    fresh = {"name": quiz.name[:255], "description": quiz.description or "",
             "start_url": (quiz.start_url or "")[:2048], "start_time": quiz.start_time, "end_time": quiz.end_time}
    changed = False
    for name, value in fresh.items():
        if getattr(exam, name) != value:
            setattr(exam, name, value)
            changed = True
    return changed
