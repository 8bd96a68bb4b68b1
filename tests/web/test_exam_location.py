"""Admin UI: an exam's location restriction: the card on the exam view, the settings form (IP profiles, mode,
hiding, reaction to a violation; hidden profiles only while attached), the emergency switch (suspend and resume
with a reason), the planned exceptions (users and groups, times in the user's zone) and who may do what."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import select, update

from sebframe.core.accounts.actor import Actor
from sebframe.core.accounts.auth import actor_of
from sebframe.core.accounts.passwords import hash_password
from sebframe.core.accounts.roles import Role
from sebframe.core.db.models import Institution, LocationException, UserAccount
from sebframe.core.location.exam_location import ExamPolicy
from sebframe.core.location.schemas import PolicyInput, PolicyMode, ProfileInput, ViolationAction
from sebframe.core.services import Services
from tests.conftest import PASSWORD, Factory, sign_in
from tests.seb_client import SebWorld

pytestmark = pytest.mark.anyio


@dataclass
class Setting:
    services: Services
    client: httpx.AsyncClient
    world: SebWorld
    exam_admin: Actor
    room_a: int  # IP profile ids
    room_b: int
    old_pool: int  # hidden

    @property
    def exam_url(self) -> str:
        return f"/exams/{self.world.exam_id}"

    async def policy(self) -> ExamPolicy:
        return await self.services.locations.policies.policy(self.exam_admin, self.world.exam_id)


@pytest.fixture
async def setting(services: Services, client: httpx.AsyncClient, factory: Factory, seb_world: SebWorld) -> Setting:
    async with services.db.transaction() as session:
        await session.execute(update(UserAccount).where(UserAccount.username.like("demo-%"))
                              .values(password_hash=hash_password(PASSWORD), timezone="Europe/Zurich"))
    async with services.db.read() as session:
        exam_admin = actor_of((await session.execute(select(UserAccount).where(
            UserAccount.username == "demo-exam-admin"))).scalar_one())
    profiles = services.locations.profiles
    ids = []
    for name, rules in (("Room A", "ALLOW 10.1.2.0/24 room=A"), ("Room B", "ALLOW 10.1.3.0/24 room=B"),
                        ("Old Pool", "ALLOW 10.9.0.0/16")):
        ids.append((await profiles.create_profile(exam_admin, ProfileInput(name=name, rules=rules))).id)
    await profiles.set_profile_hidden(exam_admin, ids[2], True)
    return Setting(services, client, seb_world, exam_admin, *ids)


def checked(html: str) -> list[str]:
    return re.findall(r'name="profile_ids\[\]" value="(\d+)" checked', html)


def offered(html: str) -> list[str]:
    return re.findall(r'name="profile_ids\[\]" value="\d+"[^>]*> ([^<]+)</label>', html)


async def test_the_card_on_the_exam_view(setting: Setting) -> None:
    await sign_in(setting.client, "demo-exam-admin")
    html = (await setting.client.get(setting.exam_url)).text
    card = html.split('id="location-card"', 1)[1].split("</section>", 1)[0]
    assert "Location Restriction" in html and "Not restricted" in card and "0 exceptions" in card
    assert f'href="{setting.exam_url}/location"' in card and f'href="{setting.exam_url}/location/exceptions"' in card
    for name in ("log", "jsonl", "csv"):
        assert f'href="/location-audit/export?exam_id={setting.world.exam_id}&amp;format={name}"' in card
    assert 'id="location-switch"' not in card  # nothing to suspend without profiles


async def test_settings_save(setting: Setting) -> None:
    await sign_in(setting.client, "demo-exam-admin")
    url = setting.exam_url + "/location"
    form = await setting.client.get(url)
    assert form.status_code == 200
    assert offered(form.text) == ["Room A", "Room B"] and checked(form.text) == []  # hidden: not offered
    saved = await setting.client.post(url, data={"profile_ids[]": [str(setting.room_a), str(setting.room_b)],
                                                 "mode": "LOG_ONLY", "hide_when_outside": "1",
                                                 "on_violation": "QUIT"})
    assert saved.status_code == 303 and saved.headers["location"] == setting.exam_url
    policy = await setting.policy()
    assert [profile.name for profile in policy.profiles] == ["Room A", "Room B"]
    assert (policy.mode, policy.hide_when_outside, policy.on_violation) == (
        PolicyMode.LOG_ONLY, True, ViolationAction.QUIT)
    view = (await setting.client.get(setting.exam_url)).text
    assert "Location restriction of Demo" in view and "saved." in view
    card = view.split('id="location-card"', 1)[1].split("</section>", 1)[0]
    assert ">Room A</a>" in card and ">Room B</a>" in card and "Log only (trial)" in card
    assert "Log, flag and quit SEB" in card and '<span class="badge on">Active</span>' in card
    assert checked((await setting.client.get(url)).text) == [str(setting.room_a), str(setting.room_b)]
    # Removing every profile lifts the restriction (with a warning).
    cleared = await setting.client.post(url, data={"mode": "ENFORCE", "on_violation": "LOG"},
                                        follow_redirects=True)
    assert "No IP profile is attached" in cleared.text


async def test_settings_validation_and_hidden_profiles(setting: Setting) -> None:
    await sign_in(setting.client, "demo-exam-admin")
    url = setting.exam_url + "/location"
    base = {"mode": "ENFORCE", "on_violation": "LOG"}
    hidden = await setting.client.post(url, data={**base, "profile_ids[]": [str(setting.old_pool)]})
    assert hidden.status_code == 422 and "Please correct the marked fields" in hidden.text
    assert "&#39;Old Pool&#39; is unavailable (hidden)" in hidden.text
    unknown = await setting.client.post(url, data={**base, "profile_ids[]": ["999999"]})
    assert unknown.status_code == 422 and "IP profile 999999 not found" in unknown.text
    bad_mode = await setting.client.post(url, data={**base, "mode": "SOMETIMES"})
    assert bad_mode.status_code == 422 and 'class="field invalid"' in bad_mode.text
    assert not (await setting.policy()).profiles
    # A profile hidden after it was attached stays, offered with a mark, and the exam can be saved with it.
    assert (await setting.client.post(url, data={**base, "profile_ids[]": [str(setting.room_a)]})).status_code == 303
    await setting.services.locations.profiles.set_profile_hidden(setting.exam_admin, setting.room_a, True)
    form = (await setting.client.get(url)).text
    assert offered(form) == ["Room A (hidden)", "Room B"] and checked(form) == [str(setting.room_a)]
    kept = await setting.client.post(url, data={**base, "mode": "LOG_ONLY", "profile_ids[]": [str(setting.room_a)]})
    assert kept.status_code == 303
    view = (await setting.client.get(setting.exam_url)).text
    assert '>Room A</a> <small class="hint">(hidden)</small>' in view


async def test_suspend_and_resume_need_a_reason(setting: Setting) -> None:
    await setting.services.locations.policies.set_policy(setting.exam_admin, setting.world.exam_id,
                                                         PolicyInput(profile_ids=[setting.room_a]))
    await sign_in(setting.client, "demo-supporter")  # supervises the exam
    view = (await setting.client.get(setting.exam_url)).text
    switch = view.split('id="location-switch"', 1)[1].split("</form>", 1)[0]
    assert "Suspend Location Restriction" in switch and 'name="reason" required' in switch
    assert "Edit Location Settings" not in view  # a supporter does not change the settings
    url = setting.exam_url + "/location/suspend"
    refused = await setting.client.post(url, data={"reason": "   ", "next": setting.exam_url})
    assert refused.status_code == 422 and "give a reason" in refused.text
    assert not (await setting.policy()).suspended
    done = await setting.client.post(url, data={"reason": "network of room A failed", "next": "/monitoring/1"})
    assert done.status_code == 303 and done.headers["location"] == "/monitoring/1"
    policy = await setting.policy()
    assert (policy.suspended, policy.suspend_reason, policy.suspended_by) == (
        True, "network of room A failed", "demo-supporter")
    view = (await setting.client.get(setting.exam_url)).text
    assert 'id="location-suspended"' in view and "network of room A failed" in view and "demo-supporter" in view
    assert "Resume Location Restriction" in view
    resume = setting.exam_url + "/location/resume"
    page = await setting.client.get(resume)
    assert page.status_code == 200 and "network of room A failed" in page.text
    assert (await setting.client.post(resume, data={"reason": ""})).status_code == 422
    assert (await setting.policy()).suspended
    resumed = await setting.client.post(resume, data={"reason": "repaired"})
    assert resumed.status_code == 303 and resumed.headers["location"] == setting.exam_url
    assert not (await setting.policy()).suspended


async def test_exceptions_for_users_and_groups(setting: Setting) -> None:
    await sign_in(setting.client, "demo-exam-admin")  # in Zurich time
    base = setting.exam_url + "/location/exceptions"
    empty = await setting.client.get(base)
    assert empty.status_code == 200 and "No exceptions" in empty.text
    form = await setting.client.get(base + "/new")
    assert form.status_code == 200 and '<option value="">any location</option>' in form.text
    assert "Old Pool" not in form.text  # hidden profiles are not offered as substitutes
    user = await setting.client.post(base + "/new", data={
        "kind": "USER", "name": "alice", "members": "ignored", "substitute_profile_id": "",
        "valid_from": "2026-01-05T09:00", "valid_to": "2026-01-05T12:30", "reason": "medical certificate"})
    assert user.status_code == 303 and user.headers["location"] == base
    no_members = await setting.client.post(base + "/new", data={"kind": "GROUP", "name": "Accessibility"})
    assert no_members.status_code == 422 and "members&#39; user ids" in no_members.text
    backwards = await setting.client.post(base + "/new", data={
        "kind": "USER", "name": "bob", "valid_from": "2026-01-05T12:00", "valid_to": "2026-01-05T09:00"})
    assert backwards.status_code == 422 and "must be after the start" in backwards.text
    bad_time = await setting.client.post(base + "/new", data={"kind": "USER", "name": "bob", "valid_to": "noon"})
    assert bad_time.status_code == 422 and "2026-11-22T09:00" in bad_time.text and 'value="noon"' in bad_time.text
    group = await setting.client.post(base + "/new", data={
        "kind": "GROUP", "name": "Accessibility", "members": "carol\r\ndave\n\n erin \ncarol",
        "substitute_profile_id": str(setting.room_b), "reason": "separate room"})
    assert group.status_code == 303

    async with setting.services.db.read() as session:
        rows = {row.name: row for row in (await session.execute(select(LocationException))).scalars()}
    assert rows["alice"].members == "" and rows["alice"].substitute_profile_id is None
    # 09:00 in Zurich (winter) is 08:00 UTC.
    assert rows["alice"].valid_from.astimezone(UTC) == datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
    assert rows["alice"].valid_to.astimezone(UTC) == datetime(2026, 1, 5, 11, 30, tzinfo=UTC)
    assert rows["Accessibility"].members.splitlines() == ["carol", "dave", "erin"]
    assert rows["Accessibility"].substitute_profile_id == setting.room_b

    listing = (await setting.client.get(base)).text
    assert "any location" in listing and "IP profile Room B" in listing and "3 members" in listing
    assert "2026-01-05 09:00:00 <small>CET</small>" in listing and "medical certificate" in listing
    card = (await setting.client.get(setting.exam_url)).text.split('id="location-card"', 1)[1]
    assert "2 exceptions" in card.split("</section>", 1)[0]

    edit_url = f"{base}/{rows['Accessibility'].id}/edit"
    edit = (await setting.client.get(edit_url)).text
    assert "carol\ndave\nerin</textarea>" in edit and f'<option value="{setting.room_b}" selected>' in edit
    changed = await setting.client.post(edit_url, data={"kind": "GROUP", "name": "Accessibility",
                                                        "members": "carol\nfrank", "substitute_profile_id": "",
                                                        "valid_from": "", "valid_to": "", "reason": "any room"})
    assert changed.status_code == 303
    async with setting.services.db.read() as session:
        again = await session.get(LocationException, rows["Accessibility"].id)
        assert again is not None
        assert (again.members, again.substitute_profile_id, again.reason) == ("carol\nfrank", None, "any room")

    deleted = await setting.client.post(f"{base}/{rows['alice'].id}/delete")
    assert deleted.status_code == 303 and deleted.headers["location"] == base
    listing = await setting.client.get(base, follow_redirects=True)
    assert "alice" not in listing.text.split("<tbody>", 1)[1] and "Accessibility" in listing.text
    assert 'data-confirm="Delete the location exception for Accessibility?"' in listing.text
    assert (await setting.client.get(f"{base}/999999/edit")).status_code == 404


async def test_role_rules(setting: Setting, factory: Factory) -> None:
    policies = setting.services.locations.policies
    await policies.set_policy(setting.exam_admin, setting.world.exam_id, PolicyInput(profile_ids=[setting.room_a]))
    await sign_in(setting.client, "demo-exam-admin")
    created = await setting.client.post(setting.exam_url + "/location/exceptions/new",
                                        data={"kind": "USER", "name": "alice"})
    assert created.status_code == 303
    async with setting.services.db.read() as session:
        exception_id = (await session.execute(select(LocationException.id))).scalar_one()
    base = setting.exam_url + "/location"
    edits = [("GET", base), ("POST", base), ("GET", base + "/exceptions/new"), ("POST", base + "/exceptions/new"),
             ("GET", f"{base}/exceptions/{exception_id}/edit"), ("POST", f"{base}/exceptions/{exception_id}/edit"),
             ("POST", f"{base}/exceptions/{exception_id}/delete")]
    # The assigned supporter reads the exceptions and suspends, but changes neither settings nor exceptions.
    await sign_in(setting.client, "demo-supporter")
    listing = await setting.client.get(base + "/exceptions")
    assert listing.status_code == 200 and "alice" in listing.text and "/edit" not in listing.text
    for method, url in edits:
        response = await setting.client.request(method, url, data={"kind": "USER", "name": "x"}
                                                if method == "POST" else None)
        assert response.status_code == 403, (method, url)
    assert (await setting.client.post(base + "/suspend", data={"reason": "test"})).status_code == 303
    # Another institution's exam administrator and an unassigned supporter do not find the exam.
    async with setting.services.db.read() as session:
        demo = await session.get(Institution, setting.world.institution_id)
    assert demo is not None
    await factory.user(await factory.institution("UZH"), "uzh-admin", Role.EXAM_ADMIN)
    await factory.user(demo, "stranger", Role.EXAM_SUPPORTER)
    for username in ("uzh-admin", "stranger"):
        await sign_in(setting.client, username)
        for method, url in [*edits, ("GET", base + "/exceptions"), ("POST", base + "/resume"),
                            ("GET", base + "/suspend")]:
            response = await setting.client.request(method, url, data={"reason": "x"} if method == "POST" else None)
            assert response.status_code == 404, (username, method, url)
    assert (await setting.policy()).suspended
    async with setting.services.db.read() as session:
        assert (await session.execute(select(LocationException.name))).scalars().all() == ["alice"]
