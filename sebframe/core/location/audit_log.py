"""The location audit log: records written with the decision or change they describe, searched in the UI and
exported per exam ("who sat where") as pipe-delimited lines, JSON lines or CSV.

Records are kept as their escaped line (``audit_format``), so an export writes exactly what was recorded.
Reading: a record of an exam follows the exam's ``CLIENT_EVENT`` grant (exam administrators of the
institution, the exam's supporters); records without an exam (profile changes) are read by those who may
write locations. Connection tokens never appear: records name the connection by its id.
"""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from sebframe.core.accounts.actor import Actor
from sebframe.core.accounts.roles import EntityType, Privilege
from sebframe.core.db import Database
from sebframe.core.db.models import Exam, LocationAuditRecord
from sebframe.core.errors import NotFound, PermissionDenied, ValidationFailed
from sebframe.core.exams.access import load_exam, supporter_ids, visible
from sebframe.core.location.audit_format import AuditCode, AuditRecord, format_line, parse_line
from sebframe.core.monitoring.csv_export import BOM, csv_text, spreadsheet_cell
from sebframe.core.paging import AnySelect, ListParams, Page, contains, fetch_page

AUDIT_FILTERS = ("exam_id", "code", "address", "user", "room", "outcome", "from", "to")
EXPORT_FORMATS = {"log": "text/plain; charset=utf-8", "jsonl": "application/x-ndjson",
                  "csv": "text/csv; charset=utf-8"}
CSV_COLUMNS = ("timestamp", "evt_code", "evt_name", "outcome", "act", "src_ip", "peer_ip", "suid", "suser",
               "session_id", "room", "seat", "client_machine", "client_os", "seb_version", "profile_id",
               "profile_ver", "rule", "reason", "proctor_id", "override_id", "msg")
_EXPORT_CHUNK = 2_000


