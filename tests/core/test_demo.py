"""The demo exam: a running exam with an In-Use configuration and a connection file SEB clients can use."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from sebframe.core.accounts.actor import Actor
from sebframe.core.accounts.auth import actor_of
from sebframe.core.bootstrap import (
    CREDENTIALS_FILE,
    DEMO_INSTITUTION,
    demo_accounts,
    ensure_demo_accounts,
    ensure_initial_data,
)
from sebframe.core.demo import CONNECTION_FILE, DemoSetup, ensure_demo_exam
from sebframe.core.errors import NotFound
from sebframe.core.exams.types import ExamStatus
from sebframe.core.paging import MAX_PAGE_SIZE, ListParams
from sebframe.core.sebconfig import decode_seb
from sebframe.core.sebconfig.exam_configs import ConfigStatus
from sebframe.core.services import Services
from sebframe.settings import Settings
from tests.exam_helpers import exam_services

pytestmark = pytest.mark.anyio

SERVER_URL = "http://127.0.0.1:8123"


@pytest.fixture
async def demo_services(settings: Settings) -> AsyncIterator[Services]:
    """Services with the indicator plugin (for the default Ping indicator) and the first-run accounts."""
    async with exam_services(settings) as services:
        await ensure_initial_data(services.db, settings.data_dir, demo=True)
        yield services


async def _exam_admin(services: Services) -> Actor:
    return actor_of((await demo_accounts(services.db)).exam_admin)


async def _counts(services: Services, actor: Actor) -> tuple[int, int, int, int]:
    params = ListParams(size=MAX_PAGE_SIZE)
    return ((await services.lms_setups.list(actor, params)).total, (await services.exams.list(actor, params)).total,
            (await services.exam_configs.list(actor, params)).total,
            (await services.connection_configs.list(actor, params)).total)


async def test_demo_exam_is_running_with_a_usable_connection_file(demo_services: Services, settings: Settings) -> None:
    services = demo_services
    demo = await ensure_demo_exam(services, server_url=SERVER_URL + "/")
    actor = await _exam_admin(services)
    assert demo.connection_file == settings.data_dir / CONNECTION_FILE
    assert demo.server_url == SERVER_URL
    assert demo.institution_id == actor.institution_id

    seb = decode_seb(demo.connection_file.read_bytes())
    assert seb.settings["sebServerURL"] == SERVER_URL
    server = seb.settings["sebServerConfiguration"]
    assert server["institution"] == str(demo.institution_id)
    assert server["pingInterval"] == 1000
    access = await services.connection_configs.verify_client(server["clientName"], server["clientSecret"])
    assert access is not None and access.institution_id == demo.institution_id
    assert access.name == demo.connection_config_name == "Demo Connection"

    exam = await services.exams.get(actor, demo.exam_id)
    assert exam.status == demo.exam_status == ExamStatus.RUNNING and exam.active
    assert exam.name == demo.exam_name
    attached = await services.exams.configuration.attached(actor, exam.id)
    assert attached is not None and not attached.password_set
    assert attached.configuration.name == demo.exam_config_name == "Demo Exam Configuration"
    assert attached.configuration.status == ConfigStatus.IN_USE
    assert [indicator.name for indicator in await services.exams.indicators.list(actor, exam.id)] == ["Ping"]
    assert await services.exams.missing_setup(actor, exam.id) == []


async def test_running_it_again_changes_nothing(demo_services: Services, tmp_path: Path) -> None:
    services = demo_services
    first = await ensure_demo_exam(services, server_url=SERVER_URL)
    actor = await _exam_admin(services)
    counts = await _counts(services, actor)
    assert counts == (1, 1, 1, 1)
    credentials = decode_seb(first.connection_file.read_bytes()).settings["sebServerConfiguration"]

    out = tmp_path / "elsewhere.seb"
    again = await ensure_demo_exam(services, server_url="https://seb.example.org", out=out)
    assert again == DemoSetup(**{**first.__dict__, "connection_file": out, "server_url": "https://seb.example.org"})
    assert await _counts(services, actor) == counts
    seb = decode_seb(out.read_bytes()).settings
    assert seb["sebServerURL"] == "https://seb.example.org"
    assert seb["sebServerConfiguration"] == credentials  # the same client, not new credentials


async def test_what_was_switched_off_is_switched_on_again(demo_services: Services) -> None:
    services = demo_services
    first = await ensure_demo_exam(services, server_url=SERVER_URL)
    admin = actor_of((await demo_accounts(services.db)).institution_admin)
    connection = (await services.connection_configs.list(admin, ListParams())).items[0]
    await services.connection_configs.set_active(admin, connection.id, False)
    again = await ensure_demo_exam(services, server_url=SERVER_URL)
    assert again == first
    assert (await services.connection_configs.get(admin, connection.id)).active


async def test_bad_server_url_is_refused(demo_services: Services) -> None:
    with pytest.raises(ValueError, match="http"):
        await ensure_demo_exam(demo_services, server_url="seb.example.org")


async def test_demo_accounts_come_later_after_a_start_without_demo(services: Services, settings: Settings) -> None:
    created = await ensure_initial_data(services.db, settings.data_dir, demo=False)
    assert [credential.username for credential in created] == ["admin"]
    with pytest.raises(NotFound, match=DEMO_INSTITUTION):
        await demo_accounts(services.db)
    added = await ensure_demo_accounts(services.db, settings.data_dir)
    assert [credential.username for credential in added] == ["demo-institution-admin", "demo-exam-admin",
                                                             "demo-supporter"]
    assert await ensure_demo_accounts(services.db, settings.data_dir) == []
    accounts = await demo_accounts(services.db)
    assert (accounts.institution_admin.username, accounts.exam_admin.username, accounts.supporter.username) == (
        "demo-institution-admin", "demo-exam-admin", "demo-supporter")
    lines = (settings.data_dir / CREDENTIALS_FILE).read_text().splitlines()
    assert [line.split("\t")[0] for line in lines if not line.startswith("#")] == [
        "admin", "demo-institution-admin", "demo-exam-admin", "demo-supporter"]
