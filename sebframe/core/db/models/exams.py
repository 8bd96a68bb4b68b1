"""LMS setups, exams with their supporters, configuration mapping and indicators, and exam templates."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from sebframe.core.db.base import Base, UTCDateTime, utc_now


class LmsSetup(Base):
    """A configured LMS: its type (from an installed plugin), URL, encrypted credentials and proxy."""

    __tablename__ = "lms_setup"
    __table_args__ = (UniqueConstraint("institution_id", "name", name="uq_lms_setup_institution_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    lms_type: Mapped[str] = mapped_column(String(64))
    url: Mapped[str] = mapped_column(String(2048))
    settings_encrypted: Mapped[str] = mapped_column(Text)  # JSON of the type's settings model, encrypted
    proxy_host: Mapped[str | None] = mapped_column(String(255))
    proxy_port: Mapped[int | None] = mapped_column(Integer)
    proxy_username: Mapped[str | None] = mapped_column(String(255))
    proxy_password_encrypted: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=False)
    connection_id: Mapped[str] = mapped_column(String(36), unique=True)  # identifies us to LMS-side plugins
    last_test_ok: Mapped[bool | None] = mapped_column(Boolean)
    last_test_message: Mapped[str] = mapped_column(Text, default="")
    last_tested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now, onupdate=utc_now)


class Exam(Base):
    """A quiz imported from an LMS. Course data stays the LMS's and is refreshed into these columns."""

    __tablename__ = "exam"
    __table_args__ = (UniqueConstraint("lms_setup_id", "external_id", name="uq_exam_lms_setup_external_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"), index=True)
    lms_setup_id: Mapped[int | None] = mapped_column(ForeignKey("lms_setup.id", ondelete="SET NULL"), index=True)
    external_id: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text, default="")
    start_url: Mapped[str] = mapped_column(String(2048), default="")
    start_time: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    end_time: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lms_available: Mapped[bool] = mapped_column(Boolean, default=True)
    quiz_refreshed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    exam_type: Mapped[str] = mapped_column(String(32), default="UNDEFINED")
    status: Mapped[str] = mapped_column(String(16), default="UP_COMING")  # UP_COMING, RUNNING, FINISHED
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"), index=True)
    # The exam template applied on import, shown as a reference (migration 0004).
    exam_template_id: Mapped[int | None] = mapped_column(ForeignKey("exam_template.id", ondelete="SET NULL"))
    browser_exam_keys: Mapped[str] = mapped_column(Text, default="")  # one per line
    restriction_properties: Mapped[str] = mapped_column(Text, default="{}")  # JSON, LMS-specific
    restriction_applied: Mapped[bool] = mapped_column(Boolean, default=False)
    restriction_message: Mapped[str] = mapped_column(Text, default="")
    # SEB client checks (migration 0005; rules in sebframe.core.session.ask and .seb_versions).
    app_signature_salt: Mapped[str | None] = mapped_column(String(32))  # SEBExamSalt, created on first need
    signature_key_check_enabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # SEB Server's default NUMERICAL_TRUST_THRESHOLD for new exams (ask.DEFAULT_TRUST_THRESHOLD).
    signature_key_trust_threshold: Mapped[int] = mapped_column(Integer, default=2, server_default="2")
    signature_key_grants: Mapped[str] = mapped_column(Text, default="")  # granted ASK hashes, one per line
    allowed_seb_versions: Mapped[str] = mapped_column(String(1024), default="", server_default="")  # comma list
    alternative_bek: Mapped[str | None] = mapped_column(String(255))  # sent as SEBServerBEK header
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now, onupdate=utc_now)


class ExamSupporter(Base):
    __tablename__ = "exam_supporter"

    exam_id: Mapped[int] = mapped_column(ForeignKey("exam.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)


class ExamConfigurationMapping(Base):
    """The exam configuration attached to an exam (one per exam), with an optional encryption password."""

    __tablename__ = "exam_configuration_mapping"

    exam_id: Mapped[int] = mapped_column(ForeignKey("exam.id", ondelete="CASCADE"), primary_key=True)
    # CASCADE (migration 0004): deleting a user "with all" deletes their exam configurations, attached or not.
    configuration_id: Mapped[int] = mapped_column(ForeignKey("exam_configuration.id", ondelete="CASCADE"),
                                                  index=True)
    encryption_password_encrypted: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)


class Indicator(Base):
    """A monitoring indicator of an exam; ``thresholds`` is JSON ``[{"value": 5000, "color": "ffc20e"}, ...]``."""

    __tablename__ = "indicator"
    __table_args__ = (UniqueConstraint("exam_id", "name", name="uq_indicator_exam_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    exam_id: Mapped[int] = mapped_column(ForeignKey("exam.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    indicator_type: Mapped[str] = mapped_column(String(64))
    color: Mapped[str] = mapped_column(String(6), default="ffffff")
    tags: Mapped[str] = mapped_column(String(1024), default="")
    thresholds: Mapped[str] = mapped_column(Text, default="[]")


class ExamTemplate(Base):
    """Defaults applied on import: exam type, configuration template, supporters and indicators (JSON)."""

    __tablename__ = "exam_template"
    __table_args__ = (UniqueConstraint("institution_id", "name", name="uq_exam_template_institution_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text, default="")
    institutional_default: Mapped[bool] = mapped_column(Boolean, default=False)
    exam_type: Mapped[str] = mapped_column(String(32), default="UNDEFINED")
    configuration_template_id: Mapped[int | None] = mapped_column(
        ForeignKey("exam_configuration.id", ondelete="SET NULL")
    )
    supporter_ids: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of user ids
    indicators: Mapped[str] = mapped_column(Text, default="[]")  # JSON list like Indicator rows
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now, onupdate=utc_now)
