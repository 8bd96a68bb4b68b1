"""Monitoring screens: the running exams, an exam's live heat map of SEB connections (with its server-sent
event stream) and the connection search. Instructions are in ``monitoring_actions``, the connection detail
view in ``monitoring_connection``; the table's rules are in :mod:`sebframe.core.monitoring.table`."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import time
import zlib
from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from sebframe.core.accounts.actor import Actor, Scope
from sebframe.core.accounts.roles import EntityType, Privilege
from sebframe.core.db.models import ConnectionStatus
from sebframe.core.errors import NotFound, PermissionDenied, ValidationFailed
from sebframe.core.exams import ExamStatus
from sebframe.core.monitoring.table import MISSING, SearchQuery, parse_hidden, search
from sebframe.core.paging import ListParams
from sebframe.web.pages import render, require_actor, services_of, web_sessions_of
from sebframe.web.session import browser_session
from sebframe.web.templating import user_zone
from sebframe.web.views import monitoring_actions, monitoring_connection, monitoring_location
from sebframe.web.views.activity import to_utc_filter
from sebframe.web.views.common import current_path, fetch_list, list_params, path_id
from sebframe.web.views.monitoring_diff import RowsDiff
from sebframe.web.views.monitoring_table import TableContext, TableFragments, row_view, sse_event

RUNNING_FILTERS = ("name", "lms_setup_id", "start_from")
TICK_SECONDS = 1.0  # how often the stream looks at the exam (SEB Server's GUI polls every 2 s)
RECHECK_TICKS = 10  # how often the stream re-reads the signed-in user (signed out, roles changed: it stops)
SEARCH_STATUS_OPTIONS = [(status.value, status.label) for status in ConnectionStatus] + [(MISSING, "Missing")]
SEARCH_SORT_OPTIONS = [("name", "User name or session"), ("status", "Status"), ("address", "IP address"),
                       ("os", "OS"), ("version", "SEB version"), ("-ping", "Last ping (newest first)")]


# -- running exams -----------------------------------------------------------------------------------



async def running_exams(request: Request) -> Response:
    """SEB Server's "Running Exams": the running exams whose SEB connections the user may see (supporters: their
    assigned ones; administrators: their institution's)."""
    actor = await require_actor(request)
    services = services_of(request)
    if actor.scope(Privilege.READ, EntityType.CLIENT_CONNECTION) == Scope.NONE:
        raise PermissionDenied("you may not monitor exams")
    params, errors = list_params(request, RUNNING_FILTERS)
    filters = {**params.filters, "status": ExamStatus.RUNNING.value}
    if "start_from" in filters:
        try:
            filters["start_from"] = to_utc_filter(filters["start_from"], user_zone(actor.timezone), end=False)
        except ValidationFailed:
            errors["start_from"] = "use a date like 2026-11-22 or 2026-11-22T14:30"
            del filters["start_from"]
    page, status = await fetch_list(lambda q: services.exams.rows(actor, q, reach=EntityType.CLIENT_CONNECTION),
                                    dataclasses.replace(params, filters=filters), errors)
    setups = (await services.lms_setups.list(actor, ListParams(size=500))).items \
        if actor.scope(Privilege.READ, EntityType.LMS_SETUP) != Scope.NONE else []
    return await render(request, "monitoring/list.html", {
        "title": "Running Exams", "params": params, "page": page, "errors": errors,
        "setup_options": [(setup.id, setup.name) for setup in setups],
    }, status_code=422 if errors else status)


# -- the exam's heat map -----------------------------------------------------------------------------


async def _table_context(request: Request, actor: Actor, exam_id: int, *, location: bool = False
                         ) -> tuple[Any, TableContext]:
    """``location``: the exam has a location restriction (the Location column and the lane). Checks first that the
    actor may see the exam's connections: ``NotFound`` or ``PermissionDenied`` before anything is shown."""
    services = services_of(request)
    access = await services.monitoring.access(actor, exam_id)
    details = await services.exams.details(actor, access.exam.id)
    hidden = parse_hidden(request.query_params.getlist("hide"))
    context = TableContext(exam_id=details.exam.id, hidden=hidden,
                           checks_signature_key=details.exam.signature_key_check_enabled,
                           may_supervise=access.may_supervise, location=location)
    return details, context


