"""The participation report of an exam: who connected from which IP address, machine and OS, when, and how
it ended.

It is the exam office's record of who sat at which computer: the address names the computer (and, for an exam
with a location restriction, the room and seat of the decision snapshot), the LMS login the person (a pool room's
operator asks after damage). One row per SEB connection, as SEB Server shows
them: a student who reconnects has several rows, and each row counts the connections of its user. Rows
are sorted by user, then first contact. Connection tokens never appear: they are the clients' credentials.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from sebframe.core.accounts.activity import Activity, record_activity
from sebframe.core.accounts.actor import Actor
from sebframe.core.accounts.roles import EntityType
from sebframe.core.db import Database
from sebframe.core.db.models import ClientConnection, ClientEvent, ConnectionLocation, ConnectionStatus
from sebframe.core.errors import ValidationFailed
from sebframe.core.exams.access import load_monitored_exam
from sebframe.core.monitoring.csv_export import BOM, csv_text, spreadsheet_cell
from sebframe.core.paging import AnySelect, ListParams, Page, contains, fetch_page

PARTICIPATION_FILTERS = ("user", "address", "machine", "status")
PARTICIPATION_SORTS = ("user", "first_contact", "address", "machine", "status")
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
CSV_HEADER = ("User", "LMS User ID", "OS Login", "Machine", "IP Address", "Room", "Seat", "Operating System",
              "SEB Version", "Status", "First Contact (UTC)", "Last Contact (UTC)", "Connections of User")

_BATCH = 500  # connections per query of the CSV export (and so ids per IN list)
# A connection's user: the LMS login once the client sent it, else what monitoring shows (OS login, machine).
_USER_KEY = func.coalesce(ClientConnection.lms_user_session_id, ClientConnection.user_session_id)
_BY_USER = (func.lower(ClientConnection.user_session_id), _USER_KEY, ClientConnection.created_ms,
            ClientConnection.id)
_SORTABLE = {
    "user": func.lower(ClientConnection.user_session_id),
    "first_contact": ClientConnection.created_ms,
    "address": ClientConnection.client_address,
    "machine": func.lower(ClientConnection.seb_machine_name),
    "status": ClientConnection.status,
}
assert set(_SORTABLE) == set(PARTICIPATION_SORTS)


@dataclass(frozen=True, slots=True)
class ParticipationRow:
    """One SEB connection of the exam, as the report shows it."""

    connection_id: int
    user: str | None  # the LMS user's name once known, else the OS login or machine (as monitoring shows)
    lms_user_id: str | None
    os_login: str | None
    machine: str | None
    address: str | None
    os: str | None
    seb_version: str | None
    status: ConnectionStatus
    first_contact: datetime
    last_contact: datetime  # the latest of the last ping, the last event and the last change
    user_connections: int  # connections of the same user in this exam (1 unless they reconnected)
    room: str = ""  # of the connection's location decision ("" without one)
    seat: str = ""

    @property
    def status_label(self) -> str:
        return self.status.label


def export_filename(exam_id: int) -> str:
    return f"exam-{exam_id}-participation.csv"


class ParticipationService:
    """Read by whoever may see the exam's SEB connections (``CLIENT_CONNECTION`` read: the exam's institution's
    administrators and exam administrators, its owner and assigned supporters)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def report(self, actor: Actor, exam_id: int, params: ListParams) -> Page[ParticipationRow]:
        async with self.db.read() as session:
            exam = (await load_monitored_exam(session, actor, exam_id)).exam
            statement = _filtered(select(ClientConnection).where(ClientConnection.exam_id == exam.id), params.filters)
            page = await fetch_page(session, statement, params, _SORTABLE, _BY_USER)
            rows = await _rows(session, exam.id, page.items)
        return Page(items=rows, total=page.total, page=page.page, size=page.size)

    async def csv(self, actor: Actor, exam_id: int) -> AsyncIterator[bytes]:
        """Every connection of the exam as CSV. Access is checked (and the export logged) when awaited, so a
        refusal comes before any byte; the returned iterator then reads the rows in batches."""
        async with self.db.transaction() as session:
            exam = (await load_monitored_exam(session, actor, exam_id)).exam
            # The ids fix the export's rows and order; connections arriving meanwhile are not half in it.
            ids = list((await session.execute(select(ClientConnection.id).where(ClientConnection.exam_id == exam.id)
                                              .order_by(*_BY_USER))).scalars())
            record_activity(session, actor, Activity.EXPORT, EntityType.EXAM, exam.id, exam.name,
                            f"participation report (CSV, {len(ids)} connections)",
                            institution_id=exam.institution_id)
        return self._csv_chunks(exam.id, ids)

    async def _csv_chunks(self, exam_id: int, ids: list[int]) -> AsyncIterator[bytes]:
        # The byte order mark makes spreadsheet programs read the file as UTF-8 (umlauts in names).
        yield (BOM + csv_text([CSV_HEADER])).encode()
        for start in range(0, len(ids), _BATCH):
            batch = ids[start:start + _BATCH]
            async with self.db.read() as session:  # one short read per batch, none held while the client reads
                found = {row.id: row for row in (await session.execute(
                    select(ClientConnection).where(ClientConnection.id.in_(batch)))).scalars()}
                rows = await _rows(session, exam_id, [found[id_] for id_ in batch if id_ in found])
            yield csv_text([_csv_values(row) for row in rows]).encode()


