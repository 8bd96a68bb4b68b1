"""The location restriction on the monitoring screens: the "Blocked: location" lane of an exam (connections the
location check refused or flagged, with the approval code the student reads out), the proctor's "Allow" dialog
(an override with a reason, a scope and an expiry), the exam's overrides with revoke, and the location snapshot
of one connection. The rules and the privilege checks (the exam's connections visible; supervising: MODIFY on the
exam, i.e. assigned supporters and exam administrators) are in :mod:`sebframe.core.location.overrides`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sebframe.core.accounts.actor import Actor
from sebframe.core.db.models import Exam, LocationOverride
from sebframe.core.errors import NotFound, PermissionDenied, ValidationFailed
from sebframe.core.exams.service import ExamDetails
from sebframe.core.location.decide import ExamRestriction
from sebframe.core.location.overrides import PlacedConnection
from sebframe.core.location.schemas import LocationStatus, OverrideInput, OverrideScope, RevokeInput
from sebframe.core.services import Services
from sebframe.core.validation import parse_input
from sebframe.web.pages import flash, redirect, render, require_actor, services_of
from sebframe.web.templating import user_zone
from sebframe.web.views.common import field_errors, path_id, safe_next
from sebframe.web.views.config_screens import partial
from sebframe.web.views.exam_location import aware_input, local_input

LANE_POLL_SECONDS = 5  # the lane refreshes itself (a blocked student waits for the proctor)
MAX_CODE = 16
# WOULD_BLOCK (log-only trial) is not refused: nothing to allow
ALLOWABLE = frozenset({LocationStatus.BLOCKED, LocationStatus.VIOLATION})
STATUS_LABELS: dict[str, str] = {  # by the stored status text (the LocationStatus members)
    LocationStatus.ALLOWED: "Admitted", LocationStatus.BLOCKED: "Blocked", LocationStatus.VIOLATION: "Moved outside",
    LocationStatus.WOULD_BLOCK: "Would be blocked (trial)", LocationStatus.OVERRIDDEN: "Admitted by override",
    LocationStatus.EXCEPTION: "Admitted by exception"}
STATUS_MARKS: dict[str, str] = {
    LocationStatus.BLOCKED: "denied", LocationStatus.VIOLATION: "denied", LocationStatus.WOULD_BLOCK: "warn",
    LocationStatus.ALLOWED: "ok", LocationStatus.OVERRIDDEN: "ok", LocationStatus.EXCEPTION: "ok"}
SCOPE_OPTIONS = [(OverrideScope.CONNECTION.value, "This connection at this address"),
                 (OverrideScope.USER.value, "This user, from any address"),
                 (OverrideScope.ADDRESS.value, "This address (any connection from it)")]
SCOPE_LABELS = {OverrideScope.CONNECTION.value: "connection", OverrideScope.USER.value: "user",
                OverrideScope.ADDRESS.value: "address"}
VARY_HTMX = {"Vary": "HX-Request"}


async def location_restriction(services: Services, exam_id: int) -> ExamRestriction | None:
    """The exam's restriction if it has IP profiles (suspended or not: its monitoring page then shows the Location
    column and the lane), else None. From the gate's cache (at most a second old): an exam without profiles costs
    one lookup."""
    restriction = await services.locations.gate.restriction(exam_id)
    return restriction if restriction is not None and restriction.profiles else None


def approval_code(value: object) -> str:
    """A typed approval code: trimmed, upper case (students read it out), at most a few characters."""
    return str(value or "").strip().upper()[:MAX_CODE] if isinstance(value, str) else ""


@dataclass(frozen=True, slots=True)
class OverrideRow:
    override: LocationOverride
    state: str  # "active", "expired" or "revoked"
    scope: str  # in words
    subject: str  # whom it admits

    @property
    def active(self) -> bool:
        return self.state == "active"


def override_rows(overrides: Sequence[LocationOverride], now: datetime) -> list[OverrideRow]:
    """Active overrides first, then the others; newest first within each."""
    rows = []
    for item in overrides:
        expires = item.expires_at if item.expires_at.tzinfo else item.expires_at.replace(tzinfo=UTC)
        state = "revoked" if item.revoked_at is not None else "expired" if expires <= now else "active"
        if item.scope == OverrideScope.USER.value:
            subject = f"user {item.user_session_id or '—'}"
        elif item.scope == OverrideScope.ADDRESS.value:
            subject = f"address {item.address or '—'}"
        else:
            subject = f"connection {item.connection_id or '—'} at {item.address or '—'}"
        rows.append(OverrideRow(item, state, SCOPE_LABELS.get(item.scope, item.scope.lower()), subject))
    rows.sort(key=lambda row: not row.active)  # stable: newest first stays within each group
    return rows


def placement_status(placed: PlacedConnection) -> tuple[str, str]:
    return STATUS_LABELS.get(placed.status, placed.status), STATUS_MARKS.get(placed.status, "")


async def lane_values(request: Request, actor: Actor, details: ExamDetails, code: str = "",
                      notices: Sequence[tuple[str, str]] = ()) -> dict[str, Any]:
    """What the lane (``monitoring/_location_lane.html``) and the override list need. With an approval code:
    the connections with that code, whatever their status (so a proctor also sees one already admitted)."""
    overrides = services_of(request).locations.overrides
    exam_id = details.exam.id
    if code:
        placed = await overrides.placements(actor, exam_id, code=code)
    else:
        placed = await overrides.placements(actor, exam_id, lane_only=True)
    return {"exam": details.exam, "lane": [(item, *placement_status(item)) for item in placed], "code": code,
            "restriction": await location_restriction(services_of(request), exam_id),
            "overrides": override_rows(await overrides.overrides(actor, exam_id), datetime.now(UTC)),
            "may_supervise": details.may_modify, "allowable": ALLOWABLE, "poll_seconds": LANE_POLL_SECONDS,
            "lane_url": f"/monitoring/{exam_id}/location", "notices": list(notices), "timezone": actor.timezone}


async def location_lane(request: Request) -> Response:
    """The lane with its override list: a fragment for htmx (the page's lane polls it, the code search asks
    it), a page of its own otherwise (without JavaScript)."""
    actor = await require_actor(request)
    services = services_of(request)
    access = await services.monitoring.access(actor, path_id(request))
    details = await services.exams.details(actor, access.exam.id)
    values = await lane_values(request, actor, details, approval_code(request.query_params.get("code")))
    if request.headers.get("hx-request"):
        return partial(request, "monitoring/_location_lane.html", values, headers=VARY_HTMX)
    response = await render(request, "monitoring/location.html", {
        "title": f"Blocked: Location in {details.exam.name}", "d": details, **values})
    response.headers.update(VARY_HTMX)
    return response


# -- allow (override) --------------------------------------------------------------------------------------


async def _supervised(request: Request, actor: Actor) -> ExamDetails:
    services = services_of(request)
    access = await services.monitoring.access(actor, path_id(request))
    details = await services.exams.details(actor, access.exam.id)
    if not access.may_supervise:
        raise PermissionDenied(f"you may watch exam {details.exam.name!r} but not supervise it: only its "
                               "supporters and exam administrators allow blocked SEB clients")
    return details


def _connection_id(value: object) -> int:
    if isinstance(value, str) and value.isdigit() and len(value) <= 10:
        return int(value)
    raise NotFound("SEB connection not found")


async def allow_dialog(request: Request) -> Response:
    """Allow a blocked connection: the dialog (htmx) or page with the connection, a required reason, the scope
    and the expiry (default and latest: the exam's end). Errors are shown in place; after allowing, the lane and
    the override list come again (out of band) and the dialog closes."""
    actor = await require_actor(request)
    services = services_of(request)
    details = await _supervised(request, actor)
    exam = details.exam
    zone = user_zone(actor.timezone)
    source = request.query_params if request.method == "GET" else await request.form()
    connection_id = _connection_id(source.get("connection_id"))
    found = await services.locations.overrides.placements(actor, exam.id, connection_id=connection_id)
    if not found:
        raise NotFound(f"SEB connection {connection_id} has no location decision in exam {exam.name!r}")
    placed = found[0]
    back = safe_next(source.get("next"), f"/monitoring/{exam.id}")
    htmx = bool(request.headers.get("hx-request"))
    errors: dict[str, str] = {}
    values = {"scope": OverrideScope.CONNECTION.value, "reason": "",
              "expires_at": local_input(exam.end_time, zone)}
    if request.method == "POST":
        values = {name: str(source.get(name) or "") for name in ("scope", "reason", "expires_at")}
        try:
            data = parse_input(OverrideInput, {
                "connection_id": connection_id, "scope": values["scope"], "reason": values["reason"],
                "expires_at": aware_input(values["expires_at"], zone, "expires_at")})
            override = await services.locations.overrides.grant(actor, exam.id, data)
        except ValidationFailed as exc:
            errors = field_errors(exc)
            if "reason" in errors and not values["reason"].strip():
                errors["reason"] = "give a reason (it is kept in the audit log)"
        else:
            who = placed.lms_user_id or placed.user or placed.machine or f"connection {placed.connection_id}"
            text = (f"Allowed {who} ({SCOPE_LABELS.get(override.scope, override.scope.lower())}) until "
                    f"{override.expires_at.astimezone(zone).strftime('%Y-%m-%d %H:%M')}: the student presses "
                    "Retry in SEB.")
            if htmx:
                values = await lane_values(request, actor, details, notices=[("success", text)])
                return partial(request, "monitoring/_location_allowed.html", values,
                               headers={"HX-Retarget": "#dialog-slot", "HX-Reswap": "innerHTML"})
            flash(request, text)
            return redirect(back)
    status, mark = placement_status(placed)
    context = {"title": f"Allow SEB Connection {placed.user or placed.connection_id}", "exam": exam,
               "placed": placed, "status": status, "status_mark": mark, "values": values, "errors": errors,
               "scope_options": SCOPE_OPTIONS, "next": back, "timezone_name": zone.key, "timezone": actor.timezone}
    status_code = 422 if errors else 200
    if htmx:
        return partial(request, "monitoring/_location_allow_dialog.html", context, status_code, headers=VARY_HTMX)
    response = await render(request, "monitoring/location_allow.html", context, status_code=status_code)
    response.headers.update(VARY_HTMX)
    return response


async def revoke_override(request: Request) -> Response:
    actor = await require_actor(request)
    exam_id = path_id(request)
    form = await request.form()
    back = safe_next(form.get("next"), f"/monitoring/{exam_id}")
    try:
        data = parse_input(RevokeInput, {"reason": str(form.get("reason") or "")})
        override = await services_of(request).locations.overrides.revoke(actor, exam_id,
                                                                         path_id(request, "override_id"), data)
    except ValidationFailed as exc:
        flash(request, f"Override not revoked: {exc.message}", "error")
    else:
        flash(request, f"Override {override.id} revoked: the connections it admitted are checked again.")
    return redirect(back)


# -- the connection detail view ----------------------------------------------------------------------------


async def connection_location(request: Request, actor: Actor, exam: Exam, connection_id: int
                              ) -> dict[str, Any] | None:
    """The location snapshot of one connection for its detail view; None when the exam has no restriction and
    the connection no decision (nothing to show)."""
    services = services_of(request)
    found = await services.locations.overrides.placements(actor, exam.id, connection_id=connection_id)
    if not found:
        return {"placed": None} if await location_restriction(services, exam.id) is not None else None
    placed = found[0]
    profile = ""
    if placed.profile_id is not None:
        names = {item.id: item.name for item in await services.locations.profiles.profile_choices(
            actor, exam.institution_id, keep=[placed.profile_id])}
        profile = names.get(placed.profile_id, f"IP profile {placed.profile_id}")
    status, mark = placement_status(placed)
    return {"placed": placed, "status": status, "status_mark": mark, "profile": profile}


routes = [
    Route("/monitoring/{id:int}/location", location_lane),
    Route("/monitoring/{id:int}/location/allow", allow_dialog, methods=["GET", "POST"]),
    Route("/monitoring/{id:int}/location/overrides/{override_id:int}/revoke", revoke_override, methods=["POST"]),
]
