"""Server-side sessions of the admin UI: signing out ends the session (a replayed cookie opens no page), "sign
out everywhere" ends the sessions of the account in every browser (API tokens stay), a password change or a
deactivation ends them all, idle sessions expire and are purged, and every server process on the database sees
the same. The cookie holds nothing but a random token; it is Secure over HTTPS (directly or by a trusted proxy)."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update

from sebframe.app import create_app
from sebframe.core.accounts.auth import hash_token
from sebframe.core.accounts.roles import Role
from sebframe.core.db import utc_now
from sebframe.core.db.models import ActivityLogEntry, WebSession
from sebframe.core.plugins import PluginRegistry
from sebframe.core.services import Services
from sebframe.settings import Settings
from tests.conftest import PASSWORD, Factory, sign_in
from tests.web.admin_ui_world import PUBLIC_PAGES, build_world, open_pages, world_services

pytestmark = pytest.mark.anyio

BASE = "http://testserver"
NEW_PASSWORD = "another-horse-42"


@pytest.fixture
async def services(settings: Settings) -> AsyncIterator[Services]:
    async with world_services(settings) as services:
        yield services


def browser(app: Any, *, address: str = "127.0.0.1", base: str = BASE, user_agent: str = "Browser/1.0",
            cookies: httpx.Cookies | None = None) -> httpx.AsyncClient:
    """Another browser (its own cookies) on the same server."""
    transport = httpx.ASGITransport(app=app, client=(address, 50001))
    return httpx.AsyncClient(transport=transport, base_url=base, headers={"User-Agent": user_agent},
                             cookies=cookies)


def settings_with(settings: Settings, **changes: Any) -> Settings:
    return Settings(database_url=settings.database_url, data_dir=settings.data_dir, secret_key="test-secret-key-0123",
                    load_entrypoint_plugins=False, **changes)


async def sessions_of(services: Services, username: str) -> list[WebSession]:
    from sebframe.core.db.models import UserAccount

    async with services.db.read() as session:
        statement = select(WebSession).join(UserAccount, UserAccount.id == WebSession.user_id).where(
            UserAccount.username == username)
        return list((await session.execute(statement)).scalars())


async def opens_home(http: httpx.AsyncClient) -> bool:
    response = await http.get("/")
    assert response.status_code in (200, 303)
    return response.status_code == 200


async def test_a_cookie_replayed_after_sign_out_opens_no_page(services: Services, app: Any,
                                                              client: httpx.AsyncClient, tmp_path: Path) -> None:
    world = await build_world(services, client, tmp_path / "seb")
    await sign_in(client, "demo-exam-admin")
    stolen = httpx.Cookies(client.cookies)
    async with browser(app) as anonymous:
        opened = await open_pages(world, [client], anonymous)
    assert sum(response.status_code == 200 for response in opened.values()) > 100  # the cookie opened them

    signed_out = await client.post("/logout")
    assert signed_out.status_code == 303 and signed_out.headers["location"] == "/login"
    assert await sessions_of(services, "demo-exam-admin") == []
    async with browser(app, cookies=stolen) as replay:
        for template in opened:
            if template in PUBLIC_PAGES:
                continue
            path = world.path(template)
            response = await replay.get(path)
            assert response.status_code == 303, template
            assert response.headers["location"].startswith("/login?next="), template
        stream = await replay.get(f"/monitoring/{world.ids['exam']}/stream")
        assert stream.status_code == 303
        partial = await replay.get(f"/monitoring/{world.ids['exam']}/search", headers={"HX-Request": "true"})
        assert partial.status_code == 401 and partial.headers["hx-redirect"] == "/login"


async def test_sign_out_everywhere_ends_every_browsers_session_and_keeps_api_tokens(
        app: Any, client: httpx.AsyncClient, factory: Factory, services: Services) -> None:
    eth = await factory.institution()
    alice = await factory.user(eth, "alice", Role.EXAM_ADMIN)
    await factory.user(eth, "bob", Role.EXAM_ADMIN)
    token = await factory.token("alice")
    await sign_in(client, "alice")
    async with browser(app, address="192.0.2.7", user_agent="Laptop Firefox") as laptop, browser(app) as bobs:
        await sign_in(laptop, "alice")
        await sign_in(bobs, "bob")
        account = await client.get(f"/users/{alice.id}")
        assert account.status_code == 200
        listed = account.text.split('id="web-sessions"', 1)[1].split("</section>", 1)[0]
        assert listed.count("<tr") == 3  # the header and two sessions
        assert "Laptop Firefox" in listed and "192.0.2.7" in listed
        assert listed.count("this browser") == 1

        ended = await client.post(f"/users/{alice.id}/sign-out-everywhere")
        assert ended.status_code == 303 and ended.headers["location"] == "/login"
        assert "You are signed out everywhere (2 sessions ended)." in (await client.get("/login")).text
        assert not await opens_home(laptop) and not await opens_home(client)
        assert await opens_home(bobs)  # another account's session goes on
        me = await client.get("/admin-api/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 200 and me.json()["username"] == "alice"
    async with services.db.read() as session:
        messages = (await session.execute(select(ActivityLogEntry.message).where(
            ActivityLogEntry.activity == "LOGOUT"))).scalars().all()
    assert messages == ["signed out everywhere (2 sessions)"]


async def test_sign_out_everywhere_only_for_the_own_account_and_not_cross_site(
        app: Any, client: httpx.AsyncClient, factory: Factory) -> None:
    eth = await factory.institution()
    await factory.user(eth, "root", Role.SEB_SERVER_ADMIN)
    sup = await factory.user(eth, "sup")
    await sign_in(client, "root")
    async with browser(app) as supporter:
        await sign_in(supporter, "sup")
        other = await client.post(f"/users/{sup.id}/sign-out-everywhere")
        assert other.status_code == 403
        assert 'id="web-sessions"' not in (await client.get(f"/users/{sup.id}")).text  # not listed to others
        forged = await supporter.post(f"/users/{sup.id}/sign-out-everywhere", headers={"Sec-Fetch-Site": "same-site"})
        assert forged.status_code == 403
        assert await opens_home(supporter)


async def test_a_password_change_or_deactivation_ends_every_session(app: Any, client: httpx.AsyncClient,
                                                                     factory: Factory, services: Services) -> None:
    eth = await factory.institution()
    ia = await factory.user(eth, "ia", Role.INSTITUTIONAL_ADMIN)
    sup = await factory.user(eth, "sup")
    await sign_in(client, "ia")
    async with browser(app) as desk, browser(app) as laptop, browser(app) as admin_laptop:
        await sign_in(desk, "sup")
        await sign_in(laptop, "sup")
        await sign_in(admin_laptop, "ia")
        # The supporter changes the own password at the desk: the laptop is signed out too.
        changed = await desk.post(f"/users/{sup.id}/password", data={
            "current_password": PASSWORD, "password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD})
        assert changed.status_code == 303 and changed.headers["location"] == "/login"
        assert not await opens_home(desk) and not await opens_home(laptop)
        # The administrator sets another password: the supporter's new session ends.
        await sign_in(laptop, "sup", NEW_PASSWORD)
        assert await opens_home(laptop)
        await client.post(f"/users/{sup.id}/password", data={
            "current_password": PASSWORD, "password": PASSWORD, "confirm_password": PASSWORD})
        assert not await opens_home(laptop)
        # Deactivation: signed out at once.
        await sign_in(laptop, "sup")
        assert await opens_home(laptop)
        assert (await client.post(f"/users/{sup.id}/deactivate", data={})).status_code == 303
        assert not await opens_home(laptop)
        # The administrator's own sessions were not touched by any of it.
        assert await opens_home(admin_laptop) and await opens_home(client)
    assert {row.user_id for row in await sessions_of(services, "ia")} == {ia.id}


async def test_idle_sessions_expire_and_expired_rows_are_purged(app: Any, client: httpx.AsyncClient,
                                                                 factory: Factory, services: Services) -> None:
    eth = await factory.institution()
    await factory.user(eth, "alice")
    await factory.user(eth, "bob")
    await sign_in(client, "alice")
    [row] = await sessions_of(services, "alice")
    assert row.expires_at - row.last_seen_at == timedelta(seconds=services.settings.session_max_age_seconds)
    async with services.db.transaction() as session:  # 8 hours without use
        await session.execute(update(WebSession).values(expires_at=utc_now() - timedelta(seconds=1)))
    assert not await opens_home(client)
    assert "sebframe_session" not in client.cookies  # the browser is told to forget it
    async with browser(app) as idle:
        await sign_in(idle, "alice")
        async with services.db.transaction() as session:
            await session.execute(update(WebSession).values(expires_at=utc_now() - timedelta(seconds=1)))
        async with browser(app) as other:
            await sign_in(other, "bob")  # a sign-in purges what expired
        assert [row.user_id for row in await sessions_of(services, "alice")] == []
        assert len(await sessions_of(services, "bob")) == 1
        assert not await opens_home(idle)


async def test_use_moves_the_expiry_on_at_most_once_a_minute(client: httpx.AsyncClient, factory: Factory,
                                                            services: Services) -> None:
    eth = await factory.institution()
    await factory.user(eth, "alice")
    await sign_in(client, "alice")
    [first] = await sessions_of(services, "alice")
    page = await client.get("/")
    assert page.status_code == 200 and "set-cookie" not in page.headers  # within the minute: no write
    assert (await sessions_of(services, "alice"))[0].expires_at == first.expires_at
    async with services.db.transaction() as session:  # last used two minutes ago
        await session.execute(update(WebSession).values(last_seen_at=first.last_seen_at - timedelta(minutes=2),
                                                        expires_at=first.expires_at - timedelta(minutes=2)))
    page = await client.get("/")
    [renewed] = await sessions_of(services, "alice")
    assert renewed.expires_at > first.expires_at and renewed.last_seen_at > first.last_seen_at
    assert f"Max-Age={services.settings.session_max_age_seconds}" in page.headers["set-cookie"]


async def test_the_cookie_holds_only_a_random_token_stored_hashed(client: httpx.AsyncClient,
                                                                  factory: Factory, services: Services) -> None:
    eth = await factory.institution()
    await factory.user(eth, "alice")
    response = await sign_in(client, "alice")
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("sebframe_session=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain HTTP
    token = client.cookies["sebframe_session"]
    assert len(token) == 43  # secrets.token_urlsafe(32): nothing about the user in it
    [row] = await sessions_of(services, "alice")
    assert row.token_hash == hash_token(token) and token not in row.token_hash
    assert row.user_agent == "python-httpx/" + httpx.__version__ and row.address == "127.0.0.1"
    async with browser(client._transport.app) as guesser:  # type: ignore[attr-defined]
        guesser.cookies.set("sebframe_session", token[:-1] + ("A" if token[-1] != "A" else "B"))
        assert not await opens_home(guesser)


async def test_signing_in_again_ends_the_browsers_previous_session(client: httpx.AsyncClient,
                                                                   factory: Factory, services: Services) -> None:
    eth = await factory.institution()
    await factory.user(eth, "alice")
    await factory.user(eth, "bob")
    await sign_in(client, "alice")
    await sign_in(client, "bob")
    assert await sessions_of(services, "alice") == [] and len(await sessions_of(services, "bob")) == 1


async def test_sessions_are_shared_by_every_server_process(settings: Settings, services: Services,
                                                           factory: Factory) -> None:
    eth = await factory.institution()
    await factory.user(eth, "alice")
    other = Services.create(settings, PluginRegistry.load(settings, load_entrypoints=False))
    try:
        first, second = create_app(services=services), create_app(services=other)
        async with browser(first) as on_first:
            await sign_in(on_first, "alice")
            async with browser(second, cookies=on_first.cookies) as on_second:
                assert await opens_home(on_second)  # the other process knows the session
                await on_second.post("/logout")
            assert not await opens_home(on_first)  # and its sign-out ends it here
    finally:
        await other.close()


async def test_deleting_a_user_deletes_the_sessions(app: Any, client: httpx.AsyncClient, factory: Factory,
                                                    services: Services) -> None:
    eth = await factory.institution()
    await factory.user(eth, "root", Role.SEB_SERVER_ADMIN)
    sup = await factory.user(eth, "sup")
    await sign_in(client, "root")
    async with browser(app) as supporter:
        await sign_in(supporter, "sup")
        deleted = await client.post(f"/users/{sup.id}/delete", data={"option": "ACCOUNT_ONLY"})
        assert deleted.status_code == 303
        assert not await opens_home(supporter)
    async with services.db.read() as session:
        assert (await session.execute(select(func.count()).select_from(WebSession)
                                      .where(WebSession.user_id == sup.id))).scalar_one() == 0


@pytest.mark.parametrize(("base", "trusted", "headers", "secure"), [
    ("https://testserver", [], {}, True),  # TLS to this server
    (BASE, ["127.0.0.1"], {"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.4"}, True),
    (BASE, ["127.0.0.1"], {"X-Forwarded-Proto": "http, https"}, True),  # the nearest proxy's word counts
    (BASE, ["127.0.0.1"], {"X-Forwarded-Proto": "https, http"}, False),
    (BASE, [], {"X-Forwarded-Proto": "https"}, False),  # from an untrusted peer: not believed
    (BASE, ["127.0.0.1"], {}, False),
])
async def test_cookies_are_secure_over_https(settings: Settings, services: Services, factory: Factory, base: str,
                                             trusted: list[str], headers: dict[str, str], secure: bool) -> None:
    eth = await factory.institution()
    await factory.user(eth, "alice")
    server = create_app(services=dataclasses.replace(services, settings=settings_with(settings,
                                                                                      trusted_proxies=trusted)))
    async with browser(server, base=base) as http:
        http.headers.update(headers)
        response = await sign_in(http, "alice")
        assert response.status_code == 303
        cookie = response.headers["set-cookie"]
        name = ("__Host-" if secure else "") + "sebframe_session"
        assert cookie.startswith(name + "=") and ("; Secure" in cookie) is secure
        token = cookie.split(";", 1)[0].split("=", 1)[1]
        http.cookies.clear()  # sent by hand: httpx keeps Secure cookies from a plain-HTTP base URL to itself
        assert (await http.get("/", headers={"Cookie": f"{name}={token}"})).status_code == 200
        if secure:  # the name without the prefix is not read over HTTPS: a sibling host cannot plant a session
            assert (await http.get("/", headers={"Cookie": f"sebframe_session={token}"})).status_code == 303


async def test_forwarded_proto_setting_and_flash_cookies(settings: Settings, services: Services,
                                                         factory: Factory) -> None:
    eth = await factory.institution()
    await factory.user(eth, "alice")
    behind_proxy = settings_with(settings, trusted_proxies=["127.0.0.1"], forwarded_header="forwarded")
    async with browser(create_app(services=dataclasses.replace(services, settings=behind_proxy))) as http:
        http.headers["Forwarded"] = 'for=198.51.100.4;proto="https", for=127.0.0.1;proto=https'
        response = await sign_in(http, "alice")
        assert "; Secure" in response.headers["set-cookie"]
    always_secure = settings_with(settings, https_only_cookies=True)
    async with browser(create_app(services=dataclasses.replace(services, settings=always_secure))) as http:
        signed_out = await http.post("/logout")  # a message for the sign-in page, in the flash cookie
        flash = signed_out.headers["set-cookie"]
        assert flash.startswith("__Host-sebframe_flash=") and "; Secure" in flash
        shown = await http.get("/login", headers={"Cookie": flash.split(";", 1)[0]})
        assert "You are signed out." in shown.text and "__Host-sebframe_flash=;" in shown.headers["set-cookie"]


async def test_a_flash_message_not_signed_by_the_server_is_ignored(client: httpx.AsyncClient) -> None:
    import base64
    import json

    forged = base64.urlsafe_b64encode(json.dumps([["info", "Your password expired: go to evil.example"]]).encode())
    client.cookies.set("sebframe_flash", forged.decode() + ".AAAA.BBBB")
    assert "evil.example" not in (await client.get("/login")).text
    await client.post("/logout")
    assert "You are signed out." in (await client.get("/login")).text
    assert "You are signed out." not in (await client.get("/login")).text  # shown once
