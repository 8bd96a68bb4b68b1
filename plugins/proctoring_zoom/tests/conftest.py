"""Fixtures: the fake Zoom, and Zoom services for an exam against it, with pauses recorded instead of slept."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sebframe_proctoring_zoom.client import forget_tokens
from sebframe_proctoring_zoom.service import ZoomService
from sebframe_proctoring_zoom.settings import ZoomSettings

from sebframe import create_http_client
from sebframe.testing.fakes.zoom import FakeZoom
from sebframe.types import IntegrationContext, Participant

SDK_ID, SDK_SECRET = "sdk-client-id", "sdk-client-secret-0123456789abcdef"


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with create_http_client() as client:
        yield client


@pytest.fixture
def zoom() -> Iterator[FakeZoom]:
    forget_tokens()  # tokens are cached per process: every test starts without one
    with FakeZoom() as server:
        yield server
    forget_tokens()


def zoom_settings(zoom: FakeZoom, **changes: Any) -> dict[str, Any]:
    return {"api_url": zoom.api_url, "account_id": zoom.account_id, "client_id": zoom.client_id,
            "client_secret": zoom.client_secret, "sdk_client_id": SDK_ID, "sdk_client_secret": SDK_SECRET,
            "hosting": "licensed_user", "host_user": zoom.owner.email} | changes


def service_for(http: httpx.AsyncClient, zoom: FakeZoom, pauses: list[float] | None = None,
                **changes: Any) -> ZoomService:
    service = ZoomService(IntegrationContext(instance_id=7, institution_id=1, url=zoom.url,
                                             settings=ZoomSettings.model_validate(zoom_settings(zoom, **changes)),
                                             http=http))
    recorded = pauses if pauses is not None else []

    async def pause(seconds: float) -> None:
        recorded.append(seconds)

    service.client._sleep = pause
    return service


def ends(hours: float = 3) -> datetime:
    return datetime.now(UTC) + timedelta(hours=hours)


def participant(name: str, *, moderator: bool, expires_at: datetime | None = None) -> Participant:
    return Participant(display_name=name, moderator=moderator, expires_at=expires_at or ends(4), user_id=name)
