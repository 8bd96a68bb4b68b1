"""The SEB restriction of an exam's course on its LMS (SEB Server's ``SEBRestrictionService``).

What is pushed: the Config Key of the attached exam configuration's published settings, the exam's Browser
Exam Keys and the LMS-specific properties (the restriction type's ``fields``, stored in
``restriction_properties``). The restriction API comes from the plugin of the setup's LMS type
(``services.lms_setups.restriction_api``); without one the LMS does not support the feature.

Lifecycle (reference ``lms-apis.md`` §5.4):

* manual apply / release and saving the details (re-applied if the restriction is in place);
* apply when the exam starts running (refresh task) or is imported while running;
* re-apply with the new Config Key when the attached configuration is published, attached or removed,
  if the restriction is in place;
* release when the exam finishes (refresh task) or is deleted.

Fields declared with ``choices_from`` get their choices from the exam's course on the LMS
(:meth:`RestrictionService.lms_choices`, for the details dialog only): values stored but no longer listed stay,
marked missing; an LMS that does not answer gives the reason instead, and the dialog falls back to free text.

An LMS call never breaks a request: its outcome (or failure, with the reason) is stored in
``restriction_message``; the manual actions report a failure as ``Conflict`` after storing it. Unlike SEB
Server, the Config Keys already on the LMS are not merged in: the exam's restriction is the one pushed.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import httpx
from sqlalchemy import select

from sebframe.core.accounts.activity import Activity, record_activity
from sebframe.core.accounts.actor import Actor
from sebframe.core.accounts.roles import EntityType, Privilege, Role
from sebframe.core.db import Database, utc_now
from sebframe.core.db.models import Exam, ExamConfigurationMapping, LmsSetup
from sebframe.core.errors import Conflict, ValidationFailed
from sebframe.core.exams.access import load_exam
from sebframe.core.exams.connections import ActiveConnections
from sebframe.core.exams.deletion import PendingRelease, quiz_of
from sebframe.core.exams.schemas import RestrictionUpdate
from sebframe.core.exams.types import ExamStatus
from sebframe.core.http import describe_http_failure
from sebframe.core.lms.setups import LmsSetupService
from sebframe.core.plugins import PluginRegistry
from sebframe.core.sebconfig.exam_configs import ExamConfigService
from sebframe.types import ChoiceSource, RestrictionField, RestrictionType, SebRestriction

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_SECONDS = 30.0
# The details dialog waits this long for choices from the LMS, then offers free text.
CHOICES_TIMEOUT_SECONDS = 10.0


def reader_for(institution_id: int) -> Actor:
    """A read-only stand-in for automatic work (refresh task, listeners) that reads exam configurations."""
    return Actor(user_id=0, username="system", institution_id=institution_id,
                 roles=frozenset({Role.SEB_SERVER_ADMIN}))


def browser_exam_keys_of(exam: Exam) -> tuple[str, ...]:
    return tuple(key for key in (line.strip() for line in exam.browser_exam_keys.splitlines()) if key)


def course_id_of(exam: Exam) -> str:
    """The exam's course on the LMS as restriction APIs see it: the quiz's course id, else the quiz id (the
    exam's external id; the Open edX plugin's quiz ids are its course ids)."""
    quiz = quiz_of(exam)
    return quiz.course_id or quiz.id


def property_values(value: Any) -> list[str]:
    """A stored or posted property as a list of non-empty values."""
    items = value if isinstance(value, list) else [value]
    return [text for text in (str(item).strip() for item in items if item is not None) if text]


def properties_of(exam: Exam) -> dict[str, Any]:
    try:
        value = json.loads(exam.restriction_properties or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


@dataclass(frozen=True, slots=True)
class RestrictionOutcome:
    ok: bool
    message: str


@dataclass(frozen=True, slots=True)
class FieldOption:
    """A choice fetched from the LMS: the value stored and the name shown."""

    value: str
    label: str
    missing: bool = False  # stored, but the LMS no longer lists it


@dataclass(frozen=True, slots=True)
class FieldChoices:
    """The choices of one ``choices_from`` field, or why the LMS gave none (then: free text)."""

    options: tuple[FieldOption, ...] = ()
    failure: str = ""  # the reason, e.g. "the LMS did not answer within 10 s"


@dataclass(frozen=True, slots=True)
class RestrictionDetails:
    """An exam's restriction as the details dialog and the API show it."""

    exam_id: int
    supported: bool
    unsupported_reason: str  # why not (no restriction API for the LMS type, no LMS setup, ...)
    lms_type: str | None
    applied: bool
    message: str  # the outcome of the last LMS call
    config_keys: tuple[str, ...]
    browser_exam_keys: tuple[str, ...]
    properties: dict[str, Any]
    fields: tuple[RestrictionField, ...] = field(default_factory=tuple)


