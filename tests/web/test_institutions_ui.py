"""Admin UI: institution list, view, create/edit with logo, activate and deactivate with confirmation."""

from __future__ import annotations

import re
import struct

import pytest
from sqlalchemy import func, select

from sebframe.core.accounts.logo import MAX_LOGO_BYTES
from sebframe.core.accounts.roles import Role
from sebframe.core.db.models import Institution, UserAccount
from tests.conftest import Factory, sign_in

pytestmark = pytest.mark.anyio

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + struct.pack(">II", 300, 80) + b"\x08\x06\x00\x00\x00" + b"\0" * 4
JPEG = b"\xff\xd8\xff\xe0" + b"\0" * 20 + b"\xff\xd9"


async def _admin(client, factory: Factory):
    home = await factory.institution("Home Institution")
    await factory.user(home, "root", Role.SEB_SERVER_ADMIN)
    await sign_in(client, "root")
    return home


async def _count_institutions(services) -> int:
    async with services.db.read() as session:
        return (await session.execute(select(func.count()).select_from(Institution))).scalar_one()


def _names(html: str) -> list[str]:
    return re.findall(r'<td><a href="/institutions/\d+">([^<]+)</a></td>', html)


async def test_list_filters_sorts_and_pages(client, factory: Factory) -> None:
    await _admin(client, factory)
    for index in range(24):
        await factory.institution(f"School {index:02d}", active=index % 2 == 0, url_suffix=f"s{index:02d}")
    first = await client.get("/institutions?size=10")
    assert first.status_code == 200
    assert "25 entries · page 1 of 3" in first.text
    assert _names(first.text)[0] == "Home Institution"
    assert 'data-row-action="/institutions/{id}/edit"' in first.text and "Add Institution" in first.text
    assert 'title="The name of the institution. Filter: part of the name."' in first.text
    last = await client.get("/institutions?size=10&page=3")
    assert len(_names(last.text)) == 5
    descending = await client.get("/institutions?sort=-name&size=3")
    assert _names(descending.text) == ["School 23", "School 22", "School 21"]
    assert "▼" in descending.text
    filtered = await client.get("/institutions?name=school 1&active=false")
    assert _names(filtered.text) == ["School 11", "School 13", "School 15", "School 17", "School 19"]
    by_suffix = await client.get("/institutions?url_suffix=s0")
    assert len(_names(by_suffix.text)) == 10
    # Filters survive paging and sorting links.
    assert "name=school+1" in filtered.text and "active=false" in filtered.text
    bad_page = await client.get("/institutions?page=zero")
    assert bad_page.status_code == 200 and "page and size must be whole numbers" in bad_page.text


async def test_create_with_logo_then_view_and_login_page(client, factory: Factory, services) -> None:
    await _admin(client, factory)
    form = await client.get("/institutions/new")
    assert form.status_code == 200 and 'enctype="multipart/form-data"' in form.text
    assert "Save and Activate" in form.text and 'class="mandatory"' in form.text
    response = await client.post("/institutions/new", data={"name": "ETH Zürich", "url_suffix": "eth",
                                                            "activate": "1"},
                                 files={"logo": ("logo.png", PNG, "image/png")})
    assert response.status_code == 303
    view = await client.get(response.headers["location"])
    assert "ETH Zürich" in view.text and "Institution ETH Zürich created and activated." in view.text
    assert "Deactivate Institution" in view.text and "logo-preview" in view.text
    institution_id = int(response.headers["location"].rsplit("/", 1)[1])
    preview = await client.get(f"/institutions/{institution_id}/logo-preview")
    assert preview.status_code == 200 and preview.content == PNG
    await client.post("/logout")
    login = await client.get("/login/eth")
    assert f"/institutions/{institution_id}/logo" in login.text


async def test_save_without_activation_stays_inactive(client, factory: Factory) -> None:
    await _admin(client, factory)
    response = await client.post("/institutions/new", data={"name": "Quiet School"})
    assert response.status_code == 303
    view = await client.get(response.headers["location"])
    assert "Inactive" in view.text and "Activate Institution" in view.text


