"""Admin UI: "who would be blocked" previews of an IP profile against the current connections of running exams,
and the "Where am I?" self-test (through a trusted proxy)."""

from __future__ import annotations

import html
import re

import httpx
import pytest

from sebframe.core.accounts.auth import actor_of
from sebframe.core.accounts.roles import Role
from sebframe.core.location.schemas import PolicyInput, ProfileInput
from sebframe.core.services import Services
from sebframe.settings import Settings
from tests.client_log_helpers import add_connection, add_exam
from tests.conftest import Factory, sign_in

pytestmark = pytest.mark.anyio

LAB = 'ALLOW 10.1.2.0/24 room="Lab 1"\nBLOCK 10.1.2.66'


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The browser (127.0.0.1 in these tests) talks to the server through a trusted proxy on 127.0.0.1."""
    return settings.model_copy(update={"trusted_proxies": ["127.0.0.1"]})


def _count(page: str, name: str) -> int:
    found = re.search(rf'<dd data-count="{name}">(\d+)</dd>', page)
    assert found, name
    return int(found.group(1))


def _rows(page: str) -> list[tuple[str, list[str]]]:
    """(class, cell texts) of each connection row of a preview, in order."""
    body = page.split('aria-label="Connections"', 1)[1].split("</tbody>", 1)[0]
    rows = []
    for kind, row in re.findall(r'<tr class="(changed|unchanged)" data-connection="\d+">(.*?)</tr>', body, re.S):
        cells = [" ".join(html.unescape(re.sub(r"<[^>]+>", " ", cell)).split())
                 for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        rows.append((kind, cells))
    return rows


async def test_preview_counts_and_changed_rows_first(services: Services, factory: Factory,
                                                     client: httpx.AsyncClient) -> None:
    eth = await factory.institution("ETH")
    uzh = await factory.institution("UZH")
    erika = actor_of(await factory.user(eth, "erika", Role.EXAM_ADMIN))
    physics = await add_exam(services, eth.id, "Physics")
    chemistry = await add_exam(services, eth.id, "Chemistry")
    biology = await add_exam(services, uzh.id, "Biology")
    for user, address in (("alice", "10.1.2.3"), ("bob", "10.1.2.77"), ("carol", "192.0.2.5")):
        await add_connection(services, physics, user, address=address)
    await add_connection(services, chemistry, "dave", address="10.1.2.66")
    profile = await services.locations.profiles.create_profile(erika, ProfileInput(
        name="Lab", rules='ALLOW 10.1.2.0/24 room="Lab 1"'))
    await services.locations.policies.set_policy(erika, physics.id, PolicyInput(profile_ids=[profile.id]))
    await sign_in(client, "erika")

    current = await client.get(f"/location-profiles/{profile.id}/preview")
    assert current.status_code == 200
    assert (_count(current.text, "newly_blocked"), _count(current.text, "newly_allowed"),
            _count(current.text, "blocked")) == (0, 0, 1)
    assert 'ALLOW 10.1.2.0/24 room="Lab 1"' in html.unescape(current.text.split('id="f-rules"')[1])  # pre-filled
    assert [cells[1] for _, cells in _rows(current.text)] == ["alice", "bob", "carol"]
    assert _rows(current.text)[0][1][3:6] == ["Allowed ALLOW_RULE", "Lab 1", "1:ALLOW 10.1.2.0/24 Lab"]
    assert _rows(current.text)[2][1][3] == "Blocked NO_MATCH"
    assert f'<option value="{biology.id}"' not in current.text and f'<option value="{chemistry.id}"' in current.text

    draft = await client.post(f"/location-profiles/{profile.id}/preview",
                              data={"rules": 'ALLOW 10.1.2.0/24 room="Lab 1"\r\nBLOCK 10.1.2.77 seat=77'})
    assert draft.status_code == 200
    assert (_count(draft.text, "newly_blocked"), _count(draft.text, "newly_allowed"),
            _count(draft.text, "blocked")) == (1, 0, 2)
    rows = _rows(draft.text)
    assert rows[0][0] == "changed" and rows[0][1][:3] == ["Physics", "bob", "10.1.2.77"]
    assert rows[0][1][3] == "Allowed ALLOW_RULE" and rows[0][1][6:] == [
        "Blocked BLOCK_RULE", "seat 77", "2:BLOCK 10.1.2.77 Lab"]
    assert [kind for kind, _ in rows] == ["changed", "unchanged", "unchanged"]

    everyone = await client.post(f"/location-profiles/{profile.id}/preview", data={"rules": "ALLOW *"})
    assert (_count(everyone.text, "newly_blocked"), _count(everyone.text, "newly_allowed"),
            _count(everyone.text, "blocked")) == (0, 1, 0)
    assert _rows(everyone.text)[0][1][1] == "carol"

    # a chosen exam without the profile: its connections as if the draft were added
    other = await client.post(f"/location-profiles/{profile.id}/preview",
                              data={"rules": LAB, "exam_id": str(chemistry.id)})
    assert (_count(other.text, "newly_blocked"), _count(other.text, "blocked")) == (1, 1)
    assert _rows(other.text)[0][1][:4] == ["Chemistry", "dave", "10.1.2.66", "Allowed UNRESTRICTED"]
    assert f'<option value="{chemistry.id}" selected>' in other.text

    broken = await client.post(f"/location-profiles/{profile.id}/preview", data={"rules": "ALLOW 10.1.2.0/33"})
    assert broken.status_code == 422 and 'data-code="E005"' in broken.text and "newly_blocked" not in broken.text
    hidden_exam = await client.post(f"/location-profiles/{profile.id}/preview",
                                    data={"rules": LAB, "exam_id": str(biology.id)})
    assert hidden_exam.status_code == 404
    # previewing saves nothing
    assert (await services.locations.profiles.get_profile(erika, profile.id)).version == 1


async def test_preview_after_an_edit_uses_the_new_version_at_once(services: Services, factory: Factory,
                                                                 client: httpx.AsyncClient) -> None:
    eth = await factory.institution("ETH")
    erika = actor_of(await factory.user(eth, "erika", Role.EXAM_ADMIN))
    physics = await add_exam(services, eth.id, "Physics")
    await add_connection(services, physics, "bob", address="10.1.2.66")
    profile = await services.locations.profiles.create_profile(erika, ProfileInput(name="Lab",
                                                                                   rules="ALLOW 10.1.2.0/24"))
    await services.locations.policies.set_policy(erika, physics.id, PolicyInput(profile_ids=[profile.id]))
    await sign_in(client, "erika")
    assert _count((await client.get(f"/location-profiles/{profile.id}/preview")).text, "blocked") == 0
    saved = await client.post(f"/location-profiles/{profile.id}/edit", data={
        "name": "Lab", "location_id": "", "default_room": "", "help_text": "", "rules": LAB})
    assert saved.status_code == 303
    # the saved version is "before" now, within the gate's one-second cache
    after = await client.get(f"/location-profiles/{profile.id}/preview")
    assert (_count(after.text, "newly_blocked"), _count(after.text, "blocked")) == (0, 1)
    assert _rows(after.text)[0][1][3] == "Blocked BLOCK_RULE"


async def test_where_am_i_shows_the_resolved_address_and_its_rooms(services: Services, factory: Factory,
                                                                  client: httpx.AsyncClient) -> None:
    eth = await factory.institution("ETH")
    erika = actor_of(await factory.user(eth, "erika", Role.EXAM_ADMIN))
    await factory.user(eth, "sam", Role.EXAM_SUPPORTER)
    await services.locations.profiles.create_profile(erika, ProfileInput(
        name="Lab", rules='ALLOW 10.1.2.0/24 room="Lab 1"\nBLOCK 10.1.2.66 seat=66', default_room="HG"))
    await services.locations.profiles.create_profile(erika, ProfileInput(name="Local",
                                                                         rules="ALLOW 127.0.0.0/8 seat=1"))
    await sign_in(client, "sam")  # proctors use it too

    direct = await client.get("/locations/where-am-i")
    assert direct.status_code == 200
    assert '<dd data-field="peer"><code>127.0.0.1</code>' in direct.text
    assert '<dd data-field="client"><strong><code>127.0.0.1</code>' in direct.text
    assert "<code>127.0.0.1/32</code>" in direct.text  # the trusted proxies
    hits = direct.text.split('aria-label="Profiles of your address"', 1)[1].split("</table>", 1)[0]
    assert "Local" in hits and "1:ALLOW 127.0.0.0/8" in hits and "Lab" not in hits

    # through the proxy: the right-most untrusted entry is the client (the forged left entry is not)
    proxied = await client.get("/locations/where-am-i", headers={"X-Forwarded-For": "10.1.2.3, 10.1.2.66"})
    assert '<dd data-field="client"><strong><code>10.1.2.66</code>' in proxied.text
    assert "<code>10.1.2.3, 10.1.2.66</code>" in proxied.text
    hits = proxied.text.split('aria-label="Profiles of your address"', 1)[1].split("</table>", 1)[0]
    assert "2:BLOCK 10.1.2.66" in hits and "decision-block" in hits and "HG" in hits and ">66<" in hits

    broken = await client.get("/locations/where-am-i", headers={"X-Forwarded-For": "unknown"})
    assert "unresolvable: malformed forwarded entry" in html.unescape(broken.text)
    assert "refused by every exam restricted to a location" in broken.text

    other = await client.get("/locations/where-am-i?address=10.1.2.9")
    hits = other.text.split('aria-label="Profiles of 10.1.2.9"', 1)[1].split("</table>", 1)[0]
    assert "1:ALLOW 10.1.2.0/24" in hits and "Lab 1" in hits
    nowhere = await client.get("/locations/where-am-i?address=2001:db8::1")
    assert "No IP profile has a rule for this address" in nowhere.text
    bad = await client.get("/locations/where-am-i?address=lab.example.edu")
    assert bad.status_code == 422 and "give an IPv4 or IPv6 address" in bad.text


async def test_where_am_i_ignores_forwarding_from_an_untrusted_peer(services: Services, factory: Factory,
                                                                   app: object) -> None:
    eth = await factory.institution("ETH")
    await factory.user(eth, "erika", Role.EXAM_ADMIN)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 5000))  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as outside:
        await sign_in(outside, "erika")
        page = await outside.get("/locations/where-am-i", headers={"X-Forwarded-For": "10.1.2.3"})
    assert '<dd data-field="client"><strong><code>203.0.113.9</code>' in page.text
    assert "which is not a trusted proxy: the header was ignored" in page.text
