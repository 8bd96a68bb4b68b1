"""Helpers for tests that use the real LMS plugins: services with the installed plugins, a web client on them."""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import ModuleType
from typing import Any

import httpx

from sebframe.app import create_app
from sebframe.core.lms.lookup import QuizLookupService
from sebframe.core.services import Services
from sebframe.settings import Settings
from sebframe.testing import registry_with

LMS_PLUGIN_MODULES = ("sebframe_lms_openedx.plugin", "sebframe_lms_moodle.plugin")


def installed_lms_plugins() -> list[ModuleType]:
    """The LMS plugins of this repository (each its own distribution; ``make install`` installs them all, and a
    missing one is an ImportError here, never a silently smaller test)."""
    return [importlib.import_module(name) for name in LMS_PLUGIN_MODULES]


@asynccontextmanager
async def lms_services(settings: Settings, *, lookup_timeout: float = 0.5,
                       extra_plugins: tuple[Any, ...] = ()) -> AsyncIterator[Services]:
    """Services with the built-ins, the installed LMS plugins and ``extra_plugins``; a short lookup deadline.

    Use it next to the ``services`` fixture, which empties the tables after the test.
    """
    own = Services.create(settings, registry_with(*installed_lms_plugins(), *extra_plugins))
    own.quiz_lookup = QuizLookupService(own.db, own.lms_setups, timeout_seconds=lookup_timeout)
    try:
        yield own
    finally:
        await own.close()


@asynccontextmanager
async def web_client(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(services=services), client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http
