"""Network location restriction: testing-center locations, IP profiles and their versions, each exam's
restriction policy, planned exceptions, proctor overrides, the decision snapshot of each SEB connection and
the location audit log.

Profiles are never deleted (hidden instead) and every edit is a new immutable version, so "which rules applied
at 09:03" stays answerable: decisions and audit records name the profile version they used.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from sebframe.core.db.base import Base, UTCDateTime, utc_now


class Location(Base):
    """A testing center or computer pool; its rooms and seats are labels on the rules of its profiles."""

    __tablename__ = "location"
    __table_args__ = (UniqueConstraint("institution_id", "name", name="uq_location_institution_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text, default="")
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now, onupdate=utc_now)


class LocationProfile(Base):
    """A named IP profile: ``ALLOW|BLOCK <spec>`` rules (the current version's text) and the help text a
    blocked student reads."""

    __tablename__ = "location_profile"
    __table_args__ = (UniqueConstraint("institution_id", "name", name="uq_location_profile_institution_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id", ondelete="CASCADE"), index=True)
    location_id: Mapped[int | None] = mapped_column(ForeignKey("location.id", ondelete="SET NULL"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    help_text: Mapped[str] = mapped_column(Text, default="")
    default_room: Mapped[str] = mapped_column(String(255), default="")  # for rules without room=
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    version: Mapped[int] = mapped_column(Integer, default=1)  # the current LocationProfileVersion
    rules_text: Mapped[str] = mapped_column(Text, default="")  # the current version's rules, as written
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now, onupdate=utc_now)


class LocationProfileVersion(Base):
    """One immutable version of a profile's rules."""

    __tablename__ = "location_profile_version"
    __table_args__ = (UniqueConstraint("profile_id", "version", name="uq_location_profile_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    profile_id: Mapped[int] = mapped_column(ForeignKey("location_profile.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    rules_text: Mapped[str] = mapped_column(Text)
    help_text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    created_by: Mapped[str] = mapped_column(String(255), default="")


class ExamLocationPolicy(Base):
    """How an exam is restricted: its profiles (``ExamLocationProfile``), enforce or log-only, hiding from the
    handshake list, the reaction to a violation, and the emergency suspension."""

    __tablename__ = "exam_location_policy"

    exam_id: Mapped[int] = mapped_column(ForeignKey("exam.id", ondelete="CASCADE"), primary_key=True)
    mode: Mapped[str] = mapped_column(String(16), default="ENFORCE")  # ENFORCE | LOG_ONLY
    hide_when_outside: Mapped[bool] = mapped_column(Boolean, default=False)
    on_violation: Mapped[str] = mapped_column(String(16), default="LOG")  # LOG | QUIT
    suspended: Mapped[bool] = mapped_column(Boolean, default=False)
    suspend_reason: Mapped[str] = mapped_column(Text, default="")
    suspended_by: Mapped[str] = mapped_column(String(255), default="")
    suspended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now, onupdate=utc_now)


class ExamLocationProfile(Base):
    """A profile attached to an exam; an address allowed by any of them is allowed."""

    __tablename__ = "exam_location_profile"

    exam_id: Mapped[int] = mapped_column(ForeignKey("exam.id", ondelete="CASCADE"), primary_key=True)
    profile_id: Mapped[int] = mapped_column(ForeignKey("location_profile.id", ondelete="CASCADE"),
                                            primary_key=True)


class LocationException(Base):
    """A planned exception for a user or a group of users of one exam: any location, or only a substitute
    profile (e.g. an accessibility room)."""

    __tablename__ = "location_exception"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    exam_id: Mapped[int] = mapped_column(ForeignKey("exam.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(8))  # USER | GROUP
    name: Mapped[str] = mapped_column(String(255))  # the user id, or the group's name
    members: Mapped[str] = mapped_column(Text, default="")  # a group's user ids, one per line
    substitute_profile_id: Mapped[int | None] = mapped_column(
        ForeignKey("location_profile.id", ondelete="SET NULL"))
    valid_from: Mapped[datetime | None] = mapped_column(UTCDateTime)
    valid_to: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)


class LocationOverride(Base):
    """A proctor's approval of a blocked connection: for this connection at this address, for the user from
    any address, or for the address. ``active_key`` is set while it is in force; being unique, two proctors
    approving at the same moment make one override."""

    __tablename__ = "location_override"
    __table_args__ = (Index("ix_location_override_exam", "exam_id", "revoked_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    exam_id: Mapped[int] = mapped_column(ForeignKey("exam.id", ondelete="CASCADE"))
    connection_id: Mapped[int | None] = mapped_column(ForeignKey("client_connection.id", ondelete="SET NULL"))
    scope: Mapped[str] = mapped_column(String(16))  # CONNECTION | USER | ADDRESS
    user_session_id: Mapped[str | None] = mapped_column(String(255))
    address: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by: Mapped[str] = mapped_column(String(255), default="")
    revoke_reason: Mapped[str] = mapped_column(Text, default="")
    active_key: Mapped[str | None] = mapped_column(String(320), unique=True)


class ConnectionLocation(Base):
    """The latest location decision for a SEB connection: where it sat (room, seat), by which rule, and
    whether it is blocked (with the approval code the student reads out) or violated the rules later."""

    __tablename__ = "connection_location"
    __table_args__ = (Index("ix_connection_location_exam_status", "exam_id", "status"),)

    connection_id: Mapped[int] = mapped_column(ForeignKey("client_connection.id", ondelete="CASCADE"),
                                               primary_key=True)
    exam_id: Mapped[int] = mapped_column(ForeignKey("exam.id", ondelete="CASCADE"))
    # ALLOWED | BLOCKED | VIOLATION | OVERRIDDEN | EXCEPTION | WOULD_BLOCK (log-only mode)
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(16))  # ALLOW_RULE | BLOCK_RULE | NO_MATCH | UNRESOLVABLE | ...
    address: Mapped[str | None] = mapped_column(String(64))
    user_id: Mapped[str | None] = mapped_column(String(255))  # the LMS user id sent, even with a refused PATCH
    peer_address: Mapped[str | None] = mapped_column(String(64))
    forwarded_chain: Mapped[str] = mapped_column(String(512), default="")
    profile_id: Mapped[int | None] = mapped_column(Integer)
    profile_version: Mapped[int | None] = mapped_column(Integer)
    rule: Mapped[str] = mapped_column(String(320), default="")  # "line:canonical rule"
    room: Mapped[str] = mapped_column(String(255), default="")
    seat: Mapped[str] = mapped_column(String(255), default="")
    approval_code: Mapped[str] = mapped_column(String(8), default="")
    message: Mapped[str] = mapped_column(Text, default="")
    violations: Mapped[int] = mapped_column(Integer, default=0)
    first_allowed_ms: Mapped[int | None] = mapped_column(BigInteger)  # 1001 is logged once per connection
    last_change_event_ms: Mapped[int | None] = mapped_column(BigInteger)  # rate limit of 1002/37 records
    decided_ms: Mapped[int] = mapped_column(BigInteger)


class LocationAuditRecord(Base):
    """One location audit event: ``line`` is the whole record in the pipe-delimited format (escaped, one
    line), the other columns are what the log search filters on."""

    __tablename__ = "location_audit"
    __table_args__ = (
        Index("ix_location_audit_exam_at", "exam_id", "at"),
        Index("ix_location_audit_institution_at", "institution_id", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    # None: a server-wide event (the trusted-proxy configuration changed)
    institution_id: Mapped[int | None] = mapped_column(ForeignKey("institution.id", ondelete="CASCADE"))
    # An exam's records go with it, as its client events do (they hold addresses with user ids).
    exam_id: Mapped[int | None] = mapped_column(ForeignKey("exam.id", ondelete="CASCADE"))
    connection_id: Mapped[int | None] = mapped_column(Integer)  # no foreign key: the record outlives it
    code: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(8))
    src_ip: Mapped[str] = mapped_column(String(64), default="")
    suser: Mapped[str] = mapped_column(String(255), default="")
    room: Mapped[str] = mapped_column(String(255), default="")
    line: Mapped[str] = mapped_column(Text)
