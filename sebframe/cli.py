"""The ``sebframe`` command line: serve, demo, db upgrade, admin create, token create, plugins list, seb ..."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import click

from sebframe.core.errors import SebframeError
from sebframe.core.private_files import write_private_file
from sebframe.settings import Settings, missing_database_driver

T = TypeVar("T")


def _run(factory: Callable[[], Awaitable[T]]) -> T:
    try:
        return asyncio.run(factory())  # type: ignore[arg-type]
    except SebframeError as exc:
        raise click.ClickException(exc.message) from None


def _settings() -> Settings:
    try:
        return Settings()
    except ValueError as exc:
        raise click.ClickException(f"invalid settings: {exc}") from None


def _database_settings() -> Settings:
    """The settings of a command that uses the database, whose driver must be installed."""
    settings = _settings()
    try:
        problem = missing_database_driver(settings.resolved_database_url)
    except ValueError as exc:  # an unsupported scheme
        raise click.ClickException(f"invalid SEBFRAME_DATABASE_URL: {exc}") from None
    if problem is not None:
        raise click.ClickException(problem)
    return settings


@click.group()
@click.version_option(package_name="sebframe")
def cli() -> None:
    """sebframe: a server for Safe Exam Browser exams."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)


# -- db -------------------------------------------------------------------------------------------


