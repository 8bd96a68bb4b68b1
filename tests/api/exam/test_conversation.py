"""The real Windows client's conversation, step by step, with the states it leaves behind."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func, select

from sebframe.core.db.models import ClientConnection, ClientEvent
from sebframe.core.services import Services
from tests.seb_client import SebClient, SebWorld

pytestmark = pytest.mark.anyio


async def _connection(services: Services, token: str) -> ClientConnection:
    async with services.db.read() as session:
        return (await session.execute(
            select(ClientConnection).where(ClientConnection.connection_token == token))).scalar_one()


async def test_discovery_lists_the_five_endpoints(client: httpx.AsyncClient, seb_world: SebWorld) -> None:
    document = await SebClient(client, seb_world).discovery()
    [v1] = [version for version in document["api-versions"] if version["name"] == "v1"]
    assert {endpoint["name"]: endpoint["location"] for endpoint in v1["endpoints"]} == {
        "access-token-endpoint": "/oauth/token",
        "seb-handshake-endpoint": "/exam-api/v1/handshake",
        "seb-configuration-endpoint": "/exam-api/v1/examconfig",
        "seb-ping-endpoint": "/exam-api/v1/sebping",
        "seb-log-endpoint": "/exam-api/v1/seblog",
    }
    assert document["server-location"] == "http://testserver"


async def test_windows_client_conversation(client: httpx.AsyncClient, services: Services, seb_world: SebWorld) -> None:
    seb = SebClient(client, seb_world, name="alice-pc")
    token_response = await seb.fetch_token()
    assert token_response.status_code == 200
    assert token_response.headers["content-type"].startswith("application/json")
    assert token_response.json()["token_type"] == "bearer" and token_response.json()["expires_in"] > 40000

    created = await seb.create()
    assert created.status_code == 200
    assert created.json() == [{"examId": str(seb_world.exam_id), "name": "Demo Quiz 1 (MOCKUP)",
                               "url": created.json()[0]["url"], "lmsType": "TESTING"}]
    row = await _connection(services, seb.connection_token or "")
    assert (row.status, row.seb_os_name, row.seb_version, row.user_session_id) == (
        "CONNECTION_REQUESTED", "Windows 10, Microsoft Windows NT 10.0.19045.0 (x64)", "3.8.0 (x64)", "alice-pc")

    config = await seb.exam_config(seb_world.exam_id)
    assert config.status_code == 200 and config.content.startswith(b'<?xml version="1.0"')

    selected = await seb.select_exam(seb_world.exam_id)
    assert selected.status_code == 200 and len(selected.headers["SEBExamSalt"]) == 16
    assert (await seb.establish()).status_code == 200
    assert (await _connection(services, seb.connection_token or "")).status == "READY"

    assert (await seb.ping()).status_code == 204
    logged = await seb.log({"type": "INFO_LOG", "timestamp": 1700000000000, "text": "Started sending pings."})
    assert logged.status_code == 204
    assert (await seb.select_exam(seb_world.exam_id, "alice")).status_code == 200
    row = await _connection(services, seb.connection_token or "")
    assert (row.status, row.user_session_id, row.lms_user_session_id) == ("ACTIVE", row.user_session_id, "alice")

    assert (await seb.close()).status_code == 200
    assert (await _connection(services, seb.connection_token or "")).status == "CLOSED"
    async with services.db.read() as session:
        events = (await session.execute(select(func.count()).select_from(ClientEvent))).scalar_one()
    assert events == 1


async def test_lms_user_name_replaces_the_placeholder(client: httpx.AsyncClient, services: Services,
                                                      seb_world: SebWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    from sebframe.types import ExamineeAccount

    calls: list[str] = []

    class Lms:
        async def get_examinee(self, user_session_id: str) -> ExamineeAccount:
            calls.append(user_session_id)
            return ExamineeAccount(id=user_session_id, name="Alice Example")

    monkeypatch.setattr(services.lms_setups, "adapter", lambda setup: Lms())
    seb = SebClient(client, seb_world, name="alice-pc")
    await seb.connect(user="u-17")
    assert (await seb.select_exam(seb_world.exam_id, "u-17")).status_code == 200  # the client repeats it
    row = await _connection(services, seb.connection_token or "")
    assert (row.user_session_id, row.lms_user_session_id, row.status) == ("Alice Example (u-17)", "u-17", "ACTIVE")
    assert calls == ["u-17"]  # cached
