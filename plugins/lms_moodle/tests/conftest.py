"""Fixtures: fake Moodles on 127.0.0.1, and adapters / restriction APIs built through the plugin's descriptors."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest
from sebframe_lms_moodle import plugin
from sebframe_lms_moodle.client import forget_tokens

from sebframe import create_http_client
from sebframe.testing import registry_with
from sebframe.testing.fakes.moodle import FakeMoodle
from sebframe.types import IntegrationContext, LmsAdapter, LmsType, RestrictionApi


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(autouse=True)
def _no_cached_tokens() -> Iterator[None]:
    forget_tokens()
    yield
    forget_tokens()


@pytest.fixture(scope="module")
def shared_moodle() -> Iterator[FakeMoodle]:
    """One fake per test module, for tests that only read."""
    with FakeMoodle() as server:
        yield server


@pytest.fixture
def moodle() -> Iterator[FakeMoodle]:
    """A fresh fake per test, for tests that change state or switch failures on."""
    with FakeMoodle() as server:
        yield server


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with create_http_client(timeout=httpx.Timeout(5.0, connect=2.0)) as client:
        yield client


@pytest.fixture(scope="session")
def lms_types() -> dict[str, LmsType]:
    return registry_with(plugin).lms_types()



@pytest.fixture
def context_for(http: httpx.AsyncClient, lms_types: dict[str, LmsType]) -> Callable[..., IntegrationContext]:
    """``context_for(server_or_url, **settings)``: settings validated by the plugin's model, like the core does."""

    def build(server: FakeMoodle | str, *, client: httpx.AsyncClient | None = None,
              **settings: Any) -> IntegrationContext:
        url = server if isinstance(server, str) else server.url
        values = settings or ({"username": server.username, "password": server.password}
                              if isinstance(server, FakeMoodle) else {})
        model = lms_types["MOODLE_PLUGIN"].settings_model.model_validate(values)
        return IntegrationContext(instance_id=1, institution_id=1, url=url, settings=model, http=client or http)

    return build


@pytest.fixture
def adapter_for(context_for: Callable[..., IntegrationContext],
                lms_types: dict[str, LmsType]) -> Callable[..., LmsAdapter]:
    """``adapter_for(server, lms_type="MOODLE_PLUGIN", **settings)``."""

    def build(server: FakeMoodle | str, lms_type: str = "MOODLE_PLUGIN", **settings: Any) -> LmsAdapter:
        return lms_types[lms_type].create_adapter(context_for(server, **settings))

    return build


@pytest.fixture
def restriction_for(context_for: Callable[..., IntegrationContext]) -> Callable[..., RestrictionApi]:
    restriction_types = registry_with(plugin).restriction_types()

    def build(server: FakeMoodle | str, **settings: Any) -> RestrictionApi:
        return restriction_types["MOODLE_PLUGIN"].create_api(context_for(server, **settings))

    return build


