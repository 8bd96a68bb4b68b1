"""All SEB client logs of the exams you may see: search, details, count, CSV export and filtered deletion."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import StreamingResponse

from sebframe.api.admin.endpoints._common import Filter, ListQuery, check_query, out, services_of
from sebframe.api.admin.routing import ApiRouter, QueryParam
from sebframe.core.accounts.actor import Actor
from sebframe.core.monitoring.logs import (
    CLIENT_LOG_SORTS,
    CSV_MEDIA_TYPE,
    EVENT_TYPES,
    LogDetails,
    LogRow,
    export_filename,
)

router = ApiRouter()

TAG = "client-logs"

CLIENT_LOG_QUERY = ListQuery(
    filters=(
        Filter("exam_id", "integer", description="only this exam's events"),
        Filter("user_session", description="part of the user session id (the LMS user's name once known, else "
                                           "the OS login or machine), any case"),
        Filter("event_type", "choice", EVENT_TYPES),
        Filter("from", "datetime", description="events stored at or after (server time; ISO 8601, UTC unless an "
                                               "offset)"),
        Filter("to", "datetime", description="events stored at or before (server time)"),
        Filter("text", description="part of the message, any case"),
    ),
    sortable=CLIENT_LOG_SORTS,
    default_sort="-server_time",
)
FILTER_PARAMS = tuple(QueryParam(f.name, f.schema(), f.description) for f in CLIENT_LOG_QUERY.filters)
ALL_PARAM = QueryParam("all", {"type": "boolean", "default": False},
                       "must be true to delete without any filter (every event you may delete)")


class ClientLogOut(BaseModel):
    id: int
    exam_id: int
    exam_name: str
    connection_id: int
    user_session_id: str | None = Field(description="the LMS user's name once known, else OS login or machine")
    event_type: str = Field(description="DEBUG_LOG, INFO_LOG, WARN_LOG, ERROR_LOG, NOTIFICATION(_CONFIRMED) "
                                        "or UNKNOWN")
    server_time: datetime | None = Field(description="when the server stored the event (UTC)")
    server_time_ms: int = Field(description="the same in epoch milliseconds")
    client_time: datetime | None = Field(description="the SEB client's time of the event (UTC); null if the "
                                                     "client sent one no calendar holds")
    client_time_ms: int = Field(description="the client's time as sent, epoch milliseconds")
    numeric_value: float | None = Field(description="e.g. the battery or WLAN percentage")
    text: str

    @classmethod
    def of(cls, row: LogRow) -> ClientLogOut:
        return cls(id=row.id, exam_id=row.exam_id, exam_name=row.exam_name, connection_id=row.connection_id,
                   user_session_id=row.user_session_id, event_type=row.event_type, server_time=row.server_time,
                   server_time_ms=row.server_time_ms, client_time=row.client_time,
                   client_time_ms=row.client_time_ms, numeric_value=row.numeric_value, text=row.text)


class ClientConnectionInfoOut(BaseModel):
    status: str = Field(description="CONNECTION_REQUESTED, READY, ACTIVE, CLOSED or DISABLED (canceled)")
    client_address: str | None
    seb_machine_name: str | None
    seb_os_name: str | None
    seb_version: str | None
    seb_client_user_id: str | None = Field(description="the operating system login SEB ran in")


class ClientLogDetailsOut(ClientLogOut):
    connection: ClientConnectionInfoOut = Field(description="the SEB connection the event came from")

    @classmethod
    def of_details(cls, details: LogDetails) -> ClientLogDetailsOut:
        connection = ClientConnectionInfoOut(
            status=details.connection_status, client_address=details.client_address,
            seb_machine_name=details.seb_machine_name, seb_os_name=details.seb_os_name,
            seb_version=details.seb_version, seb_client_user_id=details.seb_client_user_id)
        return cls(**ClientLogOut.of(details.row).model_dump(), connection=connection)


class ClientLogCountOut(BaseModel):
    count: int = Field(description="events matching the filters")


class ClientLogsDeletedOut(BaseModel):
    deleted: int = Field(description="events deleted")


def _filters(request: Request, *extra: str) -> dict[str, str]:
    """The filter parameters (as the list endpoint reads them); unknown parameters are refused."""
    query = request.query_params
    check_query(query, {*(f.name for f in CLIENT_LOG_QUERY.filters), *extra})
    return {f.name: f.parse(query[f.name].strip()) for f in CLIENT_LOG_QUERY.filters
            if query.get(f.name, "").strip()}


@router.get("/client-logs", summary="SEB client log events of the exams you may see, newest first", tag=TAG,
            response_model=ClientLogOut, response_is_page=True, query=CLIENT_LOG_QUERY.query_params())
async def list_client_logs(request: Request, actor: Actor) -> dict[str, Any]:
    page = await services_of(request).client_logs.search(actor, CLIENT_LOG_QUERY.parse(request))
    return page.to_json([out(ClientLogOut.of(row)) for row in page.items])


@router.get("/client-logs/count", summary="How many events match the filters (e.g. before deleting them)",
            tag=TAG, response_model=ClientLogCountOut, query=FILTER_PARAMS)
async def count_client_logs(request: Request, actor: Actor) -> dict[str, Any]:
    count = await services_of(request).client_logs.count(actor, _filters(request))
    return out(ClientLogCountOut(count=count))


@router.get("/client-logs/export.csv", summary="The matching events as CSV (UTF-8 with byte order mark, UTC "
            "times; exam by exam, oldest first), streamed", tag=TAG, response_media=(CSV_MEDIA_TYPE,),
            query=FILTER_PARAMS)
async def export_client_logs(request: Request, actor: Actor) -> StreamingResponse:
    chunks = await services_of(request).client_logs.export_csv(actor, _filters(request))
    return StreamingResponse(chunks, media_type=CSV_MEDIA_TYPE, headers={
        "Content-Disposition": f'attachment; filename="{export_filename(datetime.now(UTC))}"',
        "Cache-Control": "no-store"})


@router.get("/client-logs/{id:int}", summary="One event with the SEB connection it came from", tag=TAG,
            response_model=ClientLogDetailsOut)
async def get_client_log(request: Request, actor: Actor) -> dict[str, Any]:
    details = await services_of(request).client_logs.get(actor, request.path_params["id"])
    return out(ClientLogDetailsOut.of_details(details))


@router.delete("/client-logs", summary="Delete the events matching the filters (exam administrators; without "
               "any filter only with all=true)", tag=TAG, response_model=ClientLogsDeletedOut,
               query=(*FILTER_PARAMS, ALL_PARAM))
async def delete_client_logs(request: Request, actor: Actor) -> dict[str, Any]:
    filters = _filters(request, "all")
    everything = Filter("all", "boolean").parse(request.query_params.get("all", "").strip() or "false") == "true"
    deleted = await services_of(request).client_logs.delete(actor, filters, everything=everything)
    return out(ClientLogsDeletedOut(deleted=deleted))
