"""The bridge to the meeting-service plugins: a setting's service, rooms made and disposed, the attributes of
the instructions SEB clients get, and when tokens expire. Used by the settings, the assignment and the flows."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from pydantic import BaseModel

from sebframe.core.db.models import Exam, ProctoringSetting
from sebframe.core.db.models import ProctoringRoom as RoomRow
from sebframe.core.errors import ValidationFailed
from sebframe.core.http import create_http_client
from sebframe.core.integration_settings import secret_field_names, settings_to_json, validate_settings
from sebframe.core.plugins import PluginRegistry
from sebframe.core.secrets import SecretBox
from sebframe.core.session.clock import now_ms
from sebframe.types import (
    IntegrationContext,
    Participant,
    ProctoringFeature,
    ProctoringRoom,
    ProctoringService,
    ProctoringType,
    RoomKind,
    RoomRequest,
)

log = logging.getLogger(__name__)

# Tokens and meetings last until the exam's end plus this margin (an exam often runs a little over);
# an exam without an end time gets a day, as in SEB Server.
TOKEN_MARGIN = timedelta(hours=1)
NO_END_VALIDITY = timedelta(days=1)
JOIN, LEAVE = "JOIN", "LEAVE"
TOWN_HALL_SLOT = "TOWN_HALL"  # the open town-hall's slot: one per exam


@dataclass(frozen=True, slots=True)
class ExamTimes:
    """What the meetings need to know about the exam."""

    exam_id: int
    institution_id: int
    end_time: datetime | None

    @classmethod
    def of(cls, exam: Exam) -> ExamTimes:
        return cls(exam.id, exam.institution_id, exam.end_time)

    def valid_until(self, now: datetime | None = None) -> datetime:
        now = now or datetime.now(UTC)
        if self.end_time is None or self.end_time + TOKEN_MARGIN <= now:
            return now + NO_END_VALIDITY
        return self.end_time + TOKEN_MARGIN


def features_of(setting: ProctoringSetting) -> frozenset[ProctoringFeature]:
    known = {feature.value for feature in ProctoringFeature}
    return frozenset(ProctoringFeature(name) for name in setting.features.split(",") if name in known)


class Meetings:
    def __init__(self, plugins: PluginRegistry, secrets: SecretBox) -> None:
        self.plugins = plugins
        self.secrets = secrets
        self._http: httpx.AsyncClient | None = None

    @property
    def http(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = create_http_client()
        return self._http

    async def close(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    # -- types and settings ---------------------------------------------------------------------

    def types(self) -> dict[str, ProctoringType]:
        return self.plugins.proctoring_types()

    def type_named(self, name: str) -> ProctoringType:
        found = self.types().get(name.upper())
        if found is None:
            installed = ", ".join(sorted(self.types())) or "none installed"
            raise ValidationFailed({"service_type": f"unknown meeting service {name!r} (installed: {installed})"})
        return found

    def validate_settings(self, proctoring_type: ProctoringType, given: Mapping[str, Any],
                          previous: Mapping[str, Any] | None) -> BaseModel:
        """The type's settings; an empty secret keeps the stored one (forms never show secrets)."""
        return validate_settings(proctoring_type.settings_model, given, previous)

    def encrypt_settings(self, settings: BaseModel) -> str:
        return self.secrets.encrypt(settings_to_json(settings))

    def stored_settings(self, setting: ProctoringSetting, *, masked: bool = True) -> dict[str, Any]:
        """The service's settings as stored; secrets masked unless ``masked`` is False (never for output)."""
        values: dict[str, Any] = json.loads(self.secrets.decrypt(setting.settings_encrypted))
        if masked:
            proctoring_type = self.types().get(setting.service_type)
            names = secret_field_names(proctoring_type.settings_model) if proctoring_type else set(values)
            for name in names & set(values):
                values[name] = "********" if values[name] else ""
        return values

    def service(self, setting: ProctoringSetting, *, exam_id: int | None = None,
                settings: BaseModel | None = None) -> ProctoringService:
        proctoring_type = self.type_named(setting.service_type)
        if settings is None:
            settings = proctoring_type.settings_model.model_validate(self.stored_settings(setting, masked=False))
        context = IntegrationContext(instance_id=exam_id or setting.exam_id or 0,
                                     institution_id=setting.institution_id, url=setting.server_url,
                                     settings=settings, http=self.http)
        return proctoring_type.create_service(context)

    # -- rooms ----------------------------------------------------------------------------------

    async def create_room(self, service: ProctoringService, setting: ProctoringSetting, times: ExamTimes,
                          kind: RoomKind, subject: str, *, number: int = 0) -> RoomRow:
        """Ask the service for a room; the row is not added to a session (callers do, in their transaction)."""
        name = str(uuid.uuid4())
        room = await service.create_room(RoomRequest(kind=kind, name=name, subject=subject, exam_id=times.exam_id,
                                                     ends_at=times.valid_until()))
        slot = {RoomKind.COLLECTING: f"C{number}", RoomKind.TOWN_HALL: TOWN_HALL_SLOT}.get(kind, f"B{name}")
        return RoomRow(setting_id=setting.id, kind=kind.value, slot=slot, number=number, name=room.name,
                       subject=room.subject, size=0, created_ms=now_ms(),
                       data_encrypted=self.secrets.encrypt(json.dumps(dict(room.data))) if room.data else "")

    def room(self, row: RoomRow) -> ProctoringRoom:
        data = json.loads(self.secrets.decrypt(row.data_encrypted)) if row.data_encrypted else {}
        return ProctoringRoom(kind=RoomKind(row.kind), name=row.name, subject=row.subject, data=data)

    async def dispose(self, service: ProctoringService, rows: Sequence[RoomRow]) -> list[str]:
        """Dispose rooms at the service (idempotent there); what failed, in words (never a secret)."""
        failures = []
        for row in rows:
            try:
                await service.dispose_room(self.room(row))
            except Exception as exc:  # one failing room must not keep the others
                log.warning("disposing proctoring room %s (%s) failed: %s", row.id, row.subject, type(exc).__name__)
                failures.append(f"{row.subject}: {type(exc).__name__}")
        return failures

    # -- instructions ---------------------------------------------------------------------------

    async def join_attributes(self, service: ProctoringService, setting: ProctoringSetting, row: RoomRow,
                              participant: Participant) -> dict[str, str]:
        """A ``SEB_PROCTORING`` JOIN as SEB clients read it (reference §5.7)."""
        attributes = {"service-type": setting.service_type, "method": JOIN, "roomType": row.kind}
        for key, value in (await service.client_join(self.room(row), participant)).items():
            attributes.setdefault(str(key), str(value))
        return attributes

    @staticmethod
    def leave_attributes(setting: ProctoringSetting, row: RoomRow | None) -> dict[str, str]:
        attributes = {"service-type": setting.service_type, "method": LEAVE}
        if row is not None:
            attributes["roomType"] = row.kind
        return attributes

    @staticmethod
    def reconfigure_attributes(service: ProctoringService, *, receive_audio: bool, receive_video: bool,
                               allow_chat: bool) -> dict[str, str]:
        return {str(key): str(value) for key, value in service.reconfigure_attributes(
            receive_audio=receive_audio, receive_video=receive_video, allow_chat=allow_chat).items()}
