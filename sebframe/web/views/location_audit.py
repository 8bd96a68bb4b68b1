"""The location audit log: search (newest first, times in the user's zone), the details of a record (every field
and the raw line, as a dialog or a page), and the per-exam export ("who sat where") as log, JSON lines or CSV.
The rules are in :mod:`sebframe.core.location.audit_log`."""

from __future__ import annotations

import dataclasses

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from sebframe.core.accounts.actor import Actor, Scope
from sebframe.core.accounts.roles import EntityType, Privilege
from sebframe.core.db.models import LocationAuditRecord
from sebframe.core.errors import PermissionDenied, ValidationFailed
from sebframe.core.location.audit_format import AuditCode
from sebframe.core.location.audit_log import AUDIT_FILTERS, EXPORT_FORMATS, fields_of
from sebframe.core.location.profiles import LocationProfileService
from sebframe.core.paging import Page
from sebframe.web.pages import flash, redirect, render, require_actor, services_of
from sebframe.web.templating import user_zone
from sebframe.web.views.activity import to_utc_filter
from sebframe.web.views.common import field_errors, list_params, path_id
from sebframe.web.views.config_screens import partial
from sebframe.web.views.locations import is_id

BASE = "/location-audit"
CODE_OPTIONS = [(str(int(code)), f"{int(code)} {code.event_name}") for code in AuditCode]
OUTCOME_OPTIONS = [("success", "Success"), ("failure", "Failure")]
FILE_EXTENSIONS = {"log": "log", "jsonl": "jsonl", "csv": "csv"}


def may_read(actor: Actor) -> bool:
    """Exam staff read their exams' records; who writes locations reads the profile changes."""
    return (actor.scope(Privilege.READ, EntityType.CLIENT_EVENT) != Scope.NONE
            or LocationProfileService.may_write(actor))


def _require_read(actor: Actor) -> None:
    if not may_read(actor):
        raise PermissionDenied("You may not read the location audit log.")



async def search(request: Request) -> Response:
    actor = await require_actor(request)
    _require_read(actor)
    audit = services_of(request).locations.audit
    params, errors = list_params(request, AUDIT_FILTERS)
    page: Page[LocationAuditRecord] = Page(items=[], total=0, page=params.page, size=params.size)
    status = 200
    try:
        filters = dict(params.filters)
        for name in ("from", "to"):
            if name in filters:
                filters[name] = to_utc_filter(filters[name], user_zone(actor.timezone), end=name == "to")
        page = await audit.search(actor, dataclasses.replace(params, filters=filters))
    except ValidationFailed as exc:
        errors.update(field_errors(exc))
        status = 422
    exams = await audit.exam_choices(actor)
    exam_names = dict(exams)
    rows = [{"record": record, "fields": fields_of(record),
             "exam": exam_names.get(record.exam_id, f"exam {record.exam_id}") if record.exam_id else ""}
            for record in page.items]
    exam_id = params.filters.get("exam_id", "")
    return await render(request, "locations/audit_list.html", {
        "title": "Location Audit Log",
        "params": params,
        "page": page,
        "rows": rows,
        "errors": errors,
        "exam_options": [(str(exam), name) for exam, name in exams],
        "code_options": CODE_OPTIONS,
        "outcome_options": OUTCOME_OPTIONS,
        "export_exam": exam_id if is_id(exam_id) else None,
        "export_formats": list(EXPORT_FORMATS),
    }, status_code=status)


async def details(request: Request) -> Response:
    actor = await require_actor(request)
    _require_read(actor)
    record = await services_of(request).locations.audit.get(actor, path_id(request))
    context = {"title": f"Location Audit Record {record.id}", "record": record, "fields": fields_of(record)}
    if request.headers.get("hx-request"):
        return partial(request, "locations/_audit_dialog.html", context)
    return await render(request, "locations/audit_details.html", context)


async def export(request: Request) -> Response:
    """Every record of one exam, oldest first, streamed as a download (``format``: log, jsonl or csv)."""
    actor = await require_actor(request)
    _require_read(actor)
    exam = request.query_params.get("exam_id", "")
    fmt = request.query_params.get("format", "log")
    if not is_id(exam):
        flash(request, "Not exported: choose an exam first.", "error")
        return redirect(BASE)
    try:
        chunks = await services_of(request).locations.audit.export(actor, int(exam), fmt)
    except ValidationFailed as exc:
        flash(request, f"Not exported: {exc.message}", "error")
        return redirect(f"{BASE}?exam_id={exam}")
    filename = f"location-audit-exam-{int(exam)}.{FILE_EXTENSIONS[fmt]}"
    return StreamingResponse(chunks, media_type=EXPORT_FORMATS[fmt], headers={
        "Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff"})



routes = [
    Route(BASE, search),
    Route(f"{BASE}/export", export),
    Route(BASE + "/{id:int}", details),
]
