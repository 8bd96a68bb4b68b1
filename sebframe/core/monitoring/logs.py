"""All SEB client logs: search, details, CSV export and deletion of the log events of every exam a user may see.

Who: the ``CLIENT_EVENT`` grant (SEB Server's): exam administrators read and delete the logs of their
institution's exams, exam supporters read those of the exams they own or are assigned to; other roles have
none. Exams are scoped as in :func:`sebframe.core.exams.access.visible`; events without an exam (a client that
never chose one) belong to no exam and are not listed.

Speed with millions of events: every query starts from ``client_event`` restricted by ``exam_id`` (and the
server-time range), which the index (exam_id, server_time_ms) serves; a user filter becomes a list of
connection ids (index on connection_id). Exam names and users are joined only to sort by them, and
otherwise looked up for the rows of one page. Export and deletion walk each exam's events by (server time, id)
on that index in chunks, one short transaction each, so neither memory, nor the cost of a chunk, nor a database
lock grows with the number of events.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from sebframe.core.accounts.activity import Activity, record_activity
from sebframe.core.accounts.actor import Actor, Scope
from sebframe.core.accounts.roles import EntityType, Privilege
from sebframe.core.db import Database, is_valid_id
from sebframe.core.db.models import ClientConnection, ClientEvent, Exam
from sebframe.core.errors import NotFound, PermissionDenied, ValidationFailed
from sebframe.core.exams.access import visible
from sebframe.core.monitoring.csv_export import BOM, csv_text, spreadsheet_cell
from sebframe.core.paging import AnySelect, Column, ListParams, Page, contains, fetch_page
from sebframe.core.session.events import EventType

CLIENT_LOG_FILTERS = ("exam_id", "user_session", "event_type", "from", "to", "text")
CLIENT_LOG_SORTS = ("server_time", "client_time", "event_type", "exam", "user_session")
EVENT_TYPES = tuple(EventType)
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
# SEB Server's export columns (with connection and exam details), minus the connection token: it is the
# client's credential. SEB Server calls the address column "Client Machine" although it holds the IP address.
CSV_HEADER = ("Event Type", "Message", "Value", "Client Time (UTC)", "Server Time (UTC)", "User Session-ID",
              "Client Address", "Exam Name")
EXPORT_CHUNK_SIZE = 5_000  # events per query of the export
DELETE_CHUNK_SIZE = 5_000  # events per transaction of a deletion: live event writes wait at most one chunk

_SORTABLE: dict[str, Column] = {
    "server_time": ClientEvent.server_time_ms,
    "client_time": ClientEvent.client_time_ms,
    "event_type": ClientEvent.event_type,
    "exam": func.lower(Exam.name),
    "user_session": func.lower(ClientConnection.user_session_id),
}
assert set(_SORTABLE) == set(CLIENT_LOG_SORTS)
_NEWEST_FIRST = (ClientEvent.server_time_ms.desc(), ClientEvent.id.desc())


@dataclass(frozen=True, slots=True)
class LogRow:
    """One log event with its exam and the user of its connection, as the list shows it."""

    id: int
    exam_id: int
    exam_name: str
    connection_id: int
    user_session_id: str | None
    event_type: str
    client_time_ms: int
    server_time_ms: int
    numeric_value: float | None
    text: str

    @property
    def server_time(self) -> datetime | None:
        return ms_to_datetime(self.server_time_ms)

    @property
    def client_time(self) -> datetime | None:
        """None when the client sent a time no calendar holds (it sends what it likes)."""
        return ms_to_datetime(self.client_time_ms)

    @property
    def value_text(self) -> str:
        return format_value(self.numeric_value)


@dataclass(frozen=True, slots=True)
class LogDetails:
    """A log event with the SEB connection it came from (never its token: that is the client's credential)."""

    row: LogRow
    connection_status: str
    client_address: str | None
    seb_machine_name: str | None
    seb_os_name: str | None
    seb_version: str | None
    seb_client_user_id: str | None


def ms_to_datetime(ms: int) -> datetime | None:
    try:
        return datetime.fromtimestamp(ms / 1000, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def format_value(value: float | None) -> str:
    """87.0 as "87", 0.25 as "0.25", nothing as ""."""
    if value is None:
        return ""
    return str(int(value)) if value.is_integer() else repr(value)


def export_filename(day: datetime) -> str:
    return f"seb-client-logs-{day:%Y-%m-%d}.csv"


class ClientLogService:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def search(self, actor: Actor, params: ListParams) -> Page[LogRow]:
        """One page of the events matching ``params.filters``; newest first unless sorted otherwise."""
        statement = select(ClientEvent).where(*_conditions(actor, Privilege.READ, params.filters))
        if params.sort == "exam":
            statement = statement.join(Exam, Exam.id == ClientEvent.exam_id)
        elif params.sort == "user_session":
            statement = statement.join(ClientConnection, ClientConnection.id == ClientEvent.connection_id)
        async with self.db.read() as session:
            page = await fetch_page(session, statement, params, _SORTABLE, _NEWEST_FIRST)
            rows = await _rows(session, page.items)
        return Page(items=rows, total=page.total, page=page.page, size=page.size)

    async def get(self, actor: Actor, event_id: int) -> LogDetails:
        """The event with its connection, if ``actor`` may read it; otherwise ``NotFound``."""
        conditions = _conditions(actor, Privilege.READ, {})
        if not is_valid_id(event_id):
            raise NotFound(f"SEB client log event {event_id} not found")
        async with self.db.read() as session:
            found = (await session.execute(
                select(ClientEvent, ClientConnection, Exam.name)
                .join(ClientConnection, ClientConnection.id == ClientEvent.connection_id)
                .join(Exam, Exam.id == ClientEvent.exam_id)
                .where(ClientEvent.id == event_id, *conditions))).first()
        if found is None:
            raise NotFound(f"SEB client log event {event_id} not found")
        event, connection, exam_name = found
        return LogDetails(row=_row(event, exam_name, connection.user_session_id),
                          connection_status=connection.status, client_address=connection.client_address,
                          seb_machine_name=connection.seb_machine_name, seb_os_name=connection.seb_os_name,
                          seb_version=connection.seb_version, seb_client_user_id=connection.seb_client_user_id)

    async def count(self, actor: Actor, filters: Mapping[str, str]) -> int:
        """How many events match, e.g. to confirm a deletion."""
        conditions = _conditions(actor, Privilege.READ, filters)
        async with self.db.read() as session:
            return (await session.execute(select(func.count()).select_from(ClientEvent)
                                          .where(*conditions))).scalar_one()

    async def exam_choices(self, actor: Actor) -> list[tuple[int, str]]:
        """(id, name) of the exams whose logs ``actor`` may read, for the exam filter."""
        return await self._exams(actor, Privilege.READ, {})

    async def export_csv(self, actor: Actor, filters: Mapping[str, str], *,
                         chunk_size: int = EXPORT_CHUNK_SIZE) -> AsyncIterator[bytes]:
        """The matching events as CSV, exam by exam (by name), each exam's oldest first. Access and filters
        are checked (and the export logged) when awaited, so a refusal comes before any byte; the iterator
        then reads ``chunk_size`` events per query, each in its own short read: memory stays flat and no
        transaction is held while a slow client downloads. Events stored meanwhile are included if they
        match."""
        _require(actor, Privilege.READ)
        conditions = _filter_conditions(filters)
        exams = await self._exams(actor, Privilege.READ, filters)
        async with self.db.transaction() as session:
            record_activity(session, actor, Activity.EXPORT, EntityType.CLIENT_EVENT, "*", "SEB client logs",
                            f"CSV export; {describe(filters)}")
        return self._csv_chunks(exams, conditions, chunk_size)

    async def delete(self, actor: Actor, filters: Mapping[str, str], *, everything: bool = False,
                     chunk_size: int = DELETE_CHUNK_SIZE) -> int:
        """Delete the matching events of the exams ``actor`` may write; returns how many. Without any filter
        ``everything`` must be set: one forgotten filter must not wipe all logs. Each chunk is its own
        transaction, so the live runtime's event writes never wait for a whole deletion."""
        _require(actor, Privilege.WRITE)
        if not filters and not everything:
            raise ValidationFailed({"all": "no filter is set: confirm that all SEB client logs you may delete "
                                           "should be deleted"})
        conditions = _filter_conditions(filters)
        deleted = 0
        for exam_id, _ in await self._exams(actor, Privilege.WRITE, filters):
            after: tuple[int, int] | None = None
            while True:
                async with self.db.transaction() as session:
                    rows = (await session.execute(_chunk(select(ClientEvent.id, ClientEvent.server_time_ms)
                                                             .where(*conditions), exam_id, after, chunk_size))).all()
                    if rows:
                        await session.execute(delete(ClientEvent).where(ClientEvent.id.in_([row.id for row in rows])))
                        deleted += len(rows)
                if len(rows) < chunk_size:
                    break
                after = (rows[-1].server_time_ms, rows[-1].id)
        if deleted:
            async with self.db.transaction() as session:
                record_activity(session, actor, Activity.DELETE, EntityType.CLIENT_EVENT, "*",
                                f"{deleted:,} SEB client log events", describe(filters))
        return deleted

    async def _exams(self, actor: Actor, privilege: Privilege, filters: Mapping[str, str]) -> list[tuple[int, str]]:
        """The exams ``actor`` may read (or, with ``privilege``, delete) the logs of, by name; one if filtered."""
        _require(actor, privilege)
        statement = visible(select(Exam.id, Exam.name), actor, privilege, EntityType.CLIENT_EVENT)
        if "exam_id" in filters:
            statement = statement.where(Exam.id == _exam_id(filters["exam_id"]))
        async with self.db.read() as session:
            rows = await session.execute(statement.order_by(func.lower(Exam.name), Exam.id))
            return [(row.id, row.name) for row in rows]

    async def _csv_chunks(self, exams: Sequence[tuple[int, str]], conditions: Sequence[ColumnElement[bool]],
                          chunk_size: int) -> AsyncIterator[bytes]:
        yield (BOM + csv_text([CSV_HEADER])).encode()
        statement = (select(ClientEvent.id, ClientEvent.event_type, ClientEvent.text, ClientEvent.numeric_value,
                            ClientEvent.client_time_ms, ClientEvent.server_time_ms,
                            ClientConnection.user_session_id, ClientConnection.client_address)
                     .join(ClientConnection, ClientConnection.id == ClientEvent.connection_id)
                     .where(*conditions))
        for exam_id, exam_name in exams:
            after: tuple[int, int] | None = None
            while True:
                async with self.db.read() as session:
                    rows = (await session.execute(_chunk(statement, exam_id, after, chunk_size))).all()
                if rows:
                    yield csv_text(_csv_values(row, exam_name) for row in rows).encode()
                if len(rows) < chunk_size:
                    break
                after = (rows[-1].server_time_ms, rows[-1].id)


def describe(filters: Mapping[str, str]) -> str:
    """The filters in words, for the activity log: "exam_id=3, event_type=ERROR_LOG"."""
    return ", ".join(f"{name}={filters[name]}" for name in CLIENT_LOG_FILTERS if name in filters) or "no filter"


# -- query building ----------------------------------------------------------------------------------


def _require(actor: Actor, privilege: Privilege) -> None:
    if actor.scope(privilege, EntityType.CLIENT_EVENT) == Scope.NONE:
        verb = "delete" if privilege >= Privilege.WRITE else "see"
        raise PermissionDenied(f"you may not {verb} SEB client logs")


def _conditions(actor: Actor, privilege: Privilege, filters: Mapping[str, str]) -> list[ColumnElement[bool]]:
    """WHERE conditions on ``client_event``: the actor's exams, then the filters. Validates every filter."""
    _require(actor, privilege)
    exams: AnySelect = visible(select(Exam.id), actor, privilege, EntityType.CLIENT_EVENT)
    return [ClientEvent.exam_id.in_(exams), *_filter_conditions(filters)]


def _filter_conditions(filters: Mapping[str, str]) -> list[ColumnElement[bool]]:
    unknown = set(filters) - set(CLIENT_LOG_FILTERS)
    if unknown:
        raise ValidationFailed({name: "unknown filter" for name in sorted(unknown)})
    conditions: list[ColumnElement[bool]] = []
    if "exam_id" in filters:
        conditions.append(ClientEvent.exam_id == _exam_id(filters["exam_id"]))
    if "user_session" in filters:
        users = select(ClientConnection.id).where(contains(ClientConnection.user_session_id, filters["user_session"]))
        conditions.append(ClientEvent.connection_id.in_(users))
    if "event_type" in filters:
        if filters["event_type"] not in EVENT_TYPES:
            raise ValidationFailed({"event_type": f"choose one of {', '.join(EVENT_TYPES)}"})
        conditions.append(ClientEvent.event_type == filters["event_type"])
    start = _epoch_ms(filters, "from")
    end = _epoch_ms(filters, "to")
    if start is not None and end is not None and end < start:
        raise ValidationFailed({"to": "must not be before from"})
    if start is not None:
        conditions.append(ClientEvent.server_time_ms >= start)
    if end is not None:
        conditions.append(ClientEvent.server_time_ms <= end)
    if "text" in filters:
        conditions.append(contains(ClientEvent.text, filters["text"]))
    return conditions


def _chunk(statement: AnySelect, exam_id: int, after: tuple[int, int] | None, size: int) -> AnySelect:
    """The next ``size`` events of one exam after (server time, id) ``after``: a range on the index
    (exam_id, server_time_ms), so each chunk costs the same however far the walk is (ordering all
    matching events by id would sort them all again for every chunk)."""
    statement = statement.where(ClientEvent.exam_id == exam_id)
    if after is not None:
        time_ms, event_id = after
        statement = statement.where(ClientEvent.server_time_ms >= time_ms,
                                    or_(ClientEvent.server_time_ms > time_ms, ClientEvent.id > event_id))
    return statement.order_by(ClientEvent.server_time_ms, ClientEvent.id).limit(size)


def _exam_id(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise ValidationFailed({"exam_id": "must be a number (an exam id)"}) from None
    return value if is_valid_id(value) else 0  # names no exam: an empty result, like another tenant's id


def _epoch_ms(filters: Mapping[str, str], name: str) -> int | None:
    if name not in filters:
        return None
    try:
        moment = datetime.fromisoformat(filters[name])
        moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
        return int(moment.timestamp() * 1000)
    except (ValueError, OverflowError):
        raise ValidationFailed({name: "use an ISO date or time like 2026-11-22 or 2026-11-22T14:30:00Z "
                                      "(UTC unless an offset)"}) from None


# -- rows --------------------------------------------------------------------------------------------


async def _rows(session: AsyncSession, events: Sequence[ClientEvent]) -> list[LogRow]:
    """Rows of one page: exam names and users of the page's events in one lookup."""
    if not events:
        return []
    names = dict((await session.execute(select(Exam.id, Exam.name).where(
        Exam.id.in_({event.exam_id for event in events})))).all())
    users = dict((await session.execute(select(ClientConnection.id, ClientConnection.user_session_id).where(
        ClientConnection.id.in_({event.connection_id for event in events})))).all())
    return [_row(event, names.get(event.exam_id or 0, ""), users.get(event.connection_id)) for event in events]


def _row(event: ClientEvent, exam_name: str, user_session_id: str | None) -> LogRow:
    return LogRow(id=event.id, exam_id=event.exam_id or 0, exam_name=exam_name, connection_id=event.connection_id,
                  user_session_id=user_session_id, event_type=event.event_type, client_time_ms=event.client_time_ms,
                  server_time_ms=event.server_time_ms, numeric_value=event.numeric_value, text=event.text)


# -- CSV ---------------------------------------------------------------------------------------------


def _csv_values(row: Any, exam_name: str) -> tuple[str, ...]:
    return (row.event_type, spreadsheet_cell(row.text), format_value(row.numeric_value), _iso(row.client_time_ms),
            _iso(row.server_time_ms), spreadsheet_cell(row.user_session_id), spreadsheet_cell(row.client_address),
            spreadsheet_cell(exam_name))



def _iso(ms: int) -> str:
    """ISO 8601 in UTC with milliseconds, as SEB Server writes them (plus the Z); empty if out of range."""
    moment = ms_to_datetime(ms)
    return "" if moment is None else f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}Z"

