"""Institutions: list, create, edit, logo, activation and deactivation (with its report)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import Response

from sebframe.api.admin.endpoints._common import Filter, ListQuery, out, parse_body, services_of
from sebframe.api.admin.routing import ApiRouter, UnsupportedMediaType, read_body
from sebframe.core.accounts.actor import Actor
from sebframe.core.accounts.institutions import DeactivationReport
from sebframe.core.accounts.logo import MAX_LOGO_BYTES, logo_mime_type
from sebframe.core.accounts.schemas import InstitutionInput
from sebframe.core.db.models import Institution
from sebframe.core.errors import NotFound, ValidationFailed

router = ApiRouter()


class InstitutionCreate(InstitutionInput):
    """``active: true`` saves and activates in one step ("Activate Institution" of the create form)."""

    active: bool = False


class InstitutionOut(BaseModel):
    id: int
    name: str
    url_suffix: str | None
    active: bool
    logo_mime_type: str | None = Field(description="image/png or image/jpeg; null when there is no logo")
    created_at: datetime

    @classmethod
    def of(cls, institution: Institution) -> InstitutionOut:
        return cls(id=institution.id, name=institution.name, url_suffix=institution.url_suffix,
                   active=institution.active, logo_mime_type=institution.logo_mime_type,
                   created_at=institution.created_at)


class DeactivationReportOut(BaseModel):
    """What deactivating the institution switches off (or switched off, after ``deactivate``)."""

    institution_id: int
    institution_name: str
    user_accounts: int = Field(description="active accounts without an administrator role")
    total: int

    @classmethod
    def of(cls, report: DeactivationReport) -> DeactivationReportOut:
        return cls(institution_id=report.institution_id, institution_name=report.institution_name,
                   user_accounts=report.user_accounts, total=report.total)


class DeactivationOut(BaseModel):
    institution: InstitutionOut
    deactivated: DeactivationReportOut

TAG = "institutions"
LOGO_MEDIA_TYPES = ("image/png", "image/jpeg")

INSTITUTION_QUERY = ListQuery(
    filters=(
        Filter("name", description="part of the name, case-insensitive"),
        Filter("url_suffix", description="part of the URL suffix"),
        Filter("active", "boolean"),
    ),
    sortable=("name", "url_suffix", "active"),
    default_sort="name",
)


@router.get("/institutions", summary="List the institutions you may see", tag=TAG,
            response_model=InstitutionOut, response_is_page=True, query=INSTITUTION_QUERY.query_params())
async def list_institutions(request: Request, actor: Actor) -> dict[str, Any]:
    page = await services_of(request).institutions.list(actor, INSTITUTION_QUERY.parse(request))
    return page.to_json([out(InstitutionOut.of(institution)) for institution in page.items])


@router.post("/institutions", summary="Create an institution (SEB Server administrators)", tag=TAG,
             request_model=InstitutionCreate, response_model=InstitutionOut, status_code=201)
async def create_institution(request: Request, actor: Actor) -> dict[str, Any]:
    data = await parse_body(request, InstitutionCreate)
    fields = InstitutionInput(name=data.name, url_suffix=data.url_suffix)
    institution = await services_of(request).institutions.create(actor, fields, activate=data.active)
    return out(InstitutionOut.of(institution))


@router.get("/institutions/{id:int}", summary="One institution", tag=TAG, response_model=InstitutionOut)
async def get_institution(request: Request, actor: Actor) -> dict[str, Any]:
    institution = await services_of(request).institutions.get(actor, request.path_params["id"])
    return out(InstitutionOut.of(institution))


@router.put("/institutions/{id:int}", summary="Change name and URL suffix (an omitted suffix is removed)",
            tag=TAG, request_model=InstitutionInput, response_model=InstitutionOut)
async def update_institution(request: Request, actor: Actor) -> dict[str, Any]:
    data = await parse_body(request, InstitutionInput)
    institution = await services_of(request).institutions.update(actor, request.path_params["id"], data)
    return out(InstitutionOut.of(institution))


@router.get("/institutions/{id:int}/logo", summary="The institution's logo image", tag=TAG,
            response_media=LOGO_MEDIA_TYPES)
async def get_institution_logo(request: Request, actor: Actor) -> Response:
    institution_id = request.path_params["id"]
    logo = await services_of(request).institutions.current_logo(actor, institution_id)
    if logo is None:
        raise NotFound(f"institution {institution_id} has no logo")
    content, media_type = logo
    return Response(content, media_type=media_type,
                    headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-cache"})


@router.put("/institutions/{id:int}/logo",
            summary=f"Upload a PNG or JPEG logo (at most {MAX_LOGO_BYTES // 1024} KiB) as the raw body",
            tag=TAG, raw_body=LOGO_MEDIA_TYPES, response_model=InstitutionOut)
async def put_institution_logo(request: Request, actor: Actor) -> dict[str, Any]:
    declared = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if declared not in LOGO_MEDIA_TYPES:
        allowed = " or ".join(LOGO_MEDIA_TYPES)
        raise UnsupportedMediaType(f"send the logo as the raw body with Content-Type {allowed}")
    logo = await read_body(request, MAX_LOGO_BYTES)
    actual = logo_mime_type(logo)  # 422 for an empty, damaged or non-image body
    if actual != declared:
        raise ValidationFailed({"logo": f"the body is {actual} but was sent as {declared}"})
    institution = await services_of(request).institutions.set_logo(actor, request.path_params["id"], logo)
    return out(InstitutionOut.of(institution))


@router.delete("/institutions/{id:int}/logo", summary="Remove the logo", tag=TAG,
               response_model=InstitutionOut)
async def delete_institution_logo(request: Request, actor: Actor) -> dict[str, Any]:
    institution = await services_of(request).institutions.set_logo(actor, request.path_params["id"], None)
    return out(InstitutionOut.of(institution))


@router.get("/institutions/{id:int}/deactivation-report", summary="What deactivating would switch off",
            tag=TAG, response_model=DeactivationReportOut)
async def institution_deactivation_report(request: Request, actor: Actor) -> dict[str, Any]:
    report = await services_of(request).institutions.deactivation_report(actor, request.path_params["id"])
    return out(DeactivationReportOut.of(report))


@router.post("/institutions/{id:int}/activate", summary="Activate (SEB Server administrators)", tag=TAG,
             response_model=InstitutionOut)
async def activate_institution(request: Request, actor: Actor) -> dict[str, Any]:
    services = services_of(request)
    institution_id = request.path_params["id"]
    await services.institutions.set_active(actor, institution_id, True)
    return out(InstitutionOut.of(await services.institutions.get(actor, institution_id)))


@router.post("/institutions/{id:int}/deactivate",
             summary="Deactivate, with its non-administrator user accounts; returns what was switched off",
             tag=TAG, response_model=DeactivationOut)
async def deactivate_institution(request: Request, actor: Actor) -> dict[str, Any]:
    services = services_of(request)
    institution_id = request.path_params["id"]
    report = await services.institutions.set_active(actor, institution_id, False)
    institution = await services.institutions.get(actor, institution_id)
    if report is None:  # it was inactive already: nothing was switched off
        report = DeactivationReport(institution.id, institution.name, 0)
    return out(DeactivationOut(institution=InstitutionOut.of(institution),
                               deactivated=DeactivationReportOut.of(report)))