class RestrictionService:
    def __init__(self, db: Database, lms_setups: LmsSetupService, exam_configs: ExamConfigService,
                 plugins: PluginRegistry, connections: ActiveConnections, *,
                 timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
                 choices_timeout_seconds: float = CHOICES_TIMEOUT_SECONDS) -> None:
        self.db = db
        self.lms_setups = lms_setups
        self.exam_configs = exam_configs
        self.plugins = plugins
        self.connections = connections
        self.timeout_seconds = timeout_seconds
        self.choices_timeout_seconds = choices_timeout_seconds

    # -- what the LMS supports -----------------------------------------------------------------

    def restriction_type(self, lms_type: str | None) -> RestrictionType | None:
        return self.plugins.restriction_types().get(lms_type) if lms_type else None

    def supported(self, lms_type: str | None) -> bool:
        return self.restriction_type(lms_type) is not None

    def _unsupported(self, setup: LmsSetup | None, *, applying: bool) -> str | None:
        if setup is None:
            return "the exam's LMS setup no longer exists"
        if not self.supported(setup.lms_type):
            return f"the LMS type {setup.lms_type} of {setup.name!r} has no SEB restriction API (plugin) installed"
        if applying and not setup.active:
            return f"the LMS setup {setup.name!r} is inactive"
        return None

    # -- details -------------------------------------------------------------------------------

    async def details(self, actor: Actor, exam_id: int) -> RestrictionDetails:
        async with self.db.read() as session:
            exam = await load_exam(session, actor, exam_id)
            setup = await session.get(LmsSetup, exam.lms_setup_id) if exam.lms_setup_id else None
            mapping = await session.get(ExamConfigurationMapping, exam.id)
        return await self._details(exam, setup, mapping)

    async def _details(self, exam: Exam, setup: LmsSetup | None,
                       mapping: ExamConfigurationMapping | None) -> RestrictionDetails:
        restriction_type = self.restriction_type(setup.lms_type if setup else None)
        reason = self._unsupported(setup, applying=False) or ""
        return RestrictionDetails(
            exam_id=exam.id, supported=restriction_type is not None, unsupported_reason=reason,
            lms_type=setup.lms_type if setup else None, applied=exam.restriction_applied,
            message=exam.restriction_message, config_keys=await self._config_keys(exam, mapping),
            browser_exam_keys=browser_exam_keys_of(exam), properties=properties_of(exam),
            fields=restriction_type.fields if restriction_type else (),
        )

    async def _config_keys(self, exam: Exam, mapping: ExamConfigurationMapping | None) -> tuple[str, ...]:
        if mapping is None:
            return ()
        key = await self.exam_configs.files.config_key(reader_for(exam.institution_id), mapping.configuration_id)
        return (key,)

    async def lms_choices(self, actor: Actor, exam_id: int, current: Mapping[str, Any] | None = None
                          ) -> dict[str, FieldChoices]:
        """The choices of the exam's ``choices_from`` fields, by field name, fetched from its course on the LMS.

        Values of ``current`` (default: the stored properties) the LMS does not list stay, marked missing, so
        nothing is dropped silently. An LMS failure never raises: the field's ``failure`` gives the reason."""
        async with self.db.read() as session:
            exam = await load_exam(session, actor, exam_id)
            setup = await session.get(LmsSetup, exam.lms_setup_id) if exam.lms_setup_id else None
        restriction_type = self.restriction_type(setup.lms_type if setup else None)
        specs = [spec for spec in (restriction_type.fields if restriction_type else ()) if spec.choices_from]
        given = properties_of(exam) if current is None else current
        fetched: dict[ChoiceSource, FieldChoices] = {}
        result = {}
        for spec in specs:
            assert spec.choices_from is not None
            if spec.choices_from not in fetched:  # one LMS call per source, however many fields use it
                fetched[spec.choices_from] = await self._fetch_choices(spec.choices_from, exam, setup)
            result[spec.name] = _keeping(fetched[spec.choices_from], property_values(given.get(spec.name)))
        return result

    async def _fetch_choices(self, source: ChoiceSource, exam: Exam, setup: LmsSetup | None) -> FieldChoices:
        problem = self._unsupported(setup, applying=True)  # an inactive setup is not asked either
        if problem:
            return FieldChoices(failure=problem)
        assert setup is not None
        try:  # chapters are the only source so far
            chapters = await asyncio.wait_for(
                self.lms_setups.adapter(setup).get_course_chapters(course_id_of(exam)), self.choices_timeout_seconds)
        except Exception as exc:
            reason = self._describe(exc, setup, self.choices_timeout_seconds)
            log.info("the %s of exam %s could not be listed: %s", source, exam.id, reason)
            return FieldChoices(failure=reason)
        options = {chapter.id: FieldOption(chapter.id, chapter.name or chapter.id) for chapter in chapters}
        return FieldChoices(tuple(options.values()))

    async def update(self, actor: Actor, exam_id: int, data: RestrictionUpdate
                     ) -> tuple[RestrictionDetails, RestrictionOutcome | None]:
        """Save Browser Exam Keys and properties; re-applied at once where the restriction is in place."""
        async with self.db.transaction() as session:
            exam = await load_exam(session, actor, exam_id, Privilege.MODIFY, lock=True,
                                   doing="change the SEB restriction of")
            setup = await session.get(LmsSetup, exam.lms_setup_id) if exam.lms_setup_id else None
            changes = []
            if data.browser_exam_keys is not None:
                exam.browser_exam_keys = "\n".join(data.browser_exam_keys)
                changes.append(f"{len(data.browser_exam_keys)} Browser Exam Key(s)")
            if data.properties is not None:
                restriction_type = self.restriction_type(setup.lms_type if setup else None)
                if restriction_type is None and data.properties:
                    raise ValidationFailed({"properties": self._unsupported(setup, applying=False) or
                                            "the LMS has no SEB restriction properties"})
                fields = restriction_type.fields if restriction_type else ()
                exam.restriction_properties = json.dumps(validate_properties(fields, data.properties))
                changes.append("LMS properties")
            if changes:
                exam.updated_at = utc_now()
                record_activity(session, actor, Activity.MODIFY, EntityType.EXAM, exam.id, exam.name,
                                "SEB restriction details: " + ", ".join(changes),
                                institution_id=exam.institution_id)
            applied = exam.restriction_applied
        outcome = await self._push(exam_id, "apply", "details changed", actor) if applied and changes else None
        return await self.details(actor, exam_id), outcome

    # -- manual apply / release ----------------------------------------------------------------

    async def apply(self, actor: Actor, exam_id: int) -> RestrictionOutcome:
        """"Apply SEB Lock": refused when unsupported or (running exam) with active SEB connections;
        an LMS failure is stored and raised as ``Conflict``."""
        await self._check_manual(actor, exam_id, applying=True)
        return self._raise_failure(await self._push(exam_id, "apply", "", actor))

    async def release(self, actor: Actor, exam_id: int) -> RestrictionOutcome:
        await self._check_manual(actor, exam_id, applying=False)
        return self._raise_failure(await self._push(exam_id, "release", "", actor))

    async def _check_manual(self, actor: Actor, exam_id: int, *, applying: bool) -> None:
        async with self.db.read() as session:
            exam = await load_exam(session, actor, exam_id, Privilege.MODIFY, doing="change the SEB restriction of")
            setup = await session.get(LmsSetup, exam.lms_setup_id) if exam.lms_setup_id else None
            problem = self._unsupported(setup, applying=applying)
            if problem:
                raise Conflict(f"the SEB restriction cannot be {'applied' if applying else 'released'}: {problem}")
            if exam.status == ExamStatus.RUNNING:
                active = await self.connections.count(session, exam.id)
                if active:
                    raise Conflict(f"exam {exam.name!r} is running with {active} active SEB connection(s); "
                                   "change the SEB restriction when they have ended")

    @staticmethod
    def _raise_failure(outcome: RestrictionOutcome) -> RestrictionOutcome:
        if not outcome.ok:
            raise Conflict(outcome.message)
        return outcome

    # -- automatic -----------------------------------------------------------------------------

    async def apply_if_supported(self, exam_id: int, reason: str) -> RestrictionOutcome | None:
        """Apply when the LMS supports it (exam started, or imported while running); never raises."""
        return await self._automatic(exam_id, "apply", reason, only_if_applied=False)

    async def release_if_applied(self, exam_id: int, reason: str) -> RestrictionOutcome | None:
        return await self._automatic(exam_id, "release", reason, only_if_applied=True)

    async def reapply_if_applied(self, exam_id: int, reason: str) -> RestrictionOutcome | None:
        """Push the current details again where the restriction is in place (new Config Key, ...)."""
        return await self._automatic(exam_id, "apply", reason, only_if_applied=True)

    async def on_published(self, actor: Actor, configuration_id: int) -> None:
        """``ExamConfigService`` publish listener: the attached exam gets the new Config Key."""
        async with self.db.read() as session:
            exam_ids = [row.exam_id for row in await session.execute(
                select(ExamConfigurationMapping.exam_id)
                .where(ExamConfigurationMapping.configuration_id == configuration_id))]
        for exam_id in exam_ids:
            await self.reapply_if_applied(exam_id, "exam configuration published")

    async def on_lms_setup_deactivated(self, exam_ids: list[int]) -> None:
        """``LmsSetupService`` deactivation listener: exams that cannot run any more release their lock."""
        for exam_id in exam_ids:
            await self.release_if_applied(exam_id, "LMS setup deactivated")

    async def release_pending(self, pending: list[PendingRelease]) -> list[str]:
        """Release the restrictions of deleted exams; returns the failures."""
        failures = []
        for item in pending:
            async with self.db.read() as session:
                setup = await session.get(LmsSetup, item.setup_id)
            problem = self._unsupported(setup, applying=False)
            if problem:
                failures.append(f"SEB restriction of {item.exam_name!r} not released: {problem}")
                continue
            assert setup is not None
            try:
                api = self.lms_setups.restriction_api(setup)
                assert api is not None
                await asyncio.wait_for(api.release(item.quiz), self.timeout_seconds)
            except Exception as exc:
                failures.append(f"SEB restriction of {item.exam_name!r} not released: "
                                f"{self._describe(exc, setup)}")
        for failure in failures:
            log.warning("%s", failure)
        return failures

    async def _automatic(self, exam_id: int, action: Literal["apply", "release"], reason: str, *,
                         only_if_applied: bool) -> RestrictionOutcome | None:
        try:
            async with self.db.read() as session:
                exam = await session.get(Exam, exam_id)
                if exam is None or (only_if_applied and not exam.restriction_applied):
                    return None
                setup = await session.get(LmsSetup, exam.lms_setup_id) if exam.lms_setup_id else None
            if not self.supported(setup.lms_type if setup else None):
                return None
            return await self._push(exam_id, action, reason, None)
        except Exception:  # automatic work must never break the request or task that triggered it
            log.exception("automatic SEB restriction %s of exam %s failed", action, exam_id)
            return RestrictionOutcome(False, f"{action} failed unexpectedly; see the server log")

    # -- the LMS call --------------------------------------------------------------------------

    async def _push(self, exam_id: int, action: Literal["apply", "release"], reason: str,
                    actor: Actor | None) -> RestrictionOutcome:
        async with self.db.read() as session:
            exam = await session.get(Exam, exam_id)
            if exam is None:
                return RestrictionOutcome(False, "the exam no longer exists")
            setup = await session.get(LmsSetup, exam.lms_setup_id) if exam.lms_setup_id else None
            mapping = await session.get(ExamConfigurationMapping, exam.id)
        problem = self._unsupported(setup, applying=action == "apply")
        ok = problem is None
        text = f"{action} not possible: {problem}" if problem else ""
        if ok:
            assert setup is not None
            try:
                api = self.lms_setups.restriction_api(setup)
                assert api is not None
                quiz = quiz_of(exam)
                if action == "apply":
                    restriction = SebRestriction(config_keys=await self._config_keys(exam, mapping),
                                                 browser_exam_keys=browser_exam_keys_of(exam),
                                                 properties=properties_of(exam))
                    await asyncio.wait_for(api.apply(quiz, restriction), self.timeout_seconds)
                    text = (f"applied with {_count(restriction.config_keys, 'Config Key')} and "
                            f"{_count(restriction.browser_exam_keys, 'Browser Exam Key')}")
                else:
                    await asyncio.wait_for(api.release(quiz), self.timeout_seconds)
                    text = "released"
            except Exception as exc:
                ok, text = False, f"{action} failed: {self._describe(exc, setup)}"
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        message = f"{stamp}: {text}" + (f" ({reason})" if reason else "")
        async with self.db.transaction() as session:
            stored = await session.get(Exam, exam_id)
            if stored is not None:
                if ok:
                    stored.restriction_applied = action == "apply"
                stored.restriction_message = message
                if actor is not None:
                    record_activity(session, actor, Activity.MODIFY, EntityType.EXAM, stored.id, stored.name,
                                    f"SEB restriction: {text}", institution_id=stored.institution_id)
        if not ok:
            log.warning("SEB restriction of exam %s: %s", exam_id, message)
        return RestrictionOutcome(ok, text)

    def _describe(self, exc: BaseException, setup: LmsSetup, timeout_seconds: float | None = None) -> str:
        if isinstance(exc, TimeoutError):
            return f"the LMS did not answer within {timeout_seconds or self.timeout_seconds:g} s"
        if isinstance(exc, httpx.HTTPError):
            return describe_http_failure(exc, setup.url).message
        return str(exc) or type(exc).__name__