class LocationAudit:
    def __init__(self, db: Database, host: str | None = None) -> None:
        self.db = db
        self.host = host or socket.gethostname()

    # -- writing (inside the caller's transaction) ---------------------------------------------------

    def add(self, session: AsyncSession, record: AuditRecord, *, institution_id: int | None,
            connection_id: int | None = None) -> None:
        if not record.dhost:
            record = replace(record, dhost=self.host)
        session.add(LocationAuditRecord(
            at=record.timestamp, institution_id=institution_id, exam_id=record.exam_id,
            connection_id=connection_id, code=int(record.code), outcome=record.outcome or record.code.outcome,
            src_ip=record.src_ip[:64], suser=record.suser[:255], room=record.room[:255],
            line=format_line(record)))

    def admin(self, session: AsyncSession, code: AuditCode, actor: Actor, institution_id: int, *,
              exam_id: int | None = None, profile_id: int | None = None, profile_ver: int | None = None,
              override_id: int | None = None, connection_id: int | None = None, msg: str = "",
              **fields: Any) -> None:
        """A change made by a user (profile edits, suspensions, overrides); the actor is the proctor field.
        ``fields`` are more ``AuditRecord`` fields (the connection's address, user, room...)."""
        record = AuditRecord(timestamp=datetime.now(UTC), code=code, exam_id=exam_id, profile_id=profile_id,
                             profile_ver=profile_ver, override_id=override_id, proctor_id=actor.username,
                             session_id=str(connection_id) if connection_id is not None else "", msg=msg, **fields)
        self.add(session, record, institution_id=institution_id, connection_id=connection_id)

    async def note_proxy_configuration(self, description: str) -> bool:
        """Record the trusted-proxy configuration (code 1020) when it differs from the last one recorded; the
        server calls this at start. True when it was recorded."""
        async with self.db.transaction() as session:
            code = int(AuditCode.TRUSTED_PROXIES_CHANGED)
            last = (await session.execute(select(LocationAuditRecord.line).where(LocationAuditRecord.code == code)
                                          .order_by(LocationAuditRecord.id.desc()).limit(1))).scalar_one_or_none()
            if last is not None and parse_line(last).get("msg") == description:
                return False
            self.add(session, AuditRecord(timestamp=datetime.now(UTC), code=AuditCode.TRUSTED_PROXIES_CHANGED,
                                          msg=description), institution_id=None)
        return True

    # -- reading -------------------------------------------------------------------------------------

    async def search(self, actor: Actor, params: ListParams) -> Page[LocationAuditRecord]:
        statement = self._filtered(select(LocationAuditRecord), actor, params)
        async with self.db.read() as session:
            return await fetch_page(session, statement, params,
                                    {"time": LocationAuditRecord.at, "code": LocationAuditRecord.code},
                                    (LocationAuditRecord.at.desc(), LocationAuditRecord.id.desc()))

    async def get(self, actor: Actor, record_id: int) -> LocationAuditRecord:
        statement = self._filtered(select(LocationAuditRecord), actor, ListParams())
        async with self.db.read() as session:
            found: LocationAuditRecord | None = (await session.execute(
                statement.where(LocationAuditRecord.id == record_id))).scalar_one_or_none()
        if found is None:
            raise NotFound(f"audit record {record_id} not found")
        return found

    async def exam_choices(self, actor: Actor) -> list[tuple[int, str]]:
        """(id, name) of the exams whose records ``actor`` may read, by name (the search's exam filter)."""
        statement = visible(select(Exam.id, Exam.name), actor, Privilege.READ, EntityType.CLIENT_EVENT)
        async with self.db.read() as session:
            rows = await session.execute(statement.order_by(func.lower(Exam.name), Exam.id))
            return [(row.id, row.name) for row in rows]

    async def export(self, actor: Actor, exam_id: int, fmt: str = "log") -> AsyncIterator[bytes]:
        """Every record of the exam, oldest first, streamed in chunks; checks access before the first byte."""
        if fmt not in EXPORT_FORMATS:
            raise ValidationFailed({"format": f"choose one of {', '.join(EXPORT_FORMATS)}"})
        async with self.db.read() as session:
            exam = await load_exam(session, actor, exam_id)
            if not actor.may(Privilege.READ, EntityType.CLIENT_EVENT, institution_id=exam.institution_id,
                             owner_id=await _owner_for(session, actor, exam)):
                raise PermissionDenied("you may not read the location audit log of this exam")
        return self._chunks(exam.id, fmt)

    async def _chunks(self, exam_id: int, fmt: str) -> AsyncIterator[bytes]:
        if fmt == "csv":
            yield (BOM + csv_text([CSV_COLUMNS])).encode()
        after: tuple[datetime, int] | None = None
        while True:
            statement = select(LocationAuditRecord.at, LocationAuditRecord.id, LocationAuditRecord.line).where(
                LocationAuditRecord.exam_id == exam_id)
            if after is not None:
                statement = statement.where(or_(LocationAuditRecord.at > after[0],
                                                and_(LocationAuditRecord.at == after[0],
                                                     LocationAuditRecord.id > after[1])))
            async with self.db.read() as session:
                rows = (await session.execute(statement.order_by(LocationAuditRecord.at, LocationAuditRecord.id)
                                              .limit(_EXPORT_CHUNK))).all()
            if not rows:
                return
            after = (rows[-1].at, rows[-1].id)
            yield _render([row.line for row in rows], fmt).encode()

    def _filtered(self, statement: AnySelect, actor: Actor, params: ListParams) -> AnySelect:
        exams = visible(select(Exam.id), actor, Privilege.READ, EntityType.CLIENT_EVENT)
        reach: list[ColumnElement[bool]] = [LocationAuditRecord.exam_id.in_(exams)]
        if actor.may(Privilege.WRITE, EntityType.LOCATION, institution_id=actor.institution_id):
            # the institution's profile changes, and server-wide events (the trusted proxies)
            reach.append(and_(LocationAuditRecord.exam_id.is_(None),
                              or_(LocationAuditRecord.institution_id == actor.institution_id,
                                  LocationAuditRecord.institution_id.is_(None))))
        statement = statement.where(or_(*reach))
        filters = params.filters
        if exam := filters.get("exam_id"):
            statement = statement.where(LocationAuditRecord.exam_id == _int(exam, "exam_id"))
        if code := filters.get("code"):
            statement = statement.where(LocationAuditRecord.code == _int(code, "code"))
        if address := filters.get("address"):
            statement = statement.where(contains(LocationAuditRecord.src_ip, address))
        if user := filters.get("user"):
            statement = statement.where(contains(LocationAuditRecord.suser, user))
        if room := filters.get("room"):
            statement = statement.where(contains(LocationAuditRecord.room, room))
        if outcome := filters.get("outcome"):
            statement = statement.where(LocationAuditRecord.outcome == outcome.lower())
        if start := filters.get("from"):
            statement = statement.where(LocationAuditRecord.at >= _time(start, "from"))
        if end := filters.get("to"):
            statement = statement.where(LocationAuditRecord.at <= _time(end, "to"))
        return statement


def fields_of(record: LocationAuditRecord) -> dict[str, str]:
    """The record's fields, unescaped, in the line's order."""
    return parse_line(record.line)


def _render(lines: list[str], fmt: str) -> str:
    if fmt == "log":
        return "".join(line + "\n" for line in lines)
    parsed = [parse_line(line) for line in lines]
    if fmt == "jsonl":
        return "".join(json.dumps(fields, ensure_ascii=False) + "\n" for fields in parsed)
    return csv_text([spreadsheet_cell(fields.get(column, "")) for column in CSV_COLUMNS] for fields in parsed)


async def _owner_for(session: AsyncSession, actor: Actor, exam: Exam) -> int | None:
    if exam.owner_id == actor.user_id or actor.user_id in await supporter_ids(session, exam.id):
        return actor.user_id
    return exam.owner_id


def _int(value: str, field: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise ValidationFailed({field: "must be a whole number"}) from None


def _time(value: str, field: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValidationFailed({field: "give a date and time like 2026-11-22T09:00"}) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
