"""Who is in which room, and the instructions that get them there.

Every participant (a SEB connection of a proctored exam) has a **target**: its one-to-one (break-out) room if it
is in one, else the open town-hall, else its collecting room. ``push`` sends a ``SEB_PROCTORING`` JOIN to each
participant whose last JOIN named another room (withdrawing an unconfirmed older one first), so the flows only
change the rooms and call ``push``; the assignment job calls it every round as well, which repairs anything a
crash or a lost instruction left behind.

A JOIN is confirmed when the client echoes its id: the runtime then deletes the instruction row. A row gone
within the instruction lifetime is a confirmation; a JOIN still unconfirmed after it is sent again.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from sebframe.core.db import Database, table_of
from sebframe.core.db.models import (
    ClientConnection,
    ClientInstruction,
    ConnectionStatus,
    ProctoringParticipant,
    ProctoringSetting,
)
from sebframe.core.db.models import ProctoringRoom as RoomRow
from sebframe.core.proctoring.meetings import ExamTimes, Meetings
from sebframe.core.session.clock import now_ms
from sebframe.core.session.instructions import INSTRUCTION_TTL_MS, InstructionType
from sebframe.core.session.runtime import SessionRuntime
from sebframe.types import Participant, ProctoringService, RoomKind

CHUNK = 500
# A closed room leaves its slot (the town-hall's can be taken again at once) for ``X<id>`` and stays stored
# until the meeting service confirms it disposed the meeting: a dispose that failed is retried every round.
CLOSED_SLOT = "X"


def is_closed(row: RoomRow) -> bool:
    return row.slot.startswith(CLOSED_SLOT)


@dataclass(slots=True)
class Member:
    """A participant as the room rules see it."""

    connection_id: int
    name: str
    status: str
    room_id: int | None
    breakout_room_id: int | None
    joined_room_id: int | None
    instruction_id: int | None
    instruction_ms: int | None
    confirmed_ms: int | None

    @property
    def pending(self) -> bool:
        return self.instruction_id is not None and self.confirmed_ms is None


def target_room(member: Member, rooms: dict[int, RoomRow], town_hall: RoomRow | None) -> RoomRow | None:
    if member.breakout_room_id is not None and member.breakout_room_id in rooms:
        return rooms[member.breakout_room_id]
    if town_hall is not None:
        return town_hall
    return rooms.get(member.room_id) if member.room_id is not None else None


def display_name(connection_id: int, user_session_id: str | None) -> str:
    return user_session_id or f"SEB connection {connection_id}"


class RoomKeeper:
    def __init__(self, db: Database, meetings: Meetings, runtime: SessionRuntime) -> None:
        self.db = db
        self.meetings = meetings
        self.runtime = runtime

    # -- reading ----------------------------------------------------------------------------------

    @staticmethod
    async def rooms(session: AsyncSession, setting_id: int, *, closed: bool | None = False) -> dict[int, RoomRow]:
        """The setting's open rooms; ``closed=True`` those closed and waiting to be disposed, ``None`` all."""
        statement = select(RoomRow).where(RoomRow.setting_id == setting_id)
        if closed is not None:
            is_closed = RoomRow.slot.startswith(CLOSED_SLOT, autoescape=True)
            statement = statement.where(is_closed if closed else ~is_closed)
        rows = (await session.execute(statement.order_by(RoomRow.kind, RoomRow.number, RoomRow.id))).scalars()
        return {row.id: row for row in rows}

    @staticmethod
    async def members(session: AsyncSession, setting_id: int) -> list[Member]:
        table = ProctoringParticipant
        rows = await session.execute(
            select(table, ClientConnection.user_session_id, ClientConnection.status)
            .join(ClientConnection, ClientConnection.id == table.connection_id)
            .where(table.setting_id == setting_id).order_by(table.connection_id))
        return [Member(p.connection_id, display_name(p.connection_id, user), status, p.room_id, p.breakout_room_id,
                       p.joined_room_id, p.instruction_id, p.instruction_ms, p.confirmed_ms)
                for p, user, status in rows]

    @staticmethod
    def town_hall(rooms: dict[int, RoomRow]) -> RoomRow | None:
        return next((room for room in rooms.values() if room.kind == RoomKind.TOWN_HALL.value), None)

    # -- instructions -----------------------------------------------------------------------------

    async def push(self, setting: ProctoringSetting, times: ExamTimes, service: ProctoringService,
                   only: Collection[int] | None = None) -> int:
        """JOIN every participant (of ``only``, if given) whose last JOIN named another room than its target;
        how many were sent."""
        async with self.db.read() as session:
            rooms = await self.rooms(session, setting.id)
            members = await self.members(session, setting.id)
        town_hall = self.town_hall(rooms)
        moves = []
        for member in members:
            if only is not None and member.connection_id not in only:
                continue
            if member.status != ConnectionStatus.ACTIVE.value and member.status != ConnectionStatus.READY.value:
                continue  # leaving; the assignment removes it
            target = target_room(member, rooms, town_hall)
            if target is not None and member.joined_room_id != target.id:
                moves.append((member, target))
        await self.send_joins(setting, times, service, moves)
        return len(moves)

    async def send_joins(self, setting: ProctoringSetting, times: ExamTimes, service: ProctoringService,
                         moves: Sequence[tuple[Member, RoomRow]]) -> None:
        if not moves:
            return
        expires = times.valid_until()
        items = []
        for member, room in moves:
            participant = Participant(display_name=member.name, moderator=False, expires_at=expires,
                                      user_id=str(member.connection_id))
            items.append((member.connection_id,
                          await self.meetings.join_attributes(service, setting, room, participant)))
        await self.runtime.withdraw_instructions(member.instruction_id for member, _ in moves if member.pending)
        ids = await self.runtime.queue_instructions(items, InstructionType.SEB_PROCTORING, needs_confirmation=True)
        now = now_ms()
        await self._record(setting.id, [{"cid": member.connection_id, "joined": room.id, "iid": instruction_id,
                                         "ims": now} for (member, room), instruction_id in zip(moves, ids,
                                                                                                strict=True)])
        await self._broadcast_state(service, moves)

    async def _record(self, setting_id: int, values: list[dict[str, object]]) -> None:
        table = table_of(ProctoringParticipant)
        async with self.db.transaction() as session:
            for start in range(0, len(values), CHUNK):
                await session.execute(
                    update(table).where(table.c.connection_id == bindparam("cid"), table.c.setting_id == setting_id)
                    .values(joined_room_id=bindparam("joined"), instruction_id=bindparam("iid"),
                            instruction_ms=bindparam("ims"), confirmed_ms=None)
                    .execution_options(synchronize_session=False), values[start:start + CHUNK])

    async def _broadcast_state(self, service: ProctoringService, moves: Sequence[tuple[Member, RoomRow]]) -> None:
        """A client joining a room where the proctor broadcasts gets the room's settings after the JOIN."""
        by_room: dict[int, list[int]] = {}
        rooms: dict[int, RoomRow] = {}
        for member, room in moves:
            if room.receive_audio or room.receive_video or room.allow_chat:
                by_room.setdefault(room.id, []).append(member.connection_id)
                rooms[room.id] = room
        for room_id, connection_ids in by_room.items():
            room = rooms[room_id]
            await self.reconfigure(service, connection_ids, receive_audio=room.receive_audio,
                                   receive_video=room.receive_video, allow_chat=room.allow_chat)

    async def reconfigure(self, service: ProctoringService, connection_ids: Iterable[int], *, receive_audio: bool,
                          receive_video: bool, allow_chat: bool) -> int:
        attributes = self.meetings.reconfigure_attributes(service, receive_audio=receive_audio,
                                                          receive_video=receive_video, allow_chat=allow_chat)
        return await self.runtime.queue_instruction(connection_ids, InstructionType.SEB_RECONFIGURE_SETTINGS,
                                                    attributes, needs_confirmation=True)

    async def confirmations(self, setting_id: int, members: list[Member]) -> list[Member]:
        """Mark confirmed JOINs; the members whose JOIN expired unconfirmed (their JOIN is sent again)."""
        pending = [member for member in members if member.pending]
        if not pending:
            return []
        now = now_ms()
        async with self.db.read() as session:
            existing: set[int] = set()
            ids = [member.instruction_id for member in pending]
            for start in range(0, len(ids), CHUNK):
                existing.update((await session.execute(select(ClientInstruction.id).where(
                    ClientInstruction.id.in_(ids[start:start + CHUNK])))).scalars())
        confirmed, expired = [], []
        for member in pending:
            age = now - (member.instruction_ms or 0)
            if member.instruction_id in existing:
                if age > INSTRUCTION_TTL_MS:
                    expired.append(member)
            elif age <= INSTRUCTION_TTL_MS:
                confirmed.append(member)
            else:
                expired.append(member)
        table = table_of(ProctoringParticipant)
        async with self.db.transaction() as session:
            if confirmed:
                for start in range(0, len(confirmed), CHUNK):
                    await session.execute(update(table).where(
                        table.c.connection_id.in_([m.connection_id for m in confirmed[start:start + CHUNK]]),
                        table.c.instruction_id.in_([m.instruction_id for m in confirmed[start:start + CHUNK]]))
                        .values(confirmed_ms=now))
            if expired:
                for start in range(0, len(expired), CHUNK):
                    await session.execute(update(table).where(
                        table.c.connection_id.in_([m.connection_id for m in expired[start:start + CHUNK]]))
                        .values(joined_room_id=None, instruction_id=None, instruction_ms=None, confirmed_ms=None))
        await self.runtime.withdraw_instructions(member.instruction_id for member in expired
                                                 if member.instruction_id in existing)
        for member in confirmed:
            member.confirmed_ms = now
        for member in expired:
            member.joined_room_id = member.instruction_id = member.instruction_ms = None
        return expired

    # -- disposing ----------------------------------------------------------------------------------

    async def dispose_all(self, setting: ProctoringSetting, *, leave: bool) -> list[str]:
        """Forget the setting's participants and dispose its rooms; with ``leave``, clients that are in a room
        get a LEAVE (a reset during the exam); without, their pending JOINs are withdrawn (the exam ended: they
        get SEB_QUIT). A room the service fails to dispose stays stored, and the assignment job tries again
        (rooms of exams that are not running, or whose proctoring is off, are disposed every round). What
        failed, in words."""
        async with self.db.read() as session:
            rooms = await self.rooms(session, setting.id, closed=None)
            members = await self.members(session, setting.id)
        await self.runtime.withdraw_instructions(member.instruction_id for member in members if member.pending)
        if leave:
            items = [(member.connection_id, self.meetings.leave_attributes(setting, rooms.get(member.joined_room_id)))
                     for member in members if member.joined_room_id is not None
                     and member.status in (ConnectionStatus.ACTIVE.value, ConnectionStatus.READY.value)]
            await self.runtime.queue_instructions(items, InstructionType.SEB_PROCTORING, needs_confirmation=True)
        async with self.db.transaction() as session:
            await session.execute(delete(ProctoringParticipant).where(ProctoringParticipant.setting_id == setting.id))
        return await self.dispose_rooms(setting, list(rooms.values()))

    @staticmethod
    async def close(session: AsyncSession, rows: Sequence[RoomRow]) -> None:
        """Close rooms in the caller's transaction: nobody's target any more, their slots free; the rows stay
        until :meth:`dispose_closed` (or :meth:`dispose_rooms`) saw the service dispose them."""
        if not rows:
            return
        ids = [row.id for row in rows]
        await session.execute(update(ProctoringParticipant).where(ProctoringParticipant.breakout_room_id.in_(ids))
                              .values(breakout_room_id=None).execution_options(synchronize_session=False))
        for row_id in ids:
            await session.execute(update(RoomRow).where(RoomRow.id == row_id).values(slot=f"{CLOSED_SLOT}{row_id}")
                                  .execution_options(synchronize_session=False))

    async def dispose_closed(self, setting: ProctoringSetting) -> list[str]:
        """Dispose the setting's closed rooms (each round: a dispose the service refused is tried again)."""
        async with self.db.read() as session:
            closed = list((await self.rooms(session, setting.id, closed=True)).values())
        return await self.dispose_rooms(setting, closed)

    async def dispose_rooms(self, setting: ProctoringSetting, rooms: Sequence[RoomRow]) -> list[str]:
        """Dispose rooms at the service and delete the rows of those disposed."""
        if not rooms:
            return []
        try:
            service = self.meetings.service(setting)
        except Exception as exc:  # the plugin is gone or the stored settings are unreadable
            return [f"the meeting service is not available to dispose {len(rooms)} room(s): {exc}"]
        failures: list[str] = []
        disposed = []
        for room in rooms:
            failed = await self.meetings.dispose(service, [room])
            if failed:
                failures.extend(failed)
            else:
                disposed.append(room.id)
        if disposed:
            async with self.db.transaction() as session:
                await session.execute(delete(RoomRow).where(RoomRow.id.in_(disposed)))
        return failures