@pytest.mark.parametrize(
    ("data", "files", "field", "message"),
    [
        ({"name": ""}, None, "name", "at least 3 characters"),
        ({"name": "Home Institution"}, None, "name", "already exists"),
        ({"name": "home institution"}, None, "name", "already exists"),
        ({"name": "Valid Name", "url_suffix": "Bad Suffix!"}, None, "url_suffix", "lowercase letters"),
        ({"name": "Valid Name"}, {"logo": ("logo.gif", b"GIF89a....", "image/gif")}, "logo",
         "only PNG and JPEG"),
        ({"name": "Valid Name"}, {"logo": ("big.png", PNG + b"\0" * MAX_LOGO_BYTES, "image/png")}, "logo",
         "larger than"),
    ],
)
async def test_create_with_bad_input_is_refused(client, factory: Factory, services, data, files, field,
                                                message) -> None:
    await _admin(client, factory)
    before = await _count_institutions(services)
    response = await client.post("/institutions/new", data=data, files=files)
    assert response.status_code == 422
    match = re.search(rf'<div class="field invalid">\s*<label for="f-{field}".*?<p class="error-text">([^<]*)</p>',
                      response.text, re.S)
    assert match and message in match.group(1)
    assert await _count_institutions(services) == before
    if data.get("name"):
        assert f'value="{data["name"]}"' in response.text  # entered values are kept


async def test_duplicate_suffix_is_refused(client, factory: Factory, services) -> None:
    await _admin(client, factory)
    await factory.institution("Other", url_suffix="taken")
    response = await client.post("/institutions/new", data={"name": "Another", "url_suffix": "taken"})
    assert response.status_code == 422 and "is taken" in response.text
    assert await _count_institutions(services) == 2


async def test_edit_replaces_and_removes_logo(client, factory: Factory, services) -> None:
    await _admin(client, factory)
    created = await client.post("/institutions/new", data={"name": "Logo School"},
                                files={"logo": ("logo.png", PNG, "image/png")})
    path = created.headers["location"]
    edit = await client.get(path + "/edit")
    assert "data-warn-unsaved" in edit.text and "Remove the current logo" in edit.text
    assert 'value="Logo School"' in edit.text
    replaced = await client.post(path + "/edit", data={"name": "Logo School 2"},
                                 files={"logo": ("logo.jpg", JPEG, "image/jpeg")})
    assert replaced.status_code == 303
    preview = await client.get(path + "/logo-preview")
    assert preview.headers["content-type"] == "image/jpeg"
    removed = await client.post(path + "/edit", data={"name": "Logo School 2", "remove_logo": "1"})
    assert removed.status_code == 303
    assert (await client.get(path + "/logo-preview")).status_code == 404
    bad = await client.post(path + "/edit", data={"name": "Logo School 3"},
                            files={"logo": ("x.png", b"not an image", "image/png")})
    assert bad.status_code == 422 and "only PNG and JPEG" in bad.text
    assert "Logo School 2" in (await client.get(path)).text


async def test_edit_inactive_with_save_and_activate(client, factory: Factory) -> None:
    await _admin(client, factory)
    sleepy = await factory.institution("Sleepy", active=False)
    edit = await client.get(f"/institutions/{sleepy.id}/edit")
    assert "Save and Activate" in edit.text
    saved = await client.post(f"/institutions/{sleepy.id}/edit", data={"name": "Awake", "activate": "1"})
    assert saved.status_code == 303
    view = await client.get(f"/institutions/{sleepy.id}")
    assert "Awake" in view.text and "saved and activated" in view.text and "badge on" in view.text


