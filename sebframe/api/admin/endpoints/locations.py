"""Testing-center locations (computer pools): list, create, change, hide and unhide (never delete).

Exam administrators and institutional administrators write them; exam supporters read them. Their rooms and
seats are labels on the rules of the IP profiles that name the location (``/location-profiles``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from starlette.requests import Request

from sebframe.api.admin.endpoints._common import Filter, ListQuery, out, parse_body, services_of
from sebframe.api.admin.routing import ApiRouter
from sebframe.core.accounts.actor import Actor
from sebframe.core.db.models import Location
from sebframe.core.location.schemas import LocationInput
from sebframe.core.validation import InputModel, parse_input

router = ApiRouter()

TAG = "locations"

HIDDEN_FILTER = Filter("hidden", "choice", ("false", "true", "all"),
                       description="false (default): the visible ones; true: only hidden ones; all: both")

LOCATION_QUERY = ListQuery(
    filters=(
        Filter("name", description="part of the name, case-insensitive"),
        HIDDEN_FILTER,
    ),
    sortable=("name",),
    default_sort="name",
)


class LocationPatch(InputModel):
    """The fields to change."""

    name: str | None = None
    description: str | None = None


class LocationOut(BaseModel):
    id: int
    institution_id: int
    name: str
    description: str
    hidden: bool = Field(description="hidden locations are not offered for new IP profiles")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, location: Location) -> LocationOut:
        return cls(id=location.id, institution_id=location.institution_id, name=location.name,
                   description=location.description, hidden=location.hidden, created_at=location.created_at,
                   updated_at=location.updated_at)


def _id(request: Request) -> int:
    location_id: int = request.path_params["id"]
    return location_id


@router.get("/locations", summary="List the testing-center locations you may see", tag=TAG,
            response_model=LocationOut, response_is_page=True, query=LOCATION_QUERY.query_params())
async def list_locations(request: Request, actor: Actor) -> dict[str, Any]:
    page = await services_of(request).locations.profiles.list_locations(actor, LOCATION_QUERY.parse(request))
    return page.to_json([out(LocationOut.of(location)) for location in page.items])


@router.post("/locations", summary="Create a location in your institution (exam and institutional administrators)",
             tag=TAG, request_model=LocationInput, response_model=LocationOut, status_code=201)
async def create_location(request: Request, actor: Actor) -> dict[str, Any]:
    data = await parse_body(request, LocationInput)
    return out(LocationOut.of(await services_of(request).locations.profiles.create_location(actor, data)))


@router.get("/locations/{id:int}", summary="One location", tag=TAG, response_model=LocationOut)
async def get_location(request: Request, actor: Actor) -> dict[str, Any]:
    return out(LocationOut.of(await services_of(request).locations.profiles.get_location(actor, _id(request))))


@router.put("/locations/{id:int}", summary="Replace the location's name and description", tag=TAG,
            request_model=LocationInput, response_model=LocationOut)
async def replace_location(request: Request, actor: Actor) -> dict[str, Any]:
    data = await parse_body(request, LocationInput)
    return out(LocationOut.of(await services_of(request).locations.profiles.update_location(actor, _id(request),
                                                                                           data)))


@router.patch("/locations/{id:int}", summary="Change the given fields of the location", tag=TAG,
              request_model=LocationPatch, response_model=LocationOut)
async def update_location(request: Request, actor: Actor) -> dict[str, Any]:
    patch = await parse_body(request, LocationPatch)
    service = services_of(request).locations.profiles
    location = await service.get_location(actor, _id(request))
    merged = {"name": location.name, "description": location.description,
              **{name: value for name, value in patch.model_dump(exclude_unset=True).items() if value is not None}}
    return out(LocationOut.of(await service.update_location(actor, location.id, parse_input(LocationInput, merged))))


@router.post("/locations/{id:int}/hide", summary="Hide the location (it stays on the profiles that name it)",
             tag=TAG, response_model=LocationOut)
async def hide_location(request: Request, actor: Actor) -> dict[str, Any]:
    location = await services_of(request).locations.profiles.set_location_hidden(actor, _id(request), True)
    return out(LocationOut.of(location))


@router.post("/locations/{id:int}/unhide", summary="Make a hidden location visible again", tag=TAG,
             response_model=LocationOut)
async def unhide_location(request: Request, actor: Actor) -> dict[str, Any]:
    location = await services_of(request).locations.profiles.set_location_hidden(actor, _id(request), False)
    return out(LocationOut.of(location))
