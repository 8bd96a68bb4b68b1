"""What deleting a user account takes with it.

Each domain that owns entities on behalf of a user (exams, exam configurations, ...) offers a
``UserDependencies`` provider; ``Services.create`` hands them all to the user service, which asks them for
the deletion report and calls them to delete. The three delete options of SEB Server select which
providers take part.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from sebframe.core.db.models import ApiToken


class DeleteOption(StrEnum):
    ACCOUNT_ONLY = "ACCOUNT_ONLY"  # owned entities stay, without owner
    WITH_EXAMS = "WITH_EXAMS"  # exams (and their indicators, monitoring data) go, exam configurations stay
    WITH_ALL = "WITH_ALL"  # exams and exam configurations go


@dataclass(frozen=True, slots=True)
class Dependent:
    entity_type: str
    entity_id: str
    name: str


@dataclass(frozen=True, slots=True)
class UserDependencies:
    """One kind of owned entity: how to list them and how to delete them for a user."""

    label: str
    options: frozenset[DeleteOption]  # the options that delete these entities
    find: Callable[[AsyncSession, int], Awaitable[list[Dependent]]]
    delete: Callable[[AsyncSession, int], Awaitable[None]]


async def _find_tokens(session: AsyncSession, user_id: int) -> list[Dependent]:
    rows = await session.execute(select(ApiToken.id, ApiToken.name).where(ApiToken.user_id == user_id))
    return [Dependent("API_TOKEN", str(row.id), row.name) for row in rows]


async def _delete_tokens(session: AsyncSession, user_id: int) -> None:
    await session.execute(delete(ApiToken).where(ApiToken.user_id == user_id))


# The account's own admin API tokens go with it under every option.
API_TOKENS = UserDependencies("API tokens", frozenset(DeleteOption), _find_tokens, _delete_tokens)