def _keeping(choices: FieldChoices, values: list[str]) -> FieldChoices:
    """``choices`` plus the given values it lacks, marked missing (when the LMS answered at all)."""
    if choices.failure:
        return choices
    known = {option.value for option in choices.options}
    gone = tuple(FieldOption(value, value, missing=True) for value in dict.fromkeys(values) if value not in known)
    return FieldChoices(choices.options + gone)


def _count(items: tuple[str, ...], noun: str) -> str:
    return f"{len(items)} {noun}{'' if len(items) == 1 else 's'}"


def validate_properties(fields: tuple[RestrictionField, ...], given: Mapping[str, Any]) -> dict[str, Any]:
    """The LMS-specific properties as stored: known fields only, choices checked; empty values dropped."""
    by_name = {item.name: item for item in fields}
    errors: dict[str, str] = {}
    result: dict[str, Any] = {}
    for name, value in given.items():
        spec = by_name.get(name)
        if spec is None:
            known = ", ".join(by_name) or "none"
            errors[f"properties.{name}"] = f"not a restriction property of this LMS (known: {known})"
            continue
        values = property_values(value)
        if not spec.multiple and len(values) > 1:
            errors[f"properties.{name}"] = f"{spec.label}: choose one value"
            continue
        wrong = [item for item in values if spec.choices and item not in spec.choices]
        if wrong:
            errors[f"properties.{name}"] = f"{spec.label}: {wrong[0]!r} is not one of {', '.join(spec.choices)}"
            continue
        if values:
            result[name] = list(dict.fromkeys(values)) if spec.multiple else values[0]
    if errors:
        raise ValidationFailed(errors)
    return result
