"""The participation report of an exam: who connected from which IP address, machine and OS, when; as JSON
pages or as one CSV file."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import StreamingResponse

from sebframe.api.admin.endpoints._common import Filter, ListQuery, out, services_of
from sebframe.api.admin.routing import ApiRouter
from sebframe.core.accounts.actor import Actor
from sebframe.core.db.models import ConnectionStatus
from sebframe.core.monitoring.participation import (
    CSV_MEDIA_TYPE,
    PARTICIPATION_SORTS,
    ParticipationRow,
    export_filename,
)

router = ApiRouter()

TAG = "monitoring"

PARTICIPATION_QUERY = ListQuery(
    filters=(
        Filter("user", description="part of the user's name, LMS user id or OS login"),
        Filter("address", description="part of the IP address"),
        Filter("machine", description="part of the machine name"),
        Filter("status", "choice", tuple(ConnectionStatus)),
    ),
    sortable=PARTICIPATION_SORTS,
    default_sort="user, then first contact",
)


class ParticipationOut(BaseModel):
    connection_id: int
    user: str | None = Field(description="the LMS user's name once known, else the OS login or machine name")
    lms_user_id: str | None = Field(description="the user id the SEB client sent from the LMS")
    os_login: str | None = Field(description="the operating system account SEB ran in")
    machine: str | None
    client_address: str | None = Field(description="the IP address the server saw")
    room: str = Field(description="the room of the connection's location decision (empty without one)")
    seat: str = Field(description="the seat label of the connection's location decision (empty without one)")
    os: str | None
    seb_version: str | None
    status: str = Field(description="CONNECTION_REQUESTED, READY, ACTIVE, CLOSED or DISABLED (canceled)")
    status_label: str
    first_contact: datetime = Field(description="the handshake (UTC)")
    last_contact: datetime = Field(description="the latest ping, event or change (UTC)")
    user_connections: int = Field(description="connections of this user in the exam (more than 1: reconnected)")

    @classmethod
    def of(cls, row: ParticipationRow) -> ParticipationOut:
        return cls(connection_id=row.connection_id, user=row.user, lms_user_id=row.lms_user_id,
                   os_login=row.os_login, machine=row.machine, client_address=row.address, room=row.room,
                   seat=row.seat, os=row.os, seb_version=row.seb_version, status=row.status.value,
                   status_label=row.status_label,
                   first_contact=row.first_contact, last_contact=row.last_contact,
                   user_connections=row.user_connections)


def _exam_id(request: Request) -> int:
    exam_id: int = request.path_params["id"]
    return exam_id


@router.get("/exams/{id:int}/participation", summary="Who connected to the exam from which IP address, machine "
            "and OS, when: one row per SEB connection, by user", tag=TAG, response_model=ParticipationOut,
            response_is_page=True, query=PARTICIPATION_QUERY.query_params())
async def participation_report(request: Request, actor: Actor) -> dict[str, Any]:
    page = await services_of(request).participation.report(actor, _exam_id(request),
                                                            PARTICIPATION_QUERY.parse(request))
    return page.to_json([out(ParticipationOut.of(row)) for row in page.items])


@router.get("/exams/{id:int}/participation.csv", summary="The participation report as CSV (UTF-8, UTC times, "
            "every connection)", tag=TAG, response_media=(CSV_MEDIA_TYPE,))
async def participation_csv(request: Request, actor: Actor) -> StreamingResponse:
    exam_id = _exam_id(request)
    chunks = await services_of(request).participation.csv(actor, exam_id)
    return StreamingResponse(chunks, media_type=CSV_MEDIA_TYPE, headers={
        "Content-Disposition": f'attachment; filename="{export_filename(exam_id)}"', "Cache-Control": "no-store"})
