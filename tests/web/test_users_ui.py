"""Admin UI: user account list, view, create, edit, (de)activate, change password and delete."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from sebframe.core.accounts.dependencies import API_TOKENS, DeleteOption, Dependent, UserDependencies
from sebframe.core.accounts.roles import Role
from sebframe.core.db.models import UserAccount
from sebframe.core.services import Services
from tests.conftest import PASSWORD, Factory, sign_in

pytestmark = pytest.mark.anyio

NEW_PASSWORD = "another-horse-43"


def _usernames(html: str) -> list[str]:
    return re.findall(r'<td><a href="/users/\d+">([^<]+)</a></td>', html)


def _field_error(html: str, field: str) -> str:
    match = re.search(rf'id="f-{field}".*?<p class="error-text">([^<]*)</p>', html, re.S)
    return match.group(1) if match else ""


async def _count_users(services) -> int:
    async with services.db.read() as session:
        return (await session.execute(select(func.count()).select_from(UserAccount))).scalar_one()


async def _user(services, username: str) -> UserAccount | None:
    async with services.db.read() as session:
        return (await session.execute(select(UserAccount).where(UserAccount.username == username))).scalar_one_or_none()


def _new_user(**changes: object) -> dict[str, object]:
    data: dict[str, object] = {"name": "Nina", "surname": "Neu", "username": "nina", "email": "nina@example.org",
                               "timezone": "Europe/Zurich", "roles[]": ["EXAM_ADMIN", "EXAM_SUPPORTER"],
                               "password": "secret-pass-1", "confirm_password": "secret-pass-1"}
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


async def test_list_filters_sorts_and_pages(client, factory: Factory) -> None:
    eth = await factory.institution("ETH")
    uzh = await factory.institution("UZH")
    await factory.user(eth, "root", Role.SEB_SERVER_ADMIN)
    for index in range(12):
        await factory.user(eth, f"eth-user-{index:02d}", Role.EXAM_ADMIN if index % 3 == 0 else Role.EXAM_SUPPORTER,
                           active=index != 5)
    await factory.user(uzh, "uzh-admin", Role.INSTITUTIONAL_ADMIN)
    await sign_in(client, "root")
    first = await client.get("/users?size=5")
    assert first.status_code == 200
    assert "14 entries · page 1 of 3" in first.text
    assert _usernames(first.text) == ["eth-user-00", "eth-user-01", "eth-user-02", "eth-user-03", "eth-user-04"]
    assert "<td>UZH</td>" in (await client.get("/users?sort=-institution_id&size=1")).text
    assert 'name="institution_id"' in first.text  # SEB Server admins filter by institution
    assert 'title="The name used to sign in. Filter: part of the username."' in first.text
    assert _usernames((await client.get("/users?size=5&page=3")).text) == ["eth-user-10", "eth-user-11",
                                                                           "root", "uzh-admin"]
    descending = await client.get("/users?sort=-username&size=2")
    assert _usernames(descending.text) == ["uzh-admin", "root"]
    assert _usernames((await client.get(f"/users?institution_id={uzh.id}")).text) == ["uzh-admin"]
    assert _usernames((await client.get("/users?username=user-1")).text) == ["eth-user-10", "eth-user-11"]
    assert len(_usernames((await client.get("/users?role=EXAM_ADMIN")).text)) == 4
    assert _usernames((await client.get("/users?active=false")).text) == ["eth-user-05"]
    assert _usernames((await client.get("/users?email=UZH-ADMIN@")).text) == ["uzh-admin"]
    assert len(_usernames((await client.get("/users?name=Eth-User&surname=tester")).text)) == 12
    # Row flags drive which list actions the selected row offers.
    assert 'data-flags="active editable switchable deletable"' in first.text
    own_row = (await client.get("/users?username=root")).text
    assert 'data-flags="active editable"' in own_row  # nobody (de)activates or deletes the own account
    assert 'data-row-action="/users/{id}/deactivate"' in first.text


async def test_institutional_admin_sees_only_own_institution(client, factory: Factory) -> None:
    eth = await factory.institution("ETH")
    uzh = await factory.institution("UZH")
    await factory.user(eth, "eth-admin", Role.INSTITUTIONAL_ADMIN)
    await factory.user(eth, "eth-sup")
    stranger = await factory.user(uzh, "uzh-sup")
    await sign_in(client, "eth-admin")
    listing = await client.get("/users")
    assert _usernames(listing.text) == ["eth-admin", "eth-sup"]
    assert 'name="institution_id"' not in listing.text
    assert _usernames((await client.get(f"/users?institution_id={uzh.id}")).text) == []
    for path in ("", "/edit", "/password", "/delete"):
        assert (await client.get(f"/users/{stranger.id}{path}")).status_code == 404, path
    for path in ("/edit", "/activate", "/deactivate", "/password", "/delete"):
        assert (await client.post(f"/users/{stranger.id}{path}", data={"name": "x"})).status_code == 404, path
    # Roles above the own ones are neither offered nor accepted.
    form = await client.get("/users/new")
    assert 'value="SEB_SERVER_ADMIN"' not in form.text and 'name="institution_id"' not in form.text
    refused = await client.post("/users/new", data=_new_user(**{"roles[]": ["SEB_SERVER_ADMIN"]}))
    assert refused.status_code == 422 and "you may not grant" in _field_error(refused.text, "roles")


async def test_create_save_and_activate(client, factory: Factory, services) -> None:
    eth = await factory.institution("ETH")
    uzh = await factory.institution("UZH")
    await factory.user(eth, "root", Role.SEB_SERVER_ADMIN)
    await sign_in(client, "root")
    form = await client.get("/users/new")
    assert form.status_code == 200
    assert 'name="institution_id"' in form.text and 'value="SEB_SERVER_ADMIN"' in form.text
    assert "Save and Activate" in form.text and "data-warn-unsaved" in form.text
    response = await client.post("/users/new", data=_new_user(institution_id=str(uzh.id), activate="1"))
    assert response.status_code == 303
    view = await client.get(response.headers["location"])
    assert "User account nina created and activated." in view.text
    assert "Exam Administrator, Exam Supporter" in view.text and "UZH" in view.text
    nina = await _user(services, "nina")
    assert nina is not None and nina.active and nina.institution_id == uzh.id and nina.timezone == "Europe/Zurich"
    plain = await client.post("/users/new", data=_new_user(username="otto", institution_id=str(eth.id)))
    assert plain.status_code == 303
    otto = await _user(services, "otto")
    assert otto is not None and not otto.active


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"confirm_password": "something-else"}, "confirm_password", "password and confirmation differ"),
        ({"username": "root"}, "username", "is taken"),
        ({"username": "ROOT"}, "username", "is taken"),
        ({"name": ""}, "name", "at least 1 character"),
        ({"username": "a b"}, "username", "no spaces"),
        ({"email": "not-a-mail"}, "email", "not a valid e-mail"),
        ({"password": "short", "confirm_password": "short"}, "password", "at least 8 characters"),
        ({"roles[]": None}, "roles", "choose at least one role"),
        ({"timezone": "Mars/Olympus"}, "timezone", "unknown time zone"),
        ({"institution_id": ""}, "institution_id", "choose an institution"),
    ],
)
async def test_create_with_bad_input_is_refused(client, factory: Factory, services, changes, field,
                                                message) -> None:
    eth = await factory.institution("ETH")
    await factory.user(eth, "root", Role.SEB_SERVER_ADMIN)
    await sign_in(client, "root")
    before = await _count_users(services)
    data = _new_user(**{"institution_id": str(eth.id), **changes})
    response = await client.post("/users/new", data=data)
    assert response.status_code == 422
    assert message in _field_error(response.text, field)
    assert await _count_users(services) == before
    assert "secret-pass-1" not in response.text  # passwords are never echoed
    if field != "name":
        assert 'value="Nina"' in response.text


async def test_edit_roles_only_with_user_write(client, factory: Factory, services) -> None:
    eth = await factory.institution("ETH")
    await factory.user(eth, "ia", Role.INSTITUTIONAL_ADMIN)
    sup = await factory.user(eth, "sup")
    await sign_in(client, "ia")
    edit = await client.get(f"/users/{sup.id}/edit")
    assert 'name="roles[]"' in edit.text and "data-warn-unsaved" in edit.text and 'name="password"' not in edit.text
    saved = await client.post(f"/users/{sup.id}/edit", data={
        "name": "Super", "surname": "Porter", "username": "sup", "email": "", "timezone": "UTC",
        "roles[]": ["EXAM_ADMIN"]})
    assert saved.status_code == 303
    user = await _user(services, "sup")
    assert user is not None and user.role_names == {"EXAM_ADMIN"} and user.email is None
    bad = await client.post(f"/users/{sup.id}/edit", data={"name": "", "surname": "Porter", "username": "sup",
                                                           "timezone": "UTC", "roles[]": ["EXAM_ADMIN"]})
    assert bad.status_code == 422 and "at least 1 character" in _field_error(bad.text, "name")
    await client.post("/logout")

    await sign_in(client, "sup")
    own = await client.get(f"/users/{sup.id}/edit")
    assert own.status_code == 200 and 'name="roles[]"' not in own.text
    await client.post(f"/users/{sup.id}/edit", data={
        "name": "Sue", "surname": "Porter", "username": "sup", "timezone": "Europe/Berlin",
        "roles[]": ["INSTITUTIONAL_ADMIN"]})
    user = await _user(services, "sup")
    assert user is not None and user.name == "Sue" and user.role_names == {"EXAM_ADMIN"}


async def test_activate_and_deactivate_from_list_and_view(client, factory: Factory, services) -> None:
    eth = await factory.institution("ETH")
    me = await factory.user(eth, "ia", Role.INSTITUTIONAL_ADMIN)
    sup = await factory.user(eth, "sup")
    await sign_in(client, "ia")
    done = await client.post(f"/users/{sup.id}/deactivate", data={"next": "/users?active=true"})
    assert done.status_code == 303 and done.headers["location"] == "/users?active=true"
    listing = await client.get("/users?active=true")
    assert "User account sup deactivated." in listing.text and _usernames(listing.text) == ["ia"]
    view = await client.get(f"/users/{sup.id}")
    assert "Activate User Account" in view.text and "Deactivate User Account" not in view.text
    await client.post(f"/users/{sup.id}/activate")
    assert (await _user(services, "sup")).active  # type: ignore[union-attr]
    own = await client.post(f"/users/{me.id}/deactivate", data={"next": "/users"})
    assert own.status_code == 303
    page = (await client.get("/users")).text
    assert "you cannot activate or deactivate your own account" in page
    assert (await _user(services, "ia")).active  # type: ignore[union-attr]


async def test_change_own_password_signs_out(client, factory: Factory) -> None:
    eth = await factory.institution("ETH")
    sup = await factory.user(eth, "sup")
    await sign_in(client, "sup")
    form = await client.get(f"/users/{sup.id}/password")
    assert form.status_code == 200 and "Current Password" in form.text and "Your current password" not in form.text
    wrong = await client.post(f"/users/{sup.id}/password", data={
        "current_password": "nope", "password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD})
    assert wrong.status_code == 422 and "the current password is wrong" in _field_error(wrong.text, "current_password")
    differ = await client.post(f"/users/{sup.id}/password", data={
        "current_password": PASSWORD, "password": NEW_PASSWORD, "confirm_password": "x" * 10})
    assert differ.status_code == 422 and "differ" in _field_error(differ.text, "confirm_password")
    assert NEW_PASSWORD not in differ.text
    done = await client.post(f"/users/{sup.id}/password", data={
        "current_password": PASSWORD, "password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD})
    assert done.status_code == 303 and done.headers["location"] == "/login"
    login = await client.get("/login")
    assert "Please sign in with your new password" in login.text
    assert (await client.get("/")).status_code == 303
    assert (await sign_in(client, "sup")).status_code == 401
    assert (await sign_in(client, "sup", NEW_PASSWORD)).status_code == 303


async def test_admin_changes_another_password(client, factory: Factory) -> None:
    eth = await factory.institution("ETH")
    await factory.user(eth, "ia", Role.INSTITUTIONAL_ADMIN)
    sup = await factory.user(eth, "sup")
    await sign_in(client, "ia")
    form = await client.get(f"/users/{sup.id}/password")
    assert "Your current password" in form.text
    done = await client.post(f"/users/{sup.id}/password", data={
        "current_password": PASSWORD, "password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD})
    assert done.status_code == 303 and done.headers["location"] == f"/users/{sup.id}"
    assert "The password of sup has been changed." in (await client.get(f"/users/{sup.id}")).text
    await client.post("/logout")
    assert (await sign_in(client, "sup", NEW_PASSWORD)).status_code == 303


@pytest.fixture
def owned_entities(services: Services) -> Iterator[dict[str, list[str]]]:
    """Fake exam and exam-configuration providers: what each user owns and what got deleted."""
    state: dict[str, list[str]] = {"exams": ["Final exam"], "configs": ["Exam config"], "deleted": []}

    def provider(label: str, key: str, options: frozenset[DeleteOption]) -> UserDependencies:
        async def find(_session, _user_id: int) -> list[Dependent]:
            return [Dependent(key, str(i), name) for i, name in enumerate(state[key])]

        async def delete(_session, _user_id: int) -> None:
            state["deleted"].extend(state[key])
            state[key] = []

        return UserDependencies(label, options, find, delete)

    # Stand-ins for the real exam and configuration providers that Services.create wires in.
    with_exams = frozenset({DeleteOption.WITH_EXAMS, DeleteOption.WITH_ALL})
    services.users.dependencies = (API_TOKENS, provider("Exams", "exams", with_exams),
                                   provider("Exam configurations", "configs", frozenset({DeleteOption.WITH_ALL})))
    yield state


@pytest.mark.parametrize(
    ("option", "deleted", "kept"),
    [
        ("ACCOUNT_ONLY", [], ["Final exam", "Exam config"]),
        ("WITH_EXAMS", ["Final exam"], ["Exam config"]),
        ("WITH_ALL", ["Final exam", "Exam config"], []),
    ],
)
async def test_delete_with_each_option(client, factory: Factory, services, owned_entities, option, deleted,
                                       kept) -> None:
    eth = await factory.institution("ETH")
    await factory.user(eth, "ia", Role.INSTITUTIONAL_ADMIN)
    victim = await factory.user(eth, "victim", Role.EXAM_ADMIN)
    await sign_in(client, "ia")
    dialog = await client.get(f"/users/{victim.id}/delete")
    assert dialog.status_code == 200
    assert all(f'value="{value}"' in dialog.text for value in ("ACCOUNT_ONLY", "WITH_EXAMS", "WITH_ALL"))
    assert "Show Report" in dialog.text and "Deletion report" not in dialog.text
    report = await client.get(f"/users/{victim.id}/delete?option={option}&report=1")
    section = report.text.split("Deletion report", 1)[1]
    will_delete, will_keep = section.split("Will be kept", 1)
    for name in deleted:
        assert name in will_delete and name not in will_keep
    for name in kept:
        assert name in will_keep and name not in will_delete
    assert f'value="{option}" checked' in report.text
    done = await client.post(f"/users/{victim.id}/delete", data={"option": option})
    assert done.status_code == 303 and done.headers["location"] == "/users"
    assert "User account victim deleted" in (await client.get("/users")).text
    assert await _user(services, "victim") is None
    assert owned_entities["deleted"] == deleted


async def test_supporter_sees_only_own_account(client, factory: Factory) -> None:
    eth = await factory.institution("ETH")
    me = await factory.user(eth, "sup")
    colleague = await factory.user(eth, "colleague")
    await sign_in(client, "sup")
    home = await client.get("/")
    assert "My Account" in home.text and 'href="/users"' not in home.text
    listing = await client.get("/users")
    assert listing.status_code == 303 and listing.headers["location"] == f"/users/{me.id}"
    view = await client.get(f"/users/{me.id}")
    assert view.status_code == 200 and "My Account" in view.text
    assert "Edit User Account" in view.text and "Change Password" in view.text
    assert "Delete User Account" not in view.text and "Deactivate User Account" not in view.text
    assert (await client.get(f"/users/{colleague.id}")).status_code == 404
    assert (await client.get(f"/users/{colleague.id}/password")).status_code == 404
    assert (await client.get("/users/new")).status_code == 403
    assert (await client.get(f"/users/{me.id}/delete")).status_code == 403
    assert (await client.get("/activity")).status_code == 403


async def test_exam_admin_list_opens_own_account(client, factory: Factory) -> None:
    eth = await factory.institution("ETH")
    me = await factory.user(eth, "ea", Role.EXAM_ADMIN)
    await sign_in(client, "ea")
    listing = await client.get("/users")
    assert listing.status_code == 303 and listing.headers["location"] == f"/users/{me.id}"
