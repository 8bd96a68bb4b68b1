"""What every admin UI handler uses: the signed-in actor, rendering with the layout, flash messages."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from sebframe.core import net
from sebframe.core.accounts.actor import Actor
from sebframe.core.services import Services
from sebframe.types import MenuItem
from sebframe.web.menu import SECTIONS

SESSION_USER = "uid"
SESSION_STAMP = "stamp"
SESSION_FLASH = "flash"


class LoginRequired(Exception):
    """Raised by ``require_actor``; the app turns it into a redirect to the sign-in page."""


def services_of(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


async def current_actor(request: Request) -> Actor | None:
    if "actor" in request.state._state:
        actor: Actor | None = request.state.actor
        return actor
    user_id, stamp = request.session.get(SESSION_USER), request.session.get(SESSION_STAMP)
    actor = None
    if isinstance(user_id, int) and isinstance(stamp, int):
        actor = await services_of(request).auth.actor_for_session(user_id, stamp)
        if actor is None:
            request.session.clear()
    request.state.actor = actor
    return actor


async def require_actor(request: Request) -> Actor:
    actor = await current_actor(request)
    if actor is None:
        raise LoginRequired()
    return actor


def sign_in_session(request: Request, user_id: int, security_stamp: int) -> None:
    request.session.clear()
    request.session[SESSION_USER] = user_id
    request.session[SESSION_STAMP] = security_stamp


def client_address(request: Request) -> str:
    """The resolved client address (the same resolver as the exam API), ``unknown`` if unresolvable."""
    return net.client_address(request, services_of(request).settings.proxy_policy) or "unknown"


def flash(request: Request, text: str, kind: str = "success") -> None:
    # Assign (not append in place): Starlette writes the session cookie only when an item is set.
    request.session[SESSION_FLASH] = [*request.session.get(SESSION_FLASH, []), [kind, text]]


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def login_redirect(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return redirect(f"/login?next={quote(target)}")


def menu_for(request: Request, actor: Actor) -> list[tuple[str, list[MenuItem]]]:
    grouped: dict[str, list[MenuItem]] = defaultdict(list)
    for item in services_of(request).plugins.menu_items(actor):
        grouped[item.section].append(item)
    order = {name: index for index, name in enumerate(SECTIONS)}
    return [
        (section, sorted(items, key=lambda item: (item.order, item.label)))
        for section, items in sorted(grouped.items(), key=lambda pair: (order.get(pair[0], 99), pair[0]))
    ]


async def render(
    request: Request, template: str, context: Mapping[str, Any] | None = None, *, status_code: int = 200
) -> Response:
    actor = await current_actor(request)
    messages = request.session.pop(SESSION_FLASH, []) if "session" in request.scope else []
    full: dict[str, Any] = {
        "actor": actor,
        "menu": menu_for(request, actor) if actor else [],
        "messages": messages,
        "settings": services_of(request).settings,
        "timezone": actor.timezone if actor else "UTC",
        "errors": {},
    }
    full.update(context or {})
    templates = request.app.state.templates
    return templates.TemplateResponse(request, template, full, status_code=status_code)  # type: ignore[no-any-return]


def form_fields(form: FormData, *names: str) -> dict[str, Any]:
    """Plain text fields of a submitted form; multi-valued names (checkbox groups) become lists."""
    data: dict[str, Any] = {}
    for name in names:
        if name.endswith("[]"):
            data[name[:-2]] = [value for value in form.getlist(name) if isinstance(value, str)]
            continue
        value = form.get(name)
        if isinstance(value, str):
            data[name] = value
    return data


async def upload_bytes(form: FormData, name: str, limit: int) -> bytes | None:
    """The content of an uploaded file field, or None when no file was chosen. Reads at most ``limit``+1."""
    value = form.get(name)
    if not isinstance(value, UploadFile) or not value.filename:
        return None
    return await value.read(limit + 1)
