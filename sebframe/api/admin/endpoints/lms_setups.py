"""LMS setups and the installed LMS types: list, create, change, connection test, (de)activate, delete.

No response carries a secret: the type's secret settings show as ``"********"`` when set (``""`` when not) and
the proxy password only as ``has_proxy_password``. Secrets sent empty (or left out) on a change keep their
stored value. Every create and change runs the connection test and returns its result as ``test``; a failing
test still saves the setup, and ``active: true`` on create activates it only when the test passes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import Response

from sebframe.api.admin.endpoints._common import Filter, ListQuery, out, parse_body, services_of
from sebframe.api.admin.routing import ApiRouter
from sebframe.core.accounts.actor import Actor
from sebframe.core.db.models import LmsSetup
from sebframe.core.errors import ValidationFailed
from sebframe.core.integration_settings import secret_field_names
from sebframe.core.lms.schemas import LmsSetupInput
from sebframe.core.lms.setups import LmsSetupDeactivationReport, LmsSetupService
from sebframe.core.validation import InputModel, parse_input
from sebframe.types import ConnectionTestResult

router = ApiRouter()

TAG = "lms-setups"

LMS_SETUP_QUERY = ListQuery(
    filters=(
        Filter("institution_id", "integer"),
        Filter("name", description="part of the name, case-insensitive"),
        Filter("lms_type", description="an installed LMS type, e.g. OPEN_EDX (see /lms-types)"),
        Filter("active", "boolean"),
    ),
    sortable=("name", "lms_type", "active", "institution_id"),
    default_sort="name",
)


class LmsSetupCreate(LmsSetupInput):
    """``active: true`` activates the new setup when its connection test passes; ``institution_id`` defaults to
    yours."""

    active: bool = False
    institution_id: int | None = Field(default=None, ge=1)


class LmsSetupPatch(InputModel):
    """The fields to change. ``settings`` are merged into the stored ones (with another ``lms_type`` they replace
    them); a secret left out or empty keeps its value. ``proxy_host: null`` removes the proxy."""

    name: str | None = None
    lms_type: str | None = None
    url: str | None = None
    settings: dict[str, Any] | None = None
    proxy_host: str | None = None
    proxy_port: int | None = None
    proxy_username: str | None = None
    proxy_password: str | None = None


class ConnectionTestOut(BaseModel):
    ok: bool
    message: str
    error_kind: str | None = Field(None, description="dns, refused, tls, timeout, unauthorized, api or config")

    @classmethod
    def of(cls, result: ConnectionTestResult) -> ConnectionTestOut:
        return cls(ok=result.ok, message=result.message, error_kind=result.error_kind)


class LastTestOut(BaseModel):
    ok: bool | None = Field(description="null: never tested")
    message: str
    tested_at: datetime | None


class LmsSetupOut(BaseModel):
    id: int
    institution_id: int
    name: str
    lms_type: str
    url: str
    settings: dict[str, Any] = Field(description="the type's settings; secrets as '********' when set")
    proxy_host: str | None
    proxy_port: int | None
    proxy_username: str | None
    has_proxy_password: bool
    active: bool
    last_test: LastTestOut
    test: ConnectionTestOut | None = Field(None, description="the connection test this request ran, if any")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, service: LmsSetupService, setup: LmsSetup, test: ConnectionTestResult | None = None) -> LmsSetupOut:
        return cls(
            id=setup.id, institution_id=setup.institution_id, name=setup.name, lms_type=setup.lms_type, url=setup.url,
            settings=service.settings_of(setup, masked=True), proxy_host=setup.proxy_host,
            proxy_port=setup.proxy_port, proxy_username=setup.proxy_username,
            has_proxy_password=setup.proxy_password_encrypted is not None, active=setup.active,
            last_test=LastTestOut(ok=setup.last_test_ok, message=setup.last_test_message or "",
                                  tested_at=setup.last_tested_at),
            test=ConnectionTestOut.of(test) if test is not None else None,
            created_at=setup.created_at, updated_at=setup.updated_at,
        )


class ExamRefOut(BaseModel):
    id: int
    name: str


class LmsSetupDeactivationReportOut(BaseModel):
    lms_setup_id: int
    name: str
    exams: list[ExamRefOut] = Field(description="active exams that are deactivated with the setup")

    @classmethod
    def of(cls, report: LmsSetupDeactivationReport) -> LmsSetupDeactivationReportOut:
        return cls(lms_setup_id=report.setup_id, name=report.setup_name,
                   exams=[ExamRefOut(id=exam_id, name=name) for exam_id, name in report.exams])


class LmsSetupDeactivationOut(BaseModel):
    lms_setup: LmsSetupOut
    deactivated_exams: list[ExamRefOut]


class LmsTypeOut(BaseModel):
    name: str
    display_name: str
    features: list[str]
    settings_schema: dict[str, Any] = Field(description="JSON schema of the type's settings")
    secret_settings: list[str] = Field(description="settings that are secrets (never shown)")


class LmsTypesOut(BaseModel):
    items: list[LmsTypeOut]


def _out(request: Request, setup: LmsSetup, test: ConnectionTestResult | None = None) -> dict[str, Any]:
    return out(LmsSetupOut.of(services_of(request).lms_setups, setup, test))


@router.get("/lms-types", summary="The installed LMS types, with the JSON schema of their settings", tag=TAG,
            response_model=LmsTypesOut)
async def list_lms_types(request: Request, actor: Actor) -> dict[str, Any]:
    types = services_of(request).plugins.lms_types()
    items = [LmsTypeOut(name=lms_type.name, display_name=lms_type.display_name,
                        features=sorted(str(feature) for feature in lms_type.features),
                        settings_schema=lms_type.settings_model.model_json_schema(),
                        secret_settings=sorted(secret_field_names(lms_type.settings_model)))
             for lms_type in sorted(types.values(), key=lambda item: item.name)]
    return out(LmsTypesOut(items=items))


@router.get("/lms-setups", summary="List the LMS setups you may see", tag=TAG, response_model=LmsSetupOut,
            response_is_page=True, query=LMS_SETUP_QUERY.query_params())
async def list_lms_setups(request: Request, actor: Actor) -> dict[str, Any]:
    page = await services_of(request).lms_setups.list(actor, LMS_SETUP_QUERY.parse(request))
    return page.to_json([_out(request, setup) for setup in page.items])


@router.post("/lms-setups", summary="Create an LMS setup; its connection is tested (result in 'test')", tag=TAG,
             request_model=LmsSetupCreate, response_model=LmsSetupOut, status_code=201)
async def create_lms_setup(request: Request, actor: Actor) -> dict[str, Any]:
    data = await parse_body(request, LmsSetupCreate)
    fields = LmsSetupInput.model_validate(data.model_dump(exclude={"active", "institution_id"}))
    setup, result = await services_of(request).lms_setups.create(actor, fields, activate=data.active,
                                                                 institution_id=data.institution_id)
    return _out(request, setup, result)


@router.get("/lms-setups/{id:int}", summary="One LMS setup", tag=TAG, response_model=LmsSetupOut)
async def get_lms_setup(request: Request, actor: Actor) -> dict[str, Any]:
    return _out(request, await services_of(request).lms_setups.get(actor, request.path_params["id"]))


@router.put("/lms-setups/{id:int}",
            summary="Replace the setup's fields (secrets left empty keep their value); tests the connection", tag=TAG,
            request_model=LmsSetupInput, response_model=LmsSetupOut)
async def replace_lms_setup(request: Request, actor: Actor) -> dict[str, Any]:
    data = await parse_body(request, LmsSetupInput)
    setup, result = await services_of(request).lms_setups.update(actor, request.path_params["id"], data)
    return _out(request, setup, result)


@router.patch("/lms-setups/{id:int}", summary="Change the given fields; tests the connection", tag=TAG,
              request_model=LmsSetupPatch, response_model=LmsSetupOut)
async def update_lms_setup(request: Request, actor: Actor) -> dict[str, Any]:
    patch = await parse_body(request, LmsSetupPatch)
    service = services_of(request).lms_setups
    setup = await service.get(actor, request.path_params["id"])
    merged = _merged(service, setup, patch)
    setup, result = await service.update(actor, setup.id, parse_input(LmsSetupInput, merged))
    return _out(request, setup, result)


def _merged(service: LmsSetupService, setup: LmsSetup, patch: LmsSetupPatch) -> dict[str, Any]:
    """The stored fields with the patch applied; stored secrets are left out (the service keeps them)."""
    given = patch.model_fields_set
    lms_type = patch.lms_type if "lms_type" in given and patch.lms_type is not None else setup.lms_type
    same_type = lms_type.strip().upper() == setup.lms_type
    settings: dict[str, Any] = {}
    if same_type:
        masked = service.settings_of(setup, masked=True)
        try:
            secrets = secret_field_names(service.lms_type(setup).settings_model)
        except ValidationFailed:  # type not installed: the service refuses it with a message
            secrets = set(masked)
        settings = {name: value for name, value in masked.items() if name not in secrets}
    settings.update(patch.settings or {})
    merged: dict[str, Any] = {
        "name": setup.name, "lms_type": lms_type, "url": setup.url, "settings": settings,
        "proxy_host": setup.proxy_host, "proxy_port": setup.proxy_port, "proxy_username": setup.proxy_username,
    }
    for name in ("name", "url", "proxy_host", "proxy_port", "proxy_username", "proxy_password"):
        if name in given:
            merged[name] = getattr(patch, name)
    return merged


@router.post("/lms-setups/{id:int}/test", summary="Test the connection now (the result is also stored)", tag=TAG,
             response_model=ConnectionTestOut)
async def test_lms_setup(request: Request, actor: Actor) -> dict[str, Any]:
    result = await services_of(request).lms_setups.test(actor, request.path_params["id"])
    return out(ConnectionTestOut.of(result))


@router.post("/lms-setups/{id:int}/activate",
             summary="Test the connection and activate (422 with the reason when the test fails)", tag=TAG,
             response_model=LmsSetupOut)
async def activate_lms_setup(request: Request, actor: Actor) -> dict[str, Any]:
    setup, result = await services_of(request).lms_setups.activate(actor, request.path_params["id"])
    return _out(request, setup, result)


@router.get("/lms-setups/{id:int}/deactivation-report",
            summary="The active exams that deactivating the setup would deactivate too", tag=TAG,
            response_model=LmsSetupDeactivationReportOut)
async def lms_setup_deactivation_report(request: Request, actor: Actor) -> dict[str, Any]:
    report = await services_of(request).lms_setups.deactivation_report(actor, request.path_params["id"])
    return out(LmsSetupDeactivationReportOut.of(report))


@router.post("/lms-setups/{id:int}/deactivate", summary="Deactivate the setup and its active exams", tag=TAG,
             response_model=LmsSetupDeactivationOut)
async def deactivate_lms_setup(request: Request, actor: Actor) -> dict[str, Any]:
    service = services_of(request).lms_setups
    report = await service.deactivate(actor, request.path_params["id"])
    setup = await service.get(actor, report.setup_id)
    return out(LmsSetupDeactivationOut(
        lms_setup=LmsSetupOut.of(service, setup),
        deactivated_exams=[ExamRefOut(id=exam_id, name=name) for exam_id, name in report.exams]))


@router.delete("/lms-setups/{id:int}", summary="Delete an LMS setup (refused while exams were imported from it)",
               tag=TAG, status_code=204)
async def delete_lms_setup(request: Request, actor: Actor) -> Response:
    await services_of(request).lms_setups.delete(actor, request.path_params["id"])
    return Response(status_code=204)
