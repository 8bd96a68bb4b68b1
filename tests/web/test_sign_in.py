from __future__ import annotations

import pytest

from sebframe.core.accounts.roles import Role
from tests.conftest import PASSWORD, Factory, sign_in

pytestmark = pytest.mark.anyio


async def test_sign_in_and_out(client, factory: Factory) -> None:
    eth = await factory.institution()
    await factory.user(eth, "alice", Role.EXAM_ADMIN)
    assert (await client.get("/")).status_code == 303
    response = await sign_in(client, "alice")
    assert response.status_code == 303
    home = await client.get("/")
    assert home.status_code == 200 and "Welcome, alice" in home.text
    await client.post("/logout")
    assert (await client.get("/")).status_code == 303


async def test_wrong_password_is_refused_and_throttled(client, factory: Factory) -> None:
    eth = await factory.institution()
    await factory.user(eth, "bob")
    for _ in range(5):
        response = await sign_in(client, "bob", "wrong-password")
        assert response.status_code == 401
        assert "wrong username or password" in response.text
    locked = await sign_in(client, "bob", PASSWORD)
    assert locked.status_code == 429 and "too many failed sign-ins" in locked.text


async def test_inactive_user_cannot_sign_in(client, factory: Factory) -> None:
    eth = await factory.institution()
    await factory.user(eth, "carol", active=False)
    assert (await sign_in(client, "carol")).status_code == 401


async def test_open_redirect_is_ignored(client, factory: Factory) -> None:
    eth = await factory.institution()
    await factory.user(eth, "dave")
    response = await client.post("/login", data={"username": "dave", "password": PASSWORD,
                                                 "next": "//evil.example/"})
    assert response.headers["location"] == "/"


async def test_cross_site_post_is_refused(client, factory: Factory) -> None:
    response = await client.post("/login", data={"username": "x", "password": "y"},
                                 headers={"Sec-Fetch-Site": "cross-site"})
    assert response.status_code == 403


async def test_a_conflict_in_a_form_is_a_409_page_not_a_500(client, factory: Factory, services, monkeypatch) -> None:
    from sebframe.core.errors import Conflict

    eth = await factory.institution()
    await factory.user(eth, "root", Role.SEB_SERVER_ADMIN)
    await sign_in(client, "root")

    async def racing_create(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise Conflict("the change clashes with data saved at the same moment")

    monkeypatch.setattr(services.institutions, "create", racing_create)
    response = await client.post("/institutions/new", data={"name": "Raced", "url_suffix": ""})
    assert response.status_code == 409 and "saved at the same moment" in response.text
