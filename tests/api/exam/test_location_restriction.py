"""Network location restriction through the Exam API: SEB clients from inside and outside the exam's rooms,
as a real client sees it (status codes, bodies), and what the server records (snapshot, audit, monitoring).

Each client gets its own socket address (an ASGI transport per address), as clients in a testing center do.
"""

from __future__ import annotations

import ipaddress
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from sebframe.core.accounts.actor import Actor
from sebframe.core.accounts.auth import actor_of
from sebframe.core.bootstrap import demo_accounts
from sebframe.core.db.models import ClientEvent, ConnectionLocation, Exam, LocationAuditRecord
from sebframe.core.errors import NotFound, ValidationFailed
from sebframe.core.location.audit_format import parse_line
from sebframe.core.location.profiles import LocationProfileService
from sebframe.core.location.schemas import (
    ExceptionInput,
    ExceptionKind,
    OverrideInput,
    OverrideScope,
    PolicyInput,
    PolicyMode,
    ProfileInput,
    RevokeInput,
    SuspendInput,
    ViolationAction,
)
from sebframe.core.paging import ListParams
from sebframe.core.services import Services
from sebframe.core.session.instructions import InstructionType
from tests.seb_client import SebClient, SebWorld

pytestmark = pytest.mark.anyio

LAB_RULES = """\
ALLOW 10.1.2.0/24 room="Lab 1"   # the pool room
BLOCK 10.1.2.66 room="Lab 1" seat=66   # broken seat
ALLOW 10.1.3.10-20 room="Lab 2"
"""


@dataclass
class Center:
    """The demo exam restricted to the lab profile; the actors who administer and supervise it."""

    world: SebWorld
    app: Any
    admin: Actor
    supporter: Actor
    profile_id: int

    @asynccontextmanager
    async def seat(self, address: str, name: str = "student") -> AsyncIterator[SebClient]:
        """A SEB client sitting at ``address``."""
        async with _http(self.app, address) as http:
            yield SebClient(http, self.world, name=name)


