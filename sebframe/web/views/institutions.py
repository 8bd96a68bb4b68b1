"""Institution screens: list, view, create, edit (with logo), activate and deactivate with confirmation."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sebframe.core.accounts.actor import Actor, Scope
from sebframe.core.accounts.institutions import INSTITUTION_FILTERS
from sebframe.core.accounts.logo import MAX_LOGO_BYTES, logo_mime_type
from sebframe.core.accounts.roles import EntityType, Privilege
from sebframe.core.accounts.schemas import InstitutionInput
from sebframe.core.db.models import Institution
from sebframe.core.errors import PermissionDenied, ValidationFailed
from sebframe.core.validation import parse_input
from sebframe.web.pages import flash, form_fields, redirect, render, require_actor, services_of, upload_bytes
from sebframe.web.views.common import (
    STATUS_OPTIONS,
    current_path,
    fetch_list,
    field_errors,
    image_response,
    list_params,
    path_id,
    safe_next,
)


def _may_write(actor: Actor, institution_id: int | None = None) -> bool:
    return actor.may(Privilege.WRITE, EntityType.INSTITUTION, institution_id=institution_id)


def _may_modify(actor: Actor, institution_id: int) -> bool:
    return actor.may(Privilege.MODIFY, EntityType.INSTITUTION, institution_id=institution_id)


def _lists_all(actor: Actor) -> bool:
    return actor.scope(Privilege.READ, EntityType.INSTITUTION) == Scope.OVERALL


async def list_institutions(request: Request) -> Response:
    actor = await require_actor(request)
    if not _lists_all(actor):
        # An institutional admin (or anyone else) sees only the own institution, in view mode.
        return redirect(f"/institutions/{actor.institution_id}")
    params, errors = list_params(request, INSTITUTION_FILTERS)
    page, status = await fetch_list(lambda query: services_of(request).institutions.list(actor, query), params,
                                    errors)
    return await render(request, "institutions/list.html", {
        "title": "Institutions",
        "params": params,
        "page": page,
        "errors": errors,
        "status_options": STATUS_OPTIONS,
        "may_write": _may_write(actor),
        "here": current_path(request),
    }, status_code=status)


async def view_institution(request: Request) -> Response:
    actor = await require_actor(request)
    institution = await services_of(request).institutions.get(actor, path_id(request))
    return await render(request, "institutions/view.html", {
        "title": f"Institution {institution.name}",
        "institution": institution,
        "may_modify": _may_modify(actor, institution.id),
        "may_write": _may_write(actor, institution.id),
        "lists_all": _lists_all(actor),
        "here": current_path(request),
    })


async def _read_form(request: Request) -> tuple[dict[str, Any], bytes | None, bool, bool, dict[str, str]]:
    """Text values, the uploaded logo (if any), the remove/activate flags and early per-field errors."""
    form = await request.form()
    values = form_fields(form, "name", "url_suffix")
    logo = await upload_bytes(form, "logo", MAX_LOGO_BYTES)
    remove_logo = form.get("remove_logo") == "1"
    activate = form.get("activate") == "1"
    errors: dict[str, str] = {}
    try:
        parse_input(InstitutionInput, values)
    except ValidationFailed as exc:
        errors.update(field_errors(exc))
    if logo is not None:
        try:
            logo_mime_type(logo)
        except ValidationFailed as exc:
            errors.update(exc.field_errors)
    return values, logo, remove_logo, activate, errors


async def _form_page(
    request: Request, actor: Actor, institution: Institution | None, values: dict[str, Any],
    errors: dict[str, str], status_code: int = 200,
) -> Response:
    return await render(request, "institutions/form.html", {
        "title": f"Edit Institution {institution.name}" if institution else "New Institution",
        "institution": institution,
        "values": values,
        "errors": errors,
        "may_activate": (institution is None or not institution.active)
        and _may_write(actor, institution.id if institution else None),
        "max_logo_kib": MAX_LOGO_BYTES // 1024,
    }, status_code=status_code)


async def create_institution(request: Request) -> Response:
    actor = await require_actor(request)
    if not _may_write(actor):
        raise PermissionDenied("only a SEB Server administrator creates institutions")
    if request.method == "GET":
        return await _form_page(request, actor, None, {}, {})
    values, logo, _remove, activate, errors = await _read_form(request)
    if not errors:
        try:
            institution = await services_of(request).institutions.create(
                actor, parse_input(InstitutionInput, values), logo=logo, activate=activate
            )
        except ValidationFailed as exc:
            errors = field_errors(exc)
        else:
            flash(request, f"Institution {institution.name} created" + (" and activated." if activate else "."))
            return redirect(f"/institutions/{institution.id}")
    return await _form_page(request, actor, None, values, errors, 422)


async def edit_institution(request: Request) -> Response:
    actor = await require_actor(request)
    service = services_of(request).institutions
    institution = await service.get(actor, path_id(request))
    if not _may_modify(actor, institution.id):
        raise PermissionDenied(f"you may not change institution {institution.name!r}")
    if request.method == "GET":
        values = {"name": institution.name, "url_suffix": institution.url_suffix or ""}
        return await _form_page(request, actor, institution, values, {})
    values, logo, remove_logo, activate, errors = await _read_form(request)
    if not errors:
        try:
            institution = await service.update(
                actor, institution.id, parse_input(InstitutionInput, values), logo=logo,
                remove_logo=remove_logo, activate=activate,
            )
        except ValidationFailed as exc:
            errors = field_errors(exc)
        else:
            flash(request, f"Institution {institution.name} saved" + (" and activated." if activate else "."))
            return redirect(f"/institutions/{institution.id}")
    return await _form_page(request, actor, institution, values, errors, 422)


async def activate_institution(request: Request) -> Response:
    actor = await require_actor(request)
    institution_id = path_id(request)
    form = await request.form()
    await services_of(request).institutions.set_active(actor, institution_id, True)
    institution = await services_of(request).institutions.get(actor, institution_id)
    flash(request, f"Institution {institution.name} activated.")
    return redirect(safe_next(form.get("next"), f"/institutions/{institution_id}"))


async def deactivate_institution(request: Request) -> Response:
    """GET shows what deactivation switches off and asks for confirmation; POST deactivates."""
    actor = await require_actor(request)
    institution_id = path_id(request)
    service = services_of(request).institutions
    if request.method == "GET":
        institution = await service.get(actor, institution_id)
        report = await service.deactivation_report(actor, institution_id)
        return await render(request, "institutions/deactivate.html", {
            "title": f"Deactivate Institution {institution.name}",
            "institution": institution,
            "report": report,
            "next": safe_next(request.query_params.get("next"), f"/institutions/{institution_id}"),
        })
    form = await request.form()
    deactivated = await service.set_active(actor, institution_id, False)
    if deactivated is None:
        flash(request, "The institution was already inactive.", "info")
    else:
        flash(request, f"Institution {deactivated.institution_name} deactivated, with {deactivated.user_accounts} "
                       f"user account{'' if deactivated.user_accounts == 1 else 's'}.")
    return redirect(safe_next(form.get("next"), f"/institutions/{institution_id}"))


async def logo_preview(request: Request) -> Response:
    """The current logo of an institution the user may see (also inactive ones, for the forms)."""
    actor = await require_actor(request)
    logo = await services_of(request).institutions.current_logo(actor, path_id(request))
    return image_response(logo, cache_control="private, no-cache")


routes = [
    Route("/institutions", list_institutions),
    Route("/institutions/new", create_institution, methods=["GET", "POST"]),
    Route("/institutions/{id:int}", view_institution),
    Route("/institutions/{id:int}/edit", edit_institution, methods=["GET", "POST"]),
    Route("/institutions/{id:int}/activate", activate_institution, methods=["POST"]),
    Route("/institutions/{id:int}/deactivate", deactivate_institution, methods=["GET", "POST"]),
    Route("/institutions/{id:int}/logo-preview", logo_preview),
]
