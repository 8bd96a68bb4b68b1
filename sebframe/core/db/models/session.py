"""Live SEB client sessions: Exam-API access tokens, connections, their events, instructions and notifications.

Times on the hot path are epoch milliseconds (BIGINT), as SEB Server stores them: the batched flushes write
them without conversions, and the SEB client sends its own times in that unit.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from sebframe.core.db.base import Base, UTCDateTime, utc_now


class ExamApiToken(Base):
    """An OAuth2 access token of the Exam API. Only its hash identifies it; the encrypted copy lets the server
    hand the same token to every SEB client of a connection configuration while it is valid (SEB Server does)."""

    __tablename__ = "exam_api_token"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    token_encrypted: Mapped[str] = mapped_column(Text)
    connection_config_id: Mapped[int] = mapped_column(
        ForeignKey("connection_configuration.id", ondelete="CASCADE"), index=True)
    client_id: Mapped[str] = mapped_column(String(64))  # regenerated credentials invalidate older tokens
    scope: Mapped[str] = mapped_column(String(255))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class ConnectionStatus(StrEnum):
    """SEB Server's connection states (``ClientConnection.ConnectionStatus``), stored in ``ClientConnection.status``."""

    CONNECTION_REQUESTED = "CONNECTION_REQUESTED"
    READY = "READY"
    ACTIVE = "ACTIVE"
    CLOSED = "CLOSED"
    DISABLED = "DISABLED"  # shown as "Canceled"

    @property
    def label(self) -> str:
        return _STATUS_LABELS[self]

    @property
    def client_active(self) -> bool:
        """Handshake calls are allowed and the connection can be missing (SEB Server's ``clientActiveStatus``)."""
        return self in ACTIVE_STATES


# SEB Server's ACTIVE_STATES: connecting, ready, active (not closed, not canceled).
ACTIVE_STATES = frozenset({ConnectionStatus.CONNECTION_REQUESTED, ConnectionStatus.READY, ConnectionStatus.ACTIVE})

_STATUS_LABELS = {
    ConnectionStatus.CONNECTION_REQUESTED: "Connecting",
    ConnectionStatus.READY: "Ready",
    ConnectionStatus.ACTIVE: "Active",
    ConnectionStatus.CLOSED: "Closed",
    ConnectionStatus.DISABLED: "Canceled",
}


class ClientConnection(Base):
    """One SEB client session, identified towards the client by ``connection_token``."""

    __tablename__ = "client_connection"
    __table_args__ = (Index("ix_client_connection_exam_status", "exam_id", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    connection_token: Mapped[str] = mapped_column(String(64), unique=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id", ondelete="CASCADE"), index=True)
    exam_id: Mapped[int | None] = mapped_column(ForeignKey("exam.id", ondelete="CASCADE"))
    connection_config_id: Mapped[int | None] = mapped_column(
        ForeignKey("connection_configuration.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(24))  # a ConnectionStatus value
    client_address: Mapped[str | None] = mapped_column(String(64))
    seb_os_name: Mapped[str | None] = mapped_column(String(255))
    seb_machine_name: Mapped[str | None] = mapped_column(String(255))
    seb_version: Mapped[str | None] = mapped_column(String(255))
    seb_client_user_id: Mapped[str | None] = mapped_column(String(255))  # the OS login (``client_id``)
    # What monitoring shows: a placeholder (OS login, machine, address) until the LMS user is known.
    user_session_id: Mapped[str | None] = mapped_column(String(255))
    lms_user_session_id: Mapped[str | None] = mapped_column(String(255))  # as the client sent it
    ask: Mapped[str | None] = mapped_column(String(64))  # SHA-256 hex of the decrypted app signature key
    security_check_granted: Mapped[bool | None] = mapped_column(Boolean)
    client_version_granted: Mapped[bool | None] = mapped_column(Boolean)
    missing_ping: Mapped[bool] = mapped_column(Boolean, default=False)
    created_ms: Mapped[int] = mapped_column(BigInteger)
    last_ping_ms: Mapped[int | None] = mapped_column(BigInteger)
    # Bumped by every change except pings; other server processes reload connections whose value moved.
    changed_ms: Mapped[int] = mapped_column(BigInteger, index=True)


class ClientEvent(Base):
    """A log event a SEB client sent, or one the server generated for it (missing ping, address change...)."""

    __tablename__ = "client_event"
    __table_args__ = (Index("ix_client_event_exam_server_time", "exam_id", "server_time_ms"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("client_connection.id", ondelete="CASCADE"), index=True)
    exam_id: Mapped[int | None] = mapped_column(ForeignKey("exam.id", ondelete="CASCADE"))
    event_type: Mapped[str] = mapped_column(String(24))
    client_time_ms: Mapped[int] = mapped_column(BigInteger)
    server_time_ms: Mapped[int] = mapped_column(BigInteger)
    numeric_value: Mapped[float | None] = mapped_column(Float)
    text: Mapped[str] = mapped_column(String(512), default="")


class ClientInstruction(Base):
    """An instruction waiting for a SEB client's next ping; deleted once delivered (or confirmed).

    Ids are never reused (AUTOINCREMENT on SQLite, sequences elsewhere): a client's late ``instruction-confirm``
    of a withdrawn instruction must not confirm a newer one that got the same id (migration 0008)."""

    __tablename__ = "client_instruction"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("client_connection.id", ondelete="CASCADE"), index=True)
    instruction_type: Mapped[str] = mapped_column(String(32))
    attributes: Mapped[str] = mapped_column(Text, default="")  # JSON object of strings; "" for none
    needs_confirmation: Mapped[bool] = mapped_column(Boolean, default=False)
    created_ms: Mapped[int] = mapped_column(BigInteger, index=True)


class ClientNotification(Base):
    """A raise-hand or lock-screen notification of a SEB client, pending until confirmed."""

    __tablename__ = "client_notification"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("client_connection.id", ondelete="CASCADE"), index=True)
    notification_type: Mapped[str] = mapped_column(String(16))  # raisehand, lockscreen
    value: Mapped[int] = mapped_column(BigInteger)  # the client's notification id
    text: Mapped[str] = mapped_column(String(512), default="")
    created_ms: Mapped[int] = mapped_column(BigInteger)
    confirmed_ms: Mapped[int | None] = mapped_column(BigInteger)


class SessionLease(Base):
    """A job only one server process may do at a time (missing-ping supervision); taken over when expired."""

    __tablename__ = "session_lease"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(64), default="")
    expires_ms: Mapped[int] = mapped_column(BigInteger, default=0)
