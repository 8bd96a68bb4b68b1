"""The exam snapshot supervisors see: states, missing pings, notifications and indicator values computed by the
indicator plugin from stored events, the same whichever process received them."""

from __future__ import annotations

import math
from pathlib import Path

import httpx
import pytest
import sebframe_indicators.plugin
from sqlalchemy import select, update

from sebframe.core.accounts.auth import actor_of
from sebframe.core.accounts.roles import Role
from sebframe.core.db.models import ClientConnection, Exam, Indicator, UserAccount
from sebframe.core.errors import NotFound, PermissionDenied
from sebframe.core.monitoring.cells import indicator_cell
from sebframe.core.monitoring.live import MonitoringService
from sebframe.core.services import Services
from tests.conftest import Factory
from tests.seb_client import SebClient, SebWorld, build_seb_world

pytestmark = pytest.mark.anyio

PING = ((5000.0, "ffc20e"), (10000.0, "ff7e00"), (15000.0, "ed1c24"))
BATTERY = ((20.0, "ed1c24"), (40.0, "ffc20e"))


def test_cells_follow_seb_servers_colouring() -> None:
    cell = indicator_cell(12000, PING, inverse=False, default_color="ffffff", active=True,
                          show_only_when_active=True)
    assert (cell.text, cell.color, cell.warning, cell.incident) == ("12000", "ff7e00", True, False)
    assert indicator_cell(15000, PING, inverse=False, default_color="ffffff", active=True,
                          show_only_when_active=True).incident
    low = indicator_cell(15, BATTERY, inverse=True, default_color="ffffff", active=True, show_only_when_active=True)
    assert (low.color, low.warning, low.incident) == ("ed1c24", True, True)
    fine = indicator_cell(87, BATTERY, inverse=True, default_color="ffffff", active=True, show_only_when_active=True)
    assert (fine.color, fine.warning, fine.incident) == ("ffffff", False, False)
    closed = indicator_cell(87, BATTERY, inverse=True, default_color="ffffff", active=False,
                            show_only_when_active=True)
    assert (closed.text, closed.incident) == ("--", False)
    assert indicator_cell(math.nan, BATTERY, inverse=True, default_color="ffffff", active=True,
                          show_only_when_active=True).text == "--"
    assert indicator_cell(3, (), inverse=True, default_color="ffffff", active=True,
                          show_only_when_active=True).incident is False  # SEB Server's no-threshold quirk fixed


@pytest.fixture
async def exam_with_indicators(services: Services, tmp_path: Path) -> SebWorld:
    """The demo exam (``build_seb_world``, after the indicator plugin is registered) with an error-count and a
    battery indicator, each with two thresholds."""
    services.plugins.pm.register(sebframe_indicators.plugin, name="indicators")
    world = await build_seb_world(services, tmp_path / "seb")
    async with services.db.transaction() as session:
        session.add(Indicator(exam_id=world.exam_id, name="Errors", indicator_type="ERROR_COUNT",
                              color="ffffff", tags="", thresholds='[{"value": 1, "color": "ffc20e"}, '
                                                                   '{"value": 3, "color": "ed1c24"}]'))
        session.add(Indicator(exam_id=world.exam_id, name="Battery", indicator_type="BATTERY_STATUS",
                              color="ffffff", tags="", thresholds='[{"value": 20, "color": "ed1c24"}, '
                                                                   '{"value": 40, "color": "ffc20e"}]'))
    await services.sessions.runtime.refresh_running_exams()
    return world


async def _actor(services: Services, username: str):  # type: ignore[no-untyped-def]
    async with services.db.read() as session:
        return actor_of((await session.execute(select(UserAccount).where(UserAccount.username == username)))
                        .scalar_one())


async def test_snapshot_states_values_and_incidents(client: httpx.AsyncClient, services: Services,
                                                    exam_with_indicators: SebWorld) -> None:
    alice = SebClient(client, exam_with_indicators, name="alice")
    bob = SebClient(client, exam_with_indicators, name="bob")
    await alice.connect(user="alice")
    await bob.connect()
    for _ in range(3):
        await alice.log({"type": "ERROR_LOG", "timestamp": 1, "text": "crash"})
    await alice.log({"type": "INFO_LOG", "timestamp": 2, "numericValue": 15, "text": "<battery> low"})
    await bob.log({"type": "INFO_LOG", "timestamp": 2, "numericValue": 88, "text": "<battery> fine"})
    await bob.log({"type": "NOTIFICATION", "numericValue": 1, "text": "<raisehand> help", "timestamp": 3})
    supporter = await _actor(services, "demo-supporter")

    snapshot = await services.monitoring.snapshot(supporter, exam_with_indicators.exam_id)
    names = [indicator.name for indicator in snapshot.indicators]
    by_user = {state.user_session_id: state for state in snapshot.connections}
    a, b = by_user["alice"], by_user["bob"]
    cells = dict(zip(names, a.cells, strict=True))
    assert (cells["Errors"].text, cells["Errors"].incident) == ("3", True)
    assert (cells["Battery"].text, cells["Battery"].color) == ("15", "ed1c24")
    assert a.incident and a.status.value == "ACTIVE"
    assert [n.type for n in b.notifications] == ["raisehand"] and b.incident
    assert b.info == "SEB:3.8.0 (x64), OS:Windows 10, IP:127.0.0.1"
    assert snapshot.counts()["ACTIVE"] == 1 and snapshot.counts()["READY"] == 1

    # another process (a fresh service, nothing folded yet) shows the same values, then only what is new
    other = MonitoringService(services.db, services.sessions.runtime)
    again = {state.user_session_id: state
             for state in (await other.snapshot(supporter, exam_with_indicators.exam_id)).connections}
    assert again["alice"].cells == a.cells
    await alice.log({"type": "ERROR_LOG", "timestamp": 4, "text": "again"})
    latest = {s.user_session_id: s for s in (await other.snapshot(supporter, exam_with_indicators.exam_id)).connections}
    assert dict(zip(names, latest["alice"].cells, strict=True))["Errors"].text == "4"


