"""Fixtures for the admin API tests."""

from __future__ import annotations

import httpx
import pytest

from sebframe.core.accounts.roles import Role
from tests.api.admin.helpers import ROLE_USERS, World
from tests.conftest import Factory


@pytest.fixture
async def api_world(factory: Factory, client: httpx.AsyncClient) -> World:
    """Admin API world: institutions A (ETH) and B (UZH), one user per role in A and an admin in B, each with a
    bearer token (``World.api``)."""
    a = await factory.institution("ETH Zurich", url_suffix="eth")
    b = await factory.institution("University of Zurich", url_suffix="uzh")
    world = World(factory, client, a, b)
    for role, username in ROLE_USERS.items():
        await world.user(a, username, role)
    await world.user(b, "b-admin", Role.INSTITUTIONAL_ADMIN)
    return world
