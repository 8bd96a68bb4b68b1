"""The supervising process's proctoring round (a job of :class:`sebframe.core.session.supervision.Supervisor`,
every few seconds, one process at a time; never on the ping path):

- connections of a proctored running exam that became ACTIVE (READY for exams without an LMS) get a place
  in the first collecting room with room left, new rooms being made as needed (SEB Server's rule), and a JOIN;
- connections that left (closed, canceled) free their place; one-to-one rooms left empty are closed;
- closed rooms (one-to-one, town-hall) are disposed, and kept until the meeting service confirms it;
- JOINs are tracked until confirmed, and sent again when they expired unconfirmed;
- the rooms of exams that ended, were deleted, or whose proctoring was switched off are disposed.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import bindparam, delete, exists, or_, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession

from sebframe.core.db import Database, table_of
from sebframe.core.db.models import ClientConnection, ConnectionStatus, Exam, ProctoringParticipant, ProctoringSetting
from sebframe.core.db.models import ProctoringRoom as RoomRow
from sebframe.core.proctoring.meetings import ExamTimes, Meetings
from sebframe.core.proctoring.rooms import CHUNK, Member, RoomKeeper
from sebframe.core.session.running import NO_LMS, RunningExam
from sebframe.core.session.runtime import SessionRuntime
from sebframe.types import ProctoringService, RoomKind

log = logging.getLogger(__name__)


def eligible_states(exam: RunningExam) -> frozenset[str]:
    """ACTIVE; READY too for exams without an LMS (their clients never send an LMS user)."""
    if exam.lms_type == NO_LMS:
        return frozenset({ConnectionStatus.ACTIVE.value, ConnectionStatus.READY.value})
    return frozenset({ConnectionStatus.ACTIVE.value})


@dataclass(frozen=True, slots=True)
class Placement:
    """Collecting-room places for new connections: existing rooms filled up first, then new rooms."""

    into_existing: dict[int, list[int]]  # room id -> connection ids
    new_rooms: list[list[int]]  # one list of connection ids per room to make, numbered after the existing


def place(new: list[int], sizes: dict[int, int], numbers: dict[int, int], capacity: int) -> Placement:
    """SEB Server's rule: the first collecting room (by number) with ``size < capacity`` (0: unlimited)."""
    into: dict[int, list[int]] = {}
    left = list(new)
    for room_id in sorted(sizes, key=lambda room: numbers[room]):
        free = len(left) if capacity <= 0 else max(0, capacity - sizes[room_id])
        if free and left:
            into[room_id], left = left[:free], left[free:]
    per_room = len(left) if capacity <= 0 else capacity
    return Placement(into, [left[start:start + per_room] for start in range(0, len(left), per_room)] if left else [])


