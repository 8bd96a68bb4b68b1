"""An exam's network location restriction: its IP profiles and mode, emergency suspension, planned exceptions,
the connections' placements and the lane of blocked ones, and proctor overrides.

Exam administrators change the policy and the exceptions; whoever supervises the exam (its supporters too)
suspends and resumes the restriction, and grants and revokes overrides. Other exams are "not found".
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import Response

from sebframe.api.admin.endpoints._common import check_query, out, parse_body, services_of
from sebframe.api.admin.routing import ApiRouter, QueryParam
from sebframe.core.accounts.actor import Actor
from sebframe.core.db.models import LocationException, LocationOverride, LocationProfile
from sebframe.core.location.exam_location import ExamPolicy
from sebframe.core.location.overrides import PlacedConnection
from sebframe.core.location.schemas import ExceptionInput, OverrideInput, PolicyInput, RevokeInput, SuspendInput

router = ApiRouter()

TAG = "locations"


def _utc(moment: datetime | None) -> datetime | None:
    """A time as the database gives it back (UTC), also in the answer to the request that stored it."""
    return moment.astimezone(UTC) if moment is not None else None


class ProfileRefOut(BaseModel):
    id: int
    name: str
    version: int
    hidden: bool = Field(description="hidden after it was attached: the exam keeps being checked with it")

    @classmethod
    def of(cls, profile: LocationProfile) -> ProfileRefOut:
        return cls(id=profile.id, name=profile.name, version=profile.version, hidden=profile.hidden)


class ExceptionOut(BaseModel):
    id: int
    exam_id: int
    kind: str = Field(description="USER or GROUP")
    name: str = Field(description="the user id, or the group's name")
    members: list[str] = Field(description="a group's user ids")
    substitute_profile_id: int | None = Field(description="checked instead of the exam's profiles; null: any "
                                                          "location")
    valid_from: datetime | None
    valid_to: datetime | None
    reason: str
    created_by: str
    created_at: datetime

    @classmethod
    def of(cls, row: LocationException) -> ExceptionOut:
        return cls(id=row.id, exam_id=row.exam_id, kind=row.kind, name=row.name,
                   members=[member for member in row.members.splitlines() if member],
                   substitute_profile_id=row.substitute_profile_id, valid_from=_utc(row.valid_from),
                   valid_to=_utc(row.valid_to), reason=row.reason, created_by=row.created_by, created_at=row.created_at)


class ExceptionListOut(BaseModel):
    items: list[ExceptionOut]


class PolicyOut(BaseModel):
    exam_id: int
    exam_name: str
    restricted: bool = Field(description="clients are checked: profiles attached and not suspended")
    mode: str = Field(description="ENFORCE, or LOG_ONLY (trial: record would-be refusals, refuse nobody)")
    hide_when_outside: bool = Field(description="leave the exam out of the handshake list of clients outside")
    on_violation: str = Field(description="LOG (code 37, flagged) or QUIT (also SEB_QUIT) when a client moves "
                                          "outside")
    suspended: bool
    suspend_reason: str
    suspended_by: str
    suspended_at: datetime | None
    profiles: list[ProfileRefOut] = Field(description="an address allowed by any of them is allowed")
    exceptions: list[ExceptionOut]

    @classmethod
    def of(cls, policy: ExamPolicy) -> PolicyOut:
        return cls(exam_id=policy.exam_id, exam_name=policy.exam_name, restricted=policy.restricted,
                   mode=policy.mode.value, hide_when_outside=policy.hide_when_outside,
                   on_violation=policy.on_violation.value, suspended=policy.suspended,
                   suspend_reason=policy.suspend_reason, suspended_by=policy.suspended_by,
                   suspended_at=policy.suspended_at, profiles=[ProfileRefOut.of(item) for item in policy.profiles],
                   exceptions=[ExceptionOut.of(item) for item in policy.exceptions])


class PlacementOut(BaseModel):
    connection_id: int
    user: str | None = Field(description="the LMS user's name once known, else OS login or machine")
    lms_user_id: str | None
    machine: str | None
    os: str | None
    seb_version: str | None
    status: str = Field(description="ALLOWED, BLOCKED, VIOLATION, OVERRIDDEN, EXCEPTION or WOULD_BLOCK (log-only)")
    reason: str
    address: str | None = Field(description="the resolved client address")
    peer_address: str | None
    forwarded_chain: str
    room: str
    seat: str
    rule: str = Field(description="line:canonical rule that decided")
    approval_code: str = Field(description="the code a blocked student reads out to the proctor")
    message: str
    violations: int
    decided_at: datetime

    @classmethod
    def of(cls, placed: PlacedConnection) -> PlacementOut:
        return cls(connection_id=placed.connection_id, user=placed.user, lms_user_id=placed.lms_user_id,
                   machine=placed.machine, os=placed.os, seb_version=placed.seb_version, status=placed.status,
                   reason=placed.reason, address=placed.address, peer_address=placed.peer_address,
                   forwarded_chain=placed.forwarded_chain, room=placed.room, seat=placed.seat, rule=placed.rule,
                   approval_code=placed.approval_code, message=placed.message, violations=placed.violations,
                   decided_at=placed.decided_at)


class PlacementListOut(BaseModel):
    items: list[PlacementOut] = Field(description="latest decision first")


class OverrideOut(BaseModel):
    id: int
    exam_id: int
    connection_id: int | None = Field(description="scope CONNECTION: the connection")
    scope: str = Field(description="CONNECTION (this connection at this address), USER or ADDRESS")
    user_session_id: str | None = Field(description="scope USER: the user")
    address: str | None = Field(description="scope CONNECTION or ADDRESS: the address")
    reason: str
    created_by: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    revoked_by: str
    revoke_reason: str
    active: bool = Field(description="in force: neither revoked nor expired")

    @classmethod
    def of(cls, row: LocationOverride, now: datetime) -> OverrideOut:
        return cls(id=row.id, exam_id=row.exam_id, connection_id=row.connection_id, scope=row.scope,
                   user_session_id=row.user_session_id, address=row.address, reason=row.reason,
                   created_by=row.created_by, created_at=row.created_at, expires_at=row.expires_at.astimezone(UTC),
                   revoked_at=row.revoked_at, revoked_by=row.revoked_by, revoke_reason=row.revoke_reason,
                   active=row.revoked_at is None and row.expires_at > now)


class OverrideListOut(BaseModel):
    items: list[OverrideOut] = Field(description="newest first, revoked ones included")


def _exam_id(request: Request) -> int:
    exam_id: int = request.path_params["id"]
    return exam_id


def _now() -> datetime:
    return datetime.now(UTC)


@router.get("/exams/{id:int}/location", summary="The exam's location restriction: profiles, mode, suspension, "
            "exceptions", tag=TAG, response_model=PolicyOut)
async def get_exam_location(request: Request, actor: Actor) -> dict[str, Any]:
    return out(PolicyOut.of(await services_of(request).locations.policies.policy(actor, _exam_id(request))))


@router.put("/exams/{id:int}/location", summary="Set the exam's IP profiles and mode (exam administrators); a "
            "hidden profile only if the exam already has it", tag=TAG, request_model=PolicyInput,
            response_model=PolicyOut)
async def set_exam_location(request: Request, actor: Actor) -> dict[str, Any]:
    data = await parse_body(request, PolicyInput)
    return out(PolicyOut.of(await services_of(request).locations.policies.set_policy(actor, _exam_id(request), data)))


@router.post("/exams/{id:int}/location/suspend", summary="Emergency: stop checking the exam's clients now (with a "
             "reason; supervisors too)", tag=TAG, request_model=SuspendInput, response_model=PolicyOut)
async def suspend_exam_location(request: Request, actor: Actor) -> dict[str, Any]:
    data = await parse_body(request, SuspendInput)
    policy = await services_of(request).locations.policies.suspend(actor, _exam_id(request), data)
    return out(PolicyOut.of(policy))


@router.post("/exams/{id:int}/location/resume", summary="Check the exam's clients again after a suspension (with "
             "a reason)", tag=TAG, request_model=SuspendInput, response_model=PolicyOut)
async def resume_exam_location(request: Request, actor: Actor) -> dict[str, Any]:
    data = await parse_body(request, SuspendInput)
    policy = await services_of(request).locations.policies.suspend(actor, _exam_id(request), data, suspended=False)
    return out(PolicyOut.of(policy))


# -- planned exceptions ----------------------------------------------------------------------------


@router.get("/exams/{id:int}/location/exceptions", summary="The exam's planned location exceptions", tag=TAG,
            response_model=ExceptionListOut)
async def list_exam_location_exceptions(request: Request, actor: Actor) -> dict[str, Any]:
    policy = await services_of(request).locations.policies.policy(actor, _exam_id(request))
    return out(ExceptionListOut(items=[ExceptionOut.of(item) for item in policy.exceptions]))


@router.post("/exams/{id:int}/location/exceptions", summary="Add an exception for a user or a group: any location, "
             "or only a substitute profile", tag=TAG, request_model=ExceptionInput, response_model=ExceptionOut,
             status_code=201)
async def add_exam_location_exception(request: Request, actor: Actor) -> dict[str, Any]:
    data = await parse_body(request, ExceptionInput)
    row = await services_of(request).locations.policies.add_exception(actor, _exam_id(request), data)
    return out(ExceptionOut.of(row))


@router.get("/exams/{id:int}/location/exceptions/{exception_id:int}", summary="One location exception", tag=TAG,
            response_model=ExceptionOut)
async def get_exam_location_exception(request: Request, actor: Actor) -> dict[str, Any]:
    row = await services_of(request).locations.policies.get_exception(actor, _exam_id(request),
                                                                       request.path_params["exception_id"])
    return out(ExceptionOut.of(row))


@router.put("/exams/{id:int}/location/exceptions/{exception_id:int}", summary="Replace a location exception",
            tag=TAG, request_model=ExceptionInput, response_model=ExceptionOut)
async def replace_exam_location_exception(request: Request, actor: Actor) -> dict[str, Any]:
    data = await parse_body(request, ExceptionInput)
    row = await services_of(request).locations.policies.update_exception(
        actor, _exam_id(request), request.path_params["exception_id"], data)
    return out(ExceptionOut.of(row))


@router.delete("/exams/{id:int}/location/exceptions/{exception_id:int}", summary="Remove a location exception",
               tag=TAG, status_code=204)
async def delete_exam_location_exception(request: Request, actor: Actor) -> Response:
    await services_of(request).locations.policies.delete_exception(actor, _exam_id(request),
                                                                    request.path_params["exception_id"])
    return Response(status_code=204)


# -- placements, the blocked lane, overrides -------------------------------------------------------

CODE_PARAM = QueryParam("code", {"type": "string", "maxLength": 16},
                        "only the connection with this approval code (the one the student reads out; any case)")


@router.get("/exams/{id:int}/location/blocked", summary="The blocked lane: connections refused (or, log-only, "
            "that would be) or that moved outside, with their approval codes", tag=TAG,
            response_model=PlacementListOut, query=(CODE_PARAM,))
async def list_exam_location_blocked(request: Request, actor: Actor) -> dict[str, Any]:
    check_query(request.query_params, {"code"})
    code = request.query_params.get("code", "").strip() or None
    placed = await services_of(request).locations.overrides.placements(actor, _exam_id(request), lane_only=True,
                                                                        code=code)
    return out(PlacementListOut(items=[PlacementOut.of(item) for item in placed]))


@router.get("/exams/{id:int}/location/placements", summary="Where each connection sits (room, seat, rule) and how "
            "it stands: who sat where", tag=TAG, response_model=PlacementListOut)
async def list_exam_location_placements(request: Request, actor: Actor) -> dict[str, Any]:
    check_query(request.query_params, ())
    placed = await services_of(request).locations.overrides.placements(actor, _exam_id(request))
    return out(PlacementListOut(items=[PlacementOut.of(item) for item in placed]))


@router.get("/exams/{id:int}/location/overrides", summary="The exam's proctor overrides, newest first", tag=TAG,
            response_model=OverrideListOut)
async def list_exam_location_overrides(request: Request, actor: Actor) -> dict[str, Any]:
    rows = await services_of(request).locations.overrides.overrides(actor, _exam_id(request))
    now = _now()
    return out(OverrideListOut(items=[OverrideOut.of(row, now) for row in rows]))


@router.post("/exams/{id:int}/location/overrides", summary="Let a blocked connection in (supervisors; a reason is "
             "required; until the exam's end at the latest); the same approval again returns the existing "
             "override", tag=TAG, request_model=OverrideInput, response_model=OverrideOut, status_code=201)
async def grant_exam_location_override(request: Request, actor: Actor) -> dict[str, Any]:
    data = await parse_body(request, OverrideInput)
    row = await services_of(request).locations.overrides.grant(actor, _exam_id(request), data)
    return out(OverrideOut.of(row, _now()))


@router.post("/exams/{id:int}/location/overrides/{override_id:int}/revoke", summary="Revoke an override; the "
             "connections it admitted are checked again at once", tag=TAG, request_model=RevokeInput,
             response_model=OverrideOut)
async def revoke_exam_location_override(request: Request, actor: Actor) -> dict[str, Any]:
    data = await parse_body(request, RevokeInput)
    row = await services_of(request).locations.overrides.revoke(actor, _exam_id(request),
                                                                request.path_params["override_id"], data)
    return out(OverrideOut.of(row, _now()))
