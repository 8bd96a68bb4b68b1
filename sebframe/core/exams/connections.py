"""The exam domain's one question about live SEB connections: how many are active in an exam?

Publishing an exam's configuration and changing its SEB restriction by hand are refused while the answer
is not 0. The connections themselves belong to the session domain (``sebframe.core.session``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from sebframe.core.db.models import ACTIVE_STATES, ClientConnection

ActiveConnectionCounter = Callable[[AsyncSession, int], Awaitable[int]]


async def count_active_connections(session: AsyncSession, exam_id: int) -> int:
    return (await session.execute(
        select(func.count()).select_from(ClientConnection)
        .where(ClientConnection.exam_id == exam_id, ClientConnection.status.in_(ACTIVE_STATES)))).scalar_one()


class ActiveConnections:
    def __init__(self, counter: ActiveConnectionCounter = count_active_connections) -> None:
        self.counter = counter  # tests replace it to simulate a running exam with clients

    async def count(self, session: AsyncSession, exam_id: int) -> int:
        return await self.counter(session, exam_id)