@asynccontextmanager
async def _http(app: Any, address: str) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=(address, 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture
async def center(app: Any, services: Services, seb_world: SebWorld) -> Center:
    accounts = await demo_accounts(services.db)
    admin, supporter = actor_of(accounts.exam_admin), actor_of(accounts.supporter)
    profile = await services.locations.profiles.create_profile(admin, ProfileInput(
        name="Lab building", rules=LAB_RULES, help_text="Please take a seat in Lab 1 or Lab 2."))
    await services.locations.policies.set_policy(admin, seb_world.exam_id, PolicyInput(profile_ids=[profile.id]))
    return Center(seb_world, app, admin, supporter, profile.id)


async def _handshake(client: SebClient, user: str = "alice") -> dict[str, int]:
    """Token, POST, PATCH (exam and user), GET examconfig, PUT: each step's status."""
    assert (await client.fetch_token()).status_code == 200
    created = await client.create()
    assert created.status_code == 200, created.text
    statuses = {"patch": (await client.select_exam(client.world.exam_id, user)).status_code}
    statuses["config"] = (await client.exam_config()).status_code
    statuses["put"] = (await client.establish()).status_code
    return statuses


async def _audit(services: Services, code: int | None = None) -> list[dict[str, str]]:
    async with services.db.read() as session:
        statement = select(LocationAuditRecord).order_by(LocationAuditRecord.id)
        if code is not None:
            statement = statement.where(LocationAuditRecord.code == code)
        return [parse_line(row.line) for row in (await session.execute(statement)).scalars()]


async def _snapshot(services: Services, connection_id: int) -> ConnectionLocation:
    async with services.db.read() as session:
        found = await session.get(ConnectionLocation, connection_id)
    assert found is not None
    return found


async def _connection_id(services: Services, client: SebClient) -> int:
    assert client.connection_token is not None
    live = await services.sessions.runtime.connection(client.connection_token)
    assert live is not None
    return live.id


async def test_inside_admitted_with_room_outside_refused_without_configuration(
        center: Center, services: Services) -> None:
    async with center.seat("10.1.2.17", "alice") as alice:
        assert await _handshake(alice, "alice") == {"patch": 200, "config": 200, "put": 200}
        snapshot = await _snapshot(services, await _connection_id(services, alice))
        assert (snapshot.status, snapshot.room, snapshot.rule) == ("ALLOWED", "Lab 1", "1:ALLOW 10.1.2.0/24")
    async with center.seat("198.51.100.7", "mallory") as mallory:
        assert (await mallory.fetch_token()).status_code == 200
        assert (await mallory.create()).status_code == 200
        refused = await mallory.select_exam(center.world.exam_id, "mallory")
        assert refused.status_code == 403
        body = refused.json()
        assert body["error"] == "location_not_allowed"
        assert body["message"] == "Please take a seat in Lab 1 or Lab 2."
        assert len(body["approval_code"]) == 6
        # Refused at PATCH means no exam was bound: the configuration is not handed out either.
        config = await mallory.exam_config(center.world.exam_id)
        assert config.status_code == 403
        assert b"<plist" not in config.content and b"approval_code" in config.content
    blocked = await _audit(services, 36)
    assert len(blocked) == 2 and {line["request"] for line in blocked} == {
        "PATCH /exam-api/v1/handshake", "GET /exam-api/v1/examconfig"}
    assert blocked[0]["src_ip"] == "198.51.100.7" and blocked[0]["reason"] == "NO_MATCH"
    assert blocked[0]["act"] == "blocked" and blocked[0]["outcome"] == "failure"
    assert [line["suser"] for line in await _audit(services, 1001)] == ["alice"]


async def test_more_specific_block_wins_and_is_named(center: Center, services: Services) -> None:
    async with center.seat("10.1.2.66") as client:
        assert (await _handshake(client))["patch"] == 403
    [record] = await _audit(services, 36)
    assert (record["reason"], record["rule"], record["seat"]) == ("BLOCK_RULE", "2:BLOCK 10.1.2.66", "66")


async def test_override_admits_the_blocked_connection_then_a_move_is_a_violation(
        center: Center, services: Services) -> None:
    async with center.seat("198.51.100.7", "bob") as bob:
        assert (await _handshake(bob, "bob"))["patch"] == 403
        connection_id = await _connection_id(services, bob)
        [lane] = await services.locations.overrides.placements(center.supporter, center.world.exam_id,
                                                               lane_only=True)
        assert (lane.connection_id, lane.status, lane.address) == (connection_id, "BLOCKED", "198.51.100.7")
        found = await services.locations.overrides.placements(center.supporter, center.world.exam_id,
                                                              lane_only=True, code=lane.approval_code.lower())
        assert [item.connection_id for item in found] == [connection_id]
        override = await services.locations.overrides.grant(center.supporter, center.world.exam_id, OverrideInput(
            connection_id=connection_id, reason="laptop of the exam office, seat 3"))
        again = await services.locations.overrides.grant(center.supporter, center.world.exam_id, OverrideInput(
            connection_id=connection_id, reason="clicked twice"))
        assert again.id == override.id
        # SEB's Retry starts a new connection: the same user at the same address is covered.
        assert await _handshake(bob, "bob") == {"patch": 200, "config": 200, "put": 200}
        assert (await _snapshot(services, connection_id)).status == "OVERRIDDEN"
        connection_id = await _connection_id(services, bob)
        assert (await _snapshot(services, connection_id)).status == "OVERRIDDEN"
    [approved] = await _audit(services, 38)
    assert approved["proctor_id"] == center.supporter.username
    assert approved["outcome"] == "success" and "laptop of the exam office" in approved["msg"]
    # The override covered this connection at that address; from elsewhere it is a violation, logged, not refused.
    async with center.seat("203.0.113.5", "bob") as moved:
        moved.access_token, moved.connection_token = bob.access_token, bob.connection_token
        assert (await moved.ping()).status_code in (200, 204)
        await services.sessions.runtime.settle()
    [violation] = await _audit(services, 37)
    assert (violation["src_ip"], violation["act"], violation["reason"]) == ("203.0.113.5", "logged", "NO_MATCH")
    assert "moved from 198.51.100.7" in violation["msg"]
    snapshot = await _snapshot(services, connection_id)
    assert (snapshot.status, snapshot.violations) == ("VIOLATION", 1)
    # ... and on the connection's log, where monitoring counts it as an error.
    await services.sessions.runtime.flush()
    async with services.db.read() as session:
        events = (await session.execute(select(ClientEvent.event_type, ClientEvent.text).where(
            ClientEvent.connection_id == connection_id))).all()
    assert ("ERROR_LOG", "Admission check location refused the new address 203.0.113.5: address 203.0.113.5 is "
            "in no admitted location") in [tuple(event) for event in events]


async def test_move_inside_the_admitted_rooms_is_only_noted(center: Center, services: Services) -> None:
    async with center.seat("10.1.2.17") as client:
        assert (await _handshake(client))["put"] == 200
        async with _http(center.app, "10.1.3.15") as http:
            client.http = http
            assert (await client.ping()).status_code in (200, 204)
            await services.sessions.runtime.settle()
            assert (await client.ping()).status_code in (200, 204)
    assert await _audit(services, 37) == []
    [changed] = await _audit(services, 1002)
    assert changed["room"] == "Lab 2" and changed["src_ip"] == "10.1.3.15"
    snapshot = await _snapshot(services, await _connection_id(services, client))
    assert (snapshot.status, snapshot.room, snapshot.address) == ("ALLOWED", "Lab 2", "10.1.3.15")


async def test_quit_on_violation_sends_seb_quit(center: Center, services: Services) -> None:
    await services.locations.policies.set_policy(center.admin, center.world.exam_id, PolicyInput(
        profile_ids=[center.profile_id], on_violation=ViolationAction.QUIT))
    async with center.seat("10.1.2.17") as client:
        assert (await _handshake(client))["put"] == 200
        async with _http(center.app, "8.8.8.8") as http:
            client.http = http
            assert (await client.ping()).status_code in (200, 204)
            await services.sessions.runtime.settle()
            instruction = await client.ping()
    assert instruction.status_code == 200
    assert instruction.json()["instruction"] == InstructionType.SEB_QUIT.value
    [violation] = await _audit(services, 37)
    assert violation["act"] == "quit"


async def test_log_only_mode_admits_and_records_what_it_would_refuse(center: Center, services: Services) -> None:
    await services.locations.policies.set_policy(center.admin, center.world.exam_id, PolicyInput(
        profile_ids=[center.profile_id], mode=PolicyMode.LOG_ONLY))
    async with center.seat("8.8.8.8") as client:
        assert await _handshake(client) == {"patch": 200, "config": 200, "put": 200}
        assert (await _snapshot(services, await _connection_id(services, client))).status == "WOULD_BLOCK"
    records = await _audit(services, 36)
    assert records and all(record["act"] == "logged" and record["outcome"] == "failure" for record in records)


async def test_suspension_stops_checks_and_is_audited(center: Center, services: Services) -> None:
    await services.locations.policies.suspend(center.supporter, center.world.exam_id,
                                              SuspendInput(reason="network outage in Lab 1"))
    async with center.seat("8.8.8.8") as client:
        assert await _handshake(client) == {"patch": 200, "config": 200, "put": 200}
    [suspended] = await _audit(services, 1030)
    assert "network outage in Lab 1" in suspended["msg"]
    await services.locations.policies.suspend(center.supporter, center.world.exam_id,
                                              SuspendInput(reason="back up"), suspended=False)
    async with center.seat("8.8.8.8", "second") as client:
        assert (await _handshake(client, "second"))["patch"] == 403


async def test_exceptions_for_a_user_and_a_group_with_a_substitute_room(center: Center, services: Services) -> None:
    access_room = await services.locations.profiles.create_profile(center.admin, ProfileInput(
        name="Accessibility room", rules='ALLOW 10.9.0.0/24 room="Room A"'))
    policies = services.locations.policies
    await policies.add_exception(center.admin, center.world.exam_id, ExceptionInput(
        kind=ExceptionKind.USER, name="carol", reason="sits the exam abroad"))
    group = await policies.add_exception(center.admin, center.world.exam_id, ExceptionInput(
        kind=ExceptionKind.GROUP, name="Extra time", members=["dave", "erin"],
        substitute_profile_id=access_room.id))
    async with center.seat("8.8.8.8", "carol") as carol:
        assert (await _handshake(carol, "carol"))["put"] == 200
    async with center.seat("10.9.0.5", "dave") as dave:
        assert (await _handshake(dave, "dave"))["put"] == 200
        assert (await _snapshot(services, await _connection_id(services, dave))).room == "Room A"
    # The substitute replaces the normal rooms for the group (reference O3).
    async with center.seat("10.1.2.17", "erin") as erin:
        assert (await _handshake(erin, "erin"))["patch"] == 403
    # Removed from the group: the next check is without the exception (reference O2).
    await policies.update_exception(center.admin, center.world.exam_id, group.id, ExceptionInput(
        kind=ExceptionKind.GROUP, name="Extra time", members=["erin"], substitute_profile_id=access_room.id))
    async with center.seat("10.9.0.6", "dave") as dave_again:
        assert (await _handshake(dave_again, "dave"))["patch"] == 403
    assert [record["suser"] for record in await _audit(services, 1004)] == ["carol"]


async def test_expired_exception_no_longer_applies(center: Center, services: Services) -> None:
    past = datetime.now(UTC) - timedelta(hours=2)
    await services.locations.policies.add_exception(center.admin, center.world.exam_id, ExceptionInput(
        kind=ExceptionKind.USER, name="carol", valid_from=past, valid_to=past + timedelta(hours=1)))
    async with center.seat("8.8.8.8", "carol") as carol:
        assert (await _handshake(carol, "carol"))["patch"] == 403


async def test_user_override_follows_the_user_and_revoking_rechecks_at_once(center: Center,
                                                                              services: Services) -> None:
    async with center.seat("198.51.100.7", "frank") as frank:
        assert (await _handshake(frank, "frank"))["patch"] == 403
        connection_id = await _connection_id(services, frank)
        override = await services.locations.overrides.grant(center.supporter, center.world.exam_id, OverrideInput(
            connection_id=connection_id, scope=OverrideScope.USER, reason="room change agreed by phone"))
        assert (await _handshake(frank, "frank"))["put"] == 200
        connection_id = await _connection_id(services, frank)
        await services.locations.overrides.revoke(center.supporter, center.world.exam_id, override.id,
                                                  RevokeInput(reason="mistake"))
        await services.sessions.runtime.settle()
    assert [record["evt_code"] for record in await _audit(services)][-2:] == ["1005", "37"]
    assert (await _snapshot(services, connection_id)).status == "VIOLATION"


async def test_override_refused_without_reason_or_for_another_exams_connection(center: Center,
                                                                               services: Services) -> None:
    with pytest.raises(ValueError):
        OverrideInput(connection_id=1, reason="   ")
    with pytest.raises(NotFound):
        await services.locations.overrides.grant(center.supporter, center.world.exam_id,
                                                 OverrideInput(connection_id=999_999, reason="typo"))


async def test_hidden_exam_list_for_clients_outside(center: Center, services: Services) -> None:
    await services.locations.policies.set_policy(center.admin, center.world.exam_id, PolicyInput(
        profile_ids=[center.profile_id], hide_when_outside=True))
    async with center.seat("8.8.8.8") as outside:
        assert (await outside.fetch_token()).status_code == 200
        listed = await outside.create()
        assert listed.status_code == 200 and listed.json() == []
    async with center.seat("10.1.2.17") as inside:
        assert (await inside.fetch_token()).status_code == 200
        assert [int(item["examId"]) for item in (await inside.create()).json()] == [center.world.exam_id]


async def test_audit_never_contains_connection_tokens_and_escapes_client_text(center: Center,
                                                                             services: Services) -> None:
    async with center.seat("8.8.8.8") as client:
        client.http.headers["User-Agent"] = "SEB/3.8|evt_code=38\nforged"
        await _handshake(client)
        token = client.connection_token
    async with services.db.read() as session:
        lines = list((await session.execute(select(LocationAuditRecord.line))).scalars())
    assert lines and all(token not in line and "\n" not in line for line in lines)
    [record] = [parse_line(line) for line in lines if "forged" in line][:1]
    assert record["evt_code"] == "36" and record["http_useragent"] == "SEB/3.8|evt_code=38\nforged"


async def test_exam_without_profiles_checks_nothing(app: Any, services: Services, seb_world: SebWorld) -> None:
    async with _http(app, "8.8.8.8") as http:
        client = SebClient(http, seb_world)
        await client.connect(user="alice")
    assert await _audit(services) == []


async def test_forwarded_header_from_an_untrusted_peer_is_ignored_and_noted(center: Center,
                                                                            services: Services) -> None:
    async with center.seat("198.51.100.7") as client:
        client.http.headers["X-Forwarded-For"] = "10.1.2.17"  # claims a lab seat; we trust no proxy
        assert (await _handshake(client))["patch"] == 403
    [noted] = await _audit(services, 1006)
    assert noted["src_ip"] == "198.51.100.7" and noted["peer_ip"] == "198.51.100.7"
    assert noted["outcome"] == "success" and "ignored" in noted["msg"]


async def test_connection_override_does_not_cover_the_user_elsewhere(center: Center, services: Services) -> None:
    async with center.seat("198.51.100.7", "gina") as gina:
        assert (await _handshake(gina, "gina"))["patch"] == 403
        await services.locations.overrides.grant(center.supporter, center.world.exam_id, OverrideInput(
            connection_id=await _connection_id(services, gina), reason="spare laptop"))
    # reference O4: the same user from another machine is still blocked
    async with center.seat("198.51.100.8", "gina") as other_machine:
        assert (await _handshake(other_machine, "gina"))["patch"] == 403


async def test_preview_shows_who_a_draft_would_admit_or_refuse(center: Center, services: Services) -> None:
    async with center.seat("10.1.2.17", "alice") as alice, center.seat("198.51.100.7", "bob") as bob:
        assert (await _handshake(alice, "alice"))["put"] == 200
        assert (await _handshake(bob, "bob"))["patch"] == 403
        preview = await services.locations.preview.who_would_be_blocked(
            center.admin, center.profile_id, 'ALLOW 198.51.100.0/24 room="Annex"')
    assert sorted(row.user or "" for row in preview.rows) == ["alice", "bob"]  # bob was refused before binding
    assert (preview.newly_blocked, preview.newly_allowed, preview.blocked) == (1, 1, 1)
    moved_in = [row for row in preview.rows if row.after.allowed]
    assert [row.after.room for row in moved_in] == ["Annex"] and moved_in[0].address == "198.51.100.7"


async def test_profiles_overlapping_a_trusted_proxy_are_reported(center: Center, services: Services,
                                                                 caplog: pytest.LogCaptureFixture) -> None:
    linting = LocationProfileService(services.db, services.locations.audit, services.locations.gate.compiler,
                                     (ipaddress.ip_network("10.1.2.0/28"),))
    with caplog.at_level("WARNING"):
        found = await linting.trusted_proxy_overlaps()
    assert [profile.name for profile, _ in found] == ["Lab building"]
    assert "overlaps a trusted proxy" in caplog.text


async def test_flapping_addresses_make_one_violation_record_with_a_counter(center: Center,
                                                                          services: Services) -> None:
    """Reference H9: a NAT pool or multipath flips the address every few seconds."""
    async with center.seat("10.1.2.17") as client:
        assert (await _handshake(client))["put"] == 200
        for address in ("8.8.8.8", "8.8.4.4", "8.8.8.8", "8.8.4.4"):
            async with _http(center.app, address) as http:
                client.http = http
                assert (await client.ping()).status_code in (200, 204)
                await services.sessions.runtime.settle()
        connection_id = await _connection_id(services, client)
    assert len(await _audit(services, 37)) == 1
    assert (await _snapshot(services, connection_id)).violations == 4


async def test_no_override_after_the_exam_ended(center: Center, services: Services) -> None:
    """Reference O7."""
    async with center.seat("198.51.100.7", "hugo") as hugo:
        assert (await _handshake(hugo, "hugo"))["patch"] == 403
        connection_id = await _connection_id(services, hugo)
    async with services.db.transaction() as session:
        await session.execute(update(Exam).where(Exam.id == center.world.exam_id)
                              .values(end_time=datetime.now(UTC) - timedelta(minutes=1)))
    with pytest.raises(ValidationFailed, match="ended"):
        await services.locations.overrides.grant(center.supporter, center.world.exam_id,
                                                 OverrideInput(connection_id=connection_id, reason="too late"))
    assert await _audit(services, 38) == []


async def test_trusted_proxy_configuration_changes_are_audited_once(center: Center, services: Services) -> None:
    audit = services.locations.audit
    assert await audit.note_proxy_configuration("trusted proxies: 10.0.0.2/32; header: x-forwarded-for")
    assert not await audit.note_proxy_configuration("trusted proxies: 10.0.0.2/32; header: x-forwarded-for")
    assert await audit.note_proxy_configuration("trusted proxies: none; header: x-forwarded-for")
    records = await _audit(services, 1020)
    assert [record["msg"] for record in records] == ["trusted proxies: 10.0.0.2/32; header: x-forwarded-for",
                                                     "trusted proxies: none; header: x-forwarded-for"]
    page = await services.locations.audit.search(center.admin, ListParams(filters={"code": "1020"}))
    assert page.total == 2  # server-wide records: read by those who may change locations
    assert (await services.locations.audit.search(center.supporter, ListParams(filters={"code": "1020"}))).total == 0


async def test_profile_edit_applies_to_the_next_check_and_records_keep_their_version(center: Center,
                                                                                   services: Services) -> None:
    """Reference E11 and L4."""
    async with center.seat("10.1.3.15", "ida") as ida:
        assert (await _handshake(ida, "ida"))["put"] == 200
    await services.locations.profiles.update_profile(center.admin, center.profile_id, ProfileInput(
        name="Lab building", rules=LAB_RULES.replace("ALLOW 10.1.3.10-20", "BLOCK 10.1.3.10-20"),
        help_text="Please take a seat in Lab 1."))
    async with center.seat("10.1.3.15", "ida") as again:
        assert (await _handshake(again, "ida"))["patch"] == 403
    [allowed] = await _audit(services, 1001)
    [blocked] = await _audit(services, 36)
    assert (allowed["profile_ver"], blocked["profile_ver"]) == ("1", "2")
    assert blocked["rule"] == "3:BLOCK 10.1.3.10-10.1.3.20"
    [edited] = await _audit(services, 1011)
    assert "-ALLOW 10.1.3.10-20" in edited["msg"] and "+BLOCK 10.1.3.10-20" in edited["msg"]


async def test_deleting_the_exam_deletes_its_location_data(center: Center, services: Services) -> None:
    async with center.seat("198.51.100.7", "jan") as jan:
        assert (await _handshake(jan, "jan"))["patch"] == 403
    assert await _audit(services, 36)
    await services.exams.delete(center.admin, center.world.exam_id)
    assert await _audit(services, 36) == []  # addresses with user ids go with the exam, as its client events do
    assert [record["evt_code"] for record in await _audit(services)] == ["1010"]  # the profile's own history stays
    profile = await services.locations.profiles.get_profile(center.admin, center.profile_id)
    assert profile.name == "Lab building"
