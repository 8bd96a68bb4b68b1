"""The exam domain's one question about live SEB connections: how many are active in an exam?

SEB client connections do not exist yet (the session domain is the next piece of work), so the counter
answers 0 and the checks that depend on it (no publishing while a running exam has active connections,
no manual restriction change then) never refuse. The session domain replaces ``counter``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

ActiveConnectionCounter = Callable[[AsyncSession, int], Awaitable[int]]


async def no_connections_yet(session: AsyncSession, exam_id: int) -> int:
    """Placeholder until SEB client connections exist: no exam has active connections."""
    return 0


class ActiveConnections:
    def __init__(self, counter: ActiveConnectionCounter = no_connections_yet) -> None:
        self.counter = counter

    async def count(self, session: AsyncSession, exam_id: int) -> int:
        return await self.counter(session, exam_id)
