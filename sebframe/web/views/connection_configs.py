"""Connection configuration screens: list, view, create, edit, (de)activate, export, new credentials, delete."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sebframe.core.accounts.actor import Actor, Scope
from sebframe.core.accounts.roles import EntityType, Privilege
from sebframe.core.db.models import ConnectionConfiguration
from sebframe.core.errors import Conflict, PermissionDenied, ValidationFailed
from sebframe.core.sebconfig.connection_configs import (
    CONNECTION_CONFIG_FILTERS,
    DEFAULTS,
    PASSWORD_FIELDS,
    RANGES,
    ConnectionConfigInput,
    ConnectionConfigService,
    ConnectionConfigUpdate,
    ConnectionPurpose,
)
from sebframe.core.validation import parse_input
from sebframe.web.pages import flash, form_fields, redirect, render, require_actor, services_of
from sebframe.web.views.common import (
    STATUS_OPTIONS,
    current_path,
    fetch_list,
    field_errors,
    list_params,
    path_id,
    safe_next,
    without_passwords,
)

PURPOSE_OPTIONS = [(purpose.value, purpose.label) for purpose in ConnectionPurpose]
_TEXT_FIELDS = ("name", "purpose", "certificate_id", "fallback_start_url", *RANGES)
_FLAGS = ("asymmetric_only", "fallback")


def _lists_all(actor: Actor) -> bool:
    return actor.scope(Privilege.READ, EntityType.CONNECTION_CONFIGURATION) == Scope.OVERALL


def request_url(request: Request) -> str:
    """The address this request reached the server at (for sebServerURL when no external URL is set)."""
    return f"{request.url.scheme}://{request.url.netloc}"


async def _institution_names(request: Request, actor: Actor) -> dict[int, str]:
    choices = await services_of(request).institutions.choices(actor, active_only=False)
    return {institution.id: institution.name for institution in choices}


def _flags(actor: Actor, config: ConnectionConfiguration) -> str:
    flags = ["active"] if config.active else []
    if ConnectionConfigService.may_write(actor, config):
        flags.append("writable")
    return " ".join(flags)


async def list_configs(request: Request) -> Response:
    actor = await require_actor(request)
    if actor.scope(Privilege.READ, EntityType.CONNECTION_CONFIGURATION) == Scope.NONE:
        raise PermissionDenied("You may not see connection configurations.")
    params, errors = list_params(request, CONNECTION_CONFIG_FILTERS)
    page, status = await fetch_list(lambda query: services_of(request).connection_configs.list(actor, query),
                                    params, errors)
    names = await _institution_names(request, actor)
    rows = [{
        "config": config,
        "purpose": ConnectionPurpose(config.purpose).label,
        "institution": names.get(config.institution_id, str(config.institution_id)),
        "flags": _flags(actor, config),
    } for config in page.items]
    return await render(request, "connection_configs/list.html", {
        "title": "Connection Configurations",
        "params": params,
        "page": page,
        "rows": rows,
        "errors": errors,
        "show_institution": _lists_all(actor),
        "institution_options": sorted(names.items(), key=lambda pair: pair[1].lower()),
        "purpose_options": PURPOSE_OPTIONS,
        "status_options": STATUS_OPTIONS,
        "may_create": ConnectionConfigService.may_write(actor),
        "here": current_path(request),
    }, status_code=status)


async def view_config(request: Request) -> Response:
    actor = await require_actor(request)
    services = services_of(request)
    config = await services.connection_configs.get(actor, path_id(request))
    certificate = None
    if config.certificate_id is not None:
        certificate = await services.certificates.get(actor, config.certificate_id)
    names = await _institution_names(request, actor)
    return await render(request, "connection_configs/view.html", {
        "title": f"Connection Configuration {config.name}",
        "config": config,
        "purpose": ConnectionPurpose(config.purpose).label,
        "certificate": certificate,
        "institution": names.get(config.institution_id, str(config.institution_id)),
        "show_institution": _lists_all(actor),
        "may_write": ConnectionConfigService.may_write(actor, config),
        "here": current_path(request),
    })


def _values_of(config: ConnectionConfiguration) -> dict[str, Any]:
    values: dict[str, Any] = {name: getattr(config, name) for name in (*_TEXT_FIELDS, *_FLAGS)}
    values["certificate_id"] = "" if config.certificate_id is None else str(config.certificate_id)
    values["fallback_start_url"] = config.fallback_start_url or ""
    return values


def _read_values(form: FormData) -> dict[str, Any]:
    values = form_fields(form, *_TEXT_FIELDS)
    for flag in _FLAGS:
        values[flag] = form.get(flag) == "1"
    if values.get("certificate_id") == "":
        values["certificate_id"] = None
    return values


async def _form_page(
    request: Request, actor: Actor, config: ConnectionConfiguration | None, values: dict[str, Any],
    errors: dict[str, str], status_code: int = 200,
) -> Response:
    institution_id = config.institution_id if config else actor.institution_id
    certificates = await services_of(request).certificates.choices(actor, institution_id)
    return await render(request, "connection_configs/form.html", {
        "title": f"Edit Connection Configuration {config.name}" if config else "New Connection Configuration",
        "config": config,
        "values": values,
        "errors": errors,
        "purpose_options": PURPOSE_OPTIONS,
        "certificate_options": [(str(c.id), f"{c.alias} ({c.subject})") for c in certificates],
        "ranges": RANGES,
        "may_activate": config is None or not config.active,
    }, status_code=status_code)


async def create_config(request: Request) -> Response:
    actor = await require_actor(request)
    if not ConnectionConfigService.may_write(actor):
        raise PermissionDenied("You may not create connection configurations.")
    if request.method == "GET":
        return await _form_page(request, actor, None, {"purpose": ConnectionPurpose.START_EXAM.value, **DEFAULTS},
                                {})
    form = await request.form()
    values = _read_values(form)
    passwords = form_fields(form, *PASSWORD_FIELDS, *PASSWORD_FIELDS.values())
    activate = form.get("activate") == "1"
    try:
        config = await services_of(request).connection_configs.create(
            actor, parse_input(ConnectionConfigInput, {**values, **passwords}), activate=activate)
    except ValidationFailed as exc:
        return await _form_page(request, actor, None, without_passwords(values), field_errors(exc), 422)
    flash(request, f"Connection configuration {config.name} created" + (" and activated." if activate else "."))
    return redirect(f"/connection-configurations/{config.id}")


def _password_changes(form: FormData) -> dict[str, Any]:
    """New passwords (with confirmation) and removals; an empty field keeps the stored password."""
    changes: dict[str, Any] = {}
    for field, confirm in PASSWORD_FIELDS.items():
        value, confirmation = form.get(field), form.get(confirm)
        if isinstance(value, str) and value:
            changes[field] = value
            changes[confirm] = confirmation if isinstance(confirmation, str) else ""
        elif form.get(f"remove_{field}") == "1":
            changes[field] = None
    return changes


async def edit_config(request: Request) -> Response:
    actor = await require_actor(request)
    service = services_of(request).connection_configs
    config = await service.get(actor, path_id(request))
    if not ConnectionConfigService.may_write(actor, config):
        raise PermissionDenied(f"You may not change connection configuration {config.name!r}.")
    if request.method == "GET":
        return await _form_page(request, actor, config, _values_of(config), {})
    form = await request.form()
    values = _read_values(form)
    activate = form.get("activate") == "1" and not config.active
    try:
        data = parse_input(ConnectionConfigUpdate, {**values, **_password_changes(form)})
        config = await service.update(actor, config.id, data, activate=activate)
    except ValidationFailed as exc:
        return await _form_page(request, actor, config, without_passwords(values), field_errors(exc), 422)
    flash(request, f"Connection configuration {config.name} saved" + (" and activated." if activate else "."))
    return redirect(f"/connection-configurations/{config.id}")


async def _set_active(request: Request, active: bool) -> Response:
    actor = await require_actor(request)
    config_id = path_id(request)
    form = await request.form()
    config = await services_of(request).connection_configs.set_active(actor, config_id, active)
    if active:
        flash(request, f"Connection configuration {config.name} activated; it can be exported now.")
    else:
        flash(request, f"Connection configuration {config.name} deactivated; SEB clients using it are refused.")
    return redirect(safe_next(form.get("next"), f"/connection-configurations/{config_id}"))


async def activate_config(request: Request) -> Response:
    return await _set_active(request, True)


async def deactivate_config(request: Request) -> Response:
    return await _set_active(request, False)


async def export_config(request: Request) -> Response:
    """Download SEBServerSettings.seb (only active configurations can be exported)."""
    actor = await require_actor(request)
    config_id = path_id(request)
    try:
        exported = await services_of(request).connection_configs.export(actor, config_id,
                                                                      request_url=request_url(request))
    except Conflict as exc:
        flash(request, exc.message, "error")
        return redirect(f"/connection-configurations/{config_id}")
    return Response(exported.content, media_type=exported.media_type, headers={
        "Content-Disposition": f'attachment; filename="{exported.filename}"',
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
    })


async def regenerate_credentials(request: Request) -> Response:
    actor = await require_actor(request)
    config = await services_of(request).connection_configs.regenerate_credentials(actor, path_id(request))
    flash(request, f"New client credentials for {config.name}: export and distribute the configuration again; "
                   "files exported before no longer connect.")
    return redirect(f"/connection-configurations/{config.id}")


async def delete_config(request: Request) -> Response:
    actor = await require_actor(request)
    service = services_of(request).connection_configs
    config = await service.get(actor, path_id(request))
    if not ConnectionConfigService.may_write(actor, config):
        raise PermissionDenied(f"You may not delete connection configuration {config.name!r}.")
    if request.method == "POST":
        await service.delete(actor, config.id)
        flash(request, f"Connection configuration {config.name} deleted.")
        return redirect("/connection-configurations")
    return await render(request, "connection_configs/delete.html", {
        "title": f"Delete Connection Configuration {config.name}",
        "config": config,
    })


routes = [
    Route("/connection-configurations", list_configs),
    Route("/connection-configurations/new", create_config, methods=["GET", "POST"]),
    Route("/connection-configurations/{id:int}", view_config),
    Route("/connection-configurations/{id:int}/edit", edit_config, methods=["GET", "POST"]),
    Route("/connection-configurations/{id:int}/activate", activate_config, methods=["POST"]),
    Route("/connection-configurations/{id:int}/deactivate", deactivate_config, methods=["POST"]),
    Route("/connection-configurations/{id:int}/export", export_config),
    Route("/connection-configurations/{id:int}/credentials", regenerate_credentials, methods=["POST"]),
    Route("/connection-configurations/{id:int}/delete", delete_config, methods=["GET", "POST"]),
]
