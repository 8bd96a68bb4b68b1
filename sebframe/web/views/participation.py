"""The participation report screen of an exam (who connected from which computer, when) and its CSV export."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from sebframe.core.db.models import ConnectionStatus
from sebframe.core.monitoring.participation import CSV_MEDIA_TYPE, PARTICIPATION_FILTERS, export_filename
from sebframe.web.pages import render, require_actor, services_of
from sebframe.web.views.common import fetch_list, list_params, path_id

STATUS_OPTIONS = [(status.value, status.label) for status in ConnectionStatus]


async def participation(request: Request) -> Response:
    actor = await require_actor(request)
    services = services_of(request)
    exam = await services.exams.get(actor, path_id(request))
    params, errors = list_params(request, PARTICIPATION_FILTERS)
    page, status = await fetch_list(lambda query: services.participation.report(actor, exam.id, query), params,
                                    errors)
    return await render(request, "exams/participation.html", {
        "title": f"Participation in {exam.name}", "exam": exam, "params": params, "page": page, "errors": errors,
        "status_options": STATUS_OPTIONS,
    }, status_code=status)


async def participation_csv(request: Request) -> Response:
    actor = await require_actor(request)
    exam_id = path_id(request)
    chunks = await services_of(request).participation.csv(actor, exam_id)
    return StreamingResponse(chunks, media_type=CSV_MEDIA_TYPE, headers={
        "Content-Disposition": f'attachment; filename="{export_filename(exam_id)}"',
        "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff",
    })


routes = [
    Route("/exams/{id:int}/participation", participation),
    Route("/exams/{id:int}/participation.csv", participation_csv),
]
