"""SEB configurations: certificates, connection configurations, exam configurations and templates."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from sebframe.core.db.base import Base, Blob, LongText, UTCDateTime, utc_now


class Certificate(Base):
    """An X.509 certificate, with its private key when imported from PKCS#12; both stored encrypted."""

    __tablename__ = "certificate"
    __table_args__ = (UniqueConstraint("institution_id", "alias", name="uq_certificate_institution_alias"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"), index=True)
    alias: Mapped[str] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(String(1024), default="")
    issuer: Mapped[str] = mapped_column(String(1024), default="")
    serial_number: Mapped[str] = mapped_column(String(128), default="")
    not_before: Mapped[datetime | None] = mapped_column(UTCDateTime)
    not_after: Mapped[datetime | None] = mapped_column(UTCDateTime)
    public_key_hash: Mapped[str] = mapped_column(String(40))  # hex SHA-1 as in pkhs/phsk headers
    certificate_encrypted: Mapped[bytes] = mapped_column(Blob)  # DER, encrypted with the server key
    private_key_encrypted: Mapped[bytes | None] = mapped_column(Blob)  # PKCS#8 DER, encrypted
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)


class ConnectionConfiguration(Base):
    """What a SEB client needs to reach this server (exported as SEBServerSettings.seb), with OAuth credentials."""

    __tablename__ = "connection_configuration"
    __table_args__ = (UniqueConstraint("institution_id", "name", name="uq_connection_configuration_institution_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    purpose: Mapped[str] = mapped_column(String(32), default="START_EXAM")
    active: Mapped[bool] = mapped_column(Boolean, default=False)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    client_secret_encrypted: Mapped[str] = mapped_column(Text)
    encryption_password_encrypted: Mapped[str | None] = mapped_column(Text)
    certificate_id: Mapped[int | None] = mapped_column(ForeignKey("certificate.id", ondelete="SET NULL"))
    asymmetric_only: Mapped[bool] = mapped_column(Boolean, default=False)
    fallback: Mapped[bool] = mapped_column(Boolean, default=False)
    fallback_start_url: Mapped[str | None] = mapped_column(String(2048))
    fallback_attempts: Mapped[int] = mapped_column(Integer, default=5)
    fallback_interval_ms: Mapped[int] = mapped_column(Integer, default=2000)
    fallback_timeout_ms: Mapped[int] = mapped_column(Integer, default=30000)
    fallback_password_encrypted: Mapped[str | None] = mapped_column(Text)
    quit_password_encrypted: Mapped[str | None] = mapped_column(Text)
    ping_interval_ms: Mapped[int] = mapped_column(Integer, default=1000)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now, onupdate=utc_now)


class ExamConfiguration(Base):
    """An exam configuration or a configuration template (SEB Server's "configuration node")."""

    __tablename__ = "exam_configuration"
    __table_args__ = (
        UniqueConstraint("institution_id", "kind", "name", name="uq_exam_configuration_institution_kind_name"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # EXAM_CONFIG or TEMPLATE
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(32), default="CONSTRUCTION")
    template_id: Mapped[int | None] = mapped_column(ForeignKey("exam_configuration.id", ondelete="SET NULL"))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"), index=True)
    # Templates: names of settings detached from the editor view (JSON list); exam configs inherit it.
    hidden_attributes: Mapped[str] = mapped_column(Text, default="[]")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now, onupdate=utc_now)


class ExamConfigurationRevision(Base):
    """One version of the settings. ``working`` marks the copy being edited; the others are history.

    ``number`` 0 is the initial version (defaults or template); each publish adds the next number.
    ``settings`` is the JSON of the values (passwords encrypted with the server key).
    """

    __tablename__ = "exam_configuration_revision"
    __table_args__ = (Index("ix_exam_configuration_revision_configuration_working", "configuration_id", "working"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    configuration_id: Mapped[int] = mapped_column(ForeignKey("exam_configuration.id", ondelete="CASCADE"))
    number: Mapped[int | None] = mapped_column(Integer)
    working: Mapped[bool] = mapped_column(Boolean, default=False)
    settings: Mapped[str] = mapped_column(LongText)
    summary: Mapped[str] = mapped_column(Text, default="")
    author: Mapped[str] = mapped_column(String(255), default="")
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
