"""Fixtures: a fake Open edX on 127.0.0.1 per test, and adapters/restriction APIs pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest
from sebframe_lms_openedx.adapter import OpenEdxAdapter
from sebframe_lms_openedx.restriction import OpenEdxRestrictionApi
from sebframe_lms_openedx.settings import OpenEdxSettings

from sebframe import create_http_client
from sebframe.testing.fakes.openedx import FakeOpenEdx
from sebframe.types import IntegrationContext, QuizData

# Quick retries: tests must not wait for real back-off.
FAST = {"retry_wait": 0.01, "max_retry_wait": 0.05}


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def fake() -> Iterator[FakeOpenEdx]:
    with FakeOpenEdx() as server:
        yield server


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with create_http_client(timeout=httpx.Timeout(5.0, connect=2.0)) as client:
        yield client


def make_context(url: str, http: httpx.AsyncClient, client_id: str = "sebframe-client",
                 client_secret: str = "sebframe-secret") -> IntegrationContext:
    settings = OpenEdxSettings.model_validate({"client_id": client_id, "client_secret": client_secret})
    return IntegrationContext(instance_id=1, institution_id=1, url=url, settings=settings, http=http)


@pytest.fixture
def adapter_for(http: httpx.AsyncClient) -> Callable[..., OpenEdxAdapter]:
    def build(server: FakeOpenEdx | str, *, client_id: str | None = None, client_secret: str | None = None,
              client: httpx.AsyncClient | None = None, **options: Any) -> OpenEdxAdapter:
        url = server if isinstance(server, str) else server.url
        context = make_context(
            url, client or http,
            client_id or (server.client_id if isinstance(server, FakeOpenEdx) else "sebframe-client"),
            client_secret or (server.client_secret if isinstance(server, FakeOpenEdx) else "sebframe-secret"),
        )
        return OpenEdxAdapter(context, **{**FAST, **options})

    return build


@pytest.fixture
def restriction_for(http: httpx.AsyncClient) -> Callable[..., OpenEdxRestrictionApi]:
    def build(server: FakeOpenEdx, **options: Any) -> OpenEdxRestrictionApi:
        return OpenEdxRestrictionApi(make_context(server.url, http, server.client_id, server.client_secret),
                                     **{**FAST, **options})

    return build


@pytest.fixture
def adapter(fake: FakeOpenEdx, adapter_for: Callable[..., OpenEdxAdapter]) -> OpenEdxAdapter:
    return adapter_for(fake)


@pytest.fixture
def broken_adapter(fake: FakeOpenEdx, adapter_for: Callable[..., OpenEdxAdapter]) -> OpenEdxAdapter:
    return adapter_for(fake, client_secret="not-the-secret")


@pytest.fixture
def known_quiz(fake: FakeOpenEdx) -> QuizData:
    return QuizData(id="course-v1:ETH+SEB101+2026_T1", name="Safe Exam Browser Final Exam", start_time=None,
                    end_time=None, start_url=f"{fake.url}/courses/course-v1:ETH+SEB101+2026_T1")


@pytest.fixture
def known_user_session_id() -> str:
    return "jdoe"


@pytest.fixture
def known_user_name() -> str:
    return "Jane Doe (jdoe)"


@pytest.fixture
def restriction_api(fake: FakeOpenEdx, restriction_for: Callable[..., OpenEdxRestrictionApi]) -> OpenEdxRestrictionApi:
    return restriction_for(fake)


@pytest.fixture
def restricted_quiz(known_quiz: QuizData) -> QuizData:
    return known_quiz