async def exam_monitoring(request: Request) -> Response:
    started = time.perf_counter()
    actor = await require_actor(request)
    services = services_of(request)
    exam_id = path_id(request)
    restriction = await monitoring_location.location_restriction(services, exam_id)
    details, context = await _table_context(request, actor, exam_id, location=restriction is not None)
    snapshot = await services.monitoring.snapshot(actor, context.exam_id)
    seats = await services.locations.gate.seats(context.exam_id) if context.location else None
    lane = await monitoring_location.lane_values(request, actor, details) if context.location else {}
    fragments = TableFragments(request.app.state.templates.env, context)
    active = sum(1 for state in snapshot.connections if state.status.client_active)
    response = await render(request, "monitoring/exam.html", {
        **lane, "title": f"Monitoring {details.exam.name}", "d": details, "exam": details.exam, "ctx": context,
        "snapshot": snapshot, "rows_html": fragments.render_rows(snapshot, seats), **fragments.values(snapshot),
        "active": active, "here": current_path(request), "back": context.page_url,
        "search_status_options": SEARCH_STATUS_OPTIONS, "search_sort_options": SEARCH_SORT_OPTIONS,
    })
    # The server's share of the page (large exams: thousands of rows), for browser tools and bench/.
    response.headers["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.1f}"
    return response


async def exam_stream(request: Request) -> Response:
    """Server-sent events for the exam page: ``rows`` (the whole table body) then ``patch`` (what changed in it,
    see ``monitoring_diff``), and ``filters`` (the switches with their counts), each sent when something changed,
    checked every second. Each tick reads the database in its own short session; the stream ends when the client
    goes away or the user is signed out. ``location=1`` (the page's stream URL says so): the rows have the Location
    column, from the location check's seats."""
    actor = await require_actor(request)
    services = services_of(request)
    _, context = await _table_context(request, actor, path_id(request),
                                      location=request.query_params.get("location") == "1")
    gate = services.locations.gate
    fragments = TableFragments(request.app.state.templates.env, context)
    sessions, token = web_sessions_of(request), browser_session(request).token or ""

    async def events() -> AsyncIterator[str]:
        watcher: Actor | None = actor
        rows = RowsDiff(fragments.first_indicator)
        sent_filters = ""
        tick = 0
        yield "retry: 2000\n\n"
        while not await request.is_disconnected():
            started = time.monotonic()
            if tick and tick % RECHECK_TICKS == 0:  # signed out, password changed, roles changed
                # Only a check: the cookie cannot be renewed mid-stream, so watching does not prolong the session.
                signed_in = await sessions.resolve(token, touch=False)
                watcher = signed_in.actor if signed_in else None
            if watcher is None:
                return
            try:
                snapshot = await services.monitoring.snapshot(watcher, context.exam_id,
                                                              max_age_ms=int(TICK_SECONDS * 900))
            except (NotFound, PermissionDenied):
                return  # the exam was deleted, or the user no longer supports it or lost the role
            seats = await gate.seats(context.exam_id) if context.location else None
            parts = fragments.rows(snapshot, seats)
            change = rows.update(parts, functools.partial(fragments.body, parts, snapshot))
            if change:
                yield sse_event(*change)
            filters = fragments.render_filters(snapshot)
            if filters != sent_filters:
                sent_filters = filters
                yield sse_event("filters", filters)
            yield ": tick\n\n"  # a write each tick: a closed connection shows up at once
            tick += 1
            elapsed = time.monotonic() - started
            # A slow tick (huge exam) waits as long as it took: the stream never takes more than half a core.
            await asyncio.sleep(max(TICK_SECONDS - elapsed, elapsed))

    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no", "Vary": "Accept-Encoding"}
    if "gzip" in request.headers.get("accept-encoding", ""):
        headers["Content-Encoding"] = "gzip"
        return StreamingResponse(gzipped(events()), media_type="text/event-stream", headers=headers)
    return StreamingResponse(events(), media_type="text/event-stream", headers=headers)


async def gzipped(chunks: AsyncIterator[str]) -> AsyncIterator[bytes]:
    """The stream compressed, each event flushed at once (the table body of 5,000 connections is about 2 MB of
    repetitive HTML a second, some 150 kB compressed)."""
    compressor = zlib.compressobj(1, zlib.DEFLATED, 31)  # wbits 31: the gzip format; level 1: cheap, enough
    async for chunk in chunks:
        yield compressor.compress(chunk.encode()) + compressor.flush(zlib.Z_SYNC_FLUSH)


# -- search ------------------------------------------------------------------------------------------


async def search_connections(request: Request) -> Response:
    """The search popup's list: every connection of the exam (whatever the state filters hide), filtered by
    user, IP address, OS and status, sorted by the chosen column. A full page without htmx."""
    actor = await require_actor(request)
    details, context = await _table_context(request, actor, path_id(request))
    snapshot = await services_of(request).monitoring.snapshot(actor, context.exam_id)
    query = SearchQuery.from_query(request.query_params)
    rows = [row_view(row, context.checks_signature_key) for row in search(snapshot, query)]
    states = {state.id: state for state in snapshot.connections}
    values = {"title": f"Search SEB Connections of {details.exam.name}", "exam": details.exam, "ctx": context,
              "query": query, "results": [(row, states[row.id]) for row in rows], "total": len(snapshot.connections),
              "search_status_options": SEARCH_STATUS_OPTIONS, "search_sort_options": SEARCH_SORT_OPTIONS}
    template = "monitoring/_search_results.html" if request.headers.get("hx-request") else "monitoring/search.html"
    return await render(request, template, values)


routes = [
    Route("/monitoring", running_exams),
    Route("/monitoring/{id:int}", exam_monitoring),
    Route("/monitoring/{id:int}/stream", exam_stream),
    Route("/monitoring/{id:int}/search", search_connections),
    *monitoring_actions.routes,
    *monitoring_connection.routes,
    *monitoring_location.routes,
]
