"""Shared set-up for the exam tests (core, web UI, admin API): services with the indicator plugin, a Testing LMS
setup, exam configurations and templates."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import sebframe_indicators.plugin

from sebframe.core.accounts.actor import Actor
from sebframe.core.db.models import ExamConfiguration, LmsSetup
from sebframe.core.lms import testing_lms
from sebframe.core.lms.schemas import LmsSetupInput
from sebframe.core.sebconfig.exam_configs import ConfigKind, ExamConfigCreate
from sebframe.core.services import Services
from sebframe.settings import Settings
from sebframe.testing import registry_with
from tests.conftest import empty_tables

TESTING_SETTINGS = {"client_name": "sebframe", "client_secret": "testing-secret"}


@asynccontextmanager
async def exam_services(settings: Settings, *plugins: object) -> AsyncIterator[Services]:
    """Services with the indicator types installed (and ``plugins``); empty tables afterwards."""
    testing_lms._RESTRICTIONS.clear()
    services = Services.create(settings, registry_with(sebframe_indicators.plugin, *plugins))
    try:
        yield services
    finally:
        await empty_tables(services.db)
        await services.close()
        testing_lms._RESTRICTIONS.clear()


async def add_testing_setup(services: Services, actor: Actor, name: str = "Testing LMS", *,
                        active: bool = True) -> LmsSetup:
    data = LmsSetupInput(name=name, lms_type="TESTING", url="http://lms.mockup.com", settings=TESTING_SETTINGS)
    setup, result = await services.lms_setups.create(actor, data, activate=active)
    assert result.ok, result.message
    return setup


async def make_config_template(services: Services, actor: Actor, name: str = "Base Template") -> ExamConfiguration:
    template = await services.exam_configs.create(actor, ExamConfigCreate(name=name), kind=ConfigKind.TEMPLATE)
    await services.exam_configs.working_copy.set_value(actor, template.id, "allowQuit", "false")
    await services.exam_configs.revisions.publish(actor, template.id)
    return template


async def ready_config(services: Services, actor: Actor, name: str = "Physics Final") -> ExamConfiguration:
    return await services.exam_configs.create(actor, ExamConfigCreate(name=name, status="READY_TO_USE"))


def restrictions() -> dict[tuple[int, str], object]:
    """What the Testing LMS holds: (setup id, quiz id) -> SebRestriction."""
    return testing_lms._RESTRICTIONS  # type: ignore[return-value]