@cli.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Create or migrate the schema to the latest version."""
    from sebframe.core.db.migrate import upgrade

    settings = _database_settings()
    settings.ensure_data_dir()
    asyncio.run(upgrade(settings.resolved_database_url, revision))
    click.echo(f"database at {_redact(settings.resolved_database_url)} is at revision {revision}")


# -- serve ----------------------------------------------------------------------------------------


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64))
@click.option("--init/--no-init", default=True, show_default=True,
              help="Migrate the database and, when empty, create the first admin and demo data.")
@click.option("--demo/--no-demo", default=True, show_default=True,
              help="On first run create demo accounts and a running demo exam with its connection file.")
@click.option("--access-log/--no-access-log", default=None,
              help="Log every request; default: SEBFRAME_ACCESS_LOG (off). Errors are logged either way.")
def serve(host: str, port: int, workers: int, init: bool, demo: bool, access_log: bool | None) -> None:
    """Run the server."""
    import uvicorn

    from sebframe.head_limits import HeadLimitedHttpToolsProtocol

    settings = _database_settings()
    settings.ensure_data_dir()
    settings.resolved_secret_key()  # generate before workers start, so they all share it
    if init:
        credentials = asyncio.run(_initialise(settings, demo))
        url = f"http://{'localhost' if host in ('127.0.0.1', '0.0.0.0') else host}:{port}/"
        click.echo(f"sebframe is starting at {url}")
        _echo_credentials(settings, credentials)
        if credentials and demo:  # first run: the demo exam belongs to the demo data
            server_url = settings.external_url or f"http://{_client_host(host)}:{port}"
            try:
                _echo_demo(_run(lambda: _prepare_demo(settings, server_url, None)))
                click.echo("Once the server is up, open that file with Safe Exam Browser to start the demo exam.")
            except (click.ClickException, ValueError) as exc:  # the server is still useful without it
                message = exc.message if isinstance(exc, click.ClickException) else str(exc)
                click.echo(f"The demo exam could not be prepared ({message}); `sebframe demo` tries again.",
                           err=True)
    uvicorn.run(
        "sebframe.asgi:create",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=False,  # sebframe resolves forwarded addresses itself (trusted proxies setting)
        http=HeadLimitedHttpToolsProtocol,  # refuses oversized request heads before they are buffered
        access_log=settings.access_log if access_log is None else access_log,
        # SEB clients ping every second: keep their connections open across a pause (handshake to first ping).
        timeout_keep_alive=75,
        log_level=settings.log_level.lower(),
    )


async def _initialise(settings: Settings, demo: bool) -> list[Any]:
    from sebframe.core.bootstrap import ensure_initial_data
    from sebframe.core.db import Database
    from sebframe.core.db.migrate import upgrade

    await upgrade(settings.resolved_database_url)
    database = Database(settings.resolved_database_url)
    try:
        return await ensure_initial_data(database, settings.data_dir, demo=demo)
    finally:
        await database.dispose()


def _client_host(host: str) -> str:
    """Where a client on this machine reaches a server listening on ``host`` (as a URL's host part)."""
    if host in ("0.0.0.0", "::", ""):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def _echo_credentials(settings: Settings, credentials: list[Any]) -> None:
    if credentials:
        click.echo("First run: these accounts were created (also in "
                   f"{settings.data_dir / 'initial-credentials.txt'}):")
        for credential in credentials:
            click.echo(f"  {credential.username:<24} {credential.password:<20} {credential.role.label}")


# -- demo -----------------------------------------------------------------------------------------


@cli.command()
@click.option("--out", type=click.Path(dir_okay=False, writable=True, path_type=Path), default=None,
              help="Where to write the connection file; default: <data dir>/demo-connection.seb.")
@click.option("--server-url", default=None,
              help="The address SEB clients reach the server at; default: SEBFRAME_EXTERNAL_URL, else "
                   "http://127.0.0.1:8000 (what `sebframe serve` listens on).")
def demo(out: Path | None, server_url: str | None) -> None:
    """Prepare a running demo exam and write the .seb file that starts it in SEB (idempotent)."""
    from sebframe.core.demo import DEFAULT_SERVER_URL
    from sebframe.core.sebconfig.connection_configs import normalise_server_url

    settings = _database_settings()
    settings.ensure_data_dir()
    try:
        url = normalise_server_url(server_url or settings.external_url or DEFAULT_SERVER_URL)
    except ValueError as exc:
        raise click.ClickException(f"invalid --server-url: {exc}") from None

    async def prepare() -> tuple[list[Any], Any]:
        from sebframe.core.bootstrap import ensure_demo_accounts
        from sebframe.core.db import Database

        credentials = await _initialise(settings, True)
        database = Database(settings.resolved_database_url)
        try:  # a database first set up with `serve --no-demo` gets the demo institution now
            credentials += await ensure_demo_accounts(database, settings.data_dir)
        finally:
            await database.dispose()
        return credentials, await _prepare_demo(settings, url, out)

    credentials, setup = _run(prepare)
    _echo_credentials(settings, credentials)
    _echo_demo(setup)
    click.echo(f"Next: start the server so that it answers at {setup.server_url} (`sebframe serve`, or `make run`),\n"
               "then open the file with Safe Exam Browser, or let the load generator play SEB clients with it\n"
               "(python -m bench --help).")


async def _prepare_demo(settings: Settings, server_url: str, out: Path | None) -> Any:
    from sebframe.core.demo import ensure_demo_exam
    from sebframe.core.services import Services

    services = Services.create(settings)
    try:
        return await ensure_demo_exam(services, server_url=server_url, out=out)
    finally:
        await services.close()


def _echo_demo(setup: Any) -> None:
    click.echo(f"Demo exam {setup.exam_name!r} (id {setup.exam_id}, {setup.exam_status.lower()}) with exam "
               f"configuration {setup.exam_config_name!r} is ready.")
    click.echo(f"  connection file  {setup.connection_file.resolve()}")
    click.echo(f"  server URL       {setup.server_url}  (SEB clients must reach the server at this address)")


# -- admin / token --------------------------------------------------------------------------------


@cli.group()
def admin() -> None:
    """SEB Server administrator accounts."""


@admin.command("create")
@click.option("--username", default="admin", show_default=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--institution", "institution_name", default="Default Institution", show_default=True)
def admin_create(username: str, password: str, institution_name: str) -> None:
    """Create a SEB Server administrator (and its institution if missing)."""
    from sebframe.core.accounts.schemas import MIN_PASSWORD_LENGTH, USERNAME_PATTERN

    if not USERNAME_PATTERN.match(username):
        raise click.ClickException("the username must be 3-255 letters, digits or . _ @ + -")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise click.ClickException(f"the password needs at least {MIN_PASSWORD_LENGTH} characters")
    settings = _database_settings()

    async def create() -> None:
        from sebframe.core.bootstrap import create_admin
        from sebframe.core.db import Database
        from sebframe.core.errors import Conflict

        database = Database(settings.resolved_database_url)
        try:
            await create_admin(database, username, password, institution_name=institution_name)
        except Conflict:
            raise click.ClickException(f"a user named {username!r} exists already") from None
        finally:
            await database.dispose()

    asyncio.run(create())
    click.echo(f"SEB Server administrator {username!r} created")


@cli.group()
def token() -> None:
    """Admin API bearer tokens."""


@token.command("create")
@click.argument("username")
@click.option("--name", default="cli", show_default=True, help="What the token is for.")
@click.option("--expires-days", type=click.IntRange(1, 3650), default=None, help="Default: never expires.")
def token_create(username: str, name: str, expires_days: int | None) -> None:
    """Print a new admin-API bearer token for USERNAME."""
    settings = _database_settings()

    async def create() -> str:
        from sebframe.core.accounts.auth import AuthService
        from sebframe.core.db import Database

        database = Database(settings.resolved_database_url)
        try:
            expires = timedelta(days=expires_days) if expires_days else None
            plain, _ = await AuthService(database).create_token(username, name=name, expires_in=expires)
            return plain
        finally:
            await database.dispose()

    click.echo(_run(create))


# -- plugins --------------------------------------------------------------------------------------


@cli.group()
def plugins() -> None:
    """Installed plugins."""


@plugins.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def plugins_list(as_json: bool) -> None:
    """Show the loaded plugins, what they provide, and any that failed to load."""
    from sebframe.core.plugins import PluginRegistry

    registry = PluginRegistry.load(_settings())
    infos = registry.installed()
    if as_json:
        click.echo(json.dumps({
            "plugins": [_as_dict(info) for info in infos],
            "failures": [_as_dict(failure) for failure in registry.failures],
        }, indent=2))
        return
    for info in infos:
        origin = "built-in" if info.builtin else f"{info.distribution or '?'} {info.version or ''}".strip()
        click.echo(f"{info.name:<28} {origin:<32} {', '.join(info.provides) or '-'}")
        click.echo(f"{'':<28} {'':<32} hooks: {', '.join(info.hooks)}")
    for failure in registry.failures:
        click.echo(f"FAILED {failure.name} ({failure.stage}): {failure.error}", err=True)


@cli.group("connection-config")
def connection_config() -> None:
    """Connection configurations (SEBServerSettings.seb)."""


@connection_config.command("export")
@click.argument("name")
@click.option("--institution", "institution_id", type=click.IntRange(1), default=None,
              help="Institution id; needed when several institutions use NAME.")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, writable=True, path_type=Path),
              help="Where to write the .seb file (e.g. SEBServerSettings.seb).")
