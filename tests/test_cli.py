"""The sebframe command line against a real database."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from sebframe.cli import cli
from sebframe.core.accounts.auth import AuthService
from sebframe.core.db import Database
from tests.conftest import empty_tables


@pytest.fixture
def env(database_url: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    asyncio.run(empty_tables(database_url))
    yield {"SEBFRAME_DATABASE_URL": database_url, "SEBFRAME_DATA_DIR": str(tmp_path / "data"),
           "SEBFRAME_LOAD_ENTRYPOINT_PLUGINS": "false"}
    asyncio.run(empty_tables(database_url))


async def _token_user(url: str, token: str) -> str | None:
    db = Database(url)
    try:
        actor = await AuthService(db).actor_for_token(token)
        return actor.username if actor else None
    finally:
        await db.dispose()


def test_db_upgrade_admin_create_and_token_create(env: dict[str, str]) -> None:
    runner = CliRunner()
    assert runner.invoke(cli, ["db", "upgrade"], env=env).exit_code == 0
    created = runner.invoke(cli, ["admin", "create", "--username", "root-admin", "--password", "long-enough-1"],
                            env=env)
    assert created.exit_code == 0, created.output
    again = runner.invoke(cli, ["admin", "create", "--username", "root-admin", "--password", "long-enough-1"],
                          env=env)
    assert again.exit_code == 1 and "exists already" in again.output
    issued = runner.invoke(cli, ["token", "create", "root-admin", "--name", "ci"], env=env)
    assert issued.exit_code == 0, issued.output
    token = issued.output.strip()
    assert token.startswith("sbf_")
    assert asyncio.run(_token_user(env["SEBFRAME_DATABASE_URL"], token)) == "root-admin"


def test_token_for_unknown_user_is_a_clear_error(env: dict[str, str]) -> None:
    result = CliRunner().invoke(cli, ["token", "create", "nobody"], env=env)
    assert result.exit_code == 1 and "no user account named 'nobody'" in result.output


def test_short_admin_password_is_refused(env: dict[str, str]) -> None:
    result = CliRunner().invoke(cli, ["admin", "create", "--password", "short"], env=env)
    assert result.exit_code == 1 and "at least 8 characters" in result.output


def test_plugins_list(env: dict[str, str]) -> None:
    result = CliRunner().invoke(cli, ["plugins", "list", "--json"], env=env)
    assert result.exit_code == 0, result.output
    listing = json.loads(result.output)
    builtins = [plugin["name"] for plugin in listing["plugins"] if plugin["builtin"]]
    assert builtins == ["sebframe.core.lms.testing_lms", "sebframe.web.menu"]
    assert listing["failures"] == []
    testing_lms = next(plugin for plugin in listing["plugins"] if plugin["name"] == "sebframe.core.lms.testing_lms")
    assert testing_lms["provides"] == ["LMS type TESTING", "restriction API TESTING"]


def test_plugins_list_says_what_each_plugin_provides(env: dict[str, str]) -> None:
    result = CliRunner().invoke(cli, ["plugins", "list"], env=env)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    row = next(index for index, line in enumerate(lines) if line.startswith("sebframe.core.lms.testing_lms "))
    assert lines[row].split()[1:] == ["built-in", "LMS", "type", "TESTING,", "restriction", "API", "TESTING"]
    assert lines[row + 1].split() == ["hooks:", "sebframe_lms_types,", "sebframe_restriction_apis"]


def _uvicorn_options(monkeypatch: pytest.MonkeyPatch, env: dict[str, str], *args: str) -> dict[str, Any]:
    """The options ``sebframe serve ARGS`` starts uvicorn with (uvicorn itself is not started)."""
    import uvicorn

    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda *_, **options: calls.append(options))
    result = CliRunner().invoke(cli, ["serve", "--no-init", *args], env=env)
    assert result.exit_code == 0, result.output
    assert len(calls) == 1
    return calls[0]


def test_serve_limits_request_heads_and_logs_no_requests_by_default(env: dict[str, str],
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from sebframe.head_limits import HeadLimitedHttpToolsProtocol

    options = _uvicorn_options(monkeypatch, env)
    assert options["http"] is HeadLimitedHttpToolsProtocol
    assert options["access_log"] is False
    assert _uvicorn_options(monkeypatch, env, "--access-log")["access_log"] is True
    assert _uvicorn_options(monkeypatch, {**env, "SEBFRAME_ACCESS_LOG": "true"})["access_log"] is True
    assert _uvicorn_options(monkeypatch, {**env, "SEBFRAME_ACCESS_LOG": "true"}, "--no-access-log")["access_log"] \
        is False


@pytest.mark.parametrize(("url", "module", "extra"), [
    ("postgresql://sebframe@127.0.0.1:1/nowhere", "asyncpg", "postgres"),
    ("mariadb://sebframe@127.0.0.1:1/nowhere", "aiomysql", "mariadb"),
])
@pytest.mark.parametrize("command", [["db", "upgrade"], ["serve"], ["demo"], ["token", "create", "admin"]])
def test_a_missing_database_driver_names_the_extra_to_install(
        env: dict[str, str], monkeypatch: pytest.MonkeyPatch, url: str, module: str, extra: str,
        command: list[str]) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # the driver cannot be imported
    result = CliRunner().invoke(cli, command, env={**env, "SEBFRAME_DATABASE_URL": url})
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)  # a message, no traceback
    assert result.output.splitlines() == [
        f"Error: the {url.split(':')[0].replace('mariadb', 'mysql')} driver {module} is not installed: "
        f"pip install 'sebframe[{extra}]'"]


def test_an_unsupported_database_url_is_one_clear_line(env: dict[str, str]) -> None:
    result = CliRunner().invoke(cli, ["db", "upgrade"], env={**env, "SEBFRAME_DATABASE_URL": "oracle://x@y/z"})
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert result.output.startswith("Error: invalid SEBFRAME_DATABASE_URL: unsupported database 'oracle'")
