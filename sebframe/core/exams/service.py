"""Exams: import from an LMS (with an exam template or the default Ping indicator), list, view, edit,
the "missing setup" check of running exams, and deletion with its report.

The course data (name, description, times, start URL) belongs to the LMS: it is copied on import and kept
fresh by the refresh task (``refresh.py``); only the exam type, the supporters, the SEB client checks
(``client_checks.py``), the attached configuration (``configuration.py``), the indicators (``indicators.py``)
and the SEB restriction details (``restriction.py``) are SEB Server's.
"""

from __future__ import annotations

import asyncio
import builtins  # `list` is also a method name of a class here, shadowing the builtin in its signatures
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from sebframe.core.accounts.activity import Activity, record_activity
from sebframe.core.accounts.actor import Actor, Scope
from sebframe.core.accounts.dependencies import UserDependencies
from sebframe.core.accounts.roles import EntityType, Privilege
from sebframe.core.db import Database, utc_now
from sebframe.core.db.models import (
    Exam,
    ExamConfiguration,
    ExamConfigurationMapping,
    ExamSupporter,
    ExamTemplate,
    Indicator,
    LmsSetup,
    UserAccount,
)
from sebframe.core.errors import Conflict, PermissionDenied, ValidationFailed
from sebframe.core.exams.access import load_exam, may, supporter_ids, visible
from sebframe.core.exams.client_checks import apply_client_checks
from sebframe.core.exams.configuration import ExamConfigurationService
from sebframe.core.exams.connections import ActiveConnections
from sebframe.core.exams.deletion import (
    ExamDeletionReport,
    PendingRelease,
    delete_exam_rows,
    other_dependencies,
    owned_exams,
)
from sebframe.core.exams.indicators import IndicatorService, IndicatorSpec, default_ping, new_row
from sebframe.core.exams.refresh import ExamRefresher
from sebframe.core.exams.restriction import RestrictionService
from sebframe.core.exams.schemas import ExamImport, ExamUpdate
from sebframe.core.exams.supporters import check_supporters, display_name, supporters_of, usable_supporters
from sebframe.core.exams.templates import ExamTemplateService, template_indicators, template_supporter_ids
from sebframe.core.exams.types import ExamStatus, ExamType, status_at
from sebframe.core.http import describe_http_failure
from sebframe.core.lms.setups import LmsSetupService
from sebframe.core.paging import ListParams, Page, contains, fetch_page
from sebframe.core.plugins import PluginRegistry
from sebframe.core.sebconfig.exam_configs import ExamConfigCreate, ExamConfigService
from sebframe.core.secrets import SecretBox
from sebframe.types import QuizData

log = logging.getLogger(__name__)

EXAM_FILTERS = ("institution_id", "name", "lms_setup_id", "status", "exam_type", "start_from")
_SORTABLE = {"name": Exam.name, "start_time": Exam.start_time, "end_time": Exam.end_time,
             "exam_type": Exam.exam_type, "status": Exam.status, "lms_setup_id": Exam.lms_setup_id,
             "institution_id": Exam.institution_id}
DEFAULT_LMS_TIMEOUT_SECONDS = 30.0

MISSING_SUPPORTER = "no exam supporter assigned"
MISSING_CONFIGURATION = "no exam configuration attached"
MISSING_INDICATOR = "no monitoring indicator defined"
MISSING_RESTRICTION = "the SEB restriction is not applied on the LMS"
MISSING_LMS = "the LMS is not available"


@dataclass(frozen=True, slots=True)
class ImportPreview:
    """A quiz as the import page shows it; ``refusal`` says why it cannot be imported."""

    setup: LmsSetup
    quiz: QuizData
    refusal: str | None
    imported_exam_id: int | None = None


@dataclass(frozen=True, slots=True)
class ExamDetails:
    """Everything the exam view shows (besides configuration, indicators and restriction details)."""

    exam: Exam
    setup: LmsSetup | None
    supporters: list[UserAccount]
    template: ExamTemplate | None
    missing: list[str]
    may_modify: bool
    may_write: bool
    restriction_supported: bool


