"""The proctoring screens: the exam's settings form (test on save, secrets never shown, locked with reset), the
monitoring page's rooms, town-hall and broadcast, one-to-one from the connection, and the proctor's window."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import update

from sebframe.core.accounts.passwords import hash_password
from sebframe.core.db.models import UserAccount
from sebframe.core.services import Services
from sebframe.testing.fakes.jitsi import FakeJitsi
from tests.conftest import PASSWORD, sign_in
from tests.proctoring_helpers import APP_SECRET, jitsi, services, supervise, user
from tests.seb_client import SebClient, SebWorld

pytestmark = pytest.mark.anyio
__all__ = ["jitsi", "services"]  # fixtures


@pytest.fixture
async def exam_with_logins(services: Services, seb_world: SebWorld) -> SebWorld:
    """``seb_world`` whose demo accounts sign in with ``PASSWORD`` (the demo gives them random passwords)."""
    async with services.db.transaction() as session:
        await session.execute(update(UserAccount).where(UserAccount.username.like("demo-%"))
                              .values(password_hash=hash_password(PASSWORD)))
    return seb_world


def _form(jitsi: FakeJitsi, **changes: str) -> dict[str, object]:
    return {"enabled": "1", "service_type": "JITSI_MEET", "server_url": jitsi.url, "collecting_room_size": "20",
            "features[]": ["TOWN_HALL", "ONE_TO_ONE", "BROADCAST", "ENABLE_CHAT"], "settings.deployment": "self_hosted",
            "settings.app_id": "sebframe", "settings.app_secret": APP_SECRET} | changes


async def test_settings_form_tests_on_save_and_never_shows_the_secret(
        client: httpx.AsyncClient, services: Services, exam_with_logins: SebWorld, jitsi: FakeJitsi) -> None:
    await sign_in(client, "demo-supporter")
    url = f"/exams/{exam_with_logins.exam_id}/proctoring"
    page = await client.get(url)
    assert page.status_code == 200 and "Jitsi Meet" in page.text and 'name="settings.app_secret"' in page.text
    # the exam's "Proctoring" action
    assert f'href="{url}"' in (await client.get(f"/exams/{exam_with_logins.exam_id}")).text

    jitsi.status = 404
    failed = await client.post(url, data=_form(jitsi))
    assert failed.status_code == 200 and "Saved, but not enabled" in failed.text and "404" in failed.text
    jitsi.status = 200
    saved = await client.post(url, data=_form(jitsi, **{"settings.app_secret": ""}))  # empty: keeps the stored one
    assert saved.status_code == 303
    page = await client.get(url)
    assert "connection test passed" in page.text and APP_SECRET not in page.text
    assert "leave the field empty to keep it" in page.text

    bad = await client.post(url, data=_form(jitsi, server_url="ftp://x"))
    assert bad.status_code == 422 and "meeting server" in bad.text


async def test_rooms_window_town_hall_and_reset(client: httpx.AsyncClient, services: Services,
                                               exam_with_logins: SebWorld, jitsi: FakeJitsi) -> None:
    await sign_in(client, "demo-supporter")
    assert (await client.post(f"/exams/{exam_with_logins.exam_id}/proctoring", data=_form(jitsi))).status_code == 303
    alice = SebClient(client, exam_with_logins, name="alice")
    await alice.connect(user="alice")
    await supervise(services)

    panel = (await client.get(f"/monitoring/{exam_with_logins.exam_id}/proctoring")).text
    assert "Room 1 (1 / 20)" in panel and "Open Town-hall" in panel and "alice" in panel
    monitoring = (await client.get(f"/monitoring/{exam_with_logins.exam_id}")).text
    assert f'hx-get="/monitoring/{exam_with_logins.exam_id}/proctoring"' in monitoring
    room_href = panel.split('href="/proctoring/', 1)[1].split('"', 1)[0]

    window = await client.get(f"/proctoring/{room_href}")
    assert window.status_code == 200
    assert f'<script src="{jitsi.url}/external_api.js"></script>' in window.text
    assert '<script src="/proctoring/assets/JITSI_MEET/jitsi_window.js"></script>' in window.text
    policy = window.headers["content-security-policy"]
    assert f"script-src 'self' {jitsi.url}" in policy and "'unsafe-inline'" not in policy.split("style-src")[0]
    assert window.headers["cache-control"] == "no-store"
    script = await client.get("/proctoring/assets/JITSI_MEET/jitsi_window.js")
    assert script.status_code == 200 and "JitsiMeetExternalAPI" in script.text
    assert (await client.get("/proctoring/assets/JITSI_MEET/..%2Fplugin.py")).status_code == 404

    connection_id = int(panel.split(f'/monitoring/{exam_with_logins.exam_id}/connections/', 1)[1].split('"', 1)[0])
    detail = (await client.get(f"/monitoring/{exam_with_logins.exam_id}/connections/{connection_id}")).text
    assert f'action="/monitoring/{exam_with_logins.exam_id}/proctoring/one-to-one"' in detail
    one = await client.post(f"/monitoring/{exam_with_logins.exam_id}/proctoring/one-to-one",
                            data={"connection_ids[]": connection_id})
    assert one.status_code == 303 and one.headers["location"].endswith("/window")
    assert (await alice.ping()).json()["attributes"]["roomType"] == "breakout"
    one_room = one.headers["location"].split("/rooms/", 1)[1].split("/", 1)[0]
    closed = await client.post(f"/monitoring/{exam_with_logins.exam_id}/proctoring/rooms/{one_room}/close")
    assert closed.status_code == 303

    opened = await client.post(f"/monitoring/{exam_with_logins.exam_id}/proctoring/town-hall", data={"action": "open"})
    assert opened.status_code == 303
    assert "Close Town-hall" in (await client.get(f"/monitoring/{exam_with_logins.exam_id}/proctoring")).text
    # alice still holds the confirmation of the withdrawn one-to-one JOIN: it must not confirm the new JOIN
    join = (await alice.ping()).json()
    assert join["attributes"]["roomType"] == "townhall"

    locked = (await client.get(f"/exams/{exam_with_logins.exam_id}/proctoring")).text
    assert "the settings are locked" in locked and "Reset Rooms" in locked
    reset = await client.post(f"/exams/{exam_with_logins.exam_id}/proctoring/reset", data={})
    assert reset.status_code == 303
    assert "Reset Rooms" not in (await client.get(f"/exams/{exam_with_logins.exam_id}/proctoring")).text


async def test_only_those_who_supervise_get_a_window(client: httpx.AsyncClient, services: Services,
                                                    exam_with_logins: SebWorld, jitsi: FakeJitsi) -> None:
    await sign_in(client, "demo-supporter")
    assert (await client.post(f"/exams/{exam_with_logins.exam_id}/proctoring", data=_form(jitsi))).status_code == 303
    alice = SebClient(client, exam_with_logins, name="alice")
    await alice.connect(user="alice")
    await supervise(services)
    state = await services.proctoring.service.state(await user(services, "demo-supporter"), exam_with_logins.exam_id)
    room_id = state.rooms[0].id
    await client.get("/logout")
    await sign_in(client, "demo-institution-admin")  # reads the exam, does not supervise it
    panel = (await client.get(f"/monitoring/{exam_with_logins.exam_id}/proctoring")).text
    assert "Room 1 (1 / 20)" in panel and "/window" not in panel and "Town-hall" not in panel
    refused = await client.get(f"/proctoring/{exam_with_logins.exam_id}/rooms/{room_id}/window")
    assert refused.status_code == 403 and "jwt" not in refused.text


async def test_the_connection_offers_one_to_one_only_when_the_exam_has_it(
        client: httpx.AsyncClient, services: Services, exam_with_logins: SebWorld, jitsi: FakeJitsi) -> None:
    await sign_in(client, "demo-supporter")
    alice = SebClient(client, exam_with_logins, name="alice")
    await alice.connect(user="alice")
    connection = services.sessions.runtime.connections[alice.connection_token or ""]
    detail_url = f"/monitoring/{exam_with_logins.exam_id}/connections/{connection.id}"
    one_to_one = f'action="/monitoring/{exam_with_logins.exam_id}/proctoring/one-to-one"'
    assert one_to_one not in (await client.get(detail_url)).text  # no proctoring at all

    without = _form(jitsi, **{"features[]": ["TOWN_HALL"]})
    assert (await client.post(f"/exams/{exam_with_logins.exam_id}/proctoring", data=without)).status_code == 303
    assert one_to_one not in (await client.get(detail_url)).text  # proctoring without one-to-one

    off = await client.post(f"/exams/{exam_with_logins.exam_id}/proctoring", data=_form(jitsi, enabled=""))
    assert off.status_code == 303
    assert one_to_one not in (await client.get(detail_url)).text  # one-to-one, but proctoring is off

    assert (await client.post(f"/exams/{exam_with_logins.exam_id}/proctoring", data=_form(jitsi))).status_code == 303
    assert one_to_one in (await client.get(detail_url)).text
