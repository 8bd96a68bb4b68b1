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
from sebframe.core.accounts.web_sessions import WebSessions
from sebframe.core.db.models import UserAccount
from sebframe.core.services import Services
from sebframe.types import MenuItem
from sebframe.web.menu import SECTIONS
from sebframe.web.session import browser_session


class LoginRequired(Exception):
    """Raised by ``require_actor``; the app turns it into a redirect to the sign-in page."""


def services_of(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def web_sessions_of(request: Request) -> WebSessions:
    sessions: WebSessions = request.app.state.web_sessions
    return sessions


async def current_actor(request: Request) -> Actor | None:
    """The signed-in user of this request (one lookup of the session, then remembered for the request)."""
    if "actor" in request.state._state:
        actor: Actor | None = request.state.actor
        return actor
    browser = browser_session(request)
    actor = None
    if browser.token:
        signed_in = await web_sessions_of(request).resolve(browser.token)
        if signed_in is None:
            browser.end()  # signed out, expired or voided: the browser forgets the cookie
        else:
            actor = signed_in.actor
            request.state.session_id = signed_in.session_id
            browser.renew = signed_in.renewed
    request.state.actor = actor
    return actor


async def require_actor(request: Request) -> Actor:
    actor = await current_actor(request)
    if actor is None:
        raise LoginRequired()
    return actor


async def sign_in_session(request: Request, user: UserAccount) -> None:
    """A new server-side session for the user who just signed in; a session the browser had before ends."""
    sessions = web_sessions_of(request)
    browser = browser_session(request)
    if browser.token:
        await sessions.end(browser.token)
    browser.start(await sessions.start(user, user_agent=request.headers.get("user-agent", ""),
                                       address=client_address(request)))


async def end_session(request: Request) -> None:
    """Sign-out of this browser: its session row goes and the cookie is cleared."""
    browser = browser_session(request)
    if browser.token:
        await web_sessions_of(request).end(browser.token)
    browser.end()


def client_address(request: Request) -> str:
    """The resolved client address (the same resolver as the exam API), ``unknown`` if unresolvable."""
    return net.client_address(request, services_of(request).settings.proxy_policy) or "unknown"


def flash(request: Request, text: str, kind: str = "success") -> None:
    browser_session(request).flash(kind, text)


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
    messages = browser_session(request).take_messages()
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
