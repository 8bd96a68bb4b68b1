"""Admin UI: the location restriction on the monitoring screens. A real SEB client outside the exam's IP profile
is refused at PATCH /handshake and shows up in the "Blocked: location" lane with its approval code; a proctor's
override from the "Allow" dialog lets the same client in; revoking re-checks it; the heat map's Location column
shows the room and seat of an admitted client (in the page and in the live stream); the connection detail view
shows the location snapshot; the participation CSV has the room and seat."""

from __future__ import annotations

import csv
import io
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from sebframe.core.accounts.actor import Actor
from sebframe.core.accounts.auth import actor_of
from sebframe.core.accounts.passwords import hash_password
from sebframe.core.accounts.roles import Role
from sebframe.core.db.models import ClientConnection, Institution, LocationOverride, UserAccount
from sebframe.core.location.audit_format import parse_line
from sebframe.core.location.schemas import PolicyInput, PolicyMode, ProfileInput
from sebframe.core.services import Services
from sebframe.settings import Settings
from tests.conftest import PASSWORD, Factory, sign_in
from tests.exam_helpers import exam_services
from tests.seb_client import SebClient, SebWorld
from tests.web.test_monitoring_ui import first_stream_bytes, row_of

pytestmark = pytest.mark.anyio
HX = {"HX-Request": "true"}
ROOM_A = "10.1.2."
RULES = 'ALLOW 10.1.2.7 room="Room A" seat=7\nALLOW 10.1.2.0/24 room="Room A"\n'
OUTSIDE = "192.0.2.50"


@pytest.fixture
async def services(settings: Settings) -> AsyncIterator[Services]:
    async with exam_services(settings) as services:  # with the indicator plugin, as monitoring runs
        yield services


@dataclass
class Center:
    """The demo exam restricted to Room A (10.1.2.0/24); SEB clients from chosen addresses."""

    services: Services
    app: Any
    client: httpx.AsyncClient
    world: SebWorld
    exam_admin: Actor
    profile_id: int
    offset: float = 0.0  # added to the location gate's clock

    def a_second_later(self) -> None:
        self.offset += 1.5

    @property
    def url(self) -> str:
        return f"/monitoring/{self.world.exam_id}"

    def seb_at(self, address: str, name: str) -> tuple[httpx.AsyncClient, SebClient]:
        http = httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app, client=(address, 50000)),
                                 base_url="http://testserver")
        return http, SebClient(http, self.world, name=name)

    async def connection_id(self, seb: SebClient) -> int:
        async with self.services.db.read() as session:
            return (await session.execute(select(ClientConnection.id).where(
                ClientConnection.connection_token == seb.connection_token))).scalar_one()

    async def blocked(self, seb: SebClient, user: str) -> str:
        """The SEB client's handshake up to the refusal at PATCH; the approval code it shows."""
        assert (await seb.fetch_token()).status_code == 200
        created = await seb.create()
        assert created.status_code == 200, created.text
        refused = await seb.select_exam(self.world.exam_id, user)
        assert refused.status_code == 403, refused.text
        body = refused.json()
        assert body["error"] == "location_not_allowed"
        return str(body["approval_code"])


@pytest.fixture
async def center(services: Services, app: Any, client: httpx.AsyncClient, seb_world: SebWorld) -> Center:
    async with services.db.transaction() as session:
        await session.execute(update(UserAccount).where(UserAccount.username.like("demo-%"))
                              .values(password_hash=hash_password(PASSWORD)))
    async with services.db.read() as session:
        admin = (await session.execute(select(UserAccount).where(UserAccount.username == "demo-exam-admin"))
                 ).scalar_one()
    exam_admin = actor_of(admin)
    locations = services.locations
    profile = await locations.profiles.create_profile(exam_admin, ProfileInput(
        name="Room A", rules=RULES, help_text="Connect from Room A."))
    await locations.policies.set_policy(exam_admin, seb_world.exam_id, PolicyInput(profile_ids=[profile.id]))
    center = Center(services, app, client, seb_world, exam_admin, profile.id)
    locations.gate.clock = lambda: time.monotonic() + center.offset
    return center


def lane_rows(html: str) -> list[str]:
    return re.findall(r'<tr data-blocked="\d+">(.*?)</tr>', html, re.S)


def override_rows(html: str) -> list[str]:
    return re.findall(r'<tr data-override="\d+" class="override-(\w+)">', html)