@click.option("--server-url", default=None,
              help="sebServerURL written into the file; default: SEBFRAME_EXTERNAL_URL (one of them is needed).")
def connection_config_export(name: str, institution_id: int | None, out: Path, server_url: str | None) -> None:
    """Export the active connection configuration NAME as a .seb file (logged as an export by the CLI)."""
    settings = _database_settings()
    if server_url is None and settings.external_url is None:
        raise click.ClickException("set SEBFRAME_EXTERNAL_URL or pass --server-url: SEB clients need the "
                                   "server's address")

    async def export() -> bytes:
        from sebframe.core.services import Services

        services = Services.create(settings)
        try:
            _, content = await services.connection_configs.export_by_name(
                name, institution_id=institution_id, server_url=server_url)
            return content
        finally:
            await services.close()

    try:
        content = _run(export)
    except ValueError as exc:  # a malformed --server-url
        raise click.ClickException(f"invalid --server-url: {exc}") from None
    write_private_file(out, content)  # it holds the configuration's client secret
    click.echo(f"connection configuration {name!r} written to {out.resolve()}")


def _add_seb_commands() -> None:
    from sebframe.core.sebconfig.cli import seb_cli

    cli.add_command(seb_cli)


_add_seb_commands()


def _as_dict(item: Any) -> dict[str, Any]:
    return {name: getattr(item, name) for name in item.__slots__}


def _redact(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    if "@" in rest:
        credentials, _, host = rest.rpartition("@")
        user = credentials.split(":", 1)[0]
        return f"{scheme}{sep}{user}:***@{host}"
    return url


def _add_plugin_commands() -> None:
    try:
        from sebframe.core.plugins import PluginRegistry

        PluginRegistry.load(Settings()).register_commands(cli)
    except Exception as exc:  # a broken plugin or bad settings must not break --help
        logging.getLogger(__name__).warning("plugin commands not loaded: %s", exc)


def main() -> None:
    _add_plugin_commands()
    cli()
