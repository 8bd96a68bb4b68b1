"""The user activity log: who changed what, and when."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel
from starlette.requests import Request

from sebframe.api.admin.endpoints._common import Filter, ListQuery, out, services_of
from sebframe.api.admin.routing import ApiRouter
from sebframe.core.accounts.activity import Activity
from sebframe.core.accounts.actor import Actor
from sebframe.core.accounts.roles import EntityType
from sebframe.core.db.models import ActivityLogEntry

router = ApiRouter()


class ActivityOut(BaseModel):
    id: int
    at: datetime
    user_id: int | None
    username: str
    institution_id: int | None
    activity: str
    entity_type: str
    entity_id: str
    entity_name: str
    message: str

    @classmethod
    def of(cls, entry: ActivityLogEntry) -> ActivityOut:
        return cls(id=entry.id, at=entry.at, user_id=entry.user_id, username=entry.username,
                   institution_id=entry.institution_id, activity=entry.activity,
                   entity_type=entry.entity_type, entity_id=entry.entity_id, entity_name=entry.entity_name,
                   message=entry.message)

ACTIVITY_QUERY = ListQuery(
    filters=(
        Filter("institution_id", "integer"),
        Filter("username", description="part of the acting user's name"),
        Filter("activity", "choice", tuple(Activity)),
        Filter("entity_type", "choice", tuple(EntityType)),
        Filter("entity_name", description="part of the entity's name"),
        Filter("from", "datetime", description="entries at or after (ISO 8601; UTC unless an offset)"),
        Filter("to", "datetime", description="entries at or before"),
    ),
    sortable=("at", "username", "activity", "entity_type"),
    default_sort="-at",
)


@router.get("/activity-log", summary="User activity log entries you may see, newest first",
            tag="activity-log", response_model=ActivityOut, response_is_page=True,
            query=ACTIVITY_QUERY.query_params())
async def list_activity(request: Request, actor: Actor) -> dict[str, Any]:
    page = await services_of(request).activity_log.list(actor, ACTIVITY_QUERY.parse(request))
    return page.to_json([out(ActivityOut.of(entry)) for entry in page.items])