async def test_a_blocked_client_is_listed_with_its_approval_code(center: Center) -> None:
    http, seb = center.seb_at(OUTSIDE, "outsider")
    async with http:
        code = await center.blocked(seb, "olga")
    await sign_in(center.client, "demo-supporter")
    page = (await center.client.get(center.url)).text
    assert "Blocked: Location" in page and 'id="approval-code-search"' in page
    rows = lane_rows(page)
    assert len(rows) == 1
    row = rows[0]
    assert '<code class="approval-code"' in row and f">{code}</code>" in row
    assert "olga" in row and "PC-outsider" in row and OUTSIDE in row and "unknown network" in row
    assert "is in no admitted location" in row and "Blocked" in row
    assert f"/location/allow?connection_id={await center.connection_id(seb)}" in row  # the Allow button
    assert '<th scope="col" title="Room and seat' in page  # the Location column
    # The lane polls itself; the search by approval code (any case) finds it, a wrong code does not.
    lane = await center.client.get(center.url + "/location", params={"code": code.lower()}, headers=HX)
    assert lane.status_code == 200 and lane.text.lstrip().startswith('<div id="location-lane"')
    # The polled lane's own hx-swap (outerHTML) must not pass to its Allow buttons: their dialog goes into the
    # dialog slot, which must stay for the dialog's answer.
    assert 'hx-swap="outerHTML" hx-disinherit="*"' in lane.text and 'hx-target="#dialog-slot"' in lane.text
    assert len(lane_rows(lane.text)) == 1
    wrong = await center.client.get(center.url + "/location", params={"code": "ZZZZZZ"}, headers=HX)
    assert lane_rows(wrong.text) == [] and "No SEB connection has approval code ZZZZZZ." in wrong.text
    # Without JavaScript: a page of its own.
    full = await center.client.get(center.url + "/location", params={"code": code})
    assert full.status_code == 200 and "<h1>Blocked: Location in" in full.text and len(lane_rows(full.text)) == 1


async def test_an_override_from_the_dialog_lets_the_client_in_and_revoking_rechecks_it(center: Center) -> None:
    http, seb = center.seb_at(OUTSIDE, "outsider")
    async with http:
        await center.blocked(seb, "olga")
        connection_id = await center.connection_id(seb)
        await sign_in(center.client, "demo-supporter")  # assigned to the exam: supervises it
        dialog_url = center.url + f"/location/allow?connection_id={connection_id}"
        dialog = await center.client.get(dialog_url, headers=HX)
        assert dialog.status_code == 200
        assert dialog.text.lstrip().startswith('<dialog class="modal allow-dialog"') and "data-modal" in dialog.text
        assert 'value="CONNECTION" checked' in dialog.text and 'name="expires_at"' in dialog.text
        form = {"connection_id": str(connection_id), "scope": "CONNECTION", "reason": "  ", "expires_at": ""}
        refused = await center.client.post(center.url + "/location/allow", data=form, headers=HX)
        assert refused.status_code == 422 and "give a reason" in refused.text
        bad_time = await center.client.post(center.url + "/location/allow", headers=HX,
                                            data={**form, "reason": "ID checked", "expires_at": "tomorrow"})
        assert bad_time.status_code == 422 and "2026-11-22T09:00" in bad_time.text
        assert not (await seb.select_exam(center.world.exam_id, "olga")).status_code == 200  # still blocked

        allowed = await center.client.post(center.url + "/location/allow", headers=HX,
                                           data={**form, "reason": "ID checked, room B network down"})
        assert allowed.status_code == 200, allowed.text
        assert allowed.headers["HX-Retarget"] == "#dialog-slot"
        assert 'id="location-lane"' in allowed.text and 'hx-swap-oob="true"' in allowed.text
        assert "Allowed olga (connection)" in allowed.text and "Retry in SEB" in allowed.text
        assert lane_rows(allowed.text) == []  # no longer blocked
        assert override_rows(allowed.text) == ["active"]
        # The student presses Retry: the same client now passes the handshake.
        assert (await seb.select_exam(center.world.exam_id, "olga")).status_code == 200
        assert (await seb.exam_config()).status_code == 200
        assert (await seb.establish()).status_code == 200
        page = (await center.client.get(center.url)).text
        assert "override" in row_of(page, "olga")  # the Location cell

        async with center.services.db.read() as session:
            override = (await session.execute(select(LocationOverride))).scalar_one()
        assert (override.created_by, override.scope, override.address) == ("demo-supporter", "CONNECTION", OUTSIDE)
        revoked = await center.client.post(center.url + f"/location/overrides/{override.id}/revoke",
                                           data={"reason": "wrong student", "next": center.url})
        assert revoked.status_code == 303 and revoked.headers["location"] == center.url
        center.a_second_later()  # the Location column reads the gate's seats, at most a second old
        page = (await center.client.get(center.url)).text
        assert "revoked" in page and override_rows(page) == ["revoked"]
        # Re-checked at once: outside, so a violation, marked in the Location column and in the lane ...
        cell = re.search(r'<td class="location denied"[^>]*>([^<]*)</td>', row_of(page, "olga"))
        assert cell and cell.group(1) == "unknown network (moved outside)"
        assert len(lane_rows(page)) == 1
        # ... and shown even when active connections without incident are hidden.
        assert "olga" in (await center.client.get(center.url + "?hide=active")).text.split('id="heatmap-rows"')[1]


