"""Testing-center locations (computer pools): list, view, create, edit, hide and unhide (never deleted); and the
"Where am I?" self-test: this browser's address as the server resolves it, and the profiles, rules and rooms it
falls into. The rules are in :mod:`sebframe.core.location`; this reads forms and renders."""

from __future__ import annotations

from typing import Any, TypeGuard

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sebframe.core import net
from sebframe.core.accounts.actor import Actor, Scope
from sebframe.core.accounts.roles import EntityType, Privilege
from sebframe.core.db.models import Location
from sebframe.core.errors import Conflict, PermissionDenied, ValidationFailed
from sebframe.core.location.profiles import LOCATION_FILTERS, LocationProfileService
from sebframe.core.location.schemas import LocationInput
from sebframe.core.paging import ListParams
from sebframe.core.validation import parse_input
from sebframe.web.pages import flash, form_fields, redirect, render, require_actor, services_of
from sebframe.web.views.common import current_path, fetch_list, field_errors, list_params, path_id, safe_next

# The hidden filter of the location and profile lists: without it only visible entries are listed.
HIDDEN_OPTIONS = [("all", "Visible and hidden"), ("yes", "Hidden only")]


def is_id(value: object) -> TypeGuard[str]:
    """An id as typed in a form or query string (ASCII digits only)."""
    return isinstance(value, str) and value.isascii() and value.isdigit()


def require_location_read(actor: Actor) -> None:
    if actor.scope(Privilege.READ, EntityType.LOCATION) == Scope.NONE:
        raise PermissionDenied("You may not see locations and IP profiles.")


def lists_all(actor: Actor) -> bool:
    return actor.scope(Privilege.READ, EntityType.LOCATION) == Scope.OVERALL


async def institution_names(request: Request, actor: Actor) -> dict[int, str]:
    if not lists_all(actor):
        return {}
    choices = await services_of(request).institutions.choices(actor, active_only=False)
    return {institution.id: institution.name for institution in choices}


def _flags(actor: Actor, location: Location) -> str:
    flags = ["hidden" if location.hidden else "visible"]
    if LocationProfileService.may_write(actor, location.institution_id):
        flags.append("writable")
    return " ".join(flags)


async def list_locations(request: Request) -> Response:
    actor = await require_actor(request)
    require_location_read(actor)
    service = services_of(request).locations.profiles
    params, errors = list_params(request, LOCATION_FILTERS)
    page, status = await fetch_list(lambda query: service.list_locations(actor, query), params, errors)
    names = await institution_names(request, actor)
    rows = [{"location": location, "flags": _flags(actor, location),
             "institution": names.get(location.institution_id, str(location.institution_id))}
            for location in page.items]
    return await render(request, "locations/list.html", {
        "title": "Locations",
        "params": params,
        "page": page,
        "rows": rows,
        "errors": errors,
        "hidden_options": HIDDEN_OPTIONS,
        "show_institution": lists_all(actor),
        "may_create": LocationProfileService.may_write(actor),
        "here": current_path(request),
    }, status_code=status)


async def view_location(request: Request) -> Response:
    actor = await require_actor(request)
    service = services_of(request).locations.profiles
    location = await service.get_location(actor, path_id(request))
    profiles = await service.list_profiles(actor, ListParams(size=500, filters={"location": str(location.id),
                                                                                "hidden": "all"}))
    names = await institution_names(request, actor)
    return await render(request, "locations/view.html", {
        "title": f"Location {location.name}",
        "location": location,
        "profiles": [profile for profile, _ in profiles.items],
        "institution": names.get(location.institution_id, ""),
        "may_write": LocationProfileService.may_write(actor, location.institution_id),
        "here": current_path(request),
    })


async def _form_page(request: Request, location: Location | None, values: dict[str, Any], errors: dict[str, str],
                     status_code: int = 200) -> Response:
    return await render(request, "locations/form.html", {
        "title": f"Edit Location {location.name}" if location else "New Location",
        "location": location,
        "values": values,
        "errors": errors,
    }, status_code=status_code)


