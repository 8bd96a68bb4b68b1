"""Application hooks: start-up, routes, menu items, templates and CLI commands."""

from __future__ import annotations

from collections.abc import Awaitable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from sebframe.hookspecs import hookspec

if TYPE_CHECKING:
    import click
    import jinja2
    from starlette.applications import Starlette
    from starlette.routing import BaseRoute

    from sebframe.types import Actor, MenuItem, StartupContext


@hookspec
def sebframe_startup(app: Starlette, context: StartupContext) -> Awaitable[None] | None:
    """Called once when the server starts, after the database is reachable.

    :param app: the Starlette application.
    :param context: facts about this server (data directory, external URL, registered plugins).
    :return: ``None`` or an awaitable, which is awaited; an exception is logged and does not stop the server.
    """


@hookspec
def sebframe_routes() -> Iterable[BaseRoute]:  # type: ignore[empty-body]
    """Extra Starlette routes, added to the application as given (use a path prefix of your own).

    :return: Starlette ``Route``/``Mount`` objects.
    """


@hookspec
def sebframe_menu_items(actor: Actor) -> Iterable[MenuItem]:  # type: ignore[empty-body]
    """Entries of the admin UI's left menu for the signed-in user.

    :param actor: the signed-in user; return only entries this user may use.
    :return: ``MenuItem`` descriptors, grouped by ``section`` and sorted by ``order``.
    """


@hookspec
def sebframe_template_dirs() -> Iterable[Path]:  # type: ignore[empty-body]
    """Directories searched for Jinja templates before the core ones (to add or override templates).

    :return: paths; the core templates stay reachable as ``default:<name>``.
    """


@hookspec
def sebframe_prepare_jinja_environment(env: jinja2.Environment) -> None:
    """Change the Jinja environment (filters, globals) before the first template renders.

    :param env: the admin UI's environment.
    """


@hookspec
def sebframe_register_commands(cli: click.Group) -> None:
    """Add commands to the ``sebframe`` command line.

    :param cli: the top-level click group; call ``cli.add_command`` or decorate with ``@cli.command()``.
    """