async def test_an_admitted_client_shows_its_room_and_seat(center: Center) -> None:
    http, seb = center.seb_at(ROOM_A + "7", "pool-7")
    async with http:
        await seb.connect(user="bob")
    await sign_in(center.client, "demo-exam-admin")
    page = (await center.client.get(center.url)).text
    row = row_of(page, "bob")
    assert '<td class="location">Room A, seat 7</td>' in row
    assert "No SEB connection is blocked or outside." in page
    # The live stream carries the cell too (the page's stream URL keeps the column).
    assert f'sse-connect="{center.url}/stream?location=1"' in page
    status, body = await first_stream_bytes(center.app, center.url + "/stream?location=1", center.client.cookies,
                                            wanted=b"event: filters")
    assert status == 200 and "Room A, seat 7" in body.decode()
    # The connection detail view: the location snapshot.
    detail = (await center.client.get(center.url + f"/connections/{await center.connection_id(seb)}")).text
    snapshot = detail.split('id="connection-location"', 1)[1].split("</section>", 1)[0]
    assert "Admitted" in snapshot and "Room A" in snapshot and ">7<" in snapshot
    assert "ALLOW 10.1.2.7" in snapshot and f'href="/location-profiles/{center.profile_id}">Room A</a>' in snapshot
    assert "version 1" in snapshot and ROOM_A + "7" in snapshot
    # The participation report and its CSV: room and seat.
    report = (await center.client.get(f"/exams/{center.world.exam_id}/participation")).text
    assert '<td class="room">Room A</td>' in report and '<td class="seat">7</td>' in report
    exported = await center.client.get(f"/exams/{center.world.exam_id}/participation.csv")
    rows = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig"), newline="")))
    assert [(row["User"], row["IP Address"], row["Room"], row["Seat"]) for row in rows] == [
        ("bob", ROOM_A + "7", "Room A", "7")]


async def test_log_only_trial_marks_would_be_refused_clients(center: Center) -> None:
    await center.services.locations.policies.set_policy(center.exam_admin, center.world.exam_id, PolicyInput(
        profile_ids=[center.profile_id], mode=PolicyMode.LOG_ONLY))
    http, seb = center.seb_at(OUTSIDE, "trial")
    async with http:
        await seb.connect(user="tom")  # not refused
    await sign_in(center.client, "demo-supporter")
    page = (await center.client.get(center.url)).text
    assert "Log-only trial" in page
    assert re.search(r'<td class="location warn"[^>]*>unknown network \(would be blocked\)</td>', row_of(page, "tom"))
    assert len(lane_rows(page)) == 1 and "Would be blocked (trial)" in page
    assert "/location/allow?" not in page  # nobody is refused: nothing to allow


async def test_an_exam_without_restriction_has_no_location_column(center: Center) -> None:
    await center.services.locations.policies.set_policy(center.exam_admin, center.world.exam_id, PolicyInput())
    seb = SebClient(center.client, center.world, name="free")
    await seb.connect(user="fred")  # from 127.0.0.1: not checked
    await sign_in(center.client, "demo-supporter")
    page = (await center.client.get(center.url)).text
    assert "Blocked: Location" not in page and 'title="Room and seat' not in page
    assert 'class="location' not in page and "?location=1" not in page
    detail = (await center.client.get(center.url + f"/connections/{await center.connection_id(seb)}")).text
    assert 'id="connection-location"' not in detail


