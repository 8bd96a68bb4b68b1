"""Issue #3's promise kept by real SEB connections: no publishing while the configuration's running exam has
active connections, with a message that names them; once they closed, publishing works again."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from sebframe.core.accounts.auth import actor_of
from sebframe.core.db.models import ExamConfigurationMapping, UserAccount
from sebframe.core.errors import Conflict
from sebframe.core.services import Services
from tests.seb_client import SebClient, SebWorld

pytestmark = pytest.mark.anyio


async def test_publishing_waits_for_the_connections_to_end(client: httpx.AsyncClient, services: Services,
                                                          seb_world: SebWorld) -> None:
    async with services.db.read() as session:
        admin = actor_of((await session.execute(
            select(UserAccount).where(UserAccount.username == "demo-exam-admin"))).scalar_one())
        configuration_id = (await session.get(ExamConfigurationMapping, seb_world.exam_id)).configuration_id
    alice, bob = SebClient(client, seb_world, name="alice"), SebClient(client, seb_world, name="bob")
    await alice.connect()
    await bob.connect()
    await services.exam_configs.working_copy.set_value(admin, configuration_id, "allowQuit", "false")
    with pytest.raises(Conflict, match="Demo Quiz 1 .* running with 2 active SEB connection"):
        await services.exam_configs.revisions.publish(admin, configuration_id)
    assert (await alice.close()).status_code == 200
    assert (await bob.close()).status_code == 200
    revision = await services.exam_configs.revisions.publish(admin, configuration_id)
    assert revision.number == 1
