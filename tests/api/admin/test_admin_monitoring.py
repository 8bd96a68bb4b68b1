"""Supervising live SEB connections through the admin API: listing, instructions, canceling, confirming
notifications, who may do what, and what ends up in the activity log."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from sebframe.core.accounts.roles import Role
from sebframe.core.bootstrap import DEMO_INSTITUTION
from sebframe.core.db.models import ClientNotification, Institution
from sebframe.core.services import Services
from tests.api.admin.helpers import Api, error_of
from tests.conftest import Factory
from tests.seb_client import WINDOWS_OS, SebClient, SebWorld

pytestmark = pytest.mark.anyio

EXAM_ADMIN = "demo-exam-admin"
SUPPORTER = "demo-supporter"  # assigned to the demo exam
INSTITUTION_ADMIN = "demo-institution-admin"
RAISE_HAND = {"type": "NOTIFICATION", "numericValue": 1, "text": "<raisehand> help", "timestamp": 1}


@dataclass
class Monitoring:
    """The demo exam running with SEB clients that connect through ``client``, and admin API users."""

    services: Services
    factory: Factory
    client: httpx.AsyncClient
    seb: SebWorld
    tokens: dict[str, str]

    @property
    def base(self) -> str:
        return f"/monitoring/{self.seb.exam_id}"

    def api(self, username: str) -> Api:
        return Api(self.client, self.tokens[username])

    async def add_user(self, institution: Institution, username: str, role: Role) -> Api:
        await self.factory.user(institution, username, role)
        self.tokens[username] = await self.factory.token(username)
        return self.api(username)

    async def connected(self, name: str, user: str | None = None) -> SebClient:
        seb = SebClient(self.client, self.seb, name=name)
        await seb.connect(user)
        return seb

    async def connections(self, username: str = EXAM_ADMIN) -> dict[str, dict[str, Any]]:
        """The listing, by connection token."""
        body = await self.api(username).ok("GET", f"{self.base}/connections")
        return {item["connection_token"]: item for item in body["items"]}

    async def notification_id(self) -> int:
        # No endpoint lists notifications yet; a supervisor GUI would read them from the server.
        async with self.services.db.read() as session:
            return (await session.execute(select(ClientNotification.id))).scalar_one()


@pytest.fixture
async def monitoring(services: Services, factory: Factory, client: httpx.AsyncClient,
                     seb_world: SebWorld) -> Monitoring:
    tokens = {name: await factory.token(name) for name in (EXAM_ADMIN, SUPPORTER, INSTITUTION_ADMIN)}
    return Monitoring(services, factory, client, seb_world, tokens)


async def _demo_institution(services: Services) -> Institution:
    async with services.db.read() as session:
        return (await session.execute(select(Institution).where(Institution.name == DEMO_INSTITUTION))).scalar_one()


def _token(seb: SebClient) -> str:
    assert seb.connection_token is not None
    return seb.connection_token


async def _nothing_queued(*clients: SebClient) -> None:
    for seb in clients:
        response = await seb.ping()
        assert response.status_code == 204, (seb.name, response.text)


# -- listing -------------------------------------------------------------------------------------


@pytest.mark.parametrize("username", [EXAM_ADMIN, SUPPORTER])
async def test_exam_staff_see_the_connections_and_raised_hands(monitoring: Monitoring, username: str) -> None:
    alice = await monitoring.connected("alice", user="alice")
    bob = await monitoring.connected("bob")
    assert (await alice.log(RAISE_HAND)).status_code == 204

    body = await monitoring.api(username).ok("GET", f"{monitoring.base}/connections")
    tokens = [item["connection_token"] for item in body["items"]]
    assert tokens == [_token(bob), _token(alice)]  # newest first
    listed = {item["connection_token"]: item for item in body["items"]}
    assert {key: listed[_token(alice)][key] for key in (
        "status", "user_session_id", "client_address", "seb_os_name", "missing_ping", "pending_notifications")} == {
        "status": "ACTIVE", "user_session_id": "alice", "client_address": "127.0.0.1", "seb_os_name": WINDOWS_OS,
        "missing_ping": False, "pending_notifications": [
            {"id": listed[_token(alice)]["pending_notifications"][0]["id"], "type": "raisehand", "text": "help",
             "client_id": 1}]}
    assert listed[_token(bob)]["status"] == "READY"  # no LMS user yet
    assert listed[_token(bob)]["pending_notifications"] == []


async def test_an_exam_without_connections_lists_none(monitoring: Monitoring) -> None:
    assert await monitoring.api(EXAM_ADMIN).ok("GET", f"{monitoring.base}/connections") == {"items": []}


async def test_an_unknown_exam_is_not_found(monitoring: Monitoring) -> None:
    error_of(await monitoring.api(EXAM_ADMIN).get("/monitoring/999999/connections"), 404)


# -- who may supervise ---------------------------------------------------------------------------


async def _try_all(monitoring: Monitoring, api: Api, seb: SebClient) -> list[int]:
    """The status of each of the four endpoints for ``api``'s user, with requests that would otherwise work."""
    base = monitoring.base
    notification_id = await monitoring.notification_id()
    responses = [
        await api.get(f"{base}/connections"),
        await api.post(f"{base}/instruction", json={"type": "SEB_QUIT", "connection_tokens": [_token(seb)]}),
        await api.post(f"{base}/disable-connection", json={"connection_tokens": [_token(seb)]}),
        await api.post(f"{base}/notifications/{notification_id}/confirm"),
    ]
    for response in responses:
        if response.status_code >= 400:
            error_of(response, response.status_code)  # a JSON error body with a message
    return [response.status_code for response in responses]