async def test_who_may_see_and_allow(center: Center, factory: Factory) -> None:
    http, seb = center.seb_at(OUTSIDE, "outsider")
    async with http:
        await center.blocked(seb, "olga")
    connection_id = await center.connection_id(seb)
    form = {"connection_id": str(connection_id), "scope": "USER", "reason": "ok"}
    # An institutional administrator watches (reads the lane) but does not supervise.
    await sign_in(center.client, "demo-institution-admin")
    page = (await center.client.get(center.url)).text
    assert len(lane_rows(page)) == 1 and "/location/allow?" not in page
    assert (await center.client.get(center.url + f"/location/allow?connection_id={connection_id}")).status_code == 403
    assert (await center.client.post(center.url + "/location/allow", data=form)).status_code == 403
    # Another institution's exam administrator and an unassigned supporter do not find the exam.
    async with center.services.db.read() as session:
        demo = await session.get(Institution, center.world.institution_id)
    assert demo is not None
    await factory.user(await factory.institution("UZH"), "uzh-admin", Role.EXAM_ADMIN)
    await factory.user(demo, "stranger", Role.EXAM_SUPPORTER)
    for username in ("uzh-admin", "stranger"):
        await sign_in(center.client, username)
        for path in ("/location", f"/location/allow?connection_id={connection_id}"):
            assert (await center.client.get(center.url + path)).status_code == 404, (username, path)
        assert (await center.client.post(center.url + "/location/allow", data=form)).status_code == 404
    # The assigned supporter allows the user from any address; a connection not of this exam is not found.
    await sign_in(center.client, "demo-supporter")
    allowed = await center.client.post(center.url + "/location/allow", data={**form, "next": center.url})
    assert allowed.status_code == 303 and allowed.headers["location"] == center.url
    assert (await center.client.get(center.url + "/location/allow?connection_id=999999")).status_code == 404
    assert (await center.client.get(center.url + "/location/allow?connection_id=x")).status_code == 404
    async with center.services.db.read() as session:
        override = (await session.execute(select(LocationOverride))).scalar_one()
    assert (override.scope, override.user_session_id) == ("USER", "olga")
    # The exam administrator of another institution cannot revoke it either.
    await sign_in(center.client, "uzh-admin")
    assert (await center.client.post(center.url + f"/location/overrides/{override.id}/revoke")).status_code == 404



async def test_the_whole_story_in_monitoring_and_the_audit_export(center: Center) -> None:
    """Issue #7's end-to-end case through the Exam API: a client from an allowed room connects, one from
    outside is refused without an exam configuration, a proctor's override lets it in, a later move is
    logged as code 37; monitoring and the exam's audit export show all of it."""
    inside_http, inside = center.seb_at(ROOM_A + "7", "pool-7")
    outside_http, outside = center.seb_at(OUTSIDE, "laptop")
    async with inside_http, outside_http:
        await inside.connect(user="bob")
        code = await center.blocked(outside, "olga")
        config = await outside.exam_config(center.world.exam_id)
        assert config.status_code == 403 and b"<plist" not in config.content
        await sign_in(center.client, "demo-supporter")
        allowed = await center.client.post(center.url + "/location/allow", headers=HX, data={
            "connection_id": str(await center.connection_id(outside)), "scope": "CONNECTION",
            "reason": f"approval code {code} read out, ID checked", "expires_at": ""})
        assert allowed.status_code == 200, allowed.text
        assert (await outside.select_exam(center.world.exam_id, "olga")).status_code == 200
        assert (await outside.exam_config()).status_code == 200
        assert (await outside.establish()).status_code == 200
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=center.app, client=("198.51.100.9", 1)),
                                     base_url="http://testserver") as moved_http:
            outside.http = moved_http
            assert (await outside.ping()).status_code in (200, 204)
            await center.services.sessions.runtime.settle()
        center.a_second_later()
        page = (await center.client.get(center.url)).text
    assert re.search(r'<td class="location[^"]*"[^>]*>Room A, seat 7</td>', row_of(page, "bob"))
    assert re.search(r'<td class="location denied"[^>]*>unknown network \(moved outside\)</td>', row_of(page, "olga"))
    await sign_in(center.client, "demo-exam-admin")
    export = await center.client.get("/location-audit/export",
                                     params={"exam_id": center.world.exam_id, "format": "log"})
    assert export.status_code == 200
    lines = [parse_line(line) for line in export.text.splitlines()]
    story = [(line["evt_code"], line["src_ip"]) for line in lines if line["evt_code"] in ("1001", "36", "38", "37")]
    assert story[0] == ("1001", ROOM_A + "7")
    assert ("36", OUTSIDE) in story and story.index(("36", OUTSIDE)) < [code for code, _ in story].index("38")
    assert story[-1] == ("37", "198.51.100.9")
    assert all(outside.connection_token not in line for line in export.text.splitlines())
