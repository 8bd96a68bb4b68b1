"""Deleting an exam that SEB clients used: the report names its client connections, and they go with it."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func, select

from sebframe.core.accounts.auth import actor_of
from sebframe.core.bootstrap import demo_accounts
from sebframe.core.db.models import ClientConnection, ClientEvent
from sebframe.core.services import Services
from tests.seb_client import SebClient, SebWorld

pytestmark = pytest.mark.anyio


async def test_the_report_lists_client_connections_and_they_are_deleted(
        client: httpx.AsyncClient, services: Services, seb_world: SebWorld) -> None:
    for user in ("alice", "bob"):
        seb = SebClient(client, seb_world, name=user)
        await seb.connect(user=user)
        logged = await seb.log({"type": "ERROR_LOG", "timestamp": 1700000000000, "text": "lost wifi"})
        assert logged.status_code in (200, 204)
    await services.sessions.runtime.flush()
    exam_admin = actor_of((await demo_accounts(services.db)).exam_admin)

    report = await services.exams.deletion_report(exam_admin, seb_world.exam_id)
    assert report.other == [("SEB client connections with their logs", ["alice", "bob"])]

    assert await _counts(services) == (2, 2)
    await services.exams.delete(exam_admin, seb_world.exam_id)
    assert await _counts(services) == (0, 0)


async def _counts(services: Services) -> tuple[int, int]:
    async with services.db.read() as session:
        return tuple([(await session.execute(select(func.count()).select_from(table))).scalar_one()  # type: ignore[return-value]
                      for table in (ClientConnection, ClientEvent)])
