"""The user activity log: who changed what and when, filtered by user, activity, entity and time."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sebframe.core.accounts.activity import Activity
from sebframe.core.accounts.activity_log import ACTIVITY_FILTERS
from sebframe.core.accounts.actor import Scope
from sebframe.core.accounts.roles import EntityType, Privilege
from sebframe.core.errors import PermissionDenied, ValidationFailed
from sebframe.core.paging import ListParams, Page
from sebframe.web.pages import render, require_actor, services_of
from sebframe.web.templating import user_zone
from sebframe.web.views.common import field_errors, list_params

ACTIVITY_OPTIONS = [(activity.value, activity.value.replace("_", " ").title()) for activity in Activity]
ENTITY_TYPE_OPTIONS = [(entity.value, entity.value.replace("_", " ").title()) for entity in EntityType]



def to_utc_filter(value: str, zone: ZoneInfo, *, end: bool) -> str:
    """A date or date-time typed in the user's zone as an aware ISO time for the service.

    A bare date means the whole day: from its start, or (``end``) up to its last microsecond.
    """
    try:
        if "T" in value or " " in value.strip():
            moment = datetime.fromisoformat(value)
            if end and moment.second == 0 and moment.microsecond == 0 and len(value.strip()) <= 16:
                moment += timedelta(minutes=1, microseconds=-1)  # "to 14:30" includes 14:30:59
        else:
            day = date.fromisoformat(value)
            moment = datetime.combine(day, time.max if end else time.min)
    except ValueError:
        raise ValidationFailed({"to" if end else "from": "use a date like 2026-11-22 or 2026-11-22T14:30"}) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.isoformat()


async def activity_log(request: Request) -> Response:
    actor = await require_actor(request)
    scope = actor.scope(Privilege.READ, EntityType.USER_ACTIVITY_LOG)
    if scope == Scope.NONE:
        raise PermissionDenied("you may not read the user activity log")
    params, errors = list_params(request, ACTIVITY_FILTERS)
    if params.sort is None:
        params = dataclasses.replace(params, sort="at", descending=True)
    zone = user_zone(actor.timezone)
    filters = dict(params.filters)
    page: Page[object] = Page(items=[], total=0, page=params.page, size=params.size)
    status = 200
    try:
        for name in ("from", "to"):
            if name in filters:
                filters[name] = to_utc_filter(filters[name], zone, end=name == "to")
        query = ListParams(page=params.page, size=params.size, sort=params.sort, descending=params.descending,
                           filters=filters)
        page = await services_of(request).activity_log.list(actor, query)  # type: ignore[assignment]
    except ValidationFailed as exc:
        errors.update(field_errors(exc))
        status = 422
    institutions = []
    if scope == Scope.OVERALL:
        choices = await services_of(request).institutions.choices(actor, active_only=False)
        institutions = [(institution.id, institution.name) for institution in choices]
    return await render(request, "activity/list.html", {
        "title": "User Activity Logs",
        "params": params,
        "page": page,
        "errors": errors,
        "institution_options": institutions,
        "institution_names": dict(institutions),
        "activity_options": ACTIVITY_OPTIONS,
        "entity_type_options": ENTITY_TYPE_OPTIONS,
    }, status_code=status)


routes = [Route("/activity", activity_log)]
