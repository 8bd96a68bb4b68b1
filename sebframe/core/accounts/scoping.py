"""Tenant scoping for entities that belong to an institution: the one place list queries and loads check it."""

from __future__ import annotations

from typing import Any, Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from sebframe.core.accounts.actor import Actor, Scope
from sebframe.core.accounts.roles import EntityType, Privilege
from sebframe.core.db import is_valid_id
from sebframe.core.errors import NotFound, PermissionDenied
from sebframe.core.paging import AnySelect


class InstitutionOwned(Protocol):
    institution_id: Any


RowT = TypeVar("RowT", bound=InstitutionOwned)
StatementT = TypeVar("StatementT", bound=AnySelect)


def scoped_to_institution(
    statement: StatementT, actor: Actor, entity_type: EntityType, column: InstrumentedAttribute[int], what: str
) -> StatementT:
    """Limit a list query to what the actor may read: everything, or its own institution's rows."""
    scope = actor.scope(Privilege.READ, entity_type)
    if scope == Scope.NONE:
        raise PermissionDenied(f"you may not see {what}")
    if scope != Scope.OVERALL:
        statement = statement.where(column == actor.institution_id)
    return statement


async def load_visible(
    session: AsyncSession, actor: Actor, model: type[RowT], entity_id: int, entity_type: EntityType, what: str
) -> RowT:
    """The row, if the actor may read it; otherwise NotFound, so other tenants' ids reveal nothing."""
    row = await session.get(model, entity_id) if is_valid_id(entity_id) else None
    if row is None or not actor.may(Privilege.READ, entity_type, institution_id=row.institution_id):
        raise NotFound(f"{what} {entity_id} not found")
    return row
