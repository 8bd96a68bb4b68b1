"""``sebframe connection-config export`` against a real database."""

from __future__ import annotations

import asyncio
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import delete, select

from sebframe.cli import cli
from sebframe.core.accounts.auth import actor_of
from sebframe.core.accounts.roles import Role
from sebframe.core.db.models import ActivityLogEntry, Institution, UserAccount, UserRoleGrant
from sebframe.core.sebconfig import decode_seb
from sebframe.core.sebconfig.connection_configs import ConnectionConfigInput
from sebframe.core.services import Services
from sebframe.settings import Settings
from tests.conftest import empty_tables

SECRET_KEY = "cli-test-secret-key-0123456789"


def _settings(env: dict[str, str]) -> Settings:
    return Settings(database_url=env["SEBFRAME_DATABASE_URL"], data_dir=Path(env["SEBFRAME_DATA_DIR"]),
                    secret_key=SECRET_KEY, load_entrypoint_plugins=False)


async def _prepare(env: dict[str, str]) -> dict[str, int]:
    """Two institutions, each with a configuration named "Exams" (one password-protected), one inactive."""
    services = Services.create(_settings(env))
    try:
        await empty_tables(services.db)
        ids: dict[str, int] = {}
        for name, password in (("ETH", "pw"), ("UZH", None)):
            async with services.db.transaction() as session:
                institution = Institution(name=name, active=True)
                session.add(institution)
                await session.flush()
                user = UserAccount(institution_id=institution.id, username=f"admin-{name}", name="A", surname="B",
                                   password_hash="-", roles=[UserRoleGrant(role=Role.INSTITUTIONAL_ADMIN.value)])
                session.add(user)
            ids[name] = institution.id
            actor = actor_of(user)
            data = ConnectionConfigInput(name="Exams", encryption_password=password,
                                         confirm_encryption_password=password)
            config = await services.connection_configs.create(actor, data, activate=False)
            await services.connection_configs.set_active(actor, config.id, name == "ETH")
            ids[f"{name}-config"] = config.id
        async with services.db.transaction() as session:  # only the export's entry matters below
            await session.execute(delete(ActivityLogEntry))
        return ids
    finally:
        await services.close()


async def _log(env: dict[str, str]) -> list[tuple[str | None, str, str]]:
    services = Services.create(_settings(env))
    try:
        async with services.db.read() as session:
            rows = await session.execute(select(ActivityLogEntry.username, ActivityLogEntry.activity,
                                                ActivityLogEntry.message))
            return [(row.username, row.activity, row.message) for row in rows]
    finally:
        await services.close()


@pytest.fixture
def env(database_url: str, tmp_path: Path) -> Iterator[dict[str, str]]:
    values = {"SEBFRAME_DATABASE_URL": database_url, "SEBFRAME_DATA_DIR": str(tmp_path / "data"),
              "SEBFRAME_SECRET_KEY": SECRET_KEY, "SEBFRAME_LOAD_ENTRYPOINT_PLUGINS": "false"}
    yield values
    asyncio.run(empty_tables(database_url))


def test_export_by_name(env: dict[str, str], tmp_path: Path) -> None:
    ids = asyncio.run(_prepare(env))
    runner = CliRunner()
    out = tmp_path / "SEBServerSettings.seb"
    base = ["connection-config", "export", "Exams", "--out", str(out)]

    ambiguous = runner.invoke(cli, [*base, "--server-url", "https://seb.example.org"], env=env)
    assert ambiguous.exit_code == 1 and "several institutions" in ambiguous.output and not out.exists()
    no_url = runner.invoke(cli, [*base, "--institution", str(ids["ETH"])], env=env)
    assert no_url.exit_code == 1 and "SEBFRAME_EXTERNAL_URL" in no_url.output
    inactive = runner.invoke(cli, [*base, "--institution", str(ids["UZH"])],
                             env={**env, "SEBFRAME_EXTERNAL_URL": "https://seb.example.org/"})
    assert inactive.exit_code == 1 and "inactive" in inactive.output
    unknown = runner.invoke(cli, ["connection-config", "export", "Nope", "--out", str(out), "--server-url",
                                  "https://seb.example.org"], env=env)
    assert unknown.exit_code == 1 and "no connection configuration named 'Nope'" in unknown.output
    bad_url = runner.invoke(cli, [*base, "--server-url", "seb.example.org"], env=env)
    assert bad_url.exit_code == 1 and "--server-url" in bad_url.output

    done = runner.invoke(cli, [*base, "--institution", str(ids["ETH"])],
                         env={**env, "SEBFRAME_EXTERNAL_URL": "https://seb.example.org/"})
    assert done.exit_code == 0, done.output
    assert str(out.resolve()) in done.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600  # it holds the client secret
    seb = decode_seb(out.read_bytes(), password="pw")
    assert seb.layers[:2] == ("gzip", "pswd")
    assert seb.settings["sebServerURL"] == "https://seb.example.org"
    assert seb.settings["sebServerConfiguration"]["institution"] == str(ids["ETH"])
    assert asyncio.run(_log(env)) == [
        ("sebframe-cli", "EXPORT", "SEBServerSettings.seb for https://seb.example.org (command line)")]