class RoomAssigner:
    def __init__(self, db: Database, meetings: Meetings, keeper: RoomKeeper) -> None:
        self.db = db
        self.meetings = meetings
        self.keeper = keeper

    async def run(self, runtime: SessionRuntime) -> None:
        running = runtime.running
        async with self.db.read() as session:
            active = (await session.execute(
                select(ProctoringSetting, Exam.id, Exam.end_time).join(Exam, Exam.id == ProctoringSetting.exam_id)
                .where(ProctoringSetting.enabled.is_(True), ProctoringSetting.exam_id.in_(list(running)))
                .order_by(ProctoringSetting.id))).all() if running else []
            has_rooms = or_(exists().where(RoomRow.setting_id == ProctoringSetting.id),
                            exists().where(ProctoringParticipant.setting_id == ProctoringSetting.id))
            stale = list((await session.execute(
                select(ProctoringSetting).where(
                    or_(ProctoringSetting.exam_id.is_(None), ProctoringSetting.enabled.is_(False),
                        ProctoringSetting.exam_id.not_in(list(running)) if running else true()),
                    or_(has_rooms, ProctoringSetting.exam_id.is_(None))))).scalars())
        for setting in stale:
            await self._dispose(setting)
        for setting, exam_id, end_time in active:
            exam = running[exam_id]
            try:
                await self.assign(setting, exam, ExamTimes(exam.id, exam.institution_id, end_time))
            except Exception:  # one exam's meeting service failing must not stop the others
                log.exception("proctoring assignment for exam %s failed", exam.id)

    async def _dispose(self, setting: ProctoringSetting) -> None:
        failures = await self.keeper.dispose_all(setting, leave=False)
        if failures:
            log.warning("proctoring rooms of exam %s not disposed yet: %s", setting.exam_id, "; ".join(failures))
        elif setting.exam_id is None:  # the exam was deleted: nothing is left to keep
            async with self.db.transaction() as session:
                await session.execute(delete(ProctoringSetting).where(ProctoringSetting.id == setting.id))

    async def assign(self, setting: ProctoringSetting, exam: RunningExam, times: ExamTimes) -> None:
        states = eligible_states(exam)
        async with self.db.read() as session:
            members = await self.keeper.members(session, setting.id)
            known = {member.connection_id for member in members}
            candidates = (await session.execute(
                select(ClientConnection.id)
                .where(ClientConnection.exam_id == exam.id, ClientConnection.status.in_(list(states)))
                .order_by(ClientConnection.id))).all()
            rooms = await self.keeper.rooms(session, setting.id)
        gone = [member for member in members if member.status not in states]
        new = [row.id for row in candidates if row.id not in known]
        if gone:
            await self._remove(setting, gone, rooms)
        service = self.meetings.service(setting)
        if new:
            await self._add(setting, service, times, new, rooms, [m for m in members if m.status in states])
        await self.keeper.confirmations(setting.id, [member for member in members if member.status in states])
        await self.keeper.push(setting, times, service)
        failures = await self.keeper.dispose_closed(setting)
        if failures:
            log.warning("closed proctoring rooms of exam %s not disposed yet: %s", times.exam_id, "; ".join(failures))

    async def _remove(self, setting: ProctoringSetting, gone: list[Member], rooms: dict[int, RoomRow]) -> None:
        """Closed or canceled connections leave their rooms; one-to-one rooms nobody is left in are disposed."""
        ids = [member.connection_id for member in gone]
        await self.keeper.runtime.withdraw_instructions(member.instruction_id for member in gone if member.pending)
        async with self.db.transaction() as session:
            for start in range(0, len(ids), CHUNK):
                await session.execute(delete(ProctoringParticipant).where(
                    ProctoringParticipant.connection_id.in_(ids[start:start + CHUNK])))
            await self._update_sizes(session, setting.id)
            emptied = [room for room in rooms.values() if room.kind == RoomKind.BREAK_OUT.value and not (
                await session.execute(select(ProctoringParticipant.connection_id).where(
                    ProctoringParticipant.breakout_room_id == room.id).limit(1))).first()]
            await self.keeper.close(session, emptied)
        await self.keeper.dispose_rooms(setting, emptied)  # what fails stays closed: the next round tries again

    async def _add(self, setting: ProctoringSetting, service: ProctoringService, times: ExamTimes,
                   new: list[int], rooms: dict[int, RoomRow], staying: list[Member]) -> None:
        collecting = {room.id: room for room in rooms.values() if room.kind == RoomKind.COLLECTING.value}
        sizes = Counter(member.room_id for member in staying if member.room_id in collecting)
        placement = place(new, {room: sizes[room] for room in collecting},
                          {room.id: room.number for room in collecting.values()}, setting.collecting_room_size)
        next_number = max((room.number for room in collecting.values()), default=0) + 1
        made = []
        for offset, _ in enumerate(placement.new_rooms):
            number = next_number + offset
            made.append(await self.meetings.create_room(service, setting, times, RoomKind.COLLECTING,
                                                        f"Room {number}", number=number))
        async with self.db.transaction() as session:
            session.add_all(made)
            await session.flush()
            assignments = [(connection_id, room_id) for room_id, ids in placement.into_existing.items()
                           for connection_id in ids]
            assignments += [(connection_id, room.id) for room, ids in zip(made, placement.new_rooms, strict=True)
                            for connection_id in ids]
            session.add_all([ProctoringParticipant(connection_id=connection_id, setting_id=setting.id,
                                                   room_id=room_id) for connection_id, room_id in assignments])
            await session.flush()
            await self._update_sizes(session, setting.id)
        log.info("exam %s: %d connection(s) assigned to proctoring rooms (%d new room(s))", times.exam_id,
                 len(new), len(made))

    @staticmethod
    async def _update_sizes(session: AsyncSession, setting_id: int) -> None:
        """A collecting room's size is the number of participants assigned to it."""
        rows = (await session.execute(select(ProctoringParticipant.room_id).where(
            ProctoringParticipant.setting_id == setting_id, ProctoringParticipant.room_id.is_not(None)))).scalars()
        counts = Counter(rows)
        room_ids = (await session.execute(select(RoomRow.id).where(
            RoomRow.setting_id == setting_id, RoomRow.kind == RoomKind.COLLECTING.value))).scalars().all()
        if room_ids:
            table = table_of(RoomRow)
            await session.execute(update(table).where(table.c.id == bindparam("rid")).values(size=bindparam("n"))
                                  .execution_options(synchronize_session=False),
                                  [{"rid": room_id, "n": counts.get(room_id, 0)} for room_id in room_ids])


__all__ = ["RoomAssigner", "eligible_states", "place"]