def _filtered(statement: AnySelect, filters: Mapping[str, str]) -> AnySelect:
    if "user" in filters:
        text = filters["user"]
        statement = statement.where(or_(contains(ClientConnection.user_session_id, text),
                                        contains(ClientConnection.lms_user_session_id, text),
                                        contains(ClientConnection.seb_client_user_id, text)))
    if "address" in filters:
        statement = statement.where(contains(ClientConnection.client_address, filters["address"]))
    if "machine" in filters:
        statement = statement.where(contains(ClientConnection.seb_machine_name, filters["machine"]))
    if "status" in filters:
        try:
            status = ConnectionStatus(filters["status"])
        except ValueError:
            raise ValidationFailed({"status": f"choose one of {', '.join(ConnectionStatus)}"}) from None
        statement = statement.where(ClientConnection.status == status.value)
    return statement


async def _rows(session: AsyncSession, exam_id: int, connections: Sequence[ClientConnection]
                ) -> list[ParticipationRow]:
    """Report rows of ``connections``: grouped queries add their last events, their users' counts and their
    rooms and seats (a connection without a location decision has none)."""
    if not connections:
        return []
    ids = [connection.id for connection in connections]
    last_events: dict[int, int] = {connection_id: last for connection_id, last in await session.execute(
        select(ClientEvent.connection_id, func.max(ClientEvent.server_time_ms))
        .where(ClientEvent.connection_id.in_(ids)).group_by(ClientEvent.connection_id))}
    keys = {key for key in (_user_key(connection) for connection in connections) if key is not None}
    counts: dict[str, int] = {key: count for key, count in await session.execute(
        select(_USER_KEY, func.count()).where(ClientConnection.exam_id == exam_id, _USER_KEY.in_(keys))
        .group_by(_USER_KEY))} if keys else {}
    places: dict[int, tuple[str, str]] = {row.connection_id: (row.room, row.seat) for row in await session.execute(
        select(ConnectionLocation.connection_id, ConnectionLocation.room, ConnectionLocation.seat)
        .where(ConnectionLocation.connection_id.in_(ids)))}
    return [_row(connection, last_events.get(connection.id), counts, places.get(connection.id, ("", "")))
            for connection in connections]


def _user_key(connection: ClientConnection) -> str | None:
    return connection.lms_user_session_id or connection.user_session_id


def _row(connection: ClientConnection, last_event_ms: int | None, counts: Mapping[str, int],
         place: tuple[str, str] = ("", "")) -> ParticipationRow:
    key = _user_key(connection)
    last_ms = max(connection.created_ms, connection.changed_ms, connection.last_ping_ms or 0, last_event_ms or 0)
    return ParticipationRow(
        connection_id=connection.id, user=connection.user_session_id, lms_user_id=connection.lms_user_session_id,
        os_login=connection.seb_client_user_id, machine=connection.seb_machine_name,
        address=connection.client_address, os=connection.seb_os_name, seb_version=connection.seb_version,
        status=ConnectionStatus(connection.status), first_contact=_utc(connection.created_ms),
        last_contact=_utc(last_ms), user_connections=counts.get(key, 1) if key is not None else 1,
        room=place[0] or "", seat=place[1] or "")


def _utc(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def _csv_values(row: ParticipationRow) -> tuple[str, ...]:
    texts = (row.user, row.lms_user_id, row.os_login, row.machine, row.address, row.room, row.seat, row.os,
             row.seb_version)
    return (*(spreadsheet_cell(text) for text in texts), row.status_label, _iso(row.first_contact),
            _iso(row.last_contact), str(row.user_connections))



def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

