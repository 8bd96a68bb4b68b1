"""The admin UI's Jinja environment: plugin template directories first, core templates as ``default:``."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import jinja2
from markupsafe import Markup, escape
from starlette.templating import Jinja2Templates

CORE_TEMPLATES = Path(__file__).parent / "templates"


log = logging.getLogger(__name__)


def create_templates(plugin_dirs: Iterable[Path] = ()) -> Jinja2Templates:
    core = jinja2.FileSystemLoader(CORE_TEMPLATES)
    plugins = jinja2.FileSystemLoader([str(path) for path in plugin_dirs])
    loader = jinja2.ChoiceLoader([plugins, core, jinja2.PrefixLoader({"default": core}, ":")])
    env = jinja2.Environment(loader=loader, autoescape=True, undefined=jinja2.StrictUndefined)
    env.filters["localtime"] = localtime
    env.filters["localtime_text"] = localtime_text
    env.globals["query_with"] = query_with
    return Jinja2Templates(env=env)


async def compile_templates(env: jinja2.Environment) -> int:
    """Compile every template once, a few milliseconds each, yielding to the event loop in between: run in the
    background after start, so no request pays for compiling (the monitoring page's templates took ~80 ms on
    their first render). Returns how many were compiled."""
    compiled = 0
    for name in env.list_templates(filter_func=lambda name: name.endswith(".html")):
        if name.startswith("default:"):
            continue  # the same files as the unprefixed names
        try:
            env.get_template(name)
            compiled += 1
        except jinja2.TemplateError:
            log.exception("template %s does not compile", name)
        await asyncio.sleep(0)
    return compiled


@jinja2.pass_context
def query_with(context: jinja2.runtime.Context, **changes: object) -> str:
    """The current query string with some parameters replaced (sorting and paging links keep filters)."""
    params = dict(context["request"].query_params)
    for key, value in changes.items():
        if value is None or value == "":
            params.pop(key, None)
        else:
            params[key] = str(value)
    return urlencode(params)


def user_zone(timezone: str) -> ZoneInfo:
    """A user's time zone by its name; UTC when the name is unknown (an account stored before a zone was dropped)."""
    try:
        return ZoneInfo(timezone)
    except (KeyError, ValueError):
        return ZoneInfo("UTC")


def _in_zone(value: datetime, timezone: str) -> datetime:
    return value.astimezone(user_zone(timezone))


def localtime_text(value: datetime | None, timezone: str = "UTC") -> str:
    if value is None:
        return ""
    return _in_zone(value, timezone).strftime("%Y-%m-%d %H:%M:%S")


def localtime(value: datetime | None, timezone: str = "UTC") -> Markup:
    """A time in the user's zone, with UTC below it (the seed's rule for every date shown)."""
    if value is None:
        return Markup("")
    local = _in_zone(value, timezone)
    utc = value.astimezone(UTC)
    if timezone == "UTC":
        return Markup('<time datetime="{iso}">{text} UTC</time>').format(
            iso=utc.isoformat(), text=utc.strftime("%Y-%m-%d %H:%M:%S")
        )
    return Markup(
        '<time datetime="{iso}">{local} <small>{zone}</small><br><small class="utc">{utc} UTC</small></time>'
    ).format(
        iso=utc.isoformat(),
        local=local.strftime("%Y-%m-%d %H:%M:%S"),
        zone=escape(local.tzname() or timezone),
        utc=utc.strftime("%Y-%m-%d %H:%M:%S"),
    )
