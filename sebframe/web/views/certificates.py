"""Certificate screens: list, import (PEM/DER or PKCS#12 with password), view details, delete with confirmation."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sebframe.core.accounts.actor import Actor, Scope
from sebframe.core.accounts.roles import EntityType, Privilege
from sebframe.core.db.base import utc_now
from sebframe.core.errors import Conflict, PermissionDenied, ValidationFailed
from sebframe.core.sebconfig.certificates import (
    CERTIFICATE_FILTERS,
    MAX_CERTIFICATE_BYTES,
    PEM_EXTENSIONS,
    PKCS12_EXTENSIONS,
    CertificateService,
    kind_of_filename,
)
from sebframe.web.pages import flash, form_fields, redirect, render, require_actor, services_of
from sebframe.web.views.common import current_path, fetch_list, field_errors, list_params, path_id

# A multipart body carrying a certificate of the maximum size, with room for the other fields.
MAX_UPLOAD_BODY = MAX_CERTIFICATE_BYTES + 64 * 1024
ACCEPT = ",".join((*PEM_EXTENSIONS, *PKCS12_EXTENSIONS))


def _lists_all(actor: Actor) -> bool:
    return actor.scope(Privilege.READ, EntityType.CERTIFICATE) == Scope.OVERALL


async def _institution_names(request: Request, actor: Actor) -> dict[int, str]:
    choices = await services_of(request).institutions.choices(actor, active_only=False)
    return {institution.id: institution.name for institution in choices}


async def list_certificates(request: Request) -> Response:
    actor = await require_actor(request)
    if actor.scope(Privilege.READ, EntityType.CERTIFICATE) == Scope.NONE:
        raise PermissionDenied("You may not see certificates.")
    params, errors = list_params(request, CERTIFICATE_FILTERS)
    page, status = await fetch_list(lambda query: services_of(request).certificates.list(actor, query), params,
                                    errors)
    names = await _institution_names(request, actor)
    now = utc_now()
    rows = [{
        "certificate": certificate,
        "institution": names.get(certificate.institution_id, str(certificate.institution_id)),
        "expired": certificate.not_after is not None and certificate.not_after < now,
        "flags": "deletable" if CertificateService.may_write(actor, certificate) else "",
    } for certificate in page.items]
    return await render(request, "certificates/list.html", {
        "title": "Certificates",
        "params": params,
        "page": page,
        "rows": rows,
        "errors": errors,
        "show_institution": _lists_all(actor),
        "institution_options": sorted(names.items(), key=lambda pair: pair[1].lower()),
        "may_import": CertificateService.may_write(actor),
        "here": current_path(request),
    }, status_code=status)


async def view_certificate(request: Request) -> Response:
    actor = await require_actor(request)
    service = services_of(request).certificates
    certificate = await service.get(actor, path_id(request))
    names = await _institution_names(request, actor)
    return await render(request, "certificates/view.html", {
        "title": f"Certificate {certificate.alias}",
        "certificate": certificate,
        "institution": names.get(certificate.institution_id, str(certificate.institution_id)),
        "expired": certificate.not_after is not None and certificate.not_after < utc_now(),
        "used_by": await service.usage(actor, certificate.id),
        "may_write": CertificateService.may_write(actor, certificate),
        "show_institution": _lists_all(actor),
    })


async def _upload_page(request: Request, values: dict[str, Any], errors: dict[str, str],
                       status_code: int = 200) -> Response:
    return await render(request, "certificates/upload.html", {
        "title": "Import Certificate",
        "values": values,
        "errors": errors,
        "accept": ACCEPT,
        "max_kib": MAX_CERTIFICATE_BYTES // 1024,
    }, status_code=status_code)


async def import_certificate(request: Request) -> Response:
    actor = await require_actor(request)
    if not CertificateService.may_write(actor):
        raise PermissionDenied("You may not import certificates.")
    if request.method == "GET":
        return await _upload_page(request, {}, {})
    too_large = {"file": f"The file is larger than {MAX_CERTIFICATE_BYTES // 1024} KiB; certificate files are "
                         "a few KiB."}
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_UPLOAD_BODY:
        return await _upload_page(request, {}, too_large, 413)  # refused before reading the body
    form = await request.form(max_files=1, max_fields=10)
    values = form_fields(form, "alias")
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return await _upload_page(request, values, {"file": "Choose a certificate file."}, 422)
    data = await upload.read(MAX_CERTIFICATE_BYTES + 1)
    password = form.get("password")
    try:
        result = await services_of(request).certificates.import_file(
            actor, data, password=password if isinstance(password, str) else None,
            alias=values.get("alias") or None, kind=kind_of_filename(upload.filename))
    except ValidationFailed as exc:
        return await _upload_page(request, values, field_errors(exc), 422)
    flash(request, f"Certificate {result.certificate.alias} imported.")
    for warning in result.warnings:
        flash(request, warning, "warning")
    return redirect(f"/certificates/{result.certificate.id}")


async def delete_certificate(request: Request) -> Response:
    """GET asks for confirmation (or names the connection configurations using it); POST deletes."""
    actor = await require_actor(request)
    service = services_of(request).certificates
    certificate = await service.get(actor, path_id(request))
    if not CertificateService.may_write(actor, certificate):
        raise PermissionDenied(f"You may not delete certificate {certificate.alias!r}.")
    if request.method == "POST":
        try:
            await service.delete(actor, certificate.id)
        except Conflict as exc:
            flash(request, exc.message, "error")
            return redirect(f"/certificates/{certificate.id}")
        flash(request, f"Certificate {certificate.alias} deleted.")
        return redirect("/certificates")
    return await render(request, "certificates/delete.html", {
        "title": f"Delete Certificate {certificate.alias}",
        "certificate": certificate,
        "used_by": await service.usage(actor, certificate.id),
    })


routes = [
    Route("/certificates", list_certificates),
    Route("/certificates/new", import_certificate, methods=["GET", "POST"]),
    Route("/certificates/{id:int}", view_certificate),
    Route("/certificates/{id:int}/delete", delete_certificate, methods=["GET", "POST"]),
]
