"""Self-registration: a new account becomes an active exam supporter; the server can switch it off."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from sebframe.core.accounts.roles import Role
from sebframe.core.db.models import UserAccount
from sebframe.core.paging import ListParams
from tests.conftest import Factory, sign_in

pytestmark = pytest.mark.anyio

FORM = {
    "name": "Nora", "surname": "Neu", "username": "nora", "email": "nora@example.org", "timezone": "Europe/Berlin",
    "password": "nora-password-1", "confirm_password": "nora-password-1",
}


async def _count_users(services) -> int:  # type: ignore[no-untyped-def]
    async with services.db.read() as session:
        return (await session.execute(select(func.count()).select_from(UserAccount))).scalar_one()


async def test_register_then_sign_in_as_exam_supporter(client, factory: Factory, services) -> None:  # type: ignore[no-untyped-def]
    eth = await factory.institution("ETH")
    await factory.institution("Closed Campus", active=False)
    page = await client.get("/register")
    assert page.status_code == 200
    assert "ETH" in page.text and "Closed Campus" not in page.text  # only active institutions are offered
    response = await client.post("/register", data={**FORM, "institution_id": str(eth.id)})
    assert response.status_code == 303 and response.headers["location"] == "/login"
    home = await sign_in(client, "nora", FORM["password"])
    assert home.status_code == 303
    welcome = await client.get("/")
    assert "Exam Supporter" in welcome.text
    admin = await factory.actor(eth, "root", Role.SEB_SERVER_ADMIN)
    user = (await services.users.list(admin, ListParams(filters={"username": "nora"}))).items[0]
    assert user.institution_id == eth.id and user.active and user.timezone == "Europe/Berlin"
    assert user.role_names == {"EXAM_SUPPORTER"}


async def test_bad_registration_shows_field_errors_and_creates_nothing(client, factory: Factory, services) -> None:  # type: ignore[no-untyped-def]
    eth = await factory.institution("ETH")
    await factory.user(eth, "taken")
    before = await _count_users(services)
    mismatch = await client.post("/register", data={
        **FORM, "institution_id": str(eth.id), "confirm_password": "other-password-1",
    })
    assert mismatch.status_code == 422 and "password and confirmation differ" in mismatch.text
    assert FORM["password"] not in mismatch.text
    duplicate = await client.post("/register", data={**FORM, "institution_id": str(eth.id), "username": "taken"})
    assert duplicate.status_code == 422 and "the username &#39;taken&#39; is taken" in duplicate.text
    inactive = await factory.institution("Closed", active=False)
    refused = await client.post("/register", data={**FORM, "institution_id": str(inactive.id)})
    assert refused.status_code == 422 and "choose one of the listed institutions" in refused.text
    assert await _count_users(services) == before


async def test_registration_can_be_switched_off(client, factory: Factory, services) -> None:  # type: ignore[no-untyped-def]
    eth = await factory.institution("ETH")
    services.settings.registration_enabled = False
    services.users.registration_enabled = False
    login = await client.get("/login")
    assert 'href="/register"' not in login.text
    assert (await client.get("/register")).status_code == 403
    response = await client.post("/register", data={**FORM, "institution_id": str(eth.id)})
    assert response.status_code == 403
    assert await _count_users(services) == 0
