"""Shared set-up of the proctoring tests (core, Exam API, admin API, web UI): services with the Jitsi plugin, a
fake meeting server, settings saved for the demo exam, and one supervision round as the supervising process
runs it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import sebframe_proctoring_jitsi.plugin
from sqlalchemy import select

from sebframe.core.accounts.actor import Actor
from sebframe.core.accounts.auth import actor_of
from sebframe.core.db.models import UserAccount
from sebframe.core.services import Services
from sebframe.settings import Settings
from sebframe.testing.fakes.jitsi import FakeJitsi, JitsiTokenChecker
from tests.exam_helpers import exam_services

APP_SECRET = "a-long-app-secret-of-the-test-jitsi-0123456789"


@pytest.fixture
async def services(settings: Settings) -> AsyncIterator[Services]:
    async with exam_services(settings, sebframe_proctoring_jitsi.plugin) as proctoring_services:
        yield proctoring_services


@pytest.fixture
def jitsi() -> Iterator[FakeJitsi]:
    with FakeJitsi() as server:
        yield server


def checker(jitsi: FakeJitsi) -> JitsiTokenChecker:
    return JitsiTokenChecker(domain="127.0.0.1", secret=APP_SECRET, issuers=("sebframe",), audiences=("jitsi",))


def jitsi_settings(jitsi: FakeJitsi, **changes: Any) -> dict[str, Any]:
    return {"enabled": True, "service_type": "JITSI_MEET", "server_url": jitsi.url, "collecting_room_size": 20,
            "features": ["TOWN_HALL", "ONE_TO_ONE", "BROADCAST", "ENABLE_CHAT"],
            "settings": {"app_id": "sebframe", "app_secret": APP_SECRET}} | changes


async def user(services: Services, username: str) -> Actor:
    async with services.db.read() as session:
        account = (await session.execute(select(UserAccount).where(UserAccount.username == username))).scalar_one()
    return actor_of(account)


async def supervise(services: Services) -> None:
    """One round of the supervising process: pings and confirmations written, then the supervision jobs."""
    runtime = services.sessions.runtime
    await runtime.flush()
    await runtime.supervisor.run(runtime)