async def test_missing_ping_and_closed_connections(client: httpx.AsyncClient, services: Services,
                                                   exam_with_indicators: SebWorld) -> None:
    alice = SebClient(client, exam_with_indicators, name="alice")
    await alice.connect()
    token = alice.connection_token or ""
    async with services.db.transaction() as session:
        await session.execute(update(ClientConnection).where(ClientConnection.connection_token == token)
                              .values(last_ping_ms=1, created_ms=1))
    services.sessions.runtime.connections[token].last_ping_ms = 1
    admin = await _actor(services, "demo-exam-admin")
    [state] = (await services.monitoring.snapshot(admin, exam_with_indicators.exam_id)).connections
    assert state.missing and state.incident
    await alice.close()
    [state] = (await services.monitoring.snapshot(admin, exam_with_indicators.exam_id)).connections
    assert state.status.value == "CLOSED" and not state.missing


async def test_other_institutions_and_unassigned_supporters_see_nothing(
        services: Services, exam_with_indicators: SebWorld, factory: Factory) -> None:
    other = await factory.institution("Elsewhere")
    stranger = await factory.actor(other, "stranger", Role.EXAM_ADMIN)
    async with services.db.read() as session:
        exam = await session.get(Exam, exam_with_indicators.exam_id)
        assert exam is not None
        demo = await session.get(type(other), exam.institution_id)
    unassigned = await factory.actor(demo, "unassigned", Role.EXAM_SUPPORTER)
    for actor in (stranger, unassigned):
        with pytest.raises(NotFound):
            await services.monitoring.snapshot(actor, exam_with_indicators.exam_id)


async def test_watchers_share_a_recent_snapshot(client: httpx.AsyncClient, services: Services,
                                                exam_with_indicators: SebWorld) -> None:
    # an exam with connections: sharing once never worked
    await SebClient(client, exam_with_indicators, name="alice").connect()
    supporter = await _actor(services, "demo-supporter")
    admin = await _actor(services, "demo-exam-admin")
    first = await services.monitoring.snapshot(supporter, exam_with_indicators.exam_id, max_age_ms=900)
    assert await services.monitoring.snapshot(admin, exam_with_indicators.exam_id, max_age_ms=60_000) is first
    assert await services.monitoring.snapshot(admin, exam_with_indicators.exam_id) is not first  # pages want it fresh
    with pytest.raises(NotFound):  # sharing never skips the access check
        await services.monitoring.snapshot(await _stranger(services), exam_with_indicators.exam_id, max_age_ms=60_000)


async def test_notification_texts_only_for_those_who_read_client_logs(
        client: httpx.AsyncClient, services: Services, exam_with_indicators: SebWorld, factory: Factory) -> None:
    """The institutional administrator watches without what students wrote (CLIENT_EVENT); sharing one snapshot
    with a supporter must neither show it the text nor take it from the supporter."""
    bob = SebClient(client, exam_with_indicators, name="bob")
    await bob.connect()
    await bob.log({"type": "NOTIFICATION", "numericValue": 1, "text": "<raisehand> my screen froze", "timestamp": 3})
    supporter = await _actor(services, "demo-supporter")
    admin = await _actor(services, "demo-institution-admin")
    shared = await services.monitoring.snapshot(supporter, exam_with_indicators.exam_id, max_age_ms=900)
    watched = await services.monitoring.snapshot(admin, exam_with_indicators.exam_id, max_age_ms=60_000)
    [note] = watched.connections[0].notifications
    assert (note.type, note.text) == ("raisehand", "")
    assert await services.monitoring.snapshot(supporter, exam_with_indicators.exam_id, max_age_ms=60_000) is shared
    assert shared.connections[0].notifications[0].text == "my screen froze"
    server_admin = await factory.actor(await factory.institution("Server Operations"), "operator",
                                       Role.SEB_SERVER_ADMIN)
    with pytest.raises(PermissionDenied):  # sees the exam, not another institution's connections
        await services.monitoring.snapshot(server_admin, exam_with_indicators.exam_id, max_age_ms=60_000)


async def _stranger(services: Services):  # type: ignore[no-untyped-def]
    factory = Factory(services)
    return await factory.actor(await factory.institution("Stranger U"), "stranger", Role.EXAM_ADMIN)


async def test_running_exams_are_folded_before_anybody_looks(client: httpx.AsyncClient, services: Services,
                                                             exam_with_indicators: SebWorld) -> None:
    alice = SebClient(client, exam_with_indicators, name="alice")
    await alice.connect()
    await alice.log({"type": "ERROR_LOG", "timestamp": 1, "text": "crash"})
    fresh = MonitoringService(services.db, services.sessions.runtime)  # a process that just started
    await fresh.warm()
    connection_id = services.sessions.runtime.connections[alice.connection_token or ""].id
    errors = [index for index, item in enumerate(fresh._folds[exam_with_indicators.exam_id].indicators)
              if item.name == "Errors"]
    assert fresh._folds[exam_with_indicators.exam_id].values[connection_id][errors[0]] == 1.0