async def test_deactivate_shows_counts_and_cascades(client, factory: Factory, services) -> None:
    await _admin(client, factory)
    school = await factory.institution("School")
    await factory.user(school, "inst-admin", Role.INSTITUTIONAL_ADMIN)
    await factory.user(school, "teacher", Role.EXAM_ADMIN)
    await factory.user(school, "helper", Role.EXAM_SUPPORTER)
    await factory.user(school, "gone", Role.EXAM_SUPPORTER, active=False)
    confirm = await client.get(f"/institutions/{school.id}/deactivate?next=/institutions")
    assert confirm.status_code == 200
    assert re.search(r'data-count="user_accounts">2<', confirm.text)
    assert "Confirm Deactivation" in confirm.text and 'value="/institutions"' in confirm.text
    done = await client.post(f"/institutions/{school.id}/deactivate", data={"next": "/institutions"})
    assert done.status_code == 303 and done.headers["location"] == "/institutions"
    listing = await client.get("/institutions")
    assert "Institution School deactivated, with 2 user accounts." in listing.text
    async with services.db.read() as session:
        active = dict((await session.execute(select(UserAccount.username, UserAccount.active))).all())
    assert active == {"root": True, "inst-admin": True, "teacher": False, "helper": False, "gone": False}
    activated = await client.post(f"/institutions/{school.id}/activate", data={"next": "//evil.example"})
    assert activated.headers["location"] == f"/institutions/{school.id}"
    assert "Institution School activated." in (await client.get(f"/institutions/{school.id}")).text


async def test_institutional_admin_sees_and_edits_only_own(client, factory: Factory) -> None:
    own = await factory.institution("Own School")
    other = await factory.institution("Other School")
    await factory.user(own, "ia", Role.INSTITUTIONAL_ADMIN)
    await sign_in(client, "ia")
    home = await client.get("/")
    assert f'href="/institutions/{own.id}"' in home.text and 'href="/institutions"' not in home.text
    listing = await client.get("/institutions")
    assert listing.status_code == 303 and listing.headers["location"] == f"/institutions/{own.id}"
    view = await client.get(f"/institutions/{own.id}")
    assert "Edit Institution" in view.text
    assert "Deactivate Institution" not in view.text and "Activate Institution" not in view.text
    edit = await client.get(f"/institutions/{own.id}/edit")
    assert "Save and Activate" not in edit.text
    saved = await client.post(f"/institutions/{own.id}/edit", data={"name": "Own School Renamed"})
    assert saved.status_code == 303
    assert (await client.get(f"/institutions/{other.id}")).status_code == 404
    assert (await client.get(f"/institutions/{other.id}/edit")).status_code == 404
    assert (await client.post(f"/institutions/{other.id}/edit", data={"name": "Hijacked"})).status_code == 404
    assert (await client.post(f"/institutions/{own.id}/deactivate")).status_code == 403
    assert (await client.get(f"/institutions/{own.id}/deactivate")).status_code == 403
    assert (await client.post(f"/institutions/{other.id}/activate")).status_code == 404
    assert (await client.get("/institutions/new")).status_code == 403
    assert (await client.post("/institutions/new", data={"name": "Rogue"})).status_code == 403


async def test_exam_supporter_cannot_edit_institution(client, factory: Factory) -> None:
    own = await factory.institution("Own School")
    await factory.user(own, "sup", Role.EXAM_SUPPORTER)
    await sign_in(client, "sup")
    assert (await client.get(f"/institutions/{own.id}/edit")).status_code == 403
    view = await client.get(f"/institutions/{own.id}")
    assert view.status_code == 200 and "Edit Institution" not in view.text


async def test_cross_site_post_is_refused(client, factory: Factory) -> None:
    await _admin(client, factory)
    response = await client.post("/institutions/new", data={"name": "Evil"},
                                 headers={"Sec-Fetch-Site": "cross-site"})
    assert response.status_code == 403


async def test_bad_list_parameters_get_a_message_not_an_error(client, factory: Factory) -> None:
    await _admin(client, factory)
    for path in ("/institutions?sort=bogus", "/users?sort=password_hash", "/users?institution_id=abc",
                 "/activity?sort=message"):
        response = await client.get(path)
        assert response.status_code == 422, path
        assert 'class="flash error"' in response.text and "<tbody>" in response.text
