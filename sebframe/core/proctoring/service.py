"""Live proctoring as admins and proctors use it: an exam's settings (with the connection test, locked while
rooms exist, "reset rooms"), the rooms with their participants, the proctor's window, town-hall, one-to-one
and broadcast.

Rights: the settings are read with the exam and changed with the exam's modify privilege; everything that
joins a meeting or moves clients needs the right to supervise the exam (the exam's modify privilege, as in
monitoring), so join links and tokens only reach those who may supervise it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from sebframe.core.accounts.activity import Activity, record_activity
from sebframe.core.accounts.actor import Actor
from sebframe.core.accounts.roles import EntityType, Privilege
from sebframe.core.db import Database, utc_now
from sebframe.core.db.models import ClientConnection, Exam, ProctoringParticipant, ProctoringSetting
from sebframe.core.db.models import ProctoringRoom as RoomRow
from sebframe.core.errors import Conflict, NotFound, ValidationFailed
from sebframe.core.exams.access import load_exam, load_monitored_exam
from sebframe.core.http import describe_http_failure
from sebframe.core.proctoring.meetings import TOWN_HALL_SLOT, ExamTimes, Meetings, features_of
from sebframe.core.proctoring.rooms import RoomKeeper, display_name, is_closed, target_room
from sebframe.core.proctoring.schemas import ProctoringSettingsInput
from sebframe.core.validation import parse_input
from sebframe.types import (
    ConnectionTestResult,
    Participant,
    ProctoringFeature,
    ProctoringType,
    ProctorWindow,
    RoomKind,
)

log = logging.getLogger(__name__)
SUPERVISE = "supervise"
MAX_ONE_TO_ONE = 50


@dataclass(frozen=True, slots=True)
class SettingsView:
    """An exam's proctoring settings as screens and the API show them: secrets masked."""

    exam_id: int
    enabled: bool
    service_type: str
    server_url: str
    collecting_room_size: int
    features: tuple[ProctoringFeature, ...]
    settings: dict[str, Any]
    last_test_ok: bool | None
    last_test_message: str
    rooms: int  # rooms that exist: the settings are locked until they are reset

    @property
    def locked(self) -> bool:
        return self.rooms > 0


@dataclass(frozen=True, slots=True)
class RoomView:
    id: int
    kind: RoomKind
    number: int
    subject: str
    size: int
    max_size: int  # 0: unlimited (collecting rooms)
    receive_audio: bool
    receive_video: bool
    allow_chat: bool
    participants: tuple[tuple[int, str], ...] = ()  # (connection id, name) of those whose target it is

    @property
    def label(self) -> str:
        if self.kind is RoomKind.COLLECTING:
            return f"{self.subject} ({self.size} / {self.max_size or '∞'})"
        return f"{self.subject} ({len(self.participants)})"


@dataclass(frozen=True, slots=True)
class ProctoringState:
    """What the monitoring page shows: the settings (None: not configured), the rooms, where each is."""

    settings: SettingsView | None
    rooms: tuple[RoomView, ...] = ()
    room_of: dict[int, int] = field(default_factory=dict)  # connection id -> id of its target room

    @property
    def active(self) -> bool:
        return self.settings is not None and self.settings.enabled

    @property
    def town_hall(self) -> RoomView | None:
        return next((room for room in self.rooms if room.kind is RoomKind.TOWN_HALL), None)

    def has(self, feature: ProctoringFeature) -> bool:
        return self.settings is not None and feature in self.settings.features


