"""Admin UI: testing-center locations and IP profiles: list, create, edit, hide/unhide, the rules check before
saving (every line-numbered error), versions and their diff, exams using a profile, and who may do what."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import func, select

from sebframe.core.accounts.actor import Actor
from sebframe.core.accounts.auth import actor_of
from sebframe.core.accounts.roles import Role
from sebframe.core.db.models import Exam, LocationAuditRecord, LocationProfile, LocationProfileVersion
from sebframe.core.location.schemas import LocationInput, PolicyInput, ProfileInput
from sebframe.core.services import Services
from tests.client_log_helpers import add_exam
from tests.conftest import Factory, sign_in

pytestmark = pytest.mark.anyio
HX = {"HX-Request": "true"}

GOOD_RULES = 'ALLOW 10.1.2.0/24 room="Lab 1"  # the lab\nBLOCK 10.1.2.66 seat=66'
# Errors on lines 2 and 5, a warning (W101) on line 3; line 4 is a comment.
BAD_RULES = "ALLOW 10.1.2.0/24\nALLOWED 10.0.0.1\nALLOW 192.168.1.5/24\n# the teacher\nALLOW 10.0.0.01\n"


@dataclass
class World:
    services: Services
    client: httpx.AsyncClient
    ia: Actor  # institutional administrator of ETH
    erika: Actor  # exam administrator of ETH
    sam: Actor  # exam supporter of ETH, supporter of Physics
    ursula: Actor  # exam administrator of UZH
    physics: Exam
    biology: Exam  # UZH's


@pytest.fixture
async def location_world(services: Services, factory: Factory, client: httpx.AsyncClient) -> World:
    """Location pages world: ETH's administrators and supporter, UZH's exam admin, ETH's Physics and UZH's Biology."""
    eth = await factory.institution("ETH")
    uzh = await factory.institution("UZH")
    ia = actor_of(await factory.user(eth, "ia", Role.INSTITUTIONAL_ADMIN))
    erika = actor_of(await factory.user(eth, "erika", Role.EXAM_ADMIN))
    sam = actor_of(await factory.user(eth, "sam", Role.EXAM_SUPPORTER))
    ursula = actor_of(await factory.user(uzh, "ursula", Role.EXAM_ADMIN))
    physics = await add_exam(services, eth.id, "Physics", supporter_ids=[sam.user_id])
    biology = await add_exam(services, uzh.id, "Biology")
    return World(services, client, ia, erika, sam, ursula, physics, biology)


def _text(page: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


async def _profile_count(services: Services) -> int:
    async with services.db.read() as session:
        return (await session.execute(select(func.count()).select_from(LocationProfile))).scalar_one()


def _form(**values: str) -> dict[str, str]:
    return {"name": "Lab", "location_id": "", "default_room": "", "help_text": "", "rules": GOOD_RULES, **values}


def _rule_issues(page: str) -> list[tuple[str, str]]:
    """(line, code) of each finding listed by a rules check, in order."""
    return re.findall(r'<tr class="issue-\w+" data-line="(\d+)" data-code="(\w+)">', page)


def _canonical(page: str) -> list[str]:
    return [html.unescape(rule) for rule in re.findall(r'<code class="rule action-\w+">([^<]*)</code>', page)]


async def test_menu_entries_by_role(location_world: World) -> None:
    await sign_in(location_world.client, "sam")
    home = (await location_world.client.get("/")).text
    assert 'href="/locations"' in home and 'href="/location-profiles"' in home
    assert 'href="/location-audit"' in home  # a supporter reads the records of the exams it supervises
    assert "Network Locations" in home
    await sign_in(location_world.client, "ia")
    home = (await location_world.client.get("/")).text
    assert 'href="/locations"' in home and 'href="/location-audit"' in home  # writes locations: profile changes


async def test_locations_create_edit_hide_unhide(location_world: World) -> None:
    client = location_world.client
    await sign_in(client, "erika")
    created = await client.post("/locations/new", data={"name": "HG E 19", "description": "Computer pool, 60 seats"})
    assert created.status_code == 303
    view = await client.get(created.headers["location"])
    assert "Location HG E 19 created." in view.text and "Computer pool, 60 seats" in view.text
    location_id = int(created.headers["location"].rsplit("/", 1)[1])
    duplicate = await client.post("/locations/new", data={"name": "hg e 19"})
    assert duplicate.status_code == 409 and "already exists" in duplicate.text and 'value="hg e 19"' in duplicate.text
    empty = await client.post("/locations/new", data={"name": ""})
    assert empty.status_code == 422 and "Please correct the marked fields" in empty.text
    edited = await client.post(f"/locations/{location_id}/edit", data={"name": "HG E 19 (ETH)", "description": ""})
    assert edited.status_code == 303
    listed = await client.get("/locations")
    assert "HG E 19 (ETH)" in listed.text and 'data-flags="visible writable"' in listed.text
    hidden = await client.post(f"/locations/{location_id}/hide", data={"next": "/locations"})
    assert hidden.status_code == 303 and hidden.headers["location"] == "/locations"
    assert "hidden: new IP profiles can no longer choose it" in (await client.get("/locations")).text  # flash
    assert f'href="/locations/{location_id}"' not in (await client.get("/locations")).text
    assert "HG E 19 (ETH)" in (await client.get("/locations?hidden=all")).text
    assert "HG E 19 (ETH)" in (await client.get("/locations?hidden=yes")).text
    # a hidden location is not offered to new profiles
    assert "HG E 19 (ETH)" not in (await client.get("/location-profiles/new")).text
    await client.post(f"/locations/{location_id}/unhide")
    assert "HG E 19 (ETH)" in (await client.get("/location-profiles/new")).text
    assert "HG E 19 (ETH)" in (await client.get("/locations?name=e+19")).text


async def test_bad_rules_show_every_error_and_save_nothing(location_world: World) -> None:
    await sign_in(location_world.client, "erika")
    response = await location_world.client.post("/location-profiles/new", data=_form(rules=BAD_RULES))
    assert response.status_code == 422
    assert _rule_issues(response.text) == [("2", "E001"), ("3", "W101"), ("5", "E004")]
    page = _text(response.text)
    assert "line 2: expected ALLOW or BLOCK, found 'ALLOWED'" in page
    assert "line 5: leading zeros are not allowed" in page and "The rules have 2 error(s); nothing was saved." in page
    assert "ALLOWED 10.0.0.1" in page  # the text is kept in the form to be fixed
    assert await _profile_count(location_world.services) == 0
    async with location_world.services.db.read() as session:
        assert (await session.execute(select(func.count()).select_from(LocationAuditRecord))).scalar_one() == 0
    # a missing name and bad rules: both reported at once
    both = await location_world.client.post("/location-profiles/new", data=_form(name="", rules=BAD_RULES))
    assert both.status_code == 422 and ("2", "E001") in _rule_issues(both.text) and 'class="field invalid"' in both.text
    assert await _profile_count(location_world.services) == 0


async def test_check_button_lists_findings_and_canonical_rules(location_world: World) -> None:
    await sign_in(location_world.client, "erika")
    form = await location_world.client.get("/location-profiles/new")
    assert 'hx-post="/location-profiles/check"' in form.text and "Notation" in form.text
    checked = await location_world.client.post("/location-profiles/check", headers=HX, data=_form(
        rules=BAD_RULES + "allow   10.0.0.0/8   room=Pool\r\nBLOCK *", default_room="Main"))
    assert checked.status_code == 200 and "<html" not in checked.text
    assert _rule_issues(checked.text) == [("2", "E001"), ("3", "W101"), ("5", "E004"), ("7", "I110")]
    assert _canonical(checked.text) == ["ALLOW 10.1.2.0/24", "ALLOW 192.168.1.0/24", "ALLOW 10.0.0.0/8 room=Pool",
                                        "BLOCK *"]
    assert "Check: 2 errors, 2 warnings, 4 rules" in checked.text
    assert 'default room">Main</span>' in checked.text
    good = await location_world.client.post("/location-profiles/check", headers=HX, data=_form())
    assert "The rules can be saved." in good.text and _rule_issues(good.text) == []
    # without JavaScript the button posts the form: the same findings in the page, nothing saved
    plain = await location_world.client.post("/location-profiles/new", data={**_form(rules=BAD_RULES), "check": "1"})
    assert plain.status_code == 200 and _rule_issues(plain.text) == [("2", "E001"), ("3", "W101"), ("5", "E004")]
    assert await _profile_count(location_world.services) == 0


async def test_versions_and_diff(location_world: World) -> None:
    client = location_world.client
    await sign_in(client, "erika")
    location = await location_world.services.locations.profiles.create_location(location_world.erika,
                                                                                 LocationInput(name="HG"))
    created = await client.post("/location-profiles/new", data=_form(
        name="HG Labs", location_id=str(location.id), default_room="HG E 19", help_text="Go to HG E 19.",
        rules="ALLOW 10.1.2.0/24\r\nBLOCK 10.1.2.66\r\n"))
    assert created.status_code == 303
    url = created.headers["location"]
    profile_id = int(url.rsplit("/", 1)[1])
    view = await client.get(url)
    assert "IP profile HG Labs created (version 1)." in view.text
    assert _canonical(view.text) == ["ALLOW 10.1.2.0/24", "BLOCK 10.1.2.66"]
    assert "Go to HG E 19." in view.text and f'href="/locations/{location.id}"' in view.text
    assert "No exam uses this profile." in view.text
    edit = await client.get(f"{url}/edit")
    assert "ALLOW 10.1.2.0/24\nBLOCK 10.1.2.66" in html.unescape(edit.text) and "W111" not in edit.text
    saved = await client.post(f"{url}/edit", data=_form(
        name="HG Labs", location_id=str(location.id), default_room="HG E 19", help_text="Go to HG E 19.",
        rules='ALLOW 10.1.2.0/24\nALLOW 10.1.3.0/24 room="HG E 21"\n'))
    assert saved.status_code == 303
    view = await client.get(url)
    assert "saved as version 2" in view.text
    versions = re.findall(rf'<a href="/location-profiles/{profile_id}/versions/(\d+)">\d+</a>', view.text)
    assert versions == ["2", "1"] and view.text.count("<td>erika</td>") == 2
    old = await client.get(f"{url}/versions/1")
    assert old.status_code == 200 and _canonical(old.text) == ["ALLOW 10.1.2.0/24", "BLOCK 10.1.2.66"]
    assert re.findall(r'<span class="diff-(add|remove)">([^<]*)</span>', old.text) == [
        ("remove", "-BLOCK 10.1.2.66"), ("add", '+ALLOW 10.1.3.0/24 room=&#34;HG E 21&#34;')]
    current = await client.get(f"{url}/versions/2")
    assert "Changes from Version" not in current.text and "current" in current.text
    assert (await client.get(f"{url}/versions/3")).status_code == 404
    # a change of the name only is no new version
    await client.post(f"{url}/edit", data=_form(name="HG Labs 2", location_id=str(location.id),
                                                default_room="HG E 19", help_text="Go to HG E 19.",
                                                rules='ALLOW 10.1.2.0/24\nALLOW 10.1.3.0/24 room="HG E 21"\n'))
    async with location_world.services.db.read() as session:
        assert (await session.execute(select(func.count()).select_from(LocationProfileVersion))).scalar_one() == 2
    listed = await client.get(f"/location-profiles?location={location.id}")
    assert "HG Labs 2" in listed.text and "HG E 19" in listed.text


async def test_hide_keeps_exam_usage_and_edit_warns_w111(location_world: World) -> None:
    client = location_world.client
    services = location_world.services
    profile = await services.locations.profiles.create_profile(location_world.erika,
                                                               ProfileInput(name="Lab", rules=GOOD_RULES))
    await services.locations.policies.set_policy(location_world.erika, location_world.physics.id,
                                                 PolicyInput(profile_ids=[profile.id]))
    await sign_in(client, "erika")
    view = await client.get(f"/location-profiles/{profile.id}")
    assert f'<a href="/exams/{location_world.physics.id}">Physics</a>' in view.text
    edit = await client.get(f"/location-profiles/{profile.id}/edit")
    assert "In use by 1 exam(s): preview who would be blocked before saving." in _text(edit.text)
    assert f'formaction="/location-profiles/{profile.id}/preview"' in edit.text
    checked = await client.post("/location-profiles/check", headers=HX,
                                data={**_form(), "profile_id": str(profile.id)})
    assert 'data-code="W111"' in checked.text and "in use by 1 exam(s)" in checked.text
    confirm = await client.get(f"/location-profiles/{profile.id}/hide")
    assert "Exams already using it keep being checked with it" in confirm.text and "Physics" in confirm.text
    hidden = await client.post(f"/location-profiles/{profile.id}/hide", data={"next": "/location-profiles"})
    assert hidden.status_code == 303
    assert "keep being checked" in (await client.get("/location-profiles")).text  # the flash
    assert (await services.locations.profiles.exams_using(location_world.erika, profile.id)
            == [location_world.physics.id])
    assert f'href="/location-profiles/{profile.id}"' not in (await client.get("/location-profiles")).text
    assert f'href="/location-profiles/{profile.id}"' in (await client.get("/location-profiles?hidden=all")).text
    view = await client.get(f"/location-profiles/{profile.id}")
    assert "Hidden" in view.text and "Physics" in view.text and "Unhide IP Profile" in view.text
    restriction = await services.locations.gate.restriction(location_world.physics.id)
    assert restriction is not None and [version.profile_id for version in restriction.profiles] == [profile.id]
    await client.post(f"/location-profiles/{profile.id}/unhide")
    assert not (await services.locations.profiles.get_profile(location_world.erika, profile.id)).hidden


async def test_exam_supporter_reads_but_cannot_write(location_world: World) -> None:
    services = location_world.services
    location = await services.locations.profiles.create_location(location_world.erika, LocationInput(name="HG"))
    profile = await services.locations.profiles.create_profile(location_world.erika,
                                                               ProfileInput(name="Lab", rules=GOOD_RULES))
    await sign_in(location_world.client, "sam")
    listed = await location_world.client.get("/location-profiles")
    assert listed.status_code == 200 and "Lab" in listed.text and 'data-flags="visible"' in listed.text
    assert "Add IP Profile" not in listed.text
    view = await location_world.client.get(f"/location-profiles/{profile.id}")
    assert view.status_code == 200 and "Edit IP Profile" not in view.text and "Hide IP Profile" not in view.text
    assert (await location_world.client.get(f"/location-profiles/{profile.id}/versions/1")).status_code == 200
    for url in ("/location-profiles/new", f"/location-profiles/{profile.id}/edit",
                f"/location-profiles/{profile.id}/hide", "/locations/new", f"/locations/{location.id}/edit"):
        assert (await location_world.client.get(url)).status_code == 403, url
    refused = await location_world.client.post("/location-profiles/new", data=_form(name="Mine"))
    assert refused.status_code == 403 and await _profile_count(services) == 1
    assert (await location_world.client.post(f"/location-profiles/{profile.id}/hide")).status_code == 403
    assert (await location_world.client.post(f"/locations/{location.id}/hide")).status_code == 403
    assert not (await services.locations.profiles.get_profile(location_world.erika, profile.id)).hidden


async def test_another_institutions_profiles_are_not_found(location_world: World) -> None:
    services = location_world.services
    theirs = await services.locations.profiles.create_profile(location_world.ursula, ProfileInput(name="UZH Lab",
                                                                                         rules=GOOD_RULES))
    their_location = await services.locations.profiles.create_location(location_world.ursula, LocationInput(name="UZH"))
    await sign_in(location_world.client, "erika")
    assert "UZH Lab" not in (await location_world.client.get("/location-profiles?hidden=all")).text
    for url in (f"/location-profiles/{theirs.id}", f"/location-profiles/{theirs.id}/edit",
                f"/location-profiles/{theirs.id}/versions/1", f"/location-profiles/{theirs.id}/preview",
                f"/location-profiles/{theirs.id}/hide", f"/locations/{their_location.id}",
                f"/locations/{their_location.id}/edit"):
        assert (await location_world.client.get(url)).status_code == 404, url
    assert (await location_world.client.post(f"/location-profiles/{theirs.id}/edit", data=_form())).status_code == 404
    assert (await location_world.client.post(f"/location-profiles/{theirs.id}/hide")).status_code == 404
    assert (await location_world.client.post(f"/locations/{their_location.id}/hide")).status_code == 404
    # their location cannot be chosen for our profile
    refused = await location_world.client.post("/location-profiles/new", data=_form(location_id=str(their_location.id)))
    assert refused.status_code == 422 and await _profile_count(services) == 1