async def test_a_supporter_not_assigned_to_the_exam_finds_nothing(monitoring: Monitoring) -> None:
    alice = await monitoring.connected("alice")
    await alice.log(RAISE_HAND)
    other = await monitoring.add_user(await _demo_institution(monitoring.services), "other-supporter",
                                      Role.EXAM_SUPPORTER)
    assert await _try_all(monitoring, other, alice) == [404, 404, 404, 404]
    await _nothing_queued(alice)
    assert (await monitoring.connections())[_token(alice)]["pending_notifications"] != []


async def test_an_institutional_admin_reads_but_may_not_supervise(monitoring: Monitoring) -> None:
    alice = await monitoring.connected("alice")
    await alice.log(RAISE_HAND)
    admin = monitoring.api(INSTITUTION_ADMIN)
    assert await _try_all(monitoring, admin, alice) == [200, 403, 403, 403]
    denied = error_of(await admin.post(f"{monitoring.base}/instruction", json={"type": "SEB_QUIT"}), 403)
    assert denied["error"] == "forbidden" and "supervise" in denied["message"]
    await _nothing_queued(alice)
    assert (await monitoring.connections())[_token(alice)]["pending_notifications"] != []


async def test_another_institutions_exam_admin_finds_nothing(monitoring: Monitoring) -> None:
    alice = await monitoring.connected("alice")
    await alice.log(RAISE_HAND)
    elsewhere = await monitoring.factory.institution("Elsewhere", url_suffix="elsewhere")
    stranger = await monitoring.add_user(elsewhere, "stranger", Role.EXAM_ADMIN)
    assert await _try_all(monitoring, stranger, alice) == [404, 404, 404, 404]
    await _nothing_queued(alice)


# -- instructions --------------------------------------------------------------------------------


async def test_lock_screen_with_a_message_reaches_only_the_selected_client(monitoring: Monitoring) -> None:
    alice = await monitoring.connected("alice")
    bob = await monitoring.connected("bob")
    result = await monitoring.api(SUPPORTER).ok("POST", f"{monitoring.base}/instruction", json={
        "type": "SEB_FORCE_LOCK_SCREEN", "connection_tokens": [_token(alice)], "message": "Please wait"})
    assert result == {"sent": 1, "skipped": 0}
    lock = await alice.ping()
    assert lock.status_code == 200
    assert lock.json() == {"instruction": "SEB_FORCE_LOCK_SCREEN", "attributes": {"message": "Please wait"}}
    await _nothing_queued(alice, bob)  # delivered once, and only to alice


