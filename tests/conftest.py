"""Fixtures for the whole suite: a migrated database (SQLite, PostgreSQL or MariaDB), services, app, client,
factory and the running exam SEB clients connect to (`seb_world`; all world fixtures: docs/architecture.md).

Choose the database with SEBFRAME_TEST_DATABASE_URL (a database of that name is dropped and created);
the default is a temporary SQLite file. Every test starts with empty tables.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from sebframe.app import create_app
from sebframe.core.accounts.actor import Actor
from sebframe.core.accounts.auth import actor_of
from sebframe.core.accounts.passwords import hash_password, set_hash_parameters
from sebframe.core.accounts.roles import Role
from sebframe.core.db import Database
from sebframe.core.db.base import Base
from sebframe.core.db.migrate import upgrade
from sebframe.core.db.models import Institution, UserAccount, UserRoleGrant
from sebframe.core.plugins import PluginRegistry
from sebframe.core.services import Services
from sebframe.settings import Settings, normalise_database_url
from tests.seb_client import SebWorld, build_seb_world

PASSWORD = "correct-horse-42"
TEST_DATA = Path(__file__).resolve().parent / "data"  # public test vectors; sources and licences in its README

set_hash_parameters(time_cost=1, memory_cost_kib=1024)  # hashing cost is not what tests measure


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


async def _recreate_database(url: str) -> None:
    parsed = make_url(url)
    name = parsed.database
    if parsed.get_backend_name() == "postgresql":
        admin = create_async_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
        async with admin.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            await connection.execute(text(f'CREATE DATABASE "{name}"'))
        await admin.dispose()
    elif parsed.get_backend_name() == "mysql":
        admin = create_async_engine(parsed.set(database=""))
        async with admin.begin() as connection:
            await connection.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
            await connection.execute(text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"))
        await admin.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    configured = os.environ.get("SEBFRAME_TEST_DATABASE_URL")
    if configured:
        url = normalise_database_url(configured)
        asyncio.run(_recreate_database(url))
    else:
        url = normalise_database_url(f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}")
    asyncio.run(upgrade(url))
    return url


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        data_dir=tmp_path / "data",
        secret_key="test-secret-key-0123456789",
        load_entrypoint_plugins=False,
        login_max_failures=5,
    )


async def empty_tables(database: Database | str) -> None:
    """Delete every row, children first: each test starts from, and leaves, an empty database."""
    db = Database(database) if isinstance(database, str) else database
    try:
        async with db.transaction() as session:
            for table in reversed(Base.metadata.sorted_tables):
                await session.execute(delete(table))
    finally:
        if db is not database:
            await db.dispose()


@pytest.fixture
async def services(settings: Settings) -> AsyncIterator[Services]:
    registry = PluginRegistry.load(settings, load_entrypoints=False)
    services = Services.create(settings, registry)
    try:
        yield services
    finally:
        await empty_tables(services.db)
        await services.close()


@pytest.fixture
def app(services: Services) -> Any:
    return create_app(services=services)


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@dataclass
class Factory:
    """Creates rows directly (no activity log, no privilege checks) to set up a test's world."""

    services: Services

    async def institution(
        self, name: str = "ETH", *, active: bool = True, url_suffix: str | None = None
    ) -> Institution:
        async with self.services.db.transaction() as session:
            institution = Institution(name=name, active=active, url_suffix=url_suffix)
            session.add(institution)
        return institution

    async def user(
        self,
        institution: Institution,
        username: str,
        *roles: Role,
        password: str = PASSWORD,
        active: bool = True,
        timezone: str = "UTC",
    ) -> UserAccount:
        async with self.services.db.transaction() as session:
            user = UserAccount(
                institution_id=institution.id, username=username, name=username.title(), surname="Tester",
                email=f"{username}@example.org", timezone=timezone, password_hash=hash_password(password),
                active=active, roles=[UserRoleGrant(role=role.value) for role in roles or (Role.EXAM_SUPPORTER,)],
            )
            session.add(user)
        return user

    async def actor(self, institution: Institution, username: str, *roles: Role) -> Actor:
        return actor_of(await self.user(institution, username, *roles))

    async def token(self, username: str) -> str:
        plain, _ = await self.services.auth.create_token(username, name="test")
        return plain


@pytest.fixture
def factory(services: Services) -> Factory:
    return Factory(services)


@pytest.fixture
async def seb_world(services: Services, tmp_path: Path) -> SebWorld:
    """The demo exam, running, with a published exam configuration and an active connection configuration:
    what a SEB client needs to connect (see ``tests.seb_client.SebClient``). Its files are in ``tmp_path/seb``."""
    return await build_seb_world(services, tmp_path / "seb")


@pytest.fixture(scope="session")
def test_data() -> Path:
    """``tests/data``: the public SEB test vectors the suite checks against (see ``tests/data/README.md``)."""
    return TEST_DATA


async def sign_in(client: httpx.AsyncClient, username: str, password: str = PASSWORD) -> httpx.Response:
    """Sign in through the login form; the client keeps the session cookie."""
    return await client.post("/login", data={"username": username, "password": password, "next": "/"})
