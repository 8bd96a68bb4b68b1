"""Admission checks (the plugin hook network restriction builds on) refuse a SEB client at the handshake steps
that bind an exam: 403 with the reason, and no exam configuration, no state change."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import select

from sebframe import hookimpl
from sebframe.core.db.models import ClientConnection
from sebframe.core.services import Services
from sebframe.types import AdmissionCheck, AdmissionDecision, AdmissionRequest
from tests.seb_client import SebClient, SebWorld

pytestmark = pytest.mark.anyio


class DenyStep:
    """A plugin refusing one handshake step; records every request it saw."""

    def __init__(self, step: str) -> None:
        self.step = step
        self.seen: list[AdmissionRequest] = []

    @hookimpl
    def sebframe_admission_checks(self) -> Iterator[AdmissionCheck]:
        async def check(request: AdmissionRequest) -> AdmissionDecision:
            self.seen.append(request)
            if request.step == self.step:
                return AdmissionDecision.deny("Only from the testing center", code="location_not_allowed")
            return AdmissionDecision.allow()

        yield AdmissionCheck(name="deny-step", check=check)


async def _status(services: Services, token: str) -> tuple[str, int | None]:
    async with services.db.read() as session:
        row = (await session.execute(select(ClientConnection)
                                     .where(ClientConnection.connection_token == token))).scalar_one()
    return row.status, row.exam_id


@pytest.mark.parametrize("step", ["handshake-update", "exam-config", "handshake-establish"])
async def test_denied_step_answers_403_and_changes_nothing(client: httpx.AsyncClient, services: Services,
                                                           seb_world: SebWorld, step: str) -> None:
    plugin = DenyStep(step)
    services.plugins.pm.register(plugin, name=f"deny-{step}")
    seb = SebClient(client, seb_world)
    assert (await seb.fetch_token()).status_code == 200
    assert (await seb.create()).status_code == 200
    if step == "handshake-establish":
        assert (await seb.select_exam(seb_world.exam_id)).status_code == 200
        before = await _status(services, seb.connection_token or "")
        response = await seb.establish()
    elif step == "exam-config":
        assert (await seb.select_exam(seb_world.exam_id)).status_code == 200
        before = await _status(services, seb.connection_token or "")
        response = await seb.exam_config()
    else:
        before = await _status(services, seb.connection_token or "")
        response = await seb.select_exam(seb_world.exam_id)
    assert response.status_code == 403
    assert response.json() == {"error": "location_not_allowed", "message": "Only from the testing center"}
    assert b"<?xml" not in response.content
    assert await _status(services, seb.connection_token or "") == before
    assert {request.step for request in plugin.seen} >= {step}
    assert all(request.client_address == "127.0.0.1" for request in plugin.seen)


async def test_allowed_client_passes_every_step(client: httpx.AsyncClient, services: Services,
                                                seb_world: SebWorld) -> None:
    plugin = DenyStep("never")
    services.plugins.pm.register(plugin, name="allow-all")
    seb = SebClient(client, seb_world)
    await seb.connect(user="alice")
    # the Windows client: POST (no exam: no check), examconfig?examId (binds like PATCH), PATCH, PUT, PATCH user
    assert [request.step for request in plugin.seen] == [
        "handshake-update", "exam-config", "handshake-update", "handshake-establish", "handshake-update"]
    assert plugin.seen[-1].user_session_id == "alice"
