"""The location audit log: search the records you may read (an exam's follow the exam's client-event
privilege, profile changes those who may write locations), one record, and an exam's records exported as
pipe-delimited lines, JSON lines or CSV ("who sat where"). Records name connections by id, never by token.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import StreamingResponse

from sebframe.api.admin.endpoints._common import Filter, ListQuery, check_query, out, services_of
from sebframe.api.admin.routing import ApiRouter
from sebframe.core.accounts.actor import Actor
from sebframe.core.db.models import LocationAuditRecord
from sebframe.core.location.audit_log import EXPORT_FORMATS, fields_of

router = ApiRouter()

TAG = "locations"

AUDIT_QUERY = ListQuery(
    filters=(
        Filter("exam_id", "integer", description="only this exam's records"),
        Filter("code", "integer", description="the event code, e.g. 36 (start blocked), 37 (violation), "
                                              "38 (overridden)"),
        Filter("address", description="part of the resolved client address"),
        Filter("user", description="part of the user's name"),
        Filter("room", description="part of the room label"),
        Filter("outcome", "choice", ("success", "failure")),
        Filter("from", "datetime", description="records at or after (ISO 8601, UTC unless an offset)"),
        Filter("to", "datetime", description="records at or before"),
    ),
    sortable=("time", "code"),
    default_sort="-time",
)


class AuditRecordOut(BaseModel):
    id: int
    time: datetime
    code: int = Field(description="36, 37, 38 as in the Blackboard security log; 1001-1030 ours")
    name: str = Field(description="the event's name, e.g. 'location start blocked'")
    outcome: str = Field(description="success or failure")
    exam_id: int | None
    connection_id: int | None
    fields: dict[str, str] = Field(description="every field of the record, unescaped, in the log line's order")
    line: str = Field(description="the record as written to the log: pipe-delimited key=value, escaped")

    @classmethod
    def of(cls, record: LocationAuditRecord) -> AuditRecordOut:
        fields = fields_of(record)
        return cls(id=record.id, time=record.at, code=record.code, name=fields.get("evt_name", ""),
                   outcome=record.outcome, exam_id=record.exam_id, connection_id=record.connection_id,
                   fields=fields, line=record.line)


@router.get("/location-audit", summary="Search the location audit log, newest first", tag=TAG,
            response_model=AuditRecordOut, response_is_page=True, query=AUDIT_QUERY.query_params())
async def search_location_audit(request: Request, actor: Actor) -> dict[str, Any]:
    page = await services_of(request).locations.audit.search(actor, AUDIT_QUERY.parse(request))
    return page.to_json([out(AuditRecordOut.of(record)) for record in page.items])


@router.get("/location-audit/{id:int}", summary="One location audit record", tag=TAG, response_model=AuditRecordOut)
async def get_location_audit_record(request: Request, actor: Actor) -> dict[str, Any]:
    record = await services_of(request).locations.audit.get(actor, request.path_params["id"])
    return out(AuditRecordOut.of(record))


def _exporter(fmt: str, media_type: str) -> None:
    async def export(request: Request, actor: Actor) -> StreamingResponse:
        check_query(request.query_params, ())
        exam_id: int = request.path_params["id"]
        chunks = await services_of(request).locations.audit.export(actor, exam_id, fmt)
        return StreamingResponse(chunks, media_type=media_type, headers={
            "Content-Disposition": f'attachment; filename="location-audit-exam-{exam_id}.{fmt}"',
            "Cache-Control": "no-store"})

    export.__name__ = f"export_location_audit_{fmt}"
    described = {"log": "pipe-delimited key=value lines as logged", "jsonl": "one JSON object per line",
                 "csv": "CSV (UTF-8 with byte order mark)"}[fmt]
    router.get(f"/exams/{{id:int}}/location/audit.{fmt}", summary=f"The exam's location audit log, oldest first, as "
               f"{described}; streamed", tag=TAG, response_media=(media_type,))(export)


for _fmt, _media_type in EXPORT_FORMATS.items():
    _exporter(_fmt, _media_type)
