"""What the hot path needs to know about running exams, reloaded from the database on every sync."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from sebframe.core.db.models import Exam, ExamConfigurationMapping, Indicator, LmsSetup
from sebframe.core.exams.client_checks import allowed_versions, signature_key_grants
from sebframe.core.exams.indicators import parse_thresholds
from sebframe.core.exams.seb_versions import AllowedVersion
from sebframe.core.exams.types import ExamStatus
from sebframe.types import IndicatorComputation, IndicatorType

PING_INDICATOR = "LAST_PING"
# No LAST_PING indicator: SEB Server adds a hidden one with a single 5 s threshold.
HIDDEN_PING_THRESHOLD_MS = 5000.0
NO_LMS = "--"


@dataclass(frozen=True, slots=True)
class LiveIndicator:
    """An exam's indicator as monitoring computes and colours it."""

    id: int
    type: str
    computation: IndicatorComputation
    name: str = ""
    color: str = "ffffff"
    thresholds: tuple[tuple[float, str], ...] = ()  # ascending by value
    inverse: bool = False
    show_only_when_active: bool = False


@dataclass(slots=True)
class RunningExam:
    id: int
    institution_id: int
    name: str
    url: str
    lms_type: str
    lms_setup_id: int | None
    configuration_id: int | None
    configuration_password: str | None  # encrypted; the exam's password for the downloaded configuration
    missing_ping_threshold_ms: float  # inf: never missing
    indicators: tuple[LiveIndicator, ...] = ()
    allowed_versions: tuple[AllowedVersion, ...] = ()
    alternative_bek: str | None = None
    app_signature_salt: str | None = None
    signature_key_check: bool = False
    signature_key_trust_threshold: int = 0
    signature_key_grants: frozenset[str] = field(default_factory=frozenset)

    def handshake_entry(self) -> dict[str, str]:
        """SEB Server's ``RunningExamInfo``: all values strings."""
        return {"examId": str(self.id), "name": self.name, "url": self.url, "lmsType": self.lms_type}


def missing_threshold(indicator_rows: list[Indicator]) -> float:
    """The highest LAST_PING threshold; 5 s without a ping indicator; never with an empty threshold list."""
    ping = [row for row in indicator_rows if row.indicator_type == PING_INDICATOR]
    if not ping:
        return HIDDEN_PING_THRESHOLD_MS
    values = [float(item["value"]) for item in _thresholds(ping[0].thresholds)]
    return max(values) if values else math.inf


def _thresholds(text: str) -> list[dict[str, Any]]:
    try:
        data = json.loads(text or "[]")
    except ValueError:
        return []
    return [item for item in data if isinstance(item, dict) and isinstance(item.get("value"), int | float)]


async def load_running_exams(session: AsyncSession, indicator_types: Mapping[str, IndicatorType]
                             ) -> dict[int, RunningExam]:
    exams = (await session.execute(
        select(Exam, LmsSetup.lms_type, ExamConfigurationMapping.configuration_id,
               ExamConfigurationMapping.encryption_password_encrypted)
        .outerjoin(LmsSetup, LmsSetup.id == Exam.lms_setup_id)
        .outerjoin(ExamConfigurationMapping, ExamConfigurationMapping.exam_id == Exam.id)
        .where(Exam.status == ExamStatus.RUNNING.value, Exam.active.is_(True)))).all()
    if not exams:
        return {}
    indicator_rows: dict[int, list[Indicator]] = {}
    for row in (await session.execute(
            select(Indicator).where(Indicator.exam_id.in_([row[0].id for row in exams]))
            .order_by(Indicator.id))).scalars():
        indicator_rows.setdefault(row.exam_id, []).append(row)
    running: dict[int, RunningExam] = {}
    for exam, lms_type, configuration_id, configuration_password in exams:
        rows = indicator_rows.get(exam.id, [])
        running[exam.id] = RunningExam(
            id=exam.id, institution_id=exam.institution_id, name=exam.name, url=exam.start_url,
            lms_type=lms_type or NO_LMS, lms_setup_id=exam.lms_setup_id, configuration_id=configuration_id,
            configuration_password=configuration_password,
            missing_ping_threshold_ms=missing_threshold(rows),
            indicators=_live_indicators(rows, indicator_types),
            allowed_versions=_allowed_versions(exam),
            alternative_bek=exam.alternative_bek or None,
            app_signature_salt=exam.app_signature_salt,
            signature_key_check=exam.signature_key_check_enabled,
            signature_key_trust_threshold=exam.signature_key_trust_threshold,
            signature_key_grants=frozenset(signature_key_grants(exam)),
        )
    return running


def _live_indicators(rows: list[Indicator], types: Mapping[str, IndicatorType]) -> tuple[LiveIndicator, ...]:
    live = []
    for row in rows:
        indicator_type = types.get(row.indicator_type)
        if indicator_type is None:  # its plugin is not installed (any more): nothing computes it
            continue
        tags = [tag for tag in row.tags.split(",") if tag.strip()] or list(indicator_type.fixed_tags)
        live.append(LiveIndicator(row.id, row.indicator_type, indicator_type.create(tags), name=row.name,
                                  color=row.color, thresholds=parse_thresholds(row.thresholds),
                                  inverse=indicator_type.inverse,
                                  show_only_when_active=indicator_type.show_only_when_active))
    return tuple(live)


def _allowed_versions(exam: Exam) -> tuple[AllowedVersion, ...]:
    try:
        return allowed_versions(exam)
    except ValueError:  # validated on save; a stored bad value only disables the check
        return ()