async def create_location(request: Request) -> Response:
    actor = await require_actor(request)
    if not LocationProfileService.may_write(actor):
        raise PermissionDenied("You may not create locations.")
    if request.method == "GET":
        return await _form_page(request, None, {}, {})
    values = form_fields(await request.form(), "name", "description")
    try:
        location = await services_of(request).locations.profiles.create_location(
            actor, parse_input(LocationInput, values))
    except ValidationFailed as exc:
        return await _form_page(request, None, values, field_errors(exc), 422)
    except Conflict as exc:
        return await _form_page(request, None, values, {"name": exc.message}, 409)
    flash(request, f"Location {location.name} created.")
    return redirect(f"/locations/{location.id}")


async def edit_location(request: Request) -> Response:
    actor = await require_actor(request)
    service = services_of(request).locations.profiles
    location = await service.get_location(actor, path_id(request))
    if not LocationProfileService.may_write(actor, location.institution_id):
        raise PermissionDenied(f"You may not change location {location.name!r}.")
    if request.method == "GET":
        return await _form_page(request, location, {"name": location.name, "description": location.description},
                                {})
    values = form_fields(await request.form(), "name", "description")
    try:
        location = await service.update_location(actor, location.id, parse_input(LocationInput, values))
    except ValidationFailed as exc:
        return await _form_page(request, location, values, field_errors(exc), 422)
    except Conflict as exc:
        return await _form_page(request, location, values, {"name": exc.message}, 409)
    flash(request, f"Location {location.name} saved.")
    return redirect(f"/locations/{location.id}")


async def _set_hidden(request: Request, hidden: bool) -> Response:
    actor = await require_actor(request)
    location_id = path_id(request)
    form = await request.form()
    location = await services_of(request).locations.profiles.set_location_hidden(actor, location_id, hidden)
    if hidden:
        flash(request, f"Location {location.name} hidden: new IP profiles can no longer choose it. Its profiles "
                       "keep working.")
    else:
        flash(request, f"Location {location.name} is visible again.")
    return redirect(safe_next(form.get("next"), f"/locations/{location_id}"))


async def hide_location(request: Request) -> Response:
    return await _set_hidden(request, True)


async def unhide_location(request: Request) -> Response:
    return await _set_hidden(request, False)


# -- "Where am I?" -----------------------------------------------------------------------------------------


async def where_am_i(request: Request) -> Response:
    """This browser's address through the trusted proxies, and the profiles, rules and rooms it falls into;
    ``?address=`` checks another address (planning rooms)."""
    actor = await require_actor(request)
    require_location_read(actor)
    services = services_of(request)
    policy = services.settings.proxy_policy
    peer = request.scope.get("client")
    raw_peer = peer[0] if peer else None
    resolved = net.resolve(raw_peer, request.scope["headers"], policy)
    errors: dict[str, str] = {}
    own_hits = None
    if resolved.client is not None:
        own_hits = await services.locations.preview.check_address(actor, resolved.client)
    other = request.query_params.get("address", "").strip()
    other_hits = None
    if other:
        try:
            other_hits = await services.locations.preview.check_address(actor, other)
        except ValidationFailed as exc:
            errors = field_errors(exc)
    return await render(request, "locations/where_am_i.html", {
        "title": "Where Am I?",
        "raw_peer": raw_peer,
        "resolved": resolved,
        "policy": policy,
        "own_hits": own_hits,
        "other": other,
        "other_hits": other_hits,
        "errors": errors,
    }, status_code=422 if errors else 200)


routes = [
    Route("/locations", list_locations),
    Route("/locations/new", create_location, methods=["GET", "POST"]),
    Route("/locations/where-am-i", where_am_i),
    Route("/locations/{id:int}", view_location),
    Route("/locations/{id:int}/edit", edit_location, methods=["GET", "POST"]),
    Route("/locations/{id:int}/hide", hide_location, methods=["POST"]),
    Route("/locations/{id:int}/unhide", unhide_location, methods=["POST"]),
]