async def test_quit_without_tokens_reaches_every_active_client(monitoring: Monitoring) -> None:
    alice = await monitoring.connected("alice")
    bob = await monitoring.connected("bob")
    gone = await monitoring.connected("gone")
    assert (await gone.close()).status_code == 200
    result = await monitoring.api(EXAM_ADMIN).ok("POST", f"{monitoring.base}/instruction", json={"type": "SEB_QUIT"})
    assert result["sent"] == 2
    for seb in (alice, bob):
        quit_ = await seb.ping()
        assert quit_.status_code == 200
        assert quit_.json() == {"instruction": "SEB_QUIT", "attributes": {}}
    await _nothing_queued(alice, bob)


async def test_closed_and_unknown_connections_are_skipped(monitoring: Monitoring) -> None:
    alice = await monitoring.connected("alice")
    gone = await monitoring.connected("gone")
    assert (await gone.close()).status_code == 200
    result = await monitoring.api(EXAM_ADMIN).ok("POST", f"{monitoring.base}/instruction", json={
        "type": "SEB_QUIT", "connection_tokens": [_token(alice), _token(gone), "no-such-token"]})
    assert result == {"sent": 1, "skipped": 2}
    assert (await alice.ping()).json() == {"instruction": "SEB_QUIT", "attributes": {}}


@pytest.mark.parametrize("kind", ["seb_quit", "SEB_RECONFIGURE_SETTINGS", "NOTIFICATION_CONFIRM", "QUIT", ""])
async def test_only_quit_and_lock_screen_may_be_sent(monitoring: Monitoring, kind: str) -> None:
    alice = await monitoring.connected("alice")
    response = await monitoring.api(EXAM_ADMIN).post(f"{monitoring.base}/instruction", json={"type": kind})
    body = error_of(response, 422)
    assert body["error"] == "validation_failed"
    assert body["field_errors"] == {"type": "choose SEB_QUIT or SEB_FORCE_LOCK_SCREEN"}
    await _nothing_queued(alice)


@pytest.mark.parametrize(("payload", "field"), [
    # A misspelt "connection_tokens" must not quietly mean "all connections".
    ({"type": "SEB_QUIT", "tokens": ["x"]}, "tokens"),
    ({"type": "SEB_FORCE_LOCK_SCREEN", "message": "m" * 1001}, "message"),
    ({"type": "SEB_QUIT", "connection_tokens": "x"}, "connection_tokens"),
    ({"connection_tokens": ["x"]}, "type"),
])
async def test_malformed_instructions_are_refused(monitoring: Monitoring, payload: dict[str, Any],
                                                  field: str) -> None:
    alice = await monitoring.connected("alice")
    body = error_of(await monitoring.api(EXAM_ADMIN).post(f"{monitoring.base}/instruction", json=payload), 422)
    assert body["error"] == "validation_failed"
    assert field in body["field_errors"], body
    await _nothing_queued(alice)


async def test_a_message_of_1000_characters_is_delivered_whole(monitoring: Monitoring) -> None:
    alice = await monitoring.connected("alice")
    message = "m" * 1000
    await monitoring.api(EXAM_ADMIN).ok("POST", f"{monitoring.base}/instruction", json={
        "type": "SEB_FORCE_LOCK_SCREEN", "connection_tokens": [_token(alice)], "message": message})
    assert (await alice.ping()).json()["attributes"] == {"message": message}


# -- canceling connections -----------------------------------------------------------------------


async def test_an_active_pinging_connection_is_not_canceled(monitoring: Monitoring) -> None:
    alice = await monitoring.connected("alice", user="alice")
    assert (await alice.ping()).status_code == 204
    result = await monitoring.api(SUPPORTER).ok("POST", f"{monitoring.base}/disable-connection",
                                                json={"connection_tokens": [_token(alice)]})
    assert result == {"sent": 0, "skipped": 1}
    assert (await monitoring.connections())[_token(alice)]["status"] == "ACTIVE"
    await _nothing_queued(alice)