@dataclass(frozen=True, slots=True)
class ExamRow:
    """One line of the exam list."""

    exam: Exam
    setup_name: str
    missing: list[str] = field(default_factory=list)
    may_modify: bool = False
    may_write: bool = False


class ExamService:
    def __init__(self, db: Database, plugins: PluginRegistry, secrets: SecretBox, lms_setups: LmsSetupService,
                 exam_configs: ExamConfigService, *, refresh_interval_seconds: float = 60.0,
                 lms_timeout_seconds: float = DEFAULT_LMS_TIMEOUT_SECONDS) -> None:
        self.db = db
        self.plugins = plugins
        self.lms_setups = lms_setups
        self.exam_configs = exam_configs
        self.lms_timeout_seconds = lms_timeout_seconds
        self.connections = ActiveConnections()
        self.restriction = RestrictionService(db, lms_setups, exam_configs, plugins, self.connections)
        lms_setups.deactivation_listeners.append(self.restriction.on_lms_setup_deactivated)
        self.configuration = ExamConfigurationService(db, exam_configs, secrets, self.restriction, self.connections)
        self.indicators = IndicatorService(db, plugins)
        self.templates = ExamTemplateService(db, plugins, exam_configs)
        self.refresher = ExamRefresher(db, lms_setups, self.restriction, interval_seconds=refresh_interval_seconds,
                                       timeout_seconds=lms_timeout_seconds)
        self._background: set[asyncio.Task[object]] = set()

    def user_dependencies(self) -> UserDependencies:
        """Deleting a user account with its exams (wired into the user service by ``Services.create``)."""
        return owned_exams(self._release_later)

    # -- import --------------------------------------------------------------------------------

    async def preview_import(self, actor: Actor, lms_setup_id: int, quiz_id: str) -> ImportPreview:
        """The quiz for the import page; raises when the setup or the quiz cannot be used at all."""
        setup = await self._import_setup(actor, lms_setup_id)
        quiz = await self._fetch_quiz(setup, quiz_id)
        refusal = ended_refusal(quiz)
        async with self.db.read() as session:
            existing = await self._imported(session, setup.id, quiz.id)
        if existing is not None:
            refusal = f"this quiz is imported already, as exam {existing.name!r}"
        return ImportPreview(setup, quiz, refusal, existing.id if existing else None)

    async def import_exam(self, actor: Actor, data: ExamImport) -> Exam:
        """Import a quiz as an exam; ended and already imported quizzes are refused."""
        setup = await self._import_setup(actor, data.lms_setup_id)
        quiz = await self._fetch_quiz(setup, data.quiz_id)
        refusal = ended_refusal(quiz)
        if refusal:
            raise ValidationFailed({"quiz_id": refusal})
        async with self.db.read() as session:
            existing = await self._imported(session, setup.id, quiz.id)
            if existing is not None:
                raise Conflict(f"quiz {quiz.name!r} is imported already, as exam {existing.name!r}")
            template = None
            if data.exam_template_id is not None:
                template = await self.templates.for_import(session, actor, data.exam_template_id,
                                                           setup.institution_id)
            supporter_list = data.supporter_ids
            if supporter_list is None:
                supporter_list = (await usable_supporters(session, setup.institution_id,
                                                          template_supporter_ids(template)) if template else [])
            await check_supporters(session, setup.institution_id, supporter_list, required=True)
        exam_type = data.exam_type or (template.exam_type if template else ExamType.UNDEFINED.value)
        indicators = template_indicators(template) if template else []
        if not indicators:
            ping = default_ping(self.indicators.types())
            indicators = [ping] if ping else []
        configuration = await self._configuration_from(actor, template, quiz.name) if template else None
        try:
            exam = await self._create(actor, setup, quiz, exam_type, supporter_list, indicators, template,
                                      configuration)
        except BaseException:
            if configuration is not None:  # nothing was imported: do not leave the new configuration behind
                try:
                    await self.exam_configs.delete(actor, configuration.id)
                except Exception:
                    log.exception("could not delete exam configuration %s after a failed import", configuration.id)
            raise
        if exam.status == ExamStatus.RUNNING:
            await self.restriction.apply_if_supported(exam.id, "exam imported while running")
        return exam

    async def _create(self, actor: Actor, setup: LmsSetup, quiz: QuizData, exam_type: str, supporters: list[int],
                      indicators: list[IndicatorSpec], template: ExamTemplate | None,
                      configuration: ExamConfiguration | None) -> Exam:
        now = utc_now()
        async with self.db.transaction() as session:
            exam = Exam(
                institution_id=setup.institution_id, lms_setup_id=setup.id, external_id=quiz.id,
                name=quiz.name[:255], description=quiz.description or "", start_url=(quiz.start_url or "")[:2048],
                start_time=quiz.start_time, end_time=quiz.end_time, lms_available=True, quiz_refreshed_at=now,
                exam_type=exam_type, status=status_at(quiz.start_time, quiz.end_time, now).value, active=True,
                owner_id=actor.user_id, exam_template_id=template.id if template else None,
            )
            session.add(exam)
            await session.flush()
            session.add_all([ExamSupporter(exam_id=exam.id, user_id=user_id) for user_id in supporters])
            session.add_all([new_row(exam.id, spec) for spec in indicators])
            if configuration is not None:
                await self.exam_configs.mark_in_use(actor, configuration.id, session=session,
                                                    note=f"attached to exam {exam.name} on import")
                session.add(ExamConfigurationMapping(exam_id=exam.id, configuration_id=configuration.id))
            details = [f"quiz {quiz.id} of LMS setup {setup.name}"]
            if template is not None:
                details.append(f"exam template {template.name}")
            record_activity(session, actor, Activity.IMPORT, EntityType.EXAM, exam.id, exam.name,
                            "imported: " + ", ".join(details), institution_id=exam.institution_id)
        return exam

    async def _configuration_from(self, actor: Actor, template: ExamTemplate,
                                  exam_name: str) -> ExamConfiguration | None:
        """The exam template's configuration template as a new, Ready To Use exam configuration named
        "<date> <exam name>" (SEB Server's naming), attached in the import's transaction."""
        if template.configuration_template_id is None:
            return None
        try:
            zone = ZoneInfo(actor.timezone)
        except (KeyError, ValueError):
            zone = ZoneInfo("UTC")
        base = f"{datetime.now(zone).date().isoformat()} {exam_name}"
        description = f"Created on import of exam {exam_name} with exam template {template.name}"[:4000]
        for attempt in range(1, 10):
            name = base[:255] if attempt == 1 else f"{base[:245]} ({attempt})"
            data = ExamConfigCreate(name=name, description=description, status="READY_TO_USE",
                                    template_id=template.configuration_template_id)
            try:
                return await self.exam_configs.create(actor, data)
            except ValidationFailed as exc:
                if "already exists" in exc.field_errors.get("name", ""):
                    continue
                raise ValidationFailed({"exam_template_id": f"the exam configuration of exam template "
                                                            f"{template.name!r} cannot be created: {exc.message}"}) \
                    from None
        raise ValidationFailed({"exam_template_id": f"no free name for the exam configuration {base!r}"})

    async def _import_setup(self, actor: Actor, lms_setup_id: int) -> LmsSetup:
        setup = await self.lms_setups.get(actor, lms_setup_id)
        if not actor.may(Privilege.WRITE, EntityType.EXAM, institution_id=setup.institution_id):
            raise PermissionDenied("you may not import exams in this institution")
        if not setup.active:
            raise ValidationFailed({"lms_setup_id": f"LMS setup {setup.name!r} is inactive; activate it to import "
                                                    "from it"})
        return setup

    async def _fetch_quiz(self, setup: LmsSetup, quiz_id: str) -> QuizData:
        try:
            adapter = self.lms_setups.adapter(setup)
            quizzes = await asyncio.wait_for(adapter.get_quizzes([quiz_id]), self.lms_timeout_seconds)
        except ValidationFailed as exc:  # the LMS type's plugin is not installed (any more)
            raise ValidationFailed({"lms_setup_id": exc.message}) from None
        except TimeoutError:
            raise ValidationFailed({"quiz_id": f"{setup.name} did not answer within "
                                               f"{self.lms_timeout_seconds:g} s"}) from None
        except Exception as exc:
            raise ValidationFailed({"quiz_id": describe_http_failure(exc, setup.url).message}) from None
        quiz = next((quiz for quiz in quizzes if quiz.id == quiz_id), None)
        if quiz is None:
            raise ValidationFailed({"quiz_id": f"{setup.name} has no quiz {quiz_id!r}"})
        return quiz

    @staticmethod
    async def _imported(session: AsyncSession, setup_id: int, quiz_id: str) -> Exam | None:
        statement = select(Exam).where(Exam.lms_setup_id == setup_id, Exam.external_id == quiz_id)
        return (await session.execute(statement)).scalars().first()

    # -- queries -------------------------------------------------------------------------------

    async def list(self, actor: Actor, params: ListParams, *, reach: EntityType = EntityType.EXAM) -> Page[Exam]:
        """``reach``: only exams whose data of that kind the actor may also read (``CLIENT_CONNECTION``: the
        exams it may monitor)."""
        if actor.scope(Privilege.READ, EntityType.EXAM) == Scope.NONE:
            raise PermissionDenied("you may not see exams")
        statement = visible(select(Exam), actor)
        if reach is not EntityType.EXAM:
            statement = visible(statement, actor, entity_type=reach)
        filters = params.filters
        for name in ("institution_id", "lms_setup_id"):
            if name in filters:
                if not filters[name].isdigit():
                    raise ValidationFailed({name: "must be a number"})
                statement = statement.where(getattr(Exam, name) == int(filters[name]))
        if "name" in filters:
            statement = statement.where(contains(Exam.name, filters["name"]))
        if "status" in filters:
            if filters["status"] not in ExamStatus.__members__:
                raise ValidationFailed({"status": f"choose one of {', '.join(ExamStatus)}"})
            statement = statement.where(Exam.status == filters["status"])
        if "exam_type" in filters:
            if filters["exam_type"] not in ExamType.__members__:
                raise ValidationFailed({"exam_type": f"choose one of {', '.join(ExamType)}"})
            statement = statement.where(Exam.exam_type == filters["exam_type"])
        if "start_from" in filters:
            start_from = _as_utc(filters["start_from"])
            # Starts at or after the time, or is still open then (the lookup's rule).
            statement = statement.where(or_(Exam.start_time >= start_from, Exam.end_time.is_(None),
                                            Exam.end_time >= start_from))
        async with self.db.read() as session:
            return await fetch_page(session, statement, params, _SORTABLE, [Exam.name, Exam.id])

    async def rows(self, actor: Actor, params: ListParams, *, reach: EntityType = EntityType.EXAM) -> Page[ExamRow]:
        """A list page with each exam's LMS setup name and missing setup (running exams only)."""
        page = await self.list(actor, params, reach=reach)
        async with self.db.read() as session:
            missing = await self._missing(session, page.items)
            setup_ids = {exam.lms_setup_id for exam in page.items if exam.lms_setup_id is not None}
            names = {row.id: row.name for row in await session.execute(
                select(LmsSetup.id, LmsSetup.name).where(LmsSetup.id.in_(setup_ids)))} if setup_ids else {}
            supported = {row.exam_id for row in await session.execute(
                select(ExamSupporter.exam_id).where(ExamSupporter.exam_id.in_([exam.id for exam in page.items]),
                                                    ExamSupporter.user_id == actor.user_id))}
        items = []
        for exam in page.items:
            mine = {actor.user_id} if exam.id in supported else set()
            items.append(ExamRow(exam, names.get(exam.lms_setup_id or 0, ""), missing.get(exam.id, []),
                                 may(actor, Privilege.MODIFY, exam, mine), may(actor, Privilege.WRITE, exam, mine)))
        return Page(items=items, total=page.total, page=page.page, size=page.size)

    async def get(self, actor: Actor, exam_id: int) -> Exam:
        async with self.db.read() as session:
            return await load_exam(session, actor, exam_id)

    async def details(self, actor: Actor, exam_id: int) -> ExamDetails:
        async with self.db.read() as session:
            exam = await load_exam(session, actor, exam_id)
            setup = await session.get(LmsSetup, exam.lms_setup_id) if exam.lms_setup_id else None
            supporters = await supporters_of(session, exam.id)
            template = await session.get(ExamTemplate, exam.exam_template_id) if exam.exam_template_id else None
            missing = (await self._missing(session, [exam])).get(exam.id, [])
        ids = {user.id for user in supporters}
        return ExamDetails(exam, setup, supporters, template, missing,
                           may(actor, Privilege.MODIFY, exam, ids), may(actor, Privilege.WRITE, exam, ids),
                           self.restriction.supported(setup.lms_type if setup else None))

    async def missing_setup(self, actor: Actor, exam_id: int) -> builtins.list[str]:
        """What a running exam still lacks (empty for exams that do not run)."""
        async with self.db.read() as session:
            exam = await load_exam(session, actor, exam_id)
            return (await self._missing(session, [exam])).get(exam.id, [])

    async def _missing(self, session: AsyncSession, exams: builtins.list[Exam]) -> dict[int, builtins.list[str]]:
        running = [exam for exam in exams if exam.status == ExamStatus.RUNNING]
        if not running:
            return {}
        ids = [exam.id for exam in running]

        async def having(column: InstrumentedAttribute[int]) -> set[int]:
            return {row[0] for row in await session.execute(select(column).where(column.in_(ids)).distinct())}

        with_supporters = await having(ExamSupporter.exam_id)
        with_config = await having(ExamConfigurationMapping.exam_id)
        with_indicators = await having(Indicator.exam_id)
        setup_ids = {exam.lms_setup_id for exam in running if exam.lms_setup_id is not None}
        setups = {setup.id: setup for setup in (await session.execute(
            select(LmsSetup).where(LmsSetup.id.in_(setup_ids)))).scalars()} if setup_ids else {}
        result: dict[int, list[str]] = {}
        for exam in running:
            setup = setups.get(exam.lms_setup_id or 0)
            missing = []
            if setup is None or not setup.active or not exam.lms_available:
                missing.append(MISSING_LMS)
            if exam.id not in with_supporters:
                missing.append(MISSING_SUPPORTER)
            if exam.id not in with_config:
                missing.append(MISSING_CONFIGURATION)
            if setup is not None and self.restriction.supported(setup.lms_type) and not exam.restriction_applied:
                missing.append(MISSING_RESTRICTION)
            if exam.id not in with_indicators:
                missing.append(MISSING_INDICATOR)
            if missing:
                result[exam.id] = missing
        return result

    # -- edit ----------------------------------------------------------------------------------

    async def update(self, actor: Actor, exam_id: int, data: ExamUpdate) -> Exam:
        async with self.db.transaction() as session:
            exam = await load_exam(session, actor, exam_id, Privilege.MODIFY, lock=True)
            changes = []
            if data.exam_type is not None and data.exam_type != exam.exam_type:
                exam.exam_type = data.exam_type
                changes.append(f"type {data.exam_type}")
            if data.supporter_ids is not None:
                users = await check_supporters(session, exam.institution_id, data.supporter_ids, required=True)
                current = await supporter_ids(session, exam.id)
                wanted = {user.id for user in users}
                if wanted != current:
                    for user_id in current - wanted:
                        supporter = await session.get(ExamSupporter, (exam.id, user_id))
                        if supporter is not None:
                            await session.delete(supporter)
                    session.add_all([ExamSupporter(exam_id=exam.id, user_id=user_id)
                                     for user_id in wanted - current])
                    changes.append("supporters " + ", ".join(user.username for user in users))
            changes += apply_client_checks(exam, data)
            if changes:
                exam.updated_at = utc_now()
                record_activity(session, actor, Activity.MODIFY, EntityType.EXAM, exam.id, exam.name,
                                "; ".join(changes), institution_id=exam.institution_id)
        return exam

    # -- delete --------------------------------------------------------------------------------

    async def deletion_report(self, actor: Actor, exam_id: int) -> ExamDeletionReport:
        async with self.db.read() as session:
            exam = await load_exam(session, actor, exam_id, Privilege.WRITE)
            return await self._report(session, exam)

    async def _report(self, session: AsyncSession, exam: Exam) -> ExamDeletionReport:
        indicators = [row.name for row in await session.execute(
            select(Indicator.name).where(Indicator.exam_id == exam.id).order_by(Indicator.id))]
        supporters = [display_name(user) for user in await supporters_of(session, exam.id)]
        configuration = (await session.execute(
            select(ExamConfiguration.name).join(ExamConfigurationMapping,
                                                ExamConfigurationMapping.configuration_id == ExamConfiguration.id)
            .where(ExamConfigurationMapping.exam_id == exam.id))).scalar_one_or_none()
        restriction = None
        if exam.restriction_applied and exam.lms_setup_id is not None:
            setup = await session.get(LmsSetup, exam.lms_setup_id)
            restriction = f"on {setup.name if setup else 'the LMS'} (quiz {exam.external_id})"
        return ExamDeletionReport(exam.id, exam.name, indicators, supporters, configuration, restriction,
                                  await other_dependencies(session, exam.id))

    async def delete(self, actor: Actor, exam_id: int) -> ExamDeletionReport:
        """Delete the exam with its dependencies (report first); then release its SEB restriction."""
        async with self.db.transaction() as session:
            exam = await load_exam(session, actor, exam_id, Privilege.WRITE, lock=True)
            report = await self._report(session, exam)
            await self.configuration.release_in(session, actor, exam)
            pending = await delete_exam_rows(session, [exam.id], release_configs=False)
            record_activity(session, actor, Activity.DELETE, EntityType.EXAM, exam.id, exam.name,
                            f"{len(report.indicators)} indicator(s)"
                            + (f", configuration {report.configuration} released" if report.configuration else ""),
                            institution_id=exam.institution_id)
        report.warnings.extend(await self.restriction.release_pending(pending))
        return report

    def _release_later(self, pending: builtins.list[PendingRelease]) -> None:
        """Restrictions of exams deleted with their owner's account: released in the background."""
        try:
            task = asyncio.get_running_loop().create_task(self.restriction.release_pending(pending))
        except RuntimeError:  # no event loop (not expected in the server)
            log.warning("SEB restrictions of %d deleted exam(s) could not be released", len(pending))
            return
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def close(self) -> None:
        await self.refresher.stop()
        for task in list(self._background):
            await asyncio.gather(task, return_exceptions=True)


def ended_refusal(quiz: QuizData, now: datetime | None = None) -> str | None:
    now = now or datetime.now(UTC)
    if quiz.end_time is not None and quiz.end_time <= now:
        return (f"the course ended on {quiz.end_time.strftime('%Y-%m-%d %H:%M')} UTC; ended courses cannot be "
                "imported")
    return None


def _as_utc(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ValidationFailed({"start_from": "use an ISO date or time like 2026-11-22 or 2026-11-22T14:30"}) \
            from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
