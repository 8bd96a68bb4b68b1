"""LMS setup screens: list, view, create, edit (type-specific settings), connection test, (de)activate, delete.

The settings inputs of a type come from its plugin's pydantic ``settings_model`` (``sebframe.web.model_form``);
changing the type in the form fetches the new type's inputs with htmx. Secrets are never filled in or echoed:
on edit an empty secret keeps the stored one. Saving always runs the connection test and shows its result;
a failing test still saves (as a warning), and "Save and Activate" activates only when the test passes.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sebframe.core.accounts.actor import Actor, Scope
from sebframe.core.accounts.roles import EntityType, Privilege
from sebframe.core.db.models import LmsSetup
from sebframe.core.errors import PermissionDenied, ValidationFailed
from sebframe.core.lms.schemas import LmsSetupInput
from sebframe.core.lms.setups import LMS_SETUP_FILTERS
from sebframe.core.validation import parse_input
from sebframe.types import ConnectionTestResult, LmsType
from sebframe.web.model_form import form_values, model_fields, read_model_form
from sebframe.web.pages import flash, form_fields, redirect, render, require_actor, services_of
from sebframe.web.views.common import STATUS_OPTIONS, current_path, fetch_list, list_params, path_id, safe_next

BASE = "/lms-setups"
_TEXT_FIELDS = ("name", "lms_type", "url", "proxy_host", "proxy_port", "proxy_username")
MASKED = "********"


# -- privileges ------------------------------------------------------------------------------------


def _may(actor: Actor, privilege: Privilege, setup: LmsSetup | None = None) -> bool:
    institution_id = actor.institution_id if setup is None else setup.institution_id
    return actor.may(privilege, EntityType.LMS_SETUP, institution_id=institution_id)


def _lists_all(actor: Actor) -> bool:
    return actor.scope(Privilege.READ, EntityType.LMS_SETUP) == Scope.OVERALL


def _flags(actor: Actor, setup: LmsSetup) -> str:
    flags = ["active"] if setup.active else []
    if _may(actor, Privilege.MODIFY, setup):
        flags.append("modifiable")
    if _may(actor, Privilege.WRITE, setup):
        flags.append("writable")
    return " ".join(flags)


# -- helpers ---------------------------------------------------------------------------------------


def _types(request: Request) -> dict[str, LmsType]:
    return services_of(request).plugins.lms_types()


def _type_options(request: Request) -> list[tuple[str, str]]:
    return sorted(((name, lms_type.display_name) for name, lms_type in _types(request).items()),
                  key=lambda pair: pair[1].lower())


def _type_label(types: dict[str, LmsType], name: str) -> str:
    lms_type = types.get(name)
    return lms_type.display_name if lms_type else f"{name} (not installed)"


def _settings_model(request: Request, type_name: str | None) -> type[BaseModel] | None:
    lms_type = _types(request).get((type_name or "").strip().upper())
    return lms_type.settings_model if lms_type else None


def form_errors(exc: ValidationFailed) -> dict[str, str]:
    """Messages by form field: ``settings.<name>`` keys stay (they name the settings inputs), others are cut
    to the top-level name (``proxy_port`` …); a message about the settings as a whole is ``settings``."""
    errors: dict[str, str] = {}
    for key, message in exc.field_errors.items():
        parts = key.split(".")
        if parts[0] == "settings" and len(parts) > 1 and parts[1] != "__root__":
            errors.setdefault(f"settings.{parts[1]}", message)
        else:
            errors.setdefault(parts[0], message)
    if exc.message and not exc.field_errors:
        errors["__root__"] = exc.message
    return errors


async def _institution_names(request: Request, actor: Actor) -> dict[int, str]:
    choices = await services_of(request).institutions.choices(actor, active_only=False)
    return {institution.id: institution.name for institution in choices}


def _test_message(result: ConnectionTestResult) -> str:
    return result.message or ("connection works" if result.ok else "the connection test failed")


def _flash_saved(request: Request, setup: LmsSetup, result: ConnectionTestResult, *, activate: bool,
                 created: bool) -> None:
    verb = "created" if created else "saved"
    if result.ok:
        done = " and activated" if activate and setup.active else ""
        flash(request, f"LMS setup {setup.name} {verb}{done}. Connection test passed: {_test_message(result)}.")
        return
    state = " It was not activated." if activate else (" It stays active." if setup.active else "")
    flash(request, f"LMS setup {setup.name} {verb}, but the connection test failed: {_test_message(result)}."
                   f"{state}", "warning")


# -- list and view ---------------------------------------------------------------------------------


async def list_setups(request: Request) -> Response:
    actor = await require_actor(request)
    if actor.scope(Privilege.READ, EntityType.LMS_SETUP) == Scope.NONE:
        raise PermissionDenied("You may not see LMS setups.")
    params, errors = list_params(request, LMS_SETUP_FILTERS)
    page, status = await fetch_list(lambda query: services_of(request).lms_setups.list(actor, query), params,
                                    errors)
    names = await _institution_names(request, actor)
    types = _types(request)
    rows = [{
        "setup": setup,
        "type": _type_label(types, setup.lms_type),
        "institution": names.get(setup.institution_id, str(setup.institution_id)),
        "flags": _flags(actor, setup),
    } for setup in page.items]
    return await render(request, "lms_setups/list.html", {
        "title": "LMS Setups",
        "params": params,
        "page": page,
        "rows": rows,
        "errors": errors,
        "show_institution": _lists_all(actor),
        "institution_options": sorted(names.items(), key=lambda pair: pair[1].lower()),
        "type_options": _type_options(request),
        "status_options": STATUS_OPTIONS,
        "may_create": _may(actor, Privilege.WRITE),
        "here": current_path(request),
    }, status_code=status)


def _settings_rows(request: Request, setup: LmsSetup) -> list[tuple[str, str]]:
    """(label, shown value) of the stored settings: secrets only as "set" or "not set"."""
    service = services_of(request).lms_setups
    values = service.settings_of(setup, masked=True)
    model = _settings_model(request, setup.lms_type)
    if model is None:
        return [(name, "set" if value == MASKED else str(value)) for name, value in values.items()]
    rows = []
    for field in model_fields(model):
        value = values.get(field.name)
        if field.kind == "secret":
            shown = "set" if value else "not set"
        elif field.kind == "checkbox":
            shown = "Yes" if value else "No"
        else:
            shown = "" if value is None else str(value)
        rows.append((field.label, shown))
    return rows


async def view_setup(request: Request) -> Response:
    actor = await require_actor(request)
    setup = await services_of(request).lms_setups.get(actor, path_id(request))
    names = await _institution_names(request, actor)
    return await render(request, "lms_setups/view.html", {
        "title": f"LMS Setup {setup.name}",
        "setup": setup,
        "type_label": _type_label(_types(request), setup.lms_type),
        "settings_rows": _settings_rows(request, setup),
        "institution": names.get(setup.institution_id, str(setup.institution_id)),
        "show_institution": _lists_all(actor),
        "may_modify": _may(actor, Privilege.MODIFY, setup),
        "may_write": _may(actor, Privilege.WRITE, setup),
        "here": current_path(request),
    })


# -- create and edit -------------------------------------------------------------------------------


def _values_of(request: Request, setup: LmsSetup) -> tuple[dict[str, Any], dict[str, Any]]:
    values = {name: getattr(setup, name) for name in _TEXT_FIELDS}
    values["proxy_port"] = "" if setup.proxy_port is None else str(setup.proxy_port)
    stored = services_of(request).lms_setups.settings_of(setup, masked=True)
    return values, stored


def _stored_secrets(request: Request, setup: LmsSetup | None, type_name: str | None) -> set[str]:
    """Secret settings the setup holds for ``type_name`` (an empty input keeps them); none for another type."""
    if setup is None or (type_name or "").strip().upper() != setup.lms_type:
        return set()
    stored = services_of(request).lms_setups.settings_of(setup, masked=True)
    return {name for name, value in stored.items() if value == MASKED}


def _settings_context(request: Request, setup: LmsSetup | None, type_name: str | None,
                      settings_values: dict[str, Any]) -> dict[str, Any]:
    model = _settings_model(request, type_name)
    if model is None:
        return {"settings_fields": [], "settings_values": {}, "secrets_set": set(), "type_chosen": False}
    fields = model_fields(model)
    values = {field.name: field.default for field in fields if field.default is not None}
    values.update(form_values(settings_values, model))
    return {"settings_fields": fields, "settings_values": values,
            "secrets_set": _stored_secrets(request, setup, type_name), "type_chosen": True}


async def _form_page(request: Request, actor: Actor, setup: LmsSetup | None, values: dict[str, Any],
                     settings_values: dict[str, Any], errors: dict[str, str], status_code: int = 200) -> Response:
    return await render(request, "lms_setups/form.html", {
        "title": f"Edit LMS Setup {setup.name}" if setup else "New LMS Setup",
        "setup": setup,
        "values": values,
        "errors": errors,
        "type_options": _type_options(request),
        "proxy_password_set": bool(setup and setup.proxy_password_encrypted),
        "may_activate": (setup is None or not setup.active) and _may(actor, Privilege.WRITE, setup),
        **_settings_context(request, setup, values.get("lms_type"), settings_values),
    }, status_code=status_code)


def _read_form(request: Request, form: FormData) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """(input for LmsSetupInput, the plain values to show again, the settings values to show again)."""
    values = form_fields(form, *_TEXT_FIELDS)
    model = _settings_model(request, values.get("lms_type"))
    settings = read_model_form(form, model) if model is not None else {}
    password = form.get("proxy_password")
    data: dict[str, Any] = {**values, "settings": settings,
                            "proxy_password": password if isinstance(password, str) else ""}
    return data, values, settings


def _parse(request: Request, data: dict[str, Any], setup: LmsSetup | None) -> LmsSetupInput:
    """The form as ``LmsSetupInput``; when fields are refused, the settings are checked too, so that the form
    shows every problem at once (the service would check them only after the other fields pass)."""
    try:
        return parse_input(LmsSetupInput, data)
    except ValidationFailed as exc:
        errors = dict(exc.field_errors)
        if isinstance(data.get("lms_type"), str) and data["lms_type"].strip() and "lms_type" not in errors:
            try:
                services_of(request).lms_setups.check_settings(data["lms_type"], data["settings"], setup)
            except ValidationFailed as more:
                errors.update({key: text for key, text in more.field_errors.items() if key not in errors})
        raise ValidationFailed(errors) if errors else exc from None


async def type_settings(request: Request) -> Response:
    """The settings inputs of the chosen type (htmx swaps them in when the type select changes)."""
    actor = await require_actor(request)
    if actor.scope(Privilege.MODIFY, EntityType.LMS_SETUP) == Scope.NONE:
        raise PermissionDenied("You may not edit LMS setups.")
    setup = None
    setup_id = request.query_params.get("setup_id", "")
    if setup_id.isdigit():
        setup = await services_of(request).lms_setups.get(actor, int(setup_id))
    type_name = request.query_params.get("lms_type", "")
    stored: dict[str, Any] = {}
    if setup is not None and type_name.strip().upper() == setup.lms_type:
        stored = services_of(request).lms_setups.settings_of(setup, masked=True)
    return await render(request, "lms_setups/_settings_fields.html", {
        "errors": {}, "setup": setup, **_settings_context(request, setup, type_name, stored),
    })


async def create_setup(request: Request) -> Response:
    actor = await require_actor(request)
    if not _may(actor, Privilege.WRITE):
        raise PermissionDenied("You may not create LMS setups.")
    if request.method == "GET":
        chosen = request.query_params.get("lms_type", "")
        return await _form_page(request, actor, None, {"lms_type": chosen if chosen in _types(request) else ""},
                                {}, {})
    form = await request.form()
    data, values, settings = _read_form(request, form)
    if form.get("reload") == "1":  # without JavaScript: show the chosen type's inputs, save nothing
        return await _form_page(request, actor, None, values, settings, {})
    activate = form.get("activate") == "1"
    try:
        setup, result = await services_of(request).lms_setups.create(actor, _parse(request, data, None),
                                                                     activate=activate)
    except ValidationFailed as exc:
        return await _form_page(request, actor, None, values, settings, form_errors(exc), 422)
    _flash_saved(request, setup, result, activate=activate, created=True)
    return redirect(f"{BASE}/{setup.id}")


async def edit_setup(request: Request) -> Response:
    actor = await require_actor(request)
    service = services_of(request).lms_setups
    setup = await service.get(actor, path_id(request))
    if not _may(actor, Privilege.MODIFY, setup):
        raise PermissionDenied(f"You may not change LMS setup {setup.name!r}.")
    if request.method == "GET":
        values, stored = _values_of(request, setup)
        return await _form_page(request, actor, setup, values, stored, {})
    form = await request.form()
    data, values, settings = _read_form(request, form)
    if form.get("reload") == "1":
        return await _form_page(request, actor, setup, values, settings, {})
    activate = form.get("activate") == "1" and not setup.active
    try:
        updated, result = await service.update(actor, setup.id, _parse(request, data, setup), activate=activate)
    except ValidationFailed as exc:
        return await _form_page(request, actor, setup, values, settings, form_errors(exc), 422)
    _flash_saved(request, updated, result, activate=activate, created=False)
    return redirect(f"{BASE}/{setup.id}")


# -- actions ---------------------------------------------------------------------------------------


async def test_setup(request: Request) -> Response:
    actor = await require_actor(request)
    setup_id = path_id(request)
    form = await request.form()
    service = services_of(request).lms_setups
    result = await service.test(actor, setup_id)
    setup = await service.get(actor, setup_id)
    if result.ok:
        flash(request, f"Connection test of {setup.name} passed: {_test_message(result)}.")
    else:
        flash(request, f"Connection test of {setup.name} failed: {_test_message(result)}.", "warning")
    return redirect(safe_next(form.get("next"), f"{BASE}/{setup_id}"))


async def activate_setup(request: Request) -> Response:
    actor = await require_actor(request)
    setup_id = path_id(request)
    form = await request.form()
    service = services_of(request).lms_setups
    try:
        setup, result = await service.activate(actor, setup_id)
    except ValidationFailed as exc:
        setup = await service.get(actor, setup_id)
        flash(request, f"LMS setup {setup.name} was not activated: {form_errors(exc).get('active', exc.message)}",
              "error")
    else:
        flash(request, f"LMS setup {setup.name} activated. Connection test passed: {_test_message(result)}.")
    return redirect(safe_next(form.get("next"), f"{BASE}/{setup_id}"))


async def deactivate_setup(request: Request) -> Response:
    """GET lists the active exams that are deactivated with the setup and asks; POST deactivates."""
    actor = await require_actor(request)
    setup_id = path_id(request)
    service = services_of(request).lms_setups
    if request.method == "GET":
        report = await service.deactivation_report(actor, setup_id)
        return await render(request, "lms_setups/deactivate.html", {
            "title": f"Deactivate LMS Setup {report.setup_name}",
            "report": report,
            "next": safe_next(request.query_params.get("next"), f"{BASE}/{setup_id}"),
        })
    form = await request.form()
    report = await service.deactivate(actor, setup_id)
    count = len(report.exams)
    flash(request, f"LMS setup {report.setup_name} deactivated, with {count} exam{'' if count == 1 else 's'}.")
    return redirect(safe_next(form.get("next"), f"{BASE}/{setup_id}"))


async def delete_setup(request: Request) -> Response:
    actor = await require_actor(request)
    service = services_of(request).lms_setups
    setup = await service.get(actor, path_id(request))
    if not _may(actor, Privilege.WRITE, setup):
        raise PermissionDenied(f"You may not delete LMS setup {setup.name!r}.")
    refusal = ""
    if request.method == "POST":
        try:
            await service.delete(actor, setup.id)
        except ValidationFailed as exc:
            refusal = next(iter(exc.field_errors.values()), exc.message)
        else:
            flash(request, f"LMS setup {setup.name} deleted.")
            return redirect(BASE)
    return await render(request, "lms_setups/delete.html", {
        "title": f"Delete LMS Setup {setup.name}",
        "setup": setup,
        "refusal": refusal,
    }, status_code=422 if refusal else 200)


routes = [
    Route(BASE, list_setups),
    Route(f"{BASE}/new", create_setup, methods=["GET", "POST"]),
    Route(f"{BASE}/type-settings", type_settings),
    Route(BASE + "/{id:int}", view_setup),
    Route(BASE + "/{id:int}/edit", edit_setup, methods=["GET", "POST"]),
    Route(BASE + "/{id:int}/test", test_setup, methods=["POST"]),
    Route(BASE + "/{id:int}/activate", activate_setup, methods=["POST"]),
    Route(BASE + "/{id:int}/deactivate", deactivate_setup, methods=["GET", "POST"]),
    Route(BASE + "/{id:int}/delete", delete_setup, methods=["GET", "POST"]),
]
