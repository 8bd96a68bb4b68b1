"""All SEB client logs: the list with filters, a details dialog per event, the CSV download and deletion of the
filtered events. The rules are in :mod:`sebframe.core.monitoring.logs`; this reads the filters (times in the
user's zone) and renders."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime, timedelta
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from sebframe.core.accounts.actor import Actor, Scope
from sebframe.core.accounts.roles import EntityType, Privilege
from sebframe.core.errors import PermissionDenied, ValidationFailed
from sebframe.core.monitoring.logs import CLIENT_LOG_FILTERS, CSV_MEDIA_TYPE, EVENT_TYPES, LogRow, export_filename
from sebframe.core.paging import ListParams, Page
from sebframe.web.pages import flash, form_fields, redirect, render, require_actor, services_of
from sebframe.web.templating import user_zone
from sebframe.web.views.activity import to_utc_filter
from sebframe.web.views.common import field_errors, list_params, path_id
from sebframe.web.views.config_screens import partial

TYPE_OPTIONS = [(event_type.value, event_type.value.replace("_", " ").title()) for event_type in EVENT_TYPES]
# The list opens on the last day's events, as SEB Server's does: a page over millions of events stays fast.
DEFAULT_WINDOW = timedelta(days=1)
FILTER_LABELS = {"exam_id": "Exam", "user_session": "User Session-ID contains", "event_type": "Event Type",
                 "from": "From", "to": "To", "text": "Message contains"}



def _require_read(actor: Actor) -> None:
    if actor.scope(Privilege.READ, EntityType.CLIENT_EVENT) == Scope.NONE:
        raise PermissionDenied("you may not see SEB client logs")


def _may_delete(actor: Actor) -> bool:
    return actor.scope(Privilege.WRITE, EntityType.CLIENT_EVENT) != Scope.NONE


def _read_params(request: Request, actor: Actor) -> tuple[ListParams, dict[str, str]]:
    """The list parameters as typed (times in the user's zone); without any ``from`` the last day."""
    params, errors = list_params(request, CLIENT_LOG_FILTERS)
    if "from" not in request.query_params:
        since = datetime.now(user_zone(actor.timezone)) - DEFAULT_WINDOW
        params = dataclasses.replace(params, filters={**params.filters, "from": since.strftime("%Y-%m-%dT%H:%M")})
    if params.sort is None:
        params = dataclasses.replace(params, sort="server_time", descending=True)
    return params, errors


def _service_filters(filters: Mapping[str, str], actor: Actor) -> dict[str, str]:
    """The filters for the service: times typed in the user's zone as UTC; ``ValidationFailed`` if malformed."""
    converted = dict(filters)
    for name in ("from", "to"):
        if name in converted:
            converted[name] = to_utc_filter(converted[name], user_zone(actor.timezone), end=name == "to")
    return converted


def filter_query(filters: Mapping[str, str]) -> str:
    """The filters as a query string for the export and delete links. ``from`` is always there, empty when
    cleared, so that the default window does not come back."""
    values = {name: filters.get(name, "") for name in CLIENT_LOG_FILTERS if name in filters or name == "from"}
    return urlencode(values)


async def list_client_logs(request: Request) -> Response:
    actor = await require_actor(request)
    _require_read(actor)
    services = services_of(request)
    params, errors = _read_params(request, actor)
    page: Page[LogRow] = Page(items=[], total=0, page=params.page, size=params.size)
    status = 200
    try:
        query = dataclasses.replace(params, filters=_service_filters(params.filters, actor))
        page = await services.client_logs.search(actor, query)
    except ValidationFailed as exc:
        errors.update(field_errors(exc))
        status = 422
    return await render(request, "client_logs/list.html", {
        "title": "SEB Client Logs",
        "params": params,
        "page": page,
        "errors": errors,
        "exam_options": await services.client_logs.exam_choices(actor),
        "type_options": TYPE_OPTIONS,
        "filter_query": filter_query(params.filters),
        "may_delete": _may_delete(actor),
    }, status_code=status)


async def client_log_details(request: Request) -> Response:
    actor = await require_actor(request)
    details = await services_of(request).client_logs.get(actor, path_id(request))
    context = {"title": f"SEB Client Log {details.row.id}", "details": details}
    if request.headers.get("hx-request"):
        return partial(request, "client_logs/_dialog.html", {**context, "timezone": actor.timezone})
    return await render(request, "client_logs/details.html", context)


async def export_client_logs(request: Request) -> Response:
    actor = await require_actor(request)
    _require_read(actor)
    params, errors = _read_params(request, actor)
    try:
        if errors:
            raise ValidationFailed(errors)
        chunks = await services_of(request).client_logs.export_csv(actor, _service_filters(params.filters, actor))
    except ValidationFailed as exc:
        message = "; ".join(f"{FILTER_LABELS.get(name, name)}: {text}" for name, text in field_errors(exc).items())
        flash(request, f"Not exported: {message}", "error")
        return redirect(f"/client-logs?{filter_query(params.filters)}")
    filename = export_filename(datetime.now(user_zone(actor.timezone)))
    return StreamingResponse(chunks, media_type=CSV_MEDIA_TYPE, headers={
        "Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff"})


async def delete_client_logs(request: Request) -> Response:
    """GET: how many events the filters delete, and a confirmation; POST (the same filters): delete them."""
    actor = await require_actor(request)
    if not _may_delete(actor):
        raise PermissionDenied("you may not delete SEB client logs")
    services = services_of(request)
    errors: dict[str, str] = {}
    if request.method == "POST":
        form = await request.form()
        raw = form_fields(form, *CLIENT_LOG_FILTERS, "all")
        filters = {name: raw[name].strip() for name in CLIENT_LOG_FILTERS if raw.get(name, "").strip()}
        try:
            deleted = await services.client_logs.delete(actor, _service_filters(filters, actor),
                                                        everything=raw.get("all") == "true")
        except ValidationFailed as exc:
            errors = field_errors(exc)
        else:
            flash(request, f"Deleted {deleted:,} SEB client log event{'' if deleted == 1 else 's'}.")
            return redirect(f"/client-logs?{filter_query(filters)}")
    else:
        params, errors = _read_params(request, actor)
        filters = dict(params.filters)
    count: int | None = None
    try:
        count = await services.client_logs.count(actor, _service_filters(filters, actor))
    except ValidationFailed as exc:
        errors.update(field_errors(exc))
    exam_names = dict(await services.client_logs.exam_choices(actor))
    described = [(FILTER_LABELS[name], _filter_text(name, value, exam_names)) for name, value in filters.items()
                 if name in FILTER_LABELS]
    return await render(request, "client_logs/delete.html", {
        "title": "Delete SEB Client Logs", "filters": filters, "described": described, "count": count,
        "errors": errors, "filter_query": filter_query(filters),
    }, status_code=422 if errors else 200)


def _filter_text(name: str, value: str, exam_names: Mapping[int, str]) -> str:
    if name == "exam_id":
        return exam_names.get(int(value), f"exam {value}") if value.isdigit() else value
    if name == "event_type":
        return dict(TYPE_OPTIONS).get(value, value)
    if name in ("from", "to"):
        return value.replace("T", " ")
    return value


routes = [
    Route("/client-logs", list_client_logs),
    Route("/client-logs/export.csv", export_client_logs),
    Route("/client-logs/delete", delete_client_logs, methods=["GET", "POST"]),
    Route("/client-logs/{id:int}", client_log_details),
]
