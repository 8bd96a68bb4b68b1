"""Reading the user activity log, scoped like every other query."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from sqlalchemy import select

from sebframe.core.accounts.actor import Actor, Scope
from sebframe.core.accounts.roles import EntityType, Privilege
from sebframe.core.db import Database
from sebframe.core.db.models import ActivityLogEntry
from sebframe.core.errors import PermissionDenied, ValidationFailed
from sebframe.core.paging import ListParams, Page, contains, fetch_page

ACTIVITY_FILTERS = ("institution_id", "username", "activity", "entity_type", "entity_name", "from", "to")
_SORTABLE = {
    "at": ActivityLogEntry.at,
    "username": ActivityLogEntry.username,
    "activity": ActivityLogEntry.activity,
    "entity_type": ActivityLogEntry.entity_type,
}


class ActivityLogService:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def list(self, actor: Actor, params: ListParams) -> Page[ActivityLogEntry]:
        scope = actor.scope(Privilege.READ, EntityType.USER_ACTIVITY_LOG)
        if scope == Scope.NONE:
            raise PermissionDenied("you may not read the user activity log")
        statement = select(ActivityLogEntry)
        if scope != Scope.OVERALL:
            statement = statement.where(ActivityLogEntry.institution_id == actor.institution_id)
        filters = params.filters
        if "institution_id" in filters:
            statement = statement.where(ActivityLogEntry.institution_id == _as_int(filters, "institution_id"))
        if "username" in filters:
            statement = statement.where(contains(ActivityLogEntry.username, filters["username"]))
        if "entity_name" in filters:
            statement = statement.where(contains(ActivityLogEntry.entity_name, filters["entity_name"]))
        for name in ("activity", "entity_type"):
            if name in filters:
                statement = statement.where(getattr(ActivityLogEntry, name) == filters[name])
        if "from" in filters:
            statement = statement.where(ActivityLogEntry.at >= _as_datetime(filters, "from"))
        if "to" in filters:
            statement = statement.where(ActivityLogEntry.at <= _as_datetime(filters, "to"))
        async with self.db.read() as session:
            return await fetch_page(
                session, statement, params, _SORTABLE, [ActivityLogEntry.at.desc(), ActivityLogEntry.id.desc()]
            )


def _as_int(filters: Mapping[str, str], name: str) -> int:
    try:
        return int(filters[name])
    except ValueError:
        raise ValidationFailed({name: "must be a number"}) from None


def _as_datetime(filters: Mapping[str, str], name: str) -> datetime:
    try:
        value = datetime.fromisoformat(filters[name])
    except ValueError:
        raise ValidationFailed({name: "use an ISO date like 2026-11-22 or 2026-11-22T14:30"}) from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value