async def test_a_closed_connection_is_canceled(monitoring: Monitoring) -> None:
    alice = await monitoring.connected("alice", user="alice")
    gone = await monitoring.connected("gone")
    assert (await gone.close()).status_code == 200
    assert (await monitoring.connections())[_token(gone)]["status"] == "CLOSED"
    result = await monitoring.api(SUPPORTER).ok("POST", f"{monitoring.base}/disable-connection",
                                                json={"connection_tokens": [_token(gone)]})
    assert result == {"sent": 1, "skipped": 0}
    listed = await monitoring.connections()
    assert listed[_token(gone)]["status"] == "DISABLED"
    assert listed[_token(alice)]["status"] == "ACTIVE"


async def test_canceling_needs_at_least_one_token(monitoring: Monitoring) -> None:
    body = error_of(await monitoring.api(EXAM_ADMIN).post(f"{monitoring.base}/disable-connection",
                                                          json={"connection_tokens": []}), 422)
    assert "connection_tokens" in body["field_errors"]


# -- confirming notifications --------------------------------------------------------------------


async def test_confirming_a_raised_hand_tells_the_client_once(monitoring: Monitoring) -> None:
    alice = await monitoring.connected("alice", user="alice")
    assert (await alice.log(RAISE_HAND)).status_code == 204
    notification_id = await monitoring.notification_id()
    api = monitoring.api(SUPPORTER)
    path = f"{monitoring.base}/notifications/{notification_id}/confirm"

    assert await api.ok("POST", path) == {"notification_id": notification_id, "newly_confirmed": True}
    confirm = await alice.ping()
    assert confirm.status_code == 200
    assert confirm.json() == {"instruction": "NOTIFICATION_CONFIRM", "attributes": {"type": "raisehand", "id": "1"}}
    assert (await monitoring.connections())[_token(alice)]["pending_notifications"] == []

    assert await api.ok("POST", path) == {"notification_id": notification_id, "newly_confirmed": False}
    await _nothing_queued(alice)


async def test_confirming_an_unknown_notification_is_not_found(monitoring: Monitoring) -> None:
    alice = await monitoring.connected("alice")
    await alice.log(RAISE_HAND)
    unknown = await monitoring.notification_id() + 1000
    body = error_of(await monitoring.api(EXAM_ADMIN).post(f"{monitoring.base}/notifications/{unknown}/confirm"), 404)
    assert body["error"] == "not_found"
    await _nothing_queued(alice)


# -- activity log --------------------------------------------------------------------------------


async def test_supervision_is_recorded_in_the_activity_log(monitoring: Monitoring) -> None:
    alice = await monitoring.connected("alice", user="alice")
    gone = await monitoring.connected("gone")
    await gone.close()
    await alice.log(RAISE_HAND)
    supporter, base = monitoring.api(SUPPORTER), monitoring.base
    await supporter.ok("POST", f"{base}/instruction", json={
        "type": "SEB_FORCE_LOCK_SCREEN", "connection_tokens": [_token(alice)], "message": "Please wait"})
    await supporter.ok("POST", f"{base}/disable-connection", json={"connection_tokens": [_token(gone)]})
    await supporter.ok("POST", f"{base}/notifications/{await monitoring.notification_id()}/confirm")
    # Refused requests leave no entry.
    await monitoring.api(INSTITUTION_ADMIN).post(f"{base}/instruction", json={"type": "SEB_QUIT"})

    page = await monitoring.api(INSTITUTION_ADMIN).ok(
        "GET", "/activity-log?entity_type=EXAM&activity=MODIFY&username=demo-supporter&size=100")
    entries = [(e["username"], e["entity_id"], e["message"]) for e in sorted(page["items"], key=lambda e: e["id"])]
    exam = str(monitoring.seb.exam_id)
    assert entries == [
        (SUPPORTER, exam, "SEB_FORCE_LOCK_SCREEN sent to 1 SEB connection(s)"),
        (SUPPORTER, exam, "1 SEB connection(s) marked as canceled"),
        (SUPPORTER, exam, "raisehand notification of alice confirmed"),
    ]
    admin_entries = await monitoring.api(INSTITUTION_ADMIN).ok(
        "GET", "/activity-log?entity_type=EXAM&username=demo-institution-admin")
    assert admin_entries["total"] == 0
