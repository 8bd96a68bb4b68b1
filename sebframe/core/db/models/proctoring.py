"""Live proctoring: an exam's meeting-service settings, its rooms, and which room each SEB connection is in.

Everything lives in the database so that any server process serves any request: the supervising process
assigns connections to rooms, a proctor's request on another process opens the town-hall, and whichever
process a client pings delivers the JOIN.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from sebframe.core.db.base import Base, UTCDateTime, utc_now


class ProctoringSetting(Base):
    """An exam's live proctoring settings. ``exam_id`` becomes NULL when the exam is deleted: the row then
    only waits until its rooms are disposed at the meeting service (the supervising process does that)."""

    __tablename__ = "proctoring_setting"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    exam_id: Mapped[int | None] = mapped_column(ForeignKey("exam.id", ondelete="SET NULL"), unique=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id", ondelete="CASCADE"), index=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    service_type: Mapped[str] = mapped_column(String(64))  # a ProctoringType name, e.g. JITSI_MEET
    server_url: Mapped[str] = mapped_column(String(512))
    settings_encrypted: Mapped[str] = mapped_column(Text)  # the type's settings model as JSON, encrypted
    collecting_room_size: Mapped[int] = mapped_column(Integer, default=20)  # 0: unlimited
    features: Mapped[str] = mapped_column(String(255), default="")  # comma-separated ProctoringFeature names
    last_test_ok: Mapped[bool | None] = mapped_column(Boolean)
    last_test_message: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now, onupdate=utc_now)


class ProctoringRoom(Base):
    """A meeting room: collecting rooms numbered 1, 2, ...; at most one town-hall; break-out rooms.

    ``slot`` makes the rules a unique constraint: ``C<n>`` for collecting room n, ``TOWN_HALL``, ``B<name>``.
    """

    __tablename__ = "proctoring_room"
    __table_args__ = (UniqueConstraint("setting_id", "slot", name="uq_proctoring_room_setting_slot"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    setting_id: Mapped[int] = mapped_column(ForeignKey("proctoring_setting.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # RoomKind value: proctoring, townhall, breakout
    slot: Mapped[str] = mapped_column(String(64))
    number: Mapped[int] = mapped_column(Integer, default=0)  # collecting rooms: 1, 2, ...
    name: Mapped[str] = mapped_column(String(255))  # the room's name at the meeting service
    subject: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(Integer, default=0)  # connections assigned (collecting rooms)
    data_encrypted: Mapped[str] = mapped_column(Text, default="")  # the service's room data (JSON), encrypted
    receive_audio: Mapped[bool] = mapped_column(Boolean, default=False)  # broadcast state of the room
    receive_video: Mapped[bool] = mapped_column(Boolean, default=False)
    allow_chat: Mapped[bool] = mapped_column(Boolean, default=False)
    created_ms: Mapped[int] = mapped_column(BigInteger)


class ProctoringParticipant(Base):
    """A SEB connection of a proctored exam: its collecting room, the break-out room it is in (one-to-one),
    and the JOIN (or LEAVE, or reconfiguration) sent last, until the client confirms it."""

    __tablename__ = "proctoring_participant"

    connection_id: Mapped[int] = mapped_column(ForeignKey("client_connection.id", ondelete="CASCADE"),
                                               primary_key=True)
    setting_id: Mapped[int] = mapped_column(ForeignKey("proctoring_setting.id", ondelete="CASCADE"), index=True)
    room_id: Mapped[int | None] = mapped_column(ForeignKey("proctoring_room.id", ondelete="SET NULL"), index=True)
    breakout_room_id: Mapped[int | None] = mapped_column(ForeignKey("proctoring_room.id", ondelete="SET NULL"),
                                                         index=True)
    joined_room_id: Mapped[int | None] = mapped_column(Integer)  # the room the last JOIN named
    instruction_id: Mapped[int | None] = mapped_column(Integer)  # the last JOIN sent, until confirmed
    instruction_ms: Mapped[int | None] = mapped_column(BigInteger)
    confirmed_ms: Mapped[int | None] = mapped_column(BigInteger)  # when the client confirmed that JOIN
