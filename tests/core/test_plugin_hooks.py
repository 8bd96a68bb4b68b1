"""One test per hook, each through a plugin as an author would write it (as datasette's
``test_plugin_hooks_have_tests``): a hook added to ``sebframe/hookspecs`` without a test here fails the suite.
Deeper flows live beside their features (admission: tests/api/exam/test_admission.py, LMS types:
tests/core/lms/, the built-in plugins' own tests)."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import httpx
import jinja2
import pytest
from click.testing import CliRunner
from pydantic import BaseModel
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import BaseRoute, Route

from sebframe import hookimpl
from sebframe.app import create_app
from sebframe.core.plugins import PluginRegistry
from sebframe.core.services import Services
from sebframe.settings import Settings
from sebframe.testing import registry_with
from sebframe.types import (
    Actor,
    AdmissionCheck,
    AdmissionDecision,
    AdmissionRequest,
    EntityType,
    IndicatorType,
    LmsType,
    MenuItem,
    Privilege,
    ProctoringType,
    RestrictionType,
    Role,
    StartupContext,
)
from tests.conftest import sign_in

pytestmark = pytest.mark.anyio


class _NoSettings(BaseModel):
    pass


def _unused(*_: object) -> Any:
    raise AssertionError("not called in these tests")


def test_every_hook_has_a_test_here() -> None:
    hooks = {name for name in vars(PluginRegistry.load(load_entrypoints=False).pm.hook) if name.startswith("sebframe_")}
    tested = set(re.findall(r"^(?:async )?def test_hook_(sebframe_\w+)\(", Path(__file__).read_text(), re.MULTILINE))
    assert hooks, "no hookspecs found"
    assert hooks - tested == set(), "hooks without a test_hook_<name> in this module"
    assert tested - hooks == set(), "tests of hooks that no longer exist"


# -- integrations --------------------------------------------------------------------------------


def test_hook_sebframe_lms_types() -> None:
    class Plugin:
        @hookimpl
        def sebframe_lms_types(self) -> Iterator[LmsType]:
            yield LmsType(name="my_lms", display_name="My LMS", settings_model=_NoSettings, create_adapter=_unused)

    registry = registry_with(Plugin())
    assert registry.get_lms_type("MY_LMS").display_name == "My LMS"


def test_hook_sebframe_restriction_apis() -> None:
    class Plugin:
        @hookimpl
        def sebframe_restriction_apis(self) -> Iterator[RestrictionType]:
            yield RestrictionType(lms_type="my_lms", create_api=_unused)

    assert list(registry_with(Plugin()).restriction_types()) == ["MY_LMS", "TESTING"]


def test_hook_sebframe_indicator_types() -> None:
    class Plugin:
        @hookimpl
        def sebframe_indicator_types(self) -> Iterator[IndicatorType]:
            yield IndicatorType(name="heart_rate", display_name="Heart rate", create=_unused)

    assert registry_with(Plugin()).indicator_types()["HEART_RATE"].display_name == "Heart rate"


def test_hook_sebframe_proctoring_services() -> None:
    class Plugin:
        @hookimpl
        def sebframe_proctoring_services(self) -> Iterator[ProctoringType]:
            yield ProctoringType(name="my_meet", display_name="My Meet", settings_model=_NoSettings,
                                 create_service=_unused)

    registry = registry_with(Plugin())
    assert list(registry.proctoring_types()) == ["MY_MEET"]
    assert "proctoring service MY_MEET" in {line for info in registry.installed() for line in info.provides}


def test_hook_sebframe_admission_checks() -> None:
    async def allow(request: AdmissionRequest) -> AdmissionDecision:
        return AdmissionDecision.allow()

    class Plugin:
        @hookimpl
        def sebframe_admission_checks(self) -> Iterator[AdmissionCheck]:
            yield AdmissionCheck(name="lab-only", check=allow)

    assert [check.name for check in registry_with(Plugin()).admission_checks()] == ["lab-only"]


# -- application ---------------------------------------------------------------------------------


async def _start_and_stop(app: Any) -> None:
    """Drive the ASGI lifespan protocol once through start-up and shut-down."""
    messages = iter([{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return next(messages)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, receive, send)
    assert [message["type"] for message in sent] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]


async def test_hook_sebframe_startup(settings: Settings, caplog: pytest.LogCaptureFixture) -> None:
    seen: list[tuple[Starlette, StartupContext]] = []

    class Plugin:
        @hookimpl
        async def sebframe_startup(self, app: Starlette, context: StartupContext) -> None:
            seen.append((app, context))

    class Failing:
        @hookimpl
        def sebframe_startup(self) -> Any:
            async def fail() -> None:
                raise RuntimeError("no licence server")
            return fail()

    registry = registry_with(Plugin(), Failing())
    services = Services.create(settings, registry)
    await _start_and_stop(create_app(services=services))  # a failing plugin does not stop the server
    [(app, context)] = seen
    assert isinstance(app, Starlette)
    assert context.data_dir == settings.data_dir.resolve()
    assert {"sebframe.web.menu", "sebframe.core.lms.testing_lms"} <= set(context.plugin_names)
    assert "failed in sebframe_startup" in caplog.text and "no licence server" in caplog.text
    assert [failure.stage for failure in registry.failures] == ["sebframe_startup"]


def _app_with(services: Services, *plugins: object) -> Any:
    for plugin in plugins:
        services.plugins.pm.register(plugin)
    return create_app(services=services)


async def _client(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=("127.0.0.1", 50000)),
                             base_url="http://testserver")


async def test_hook_sebframe_routes(services: Services) -> None:
    async def hello(request: Request) -> PlainTextResponse:
        return PlainTextResponse("hello from a plugin")

    class Plugin:
        @hookimpl
        def sebframe_routes(self) -> list[BaseRoute]:
            return [Route("/plugins/hello/", hello)]

    async with await _client(_app_with(services, Plugin())) as http:
        response = await http.get("/plugins/hello/")
    assert response.status_code == 200 and response.text == "hello from a plugin"


async def test_hook_sebframe_menu_items(services: Services, factory: Any) -> None:
    seen: list[Actor] = []

    class Plugin:
        @hookimpl
        def sebframe_menu_items(self, actor: Actor) -> Iterator[MenuItem]:
            seen.append(actor)
            if actor.may(Privilege.WRITE, EntityType.EXAM, institution_id=actor.institution_id):
                yield MenuItem("Tools", "Seat planner", "/plugins/seats/", 10, "Plan seats")

    institution = await factory.institution()
    await factory.user(institution, "office", Role.EXAM_ADMIN)
    await factory.user(institution, "helper", Role.EXAM_SUPPORTER)
    app = _app_with(services, Plugin())
    pages = {}
    for username in ("office", "helper"):
        async with await _client(app) as http:
            await sign_in(http, username)
            pages[username] = (await http.get("/exams")).text
    assert 'href="/plugins/seats/"' in pages["office"] and "Seat planner" in pages["office"]
    assert "Seat planner" not in pages["helper"]
    assert seen and all(isinstance(actor, Actor) for actor in seen)


def _override_login(tmp_path: Path, body: str) -> Path:
    (tmp_path / "login.html").write_text('{% extends "default:login.html" %}' + body)
    return tmp_path


async def test_hook_sebframe_template_dirs(services: Services, tmp_path: Path) -> None:
    templates = _override_login(tmp_path, '{% block title %}Campus exams{% endblock %}')

    class Plugin:
        @hookimpl
        def sebframe_template_dirs(self) -> list[Path]:
            return [templates]

    async with await _client(_app_with(services, Plugin())) as http:
        page = await http.get("/login")
    assert page.status_code == 200
    assert "<title>Campus exams" in page.text and 'name="password"' in page.text  # the core form still renders


def test_a_template_dir_that_is_no_path_is_skipped_and_logged(tmp_path: Path,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    class Plugin:
        @hookimpl
        def sebframe_template_dirs(self) -> list[object]:
            return [tmp_path, 42]

    registry = registry_with(Plugin())
    assert registry.template_dirs() == [tmp_path]  # the plugin's good directory is kept
    assert "returned 42 from sebframe_template_dirs; expected str | pathlib.Path" in caplog.text


async def test_hook_sebframe_prepare_jinja_environment(services: Services, tmp_path: Path) -> None:
    templates = _override_login(tmp_path, '{% block title %}{{ "exams" | shout }}{% endblock %}')

    class Plugin:
        @hookimpl
        def sebframe_template_dirs(self) -> list[Path]:
            return [templates]

        @hookimpl
        def sebframe_prepare_jinja_environment(self, env: jinja2.Environment) -> None:
            env.filters["shout"] = lambda text: f"{text.upper()}!"

    async with await _client(_app_with(services, Plugin())) as http:
        page = await http.get("/login")
    assert "<title>EXAMS!" in page.text


def test_hook_sebframe_register_commands() -> None:
    class Plugin:
        @hookimpl
        def sebframe_register_commands(self, cli: click.Group) -> None:
            @cli.command("seats")
            @click.argument("room")
            def seats(room: str) -> None:
                """Print the seat plan of a room."""
                click.echo(f"room {room}: 24 seats")

    group = click.Group("sebframe")
    registry_with(Plugin()).register_commands(group)
    result = CliRunner().invoke(group, ["seats", "E12"])
    assert result.exit_code == 0 and result.output == "room E12: 24 seats\n"


# -- pluggy's safety nets ------------------------------------------------------------------------


def test_a_misspelt_hook_is_refused_with_a_suggestion(caplog: pytest.LogCaptureFixture) -> None:
    class Typo:
        __name__ = "typo"

        @hookimpl
        def sebframe_lms_type(self) -> list[object]:
            return []

    registry = registry_with(Typo())
    [failure] = registry.failures
    assert (failure.name, failure.stage) == ("typo", "register")
    assert "sebframe_lms_type is not a sebframe hook (did you mean sebframe_lms_types?)" in failure.error
    assert "typo" not in registry.names()
    registry.pm.check_pending()  # nothing unknown stays registered
    assert "plugin typo is skipped" in caplog.text


@pytest.mark.parametrize("marker", [hookimpl(hookwrapper=True), hookimpl(wrapper=True)])
def test_hook_wrappers_are_refused(marker: Any) -> None:
    class Wrapper:
        __name__ = "wrapper"

        def sebframe_routes(self) -> Iterator[None]:
            yield

    Wrapper.sebframe_routes = marker(Wrapper.sebframe_routes)  # type: ignore[method-assign]
    registry = registry_with(Wrapper())
    assert "wrapper" not in registry.names()
    assert "sebframe_routes is a hook wrapper" in registry.failures[0].error


def test_a_plugin_with_a_bad_hook_does_not_take_its_good_hooks_along_half_registered(
        caplog: pytest.LogCaptureFixture) -> None:
    class Mixed:
        __name__ = "mixed"

        @hookimpl
        def sebframe_indicator_types(self) -> Iterator[IndicatorType]:
            yield IndicatorType(name="half", display_name="Half", create=_unused)

        @hookimpl
        def sebframe_indicatortypes(self) -> list[object]:
            return []

    registry = registry_with(Mixed())
    assert "HALF" not in registry.indicator_types()  # all or nothing: the plugin is skipped whole
    assert logging.ERROR in {record.levelno for record in caplog.records}
