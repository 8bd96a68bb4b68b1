"""Sign in, sign out, self-registration, the start page and public institution logos."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sebframe.core.accounts.schemas import Registration, time_zones
from sebframe.core.errors import AuthenticationFailed, TooManyAttempts, ValidationFailed
from sebframe.core.validation import parse_input
from sebframe.web.pages import (
    client_address,
    current_actor,
    end_session,
    flash,
    form_fields,
    redirect,
    render,
    require_actor,
    services_of,
    sign_in_session,
)
from sebframe.web.views.common import image_response, path_id, safe_next


async def home(request: Request) -> Response:
    actor = await require_actor(request)
    return await render(request, "home.html", {"title": "Welcome", "actor": actor})


async def login(request: Request) -> Response:
    services = services_of(request)
    suffix = request.path_params.get("suffix") or request.query_params.get("institution")
    institution = await services.institutions.by_url_suffix(suffix) if suffix else None
    context: dict[str, Any] = {
        "title": "Sign in",
        "institution": institution,
        "next": safe_next(request.query_params.get("next"), "/"),
        "username": "",
        "error": None,
        "registration_enabled": services.settings.registration_enabled,
    }
    if request.method == "GET":
        if await current_actor(request):
            return redirect(context["next"])
        return await render(request, "login.html", context)
    form = await request.form()
    data = form_fields(form, "username", "password", "next")
    context["username"] = data.get("username", "")
    context["next"] = safe_next(data.get("next"), "/")
    try:
        user = await services.auth.sign_in(data.get("username", ""), data.get("password", ""),
                                           client_address(request))
    except TooManyAttempts as exc:
        context["error"] = exc.message
        return await render(request, "login.html", context, status_code=429)
    except AuthenticationFailed as exc:
        context["error"] = exc.message
        return await render(request, "login.html", context, status_code=401)
    await sign_in_session(request, user)
    return redirect(context["next"])


async def logout(request: Request) -> Response:
    actor = await current_actor(request)
    if actor is not None:
        await services_of(request).auth.record_sign_out(actor)
    await end_session(request)
    flash(request, "You are signed out.", "info")
    return redirect("/login")


async def register(request: Request) -> Response:
    services = services_of(request)
    if not services.settings.registration_enabled:
        return await render(request, "error.html", {
            "title": "Registration closed",
            "message": "Self-registration is switched off on this server. Ask an administrator for an account.",
        }, status_code=403)
    institutions = await services.institutions.active_for_registration()
    context = {
        "title": "Register",
        "institution_options": [(institution.id, institution.name) for institution in institutions],
        "time_zone_options": [(zone, zone) for zone in time_zones()],
        "values": {},
        "errors": {},
    }
    if request.method == "GET":
        return await render(request, "register.html", context)
    form = await request.form()
    values = form_fields(form, "institution_id", "name", "surname", "username", "email", "timezone",
                         "password", "confirm_password")
    context["values"] = {key: value for key, value in values.items() if "password" not in key}
    try:
        await services.users.register(parse_input(Registration, values))
    except ValidationFailed as exc:
        context["errors"] = exc.field_errors
        return await render(request, "register.html", context, status_code=422)
    flash(request, "Your account is ready. Sign in with your new username and password.")
    return redirect("/login")


async def institution_logo(request: Request) -> Response:
    logo = await services_of(request).institutions.logo(path_id(request, "institution_id"))
    return image_response(logo, cache_control="private, max-age=60")


routes = [
    Route("/", home),
    Route("/login", login, methods=["GET", "POST"]),
    Route("/login/{suffix}", login, methods=["GET", "POST"]),
    Route("/logout", logout, methods=["POST"]),
    Route("/register", register, methods=["GET", "POST"]),
    Route("/institutions/{institution_id}/logo", institution_logo),
]
