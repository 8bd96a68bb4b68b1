"""A world for the exam domain tests: two institutions, one user per role, an active Testing LMS setup."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from sebframe.core.accounts.actor import Actor
from sebframe.core.accounts.roles import Role
from sebframe.core.db.models import Institution, LmsSetup
from sebframe.core.services import Services
from sebframe.settings import Settings
from tests.conftest import Factory
from tests.exam_helpers import add_testing_setup, exam_services


@dataclass
class World:
    services: Services
    factory: Factory
    eth: Institution
    uzh: Institution
    admin: Actor  # institutional administrator
    exam_admin: Actor
    supporter: Actor
    other_supporter: Actor
    root: Actor  # SEB Server administrator
    foreign: Actor  # exam administrator of UZH
    setup: LmsSetup


@pytest.fixture
async def exam_world(settings: Settings) -> AsyncIterator[World]:
    """Exam domain world: ETH and UZH, one actor per role (ETH) plus UZH's exam admin, an active Testing LMS setup,
    on its own services with the indicator types installed."""
    async with exam_services(settings) as services:
        factory = Factory(services)
        eth = await factory.institution("ETH")
        uzh = await factory.institution("UZH")
        admin = await factory.actor(eth, "ia", Role.INSTITUTIONAL_ADMIN)
        world = World(
            services, factory, eth, uzh, admin,
            exam_admin=await factory.actor(eth, "erika", Role.EXAM_ADMIN),
            supporter=await factory.actor(eth, "sam", Role.EXAM_SUPPORTER),
            other_supporter=await factory.actor(eth, "sue", Role.EXAM_SUPPORTER),
            root=await factory.actor(eth, "root", Role.SEB_SERVER_ADMIN),
            foreign=await factory.actor(uzh, "ursula", Role.EXAM_ADMIN),
            setup=await add_testing_setup(services, admin),
        )
        yield world
