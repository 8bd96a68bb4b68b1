"""The detail view of one SEB connection: its attributes, status and flags, indicator values, pending
notifications, its location decision (exams with a location restriction), its events (newest first, paged; for
those who may read the exam's client logs) and the same instructions as the exam page."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sebframe.core.db.models import ClientEvent
from sebframe.core.errors import NotFound
from sebframe.core.monitoring.table import TableRow
from sebframe.types import ProctoringFeature
from sebframe.web.pages import render, require_actor, services_of
from sebframe.web.views.common import current_path, path_id
from sebframe.web.views.monitoring_location import connection_location
from sebframe.web.views.monitoring_table import notification_label, row_view, status_text

TOKEN_SHOWN = 8  # the connection token is the client's credential: only its start is shown


@dataclass(frozen=True, slots=True)
class EventRow:
    type: str
    text: str
    value: str
    client_time: datetime | None
    server_time: datetime


def as_time(ms: int | None) -> datetime | None:
    if ms is None or ms <= 0:
        return None
    try:
        return datetime.fromtimestamp(ms / 1000, UTC)
    except (OverflowError, OSError, ValueError):  # a client clock far off
        return None


def value_text(value: float | None) -> str:
    """As SEB Server shows event values: empty when the client sent none (NaN), whole numbers without a point."""
    if value is None or math.isnan(value):
        return ""
    return str(int(value)) if value.is_integer() else f"{value:g}"


def event_row(event: ClientEvent) -> EventRow:
    return EventRow(event.event_type, event.text, value_text(event.numeric_value), as_time(event.client_time_ms),
                    as_time(event.server_time_ms) or datetime.fromtimestamp(0, UTC))


def grant_text(value: bool | None) -> str:
    return "Not checked" if value is None else "Granted" if value else "Denied"


async def connection_detail(request: Request) -> Response:
    actor = await require_actor(request)
    services = services_of(request)
    exam_id, connection_id = path_id(request), path_id(request, "connection_id")
    access = await services.monitoring.access(actor, exam_id)  # may see the connections, read the log, supervise
    details = await services.exams.details(actor, exam_id)
    snapshot = await services.monitoring.snapshot(actor, exam_id, connection_id=connection_id)
    if not snapshot.connections:
        raise NotFound(f"SEB connection {connection_id} not found in exam {details.exam.name!r}")
    state = snapshot.connections[0]
    try:
        page_number = max(1, int(request.query_params.get("page", "1")))
    except ValueError:
        page_number = 1
    record = await services.connection_log.record(actor, exam_id, connection_id, page=page_number)
    location = await connection_location(request, actor, details.exam, connection_id)
    checks = details.exam.signature_key_check_enabled
    status, status_mark = status_text(state, checks)
    # Canceling applies to closed connections and missing ones (the service checks again).
    cancelable = state.status.value == "CLOSED" or (state.status.client_active and state.missing)
    proctoring = await services.proctoring.service.settings(actor, exam_id)
    one_to_one = proctoring is not None and proctoring.enabled and ProctoringFeature.ONE_TO_ONE in proctoring.features
    here = current_path(request)
    return await render(request, "monitoring/connection.html", {
        "title": f"SEB Connection {state.user_session_id}", "d": details, "exam": details.exam,
        "state": state, "row": row_view(TableRow(state, False), checks), "connection": record.connection,
        "indicators": list(zip(snapshot.indicators, state.cells, strict=True)),
        "status": status, "status_mark": status_mark, "token_start": state.token[:TOKEN_SHOWN],
        "ask_grant": grant_text(state.security_check_granted) if checks else "Not checked (the exam does not "
                     "check app signature keys)",
        "version_grant": grant_text(state.client_version_granted),
        "connected_at": as_time(record.connection.created_ms),
        "last_ping_at": as_time(state.last_ping_ms),
        "events": [event_row(event) for event in record.events.items] if record.events is not None else [],
        "page": record.events, "may_supervise": access.may_supervise, "cancelable": cancelable,
        "notification_label": notification_label, "here": here, "back": f"/monitoring/{details.exam.id}",
        "location": location, "one_to_one": one_to_one,
    })


routes = [Route("/monitoring/{id:int}/connections/{connection_id:int}", connection_detail)]
