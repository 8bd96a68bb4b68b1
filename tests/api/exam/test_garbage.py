"""Garbage on every Exam-API endpoint: never a 500 where the reference says otherwise, never a changed state."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func, select

from sebframe.core.db.models import ClientConnection, ClientEvent
from sebframe.core.services import Services
from tests.seb_client import SebClient, SebWorld

pytestmark = pytest.mark.anyio

GARBAGE_BODIES = [
    b"",
    b"\x00\xff\xfe binary \x00",
    b"{not json",
    b"[1, 2, 3]",
    b'{"type": {"nested": true}, "timestamp": "soon", "numericValue": "NaN"}',
    b"%%%%&&&&====",
    "examId=\u00e9\u00e8&institutionId=\u2603".encode(),
    b"[" * 10_000,
]


async def _state(services: Services) -> tuple[list[tuple[str, str, int | None]], int]:
    async with services.db.read() as session:
        connections = [(row.connection_token, row.status, row.exam_id) for row in (await session.execute(
            select(ClientConnection).order_by(ClientConnection.id))).scalars()]
        events = (await session.execute(select(func.count()).select_from(ClientEvent))).scalar_one()
    return connections, events


async def test_garbage_bodies_and_headers(client: httpx.AsyncClient, services: Services, seb_world: SebWorld) -> None:
    seb = SebClient(client, seb_world)
    await seb.connect()
    before = await _state(services)
    endpoints = [("POST", "/exam-api/v1/handshake"), ("PATCH", "/exam-api/v1/handshake"),
                 ("PUT", "/exam-api/v1/handshake"), ("POST", "/exam-api/v1/sebping"),
                 ("POST", "/exam-api/v1/seblog"), ("POST", "/oauth/token")]
    for method, path in endpoints:
        for body in GARBAGE_BODIES:
            for content_type in ("application/x-www-form-urlencoded", "application/json", "image/png"):
                headers = {"Authorization": f"Bearer {seb.access_token}",
                           "SEBConnectionToken": "garbage\u00e9".encode(), "Content-Type": content_type}
                response = await client.request(method, path, content=body, headers=headers)
                assert response.status_code < 500, (method, path, body[:20], response.text)
    config = await client.get("/exam-api/v1/examconfig?examId=%00%ff",
                              headers={"Authorization": f"Bearer {seb.access_token}", "SEBConnectionToken": "x"})
    assert config.status_code == 500  # SEB Server's answer to every failure of this endpoint
    assert isinstance(config.json(), list)
    assert await _state(services) == before


async def test_huge_bodies_are_refused(client: httpx.AsyncClient, services: Services, seb_world: SebWorld) -> None:
    seb = SebClient(client, seb_world)
    await seb.connect()
    before = await _state(services)
    huge = b'{"type":"INFO_LOG","text":"' + b"x" * (1024 * 1024) + b'"}'
    response = await client.post("/exam-api/v1/seblog", content=huge, headers={
        "Authorization": f"Bearer {seb.access_token}", "SEBConnectionToken": seb.connection_token or "",
        "Content-Type": "application/json"})
    assert response.status_code == 413
    assert await _state(services) == before


async def test_long_text_is_cut_and_nul_removed(client: httpx.AsyncClient, services: Services,
                                                seb_world: SebWorld) -> None:
    seb = SebClient(client, seb_world)
    await seb.connect()
    assert (await seb.log({"type": "ERROR_LOG", "timestamp": 5, "text": "a\x00" + "b" * 2000,
                           "numericValue": 1e300})).status_code == 204
    assert (await seb.log({"type": 4, "text": None, "numericValue": 87})).status_code == 204  # ordinal 4: ERROR_LOG
    async with services.db.read() as session:
        rows = (await session.execute(select(ClientEvent).order_by(ClientEvent.id))).scalars().all()
    assert [(row.event_type, len(row.text), row.numeric_value) for row in rows] == [
        ("ERROR_LOG", 512, None), ("ERROR_LOG", 0, 87.0)]
    assert rows[0].text.startswith("ab")


async def test_unknown_paths_and_methods(client: httpx.AsyncClient) -> None:
    assert (await client.get("/exam-api/v2/handshake")).status_code == 404
    assert (await client.get("/exam-api/v1/sebping")).status_code == 405
    assert (await client.post("/bench/bare")).status_code != 204  # only with SEBFRAME_BENCH_ENDPOINT
