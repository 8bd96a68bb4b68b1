"""Quiz lookup across an institution's active LMS setups, each asked on its own with a deadline.

A slow or failing LMS yields a status with the reason instead of holding up the others; answers are
cached briefly per setup and filter, since admins page and sort the same lookup repeatedly.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from sqlalchemy import select

from sebframe.core.accounts.actor import Actor
from sebframe.core.db import Database
from sebframe.core.db.models import Exam, LmsSetup
from sebframe.core.http import describe_http_failure
from sebframe.core.lms.setups import LmsSetupService
from sebframe.types import QuizData, QuizFilter

DEFAULT_TIMEOUT_SECONDS = 8.0
DEFAULT_CACHE_SECONDS = 60.0


class LookupState(StrEnum):
    OK = "OK"
    FAILED = "FAILED"
    TIMEOUT = "TIMEOUT"


@dataclass(frozen=True, slots=True)
class FoundQuiz:
    setup_id: int
    setup_name: str
    lms_type: str
    quiz: QuizData


@dataclass(frozen=True, slots=True)
class SetupLookup:
    """What one LMS setup answered."""

    setup_id: int
    setup_name: str
    state: LookupState
    message: str = ""
    quizzes: list[FoundQuiz] = field(default_factory=list)


def default_start_from(now: datetime | None = None) -> datetime:
    """The lookup's default start filter: one year ago."""
    return (now or datetime.now(UTC)) - timedelta(days=365)


class QuizLookupService:
    def __init__(self, db: Database, setups: LmsSetupService, *, timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
                 cache_seconds: float = DEFAULT_CACHE_SECONDS) -> None:
        self.db = db
        self.setups = setups
        self.timeout_seconds = timeout_seconds
        self.cache_seconds = cache_seconds
        self._cache: dict[tuple[int, datetime, QuizFilter], tuple[float, list[QuizData]]] = {}

    async def lookup(self, actor: Actor, quiz_filter: QuizFilter) -> list[SetupLookup]:
        """Ask every active LMS setup of the actor's institution at once."""
        setups = await self.setups.active_setups(actor)
        return list(await asyncio.gather(*(self._lookup(setup, quiz_filter) for setup in setups)))

    async def lookup_setup(self, actor: Actor, setup_id: int, quiz_filter: QuizFilter) -> SetupLookup:
        """Ask one setup (the UI fills its list per LMS as the answers arrive)."""
        setup = await self.setups.get(actor, setup_id)
        if not setup.active:
            return SetupLookup(setup.id, setup.name, LookupState.FAILED, "the LMS setup is inactive")
        return await self._lookup(setup, quiz_filter)

    async def _lookup(self, setup: LmsSetup, quiz_filter: QuizFilter) -> SetupLookup:
        key = (setup.id, setup.updated_at, quiz_filter)
        cached = self._cache.get(key)
        if cached is not None and time.monotonic() - cached[0] < self.cache_seconds:
            quizzes = cached[1]
        else:
            try:
                adapter = self.setups.adapter(setup)
                quizzes = await asyncio.wait_for(adapter.find_quizzes(quiz_filter), self.timeout_seconds)
            except TimeoutError:
                return SetupLookup(setup.id, setup.name, LookupState.TIMEOUT,
                                   f"{setup.name} did not answer within {self.timeout_seconds:g} s")
            except Exception as exc:  # one broken LMS must not break the lookup of the others
                failure = describe_http_failure(exc, setup.url)
                return SetupLookup(setup.id, setup.name, LookupState.FAILED, failure.message)
            self._cache[key] = (time.monotonic(), quizzes)
        imported = await self._imported_ids(setup.id)
        found = [FoundQuiz(setup.id, setup.name, setup.lms_type, quiz) for quiz in quizzes if quiz.id not in imported]
        return SetupLookup(setup.id, setup.name, LookupState.OK, f"{len(found)} quizzes", found)

    async def _imported_ids(self, setup_id: int) -> set[str]:
        async with self.db.read() as session:
            rows = await session.execute(select(Exam.external_id).where(Exam.lms_setup_id == setup_id))
            return {row.external_id for row in rows}

    def clear(self) -> None:
        self._cache.clear()
