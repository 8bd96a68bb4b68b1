"""The user activity log: every service records its changes here, inside the same transaction."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from sebframe.core.accounts.actor import Actor
from sebframe.core.accounts.roles import EntityType
from sebframe.core.db.models import ActivityLogEntry


class Activity(StrEnum):
    CREATE = "CREATE"
    MODIFY = "MODIFY"
    ACTIVATE = "ACTIVATE"
    DEACTIVATE = "DEACTIVATE"
    DELETE = "DELETE"
    PASSWORD_CHANGE = "PASSWORD_CHANGE"
    IMPORT = "IMPORT"
    EXPORT = "EXPORT"
    LOGIN = "LOGIN"
    LOGOUT = "LOGOUT"


def record_activity(
    session: AsyncSession,
    actor: Actor,
    activity: Activity,
    entity_type: EntityType,
    entity_id: int | str,
    entity_name: str = "",
    message: str = "",
    *,
    institution_id: int | None = None,
) -> None:
    """Add a log entry; ``institution_id`` is the entity's institution (defaults to the actor's)."""
    session.add(
        ActivityLogEntry(
            user_id=actor.user_id,
            username=actor.username,
            institution_id=actor.institution_id if institution_id is None else institution_id,
            activity=activity.value,
            entity_type=entity_type.value,
            entity_id=str(entity_id),
            entity_name=entity_name[:255],
            message=message,
        )
    )
