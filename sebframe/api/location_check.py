"""The public location check under ``/api/v1``: which locations, rooms and IP profiles an address falls into,
for LMSs and testing-center tools.

``GET /api/v1/location/check?address=…`` is authenticated with the admin API's bearer tokens and answers
from the caller's institution's visible (not hidden) profiles. It tells where an address is; it does not
decide for an exam (exceptions, overrides and the exam's choice of profiles are not involved). The document
of this API is ``GET /api/v1/openapi.json``.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from sebframe.api.admin.endpoints._common import check_query, out, services_of
from sebframe.api.admin.openapi import openapi_document
from sebframe.api.admin.routing import ApiRouter, QueryParam, error_response
from sebframe.core.accounts.actor import Actor
from sebframe.core.location.rules import Action
from sebframe.core.net import parse_address
from sebframe.core.services import Services

PREFIX = "/api/v1"
TAG = "locations"

router = ApiRouter()


class LocationMatchOut(BaseModel):
    profile_id: int
    profile: str = Field(description="the IP profile's name")
    location_id: int | None
    location: str = Field(description="the profile's location (testing center); empty when none")
    action: str = Field(description="ALLOW or BLOCK: the profile's deciding rule for the address")
    rule: str = Field(description="line:canonical rule, e.g. '2:ALLOW 10.1.2.0/24'")
    room: str = Field(description="the rule's room label (or the profile's default room)")
    seat: str


class LocationCheckOut(BaseModel):
    address: str = Field(description="the address in canonical form (IPv4-mapped IPv6 as IPv4, no zone id)")
    family: int = Field(description="4 or 6")
    matches: list[LocationMatchOut] = Field(description="every visible profile with a rule for the address")
    allowed_by: list[str] = Field(description="names of the profiles whose deciding rule allows the address")


ADDRESS_PARAM = QueryParam("address", {"type": "string", "maxLength": 100},
                           "an IPv4 or IPv6 address, e.g. 192.0.2.10 or 2001:db8::1 (required)")


@router.get("/location/check", summary="Which locations, rooms and IP profiles of your institution an address "
            "falls into", tag=TAG, response_model=LocationCheckOut, query=(ADDRESS_PARAM,))
async def check_location(request: Request, actor: Actor) -> dict[str, Any]:
    check_query(request.query_params, {"address"})
    text = request.query_params.get("address", "")
    hits = await services_of(request).locations.preview.check_address(actor, text)
    parsed = parse_address(text)
    assert parsed is not None  # check_address refused anything else
    matches = [LocationMatchOut(profile_id=hit.profile_id, profile=hit.profile_name, location_id=hit.location_id,
                                location=hit.location_name, action=hit.action.value, rule=hit.rule, room=hit.room,
                                seat=hit.seat) for hit in hits]
    return out(LocationCheckOut(address=str(parsed), family=parsed.version, matches=matches,
                                allowed_by=[hit.profile_name for hit in hits if hit.action is Action.ALLOW]))


def public_openapi() -> dict[str, Any]:
    document = openapi_document(router)
    document["info"] = {**document["info"], "title": "sebframe public API",
                        "description": "Authenticated with admin API bearer tokens (`sebframe token create`)."}
    document["servers"] = [{"url": PREFIX}]
    return document


def create_location_check_api(services: Services) -> Starlette:
    """The sub-application mounted at ``/api/v1``."""

    async def openapi(request: Request) -> JSONResponse:
        return JSONResponse(public_openapi())

    async def http_error(request: Request, exc: Exception) -> JSONResponse:
        status: int = getattr(exc, "status_code", 500)
        if status == 404:
            return error_response(404, "not_found", f"no API endpoint at {request.url.path}")
        if status == 405:
            return error_response(405, "method_not_allowed", f"{request.method} is not allowed here",
                                  headers=dict(getattr(exc, "headers", None) or {}))
        return error_response(status, "error", str(getattr(exc, "detail", "error")))

    app = Starlette(routes=[Route("/openapi.json", openapi), *router.routes()],
                    exception_handlers={HTTPException: http_error})
    app.state.services = services
    return app