class ProctoringService:
    def __init__(self, db: Database, meetings: Meetings, keeper: RoomKeeper) -> None:
        self.db = db
        self.meetings = meetings
        self.keeper = keeper

    def types(self) -> list[ProctoringType]:
        return sorted(self.meetings.types().values(), key=lambda item: item.display_name)

    # -- settings -----------------------------------------------------------------------------------

    async def settings(self, actor: Actor, exam_id: int) -> SettingsView | None:
        async with self.db.read() as session:
            exam = await load_exam(session, actor, exam_id)
            setting = await _setting(session, exam.id)
            return await self._view(session, setting) if setting else None

    async def _view(self, session: AsyncSession, setting: ProctoringSetting) -> SettingsView:
        rooms = len((await session.execute(select(RoomRow.id).where(RoomRow.setting_id == setting.id))).all())
        assert setting.exam_id is not None
        return SettingsView(exam_id=setting.exam_id, enabled=setting.enabled, service_type=setting.service_type,
                            server_url=setting.server_url, collecting_room_size=setting.collecting_room_size,
                            features=tuple(sorted(features_of(setting))),
                            settings=self.meetings.stored_settings(setting),
                            last_test_ok=setting.last_test_ok, last_test_message=setting.last_test_message,
                            rooms=rooms)

    def check(self, data: Mapping[str, Any], previous: ProctoringSetting | None = None
              ) -> tuple[ProctoringSettingsInput, ProctoringType, Any]:
        """Validate settings input: the common fields, the type, its features and its own settings."""
        parsed = parse_input(ProctoringSettingsInput, data)
        proctoring_type = self.meetings.type_named(parsed.service_type)
        unsupported = [feature.value for feature in parsed.features if feature not in proctoring_type.features]
        if unsupported:
            raise ValidationFailed({"features": f"{proctoring_type.display_name} does not support "
                                                f"{', '.join(unsupported)}"})
        stored = (self.meetings.stored_settings(previous, masked=False)
                  if previous is not None and previous.service_type == proctoring_type.name else None)
        settings = self.meetings.validate_settings(proctoring_type, parsed.settings, stored)
        return parsed, proctoring_type, settings

    async def save(self, actor: Actor, exam_id: int, data: Mapping[str, Any]
                   ) -> tuple[SettingsView, ConnectionTestResult]:
        """Save the settings and test the meeting server; enabled only when the test passes (the result says
        why not). Refused while rooms exist: reset them first."""
        async with self.db.read() as session:
            exam = await load_exam(session, actor, exam_id, Privilege.MODIFY, doing="change proctoring of")
            previous = await _setting(session, exam.id)
            if previous is not None and (await self._view(session, previous)).locked:
                raise Conflict("proctoring rooms exist for this exam: reset the rooms before changing the settings")
        parsed, proctoring_type, settings = self.check(data, previous)
        probe = ProctoringSetting(exam_id=exam.id, institution_id=exam.institution_id,
                                  service_type=proctoring_type.name, server_url=parsed.server_url,
                                  settings_encrypted="")
        result = await self._test(probe, settings)
        async with self.db.transaction() as session:
            exam = await load_exam(session, actor, exam_id, Privilege.MODIFY, doing="change proctoring of")
            setting = await _setting(session, exam.id, lock=True)
            if setting is None:
                setting = ProctoringSetting(exam_id=exam.id, institution_id=exam.institution_id)
                session.add(setting)
            elif (await self._view(session, setting)).locked:
                raise Conflict("proctoring rooms exist for this exam: reset the rooms before changing the settings")
            setting.service_type = proctoring_type.name
            setting.server_url = parsed.server_url
            setting.settings_encrypted = self.meetings.encrypt_settings(settings)
            setting.collecting_room_size = parsed.collecting_room_size
            setting.features = ",".join(sorted(feature.value for feature in set(parsed.features)))
            setting.enabled = parsed.enabled and result.ok
            setting.last_test_ok, setting.last_test_message = result.ok, result.message
            setting.updated_at = utc_now()
            record_activity(session, actor, Activity.MODIFY, EntityType.EXAM, exam.id, exam.name,
                            f"proctoring settings saved ({proctoring_type.name}, "
                            f"{'enabled' if setting.enabled else 'disabled'})", institution_id=exam.institution_id)
            await session.flush()
            view = await self._view(session, setting)
        return view, result

    async def _test(self, setting: ProctoringSetting, settings: Any) -> ConnectionTestResult:
        try:
            return await self.meetings.service(setting, settings=settings).test()
        except ValidationFailed as exc:
            return ConnectionTestResult.failure("config", exc.message)
        except Exception as exc:  # a plugin must not break the form: report what went wrong
            return describe_http_failure(exc, setting.server_url)

    async def test(self, actor: Actor, exam_id: int) -> ConnectionTestResult:
        async with self.db.read() as session:
            exam = await load_exam(session, actor, exam_id, Privilege.MODIFY, doing="change proctoring of")
            setting = await self._required(session, exam)
        result = await self._test(setting, None)
        async with self.db.transaction() as session:
            stored = await session.get(ProctoringSetting, setting.id)
            if stored is not None:
                stored.last_test_ok, stored.last_test_message = result.ok, result.message
        return result

    async def reset_rooms(self, actor: Actor, exam_id: int) -> list[str]:
        """Dispose every room, tell clients in one to LEAVE, and switch proctoring off, so the settings (even
        the service) can be changed; saving them enabled starts again. What failed at the service, in words."""
        async with self.db.transaction() as session:
            exam = await load_exam(session, actor, exam_id, Privilege.MODIFY, doing="change proctoring of")
            setting = await self._required(session, exam, lock=True)
            setting.enabled = False
            record_activity(session, actor, Activity.MODIFY, EntityType.EXAM, exam.id, exam.name,
                            "proctoring rooms reset", institution_id=exam.institution_id)
        return await self.keeper.dispose_all(setting, leave=True)

    # -- rooms --------------------------------------------------------------------------------------

    async def state(self, actor: Actor, exam_id: int) -> ProctoringState:
        async with self.db.read() as session:
            # rooms name their participants: the SEB connections' rule, as monitoring
            exam = (await load_monitored_exam(session, actor, exam_id)).exam
            setting = await _setting(session, exam.id)
            if setting is None:
                return ProctoringState(None)
            view = await self._view(session, setting)
            rooms = await self.keeper.rooms(session, setting.id)
            members = await self.keeper.members(session, setting.id)
        town_hall = self.keeper.town_hall(rooms)
        inside: dict[int, list[tuple[int, str]]] = {}
        room_of = {}
        for member in members:
            target = target_room(member, rooms, town_hall)
            if target is not None:
                inside.setdefault(target.id, []).append((member.connection_id, member.name))
                room_of[member.connection_id] = target.id
        views = tuple(RoomView(id=row.id, kind=RoomKind(row.kind), number=row.number, subject=row.subject,
                               size=row.size, max_size=setting.collecting_room_size if row.kind ==
                               RoomKind.COLLECTING.value else 0, receive_audio=row.receive_audio,
                               receive_video=row.receive_video, allow_chat=row.allow_chat,
                               participants=tuple(inside.get(row.id, ()))) for row in rooms.values())
        return ProctoringState(view, views, room_of)

    async def proctor_window(self, actor: Actor, exam_id: int, room_id: int) -> tuple[RoomView, ProctorWindow]:
        """The proctor's join of a room (a moderator token): only for those who may supervise the exam."""
        setting, times, row = await self._room(actor, exam_id, room_id)
        participant = Participant(display_name=actor.username, moderator=True, expires_at=times.valid_until(),
                                  user_id=actor.username)
        window = await self.meetings.service(setting).proctor_join(self.meetings.room(row), participant)
        state = await self.state(actor, exam_id)
        view = next(room for room in state.rooms if room.id == row.id)
        return view, window

    async def open_town_hall(self, actor: Actor, exam_id: int, *, subject: str = "Town-hall") -> RoomView:
        """One room for every client of the exam (clients assigned meanwhile go there too); one at a time."""
        setting, times = await self._supervised(actor, exam_id, ProctoringFeature.TOWN_HALL, "open the town-hall")
        if await self._town_hall_row(setting) is not None:
            raise Conflict("the town-hall is open already")
        service = self.meetings.service(setting)
        row = await self.meetings.create_room(service, setting, times, RoomKind.TOWN_HALL, subject)
        try:
            async with self.db.transaction() as session:
                session.add(row)
                await self._log(session, actor, exam_id, "town-hall opened")
        except Conflict:  # another proctor opened it at the same moment (one town-hall slot per exam)
            await self.meetings.dispose(service, [row])
            raise Conflict("the town-hall is open already") from None
        await self.keeper.push(setting, times, service)
        return await self._room_view(actor, exam_id, row.id)

    async def _town_hall_row(self, setting: ProctoringSetting) -> RoomRow | None:
        async with self.db.read() as session:
            return (await session.execute(select(RoomRow).where(
                RoomRow.setting_id == setting.id, RoomRow.slot == TOWN_HALL_SLOT))).scalar_one_or_none()

    async def close_town_hall(self, actor: Actor, exam_id: int) -> None:
        setting, times = await self._supervised(actor, exam_id, None, "close the town-hall")
        row = await self._town_hall_row(setting)
        if row is None:
            raise Conflict("the town-hall is not open")
        await self._close(actor, exam_id, setting, times, row, "town-hall closed")

    async def open_one_to_one(self, actor: Actor, exam_id: int, connection_ids: Sequence[int]) -> RoomView:
        """A break-out room with the given connections (they must be in the exam's rooms)."""
        setting, times = await self._supervised(actor, exam_id, ProctoringFeature.ONE_TO_ONE,
                                                "open a one-to-one room")
        wanted = sorted(set(connection_ids))
        if not wanted or len(wanted) > MAX_ONE_TO_ONE:
            raise ValidationFailed({"connection_ids": f"choose 1 to {MAX_ONE_TO_ONE} SEB connections"})
        async with self.db.read() as session:
            found = dict((await session.execute(
                select(ProctoringParticipant.connection_id, ClientConnection.user_session_id)
                .join(ClientConnection, ClientConnection.id == ProctoringParticipant.connection_id)
                .where(ProctoringParticipant.setting_id == setting.id,
                       ProctoringParticipant.connection_id.in_(wanted)))).all())
        missing = [connection_id for connection_id in wanted if connection_id not in found]
        if missing:
            raise Conflict(f"SEB connection(s) {', '.join(map(str, missing))} are not in a proctoring room "
                           f"(not active, or not assigned yet)")
        names = [display_name(connection_id, found[connection_id]) for connection_id in wanted]
        subject = f"One-to-one: {', '.join(names)}"[:255]
        service = self.meetings.service(setting)
        row = await self.meetings.create_room(service, setting, times, RoomKind.BREAK_OUT, subject)
        async with self.db.transaction() as session:
            session.add(row)
            await session.flush()
            for participant in (await session.execute(select(ProctoringParticipant).where(
                    ProctoringParticipant.connection_id.in_(wanted)))).scalars():
                participant.breakout_room_id = row.id
            await self._log(session, actor, exam_id, f"one-to-one room opened with {len(wanted)} connection(s)")
        await self.keeper.push(setting, times, service, only=wanted)
        return await self._room_view(actor, exam_id, row.id)

    async def close_room(self, actor: Actor, exam_id: int, room_id: int) -> None:
        """Close a one-to-one or the town-hall room: its clients go back to where they were."""
        setting, times, row = await self._room(actor, exam_id, room_id)
        if row.kind == RoomKind.COLLECTING.value:
            raise Conflict("collecting rooms stay until the exam ends or the rooms are reset")
        await self._close(actor, exam_id, setting, times, row, f"{row.subject} closed")

    async def _close(self, actor: Actor, exam_id: int, setting: ProctoringSetting, times: ExamTimes, row: RoomRow,
                     message: str) -> None:
        state = await self.state(actor, exam_id)
        inside = [connection_id for connection_id, target in state.room_of.items() if target == row.id]
        service = self.meetings.service(setting)
        if row.receive_audio or row.receive_video or row.allow_chat:  # SEB Server's resetBroadcastOnLeave
            await self.keeper.reconfigure(service, inside, receive_audio=False, receive_video=False, allow_chat=False)
        async with self.db.transaction() as session:
            await self.keeper.close(session, [row])
            await self._log(session, actor, exam_id, message)
        await self.keeper.push(setting, times, service)
        failures = await self.keeper.dispose_rooms(setting, [row])  # deleted once the service disposed it
        if failures:
            log.warning("closed proctoring room of exam %s not disposed yet (retried by the supervising process): "
                        "%s", exam_id, "; ".join(failures))

    async def broadcast(self, actor: Actor, exam_id: int, room_id: int, *, receive_audio: bool,
                        receive_video: bool, allow_chat: bool) -> int:
        """Set what the clients in the room get (the proctor's audio and video, the chat); sent to them as
        ``SEB_RECONFIGURE_SETTINGS``. How many clients it was sent to."""
        setting, times, row = await self._room(actor, exam_id, room_id)
        features = features_of(setting)
        if (receive_audio or receive_video) and ProctoringFeature.BROADCAST not in features:
            raise Conflict("broadcast is not enabled for this exam's proctoring")
        if allow_chat and ProctoringFeature.ENABLE_CHAT not in features:
            raise Conflict("chat is not enabled for this exam's proctoring")
        state = await self.state(actor, exam_id)
        inside = [connection_id for connection_id, target in state.room_of.items() if target == row.id]
        async with self.db.transaction() as session:
            stored = await session.get(RoomRow, row.id)
            if stored is None:
                raise NotFound(f"proctoring room {room_id} not found")
            stored.receive_audio, stored.receive_video, stored.allow_chat = receive_audio, receive_video, allow_chat
            await self._log(session, actor, exam_id, f"{row.subject}: audio {'on' if receive_audio else 'off'}, "
                                                     f"video {'on' if receive_video else 'off'}, "
                                                     f"chat {'on' if allow_chat else 'off'}")
        return await self.keeper.reconfigure(self.meetings.service(setting), inside, receive_audio=receive_audio,
                                             receive_video=receive_video, allow_chat=allow_chat)

    # -- rules ----------------------------------------------------------------------------------------

    async def _supervised(self, actor: Actor, exam_id: int, feature: ProctoringFeature | None, doing: str
                          ) -> tuple[ProctoringSetting, ExamTimes]:
        async with self.db.read() as session:
            exam = await load_exam(session, actor, exam_id, Privilege.MODIFY, doing=SUPERVISE)
            setting = await self._required(session, exam)
        if not setting.enabled:
            raise Conflict(f"cannot {doing}: proctoring is not enabled for exam {exam.name!r}")
        if feature is not None and feature not in features_of(setting):
            raise Conflict(f"cannot {doing}: {feature.value} is not enabled for this exam's proctoring")
        return setting, ExamTimes.of(exam)

    async def _room(self, actor: Actor, exam_id: int, room_id: int
                    ) -> tuple[ProctoringSetting, ExamTimes, RoomRow]:
        setting, times = await self._supervised(actor, exam_id, None, "join or change rooms")
        async with self.db.read() as session:
            row = await session.get(RoomRow, room_id) if 0 < room_id < 2**31 else None
        if row is None or row.setting_id != setting.id or is_closed(row):
            raise NotFound(f"proctoring room {room_id} not found")
        return setting, times, row

    async def _room_view(self, actor: Actor, exam_id: int, room_id: int) -> RoomView:
        state = await self.state(actor, exam_id)
        return next(room for room in state.rooms if room.id == room_id)

    @staticmethod
    async def _required(session: AsyncSession, exam: Exam, *, lock: bool = False) -> ProctoringSetting:
        setting = await _setting(session, exam.id, lock=lock)
        if setting is None:
            raise NotFound(f"exam {exam.name!r} has no proctoring settings")
        return setting

    @staticmethod
    async def _log(session: AsyncSession, actor: Actor, exam_id: int, message: str) -> None:
        exam = await session.get(Exam, exam_id)
        if exam is not None:
            record_activity(session, actor, Activity.MODIFY, EntityType.EXAM, exam.id, exam.name,
                            f"proctoring: {message}", institution_id=exam.institution_id)


async def _setting(session: AsyncSession, exam_id: int, *, lock: bool = False) -> ProctoringSetting | None:
    statement = select(ProctoringSetting).where(ProctoringSetting.exam_id == exam_id)
    if lock:
        statement = statement.with_for_update()
    return (await session.execute(statement)).scalar_one_or_none()
