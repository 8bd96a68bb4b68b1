"""Exams: import from an LMS, list, view, change, delete (with its report), the attached exam configuration,
indicators, the SEB restriction and the "missing setup" check of running exams."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import Response

from sebframe.api.admin.endpoints._common import Filter, ListQuery, out, parse_body, services_of
from sebframe.api.admin.routing import ApiRouter
from sebframe.core.accounts.actor import Actor
from sebframe.core.db.models import Exam, Indicator
from sebframe.core.errors import NotFound
from sebframe.core.exams import ExamStatus, ExamType
from sebframe.core.exams.client_checks import signature_key_grants
from sebframe.core.exams.configuration import AttachedConfiguration
from sebframe.core.exams.deletion import ExamDeletionReport
from sebframe.core.exams.indicators import IndicatorSpec
from sebframe.core.exams.restriction import RestrictionDetails, RestrictionOutcome
from sebframe.core.exams.schemas import ConfigurationAttach, ExamImport, ExamUpdate, IndicatorInput, RestrictionUpdate
from sebframe.core.exams.service import ExamDetails
from sebframe.core.sebconfig.exam_configs import EXPORT_FILENAME, ConfigStatus

router = ApiRouter()

TAG = "exams"
SEB_MEDIA_TYPE = "application/octet-stream"

EXAM_QUERY = ListQuery(
    filters=(
        Filter("institution_id", "integer"),
        Filter("name", description="part of the name, case-insensitive"),
        Filter("lms_setup_id", "integer", description="imported from this LMS setup"),
        Filter("status", "choice", tuple(ExamStatus)),
        Filter("exam_type", "choice", tuple(ExamType)),
        Filter("start_from", "datetime", description="starts at or after this time, or is still open then"),
    ),
    sortable=("name", "start_time", "end_time", "exam_type", "status", "lms_setup_id", "institution_id"),
    default_sort="name",
)


class ThresholdOut(BaseModel):
    value: float
    color: str


class IndicatorOut(BaseModel):
    id: int
    name: str
    indicator_type: str
    color: str = Field(description="hex RGB without '#'")
    tags: list[str]
    thresholds: list[ThresholdOut] = Field(description="sorted by value")

    @classmethod
    def of(cls, row: Indicator) -> IndicatorOut:
        spec = IndicatorSpec.from_row(row)
        return cls(id=row.id, name=spec.name, indicator_type=spec.indicator_type, color=spec.color,
                   tags=list(spec.tags),
                   thresholds=[ThresholdOut(value=value, color=color) for value, color in spec.thresholds])


class IndicatorsOut(BaseModel):
    items: list[IndicatorOut]


class IndicatorTypeOut(BaseModel):
    name: str
    display_name: str
    inverse: bool = Field(description="low values are bad (battery, WLAN)")
    uses_tags: bool
    fixed_tags: list[str]


class IndicatorTypesOut(BaseModel):
    items: list[IndicatorTypeOut] = Field(description="empty when no plugin provides indicator types")


class ExamOut(BaseModel):
    id: int
    institution_id: int
    lms_setup_id: int | None
    quiz_id: str = Field(description="the course or quiz id on the LMS")
    name: str
    description: str = Field(description="from the LMS; may hold HTML")
    start_url: str
    start_time: datetime | None
    end_time: datetime | None
    lms_available: bool
    quiz_refreshed_at: datetime | None
    exam_type: ExamType
    status: ExamStatus
    active: bool
    owner_id: int | None
    exam_template_id: int | None = Field(description="the exam template applied on import")
    supporter_ids: list[int]
    restriction_applied: bool
    signature_key_check_enabled: bool = Field(description="flag SEB clients whose app signature key is not "
                                              "trusted (monitoring only, never refuses a client)")
    signature_key_trust_threshold: int = Field(description="an unregistered app signature key is trusted when "
                                               "more connections of the exam than this share it")
    signature_key_grants: list[str] = Field(description="trusted app signature key hashes (SHA-256, hex)")
    allowed_seb_versions: str = Field(description="comma-separated <OS>.<major>.<minor>[.<patch>][.AE][.min] "
                                      "entries, e.g. Win.3.5.0.min; empty: any version")
    alternative_bek: str | None = Field(description="sent to SEB clients as SEBServerBEK, the Browser Exam Key "
                                        "they use towards the LMS")
    missing_setup: list[str] = Field(description="what a running exam still lacks (empty: ready)")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, details: ExamDetails) -> ExamOut:
        exam: Exam = details.exam
        return cls(id=exam.id, institution_id=exam.institution_id, lms_setup_id=exam.lms_setup_id,
                   quiz_id=exam.external_id, name=exam.name, description=exam.description, start_url=exam.start_url,
                   start_time=exam.start_time, end_time=exam.end_time, lms_available=exam.lms_available,
                   quiz_refreshed_at=exam.quiz_refreshed_at, exam_type=ExamType(exam.exam_type),
                   status=ExamStatus(exam.status), active=exam.active, owner_id=exam.owner_id,
                   exam_template_id=exam.exam_template_id, supporter_ids=[user.id for user in details.supporters],
                   restriction_applied=exam.restriction_applied,
                   signature_key_check_enabled=exam.signature_key_check_enabled,
                   signature_key_trust_threshold=exam.signature_key_trust_threshold,
                   signature_key_grants=signature_key_grants(exam), allowed_seb_versions=exam.allowed_seb_versions,
                   alternative_bek=exam.alternative_bek, missing_setup=details.missing,
                   created_at=exam.created_at, updated_at=exam.updated_at)


class ExamListItemOut(BaseModel):
    id: int
    institution_id: int
    lms_setup_id: int | None
    lms_setup_name: str
    quiz_id: str
    name: str
    start_time: datetime | None
    end_time: datetime | None
    exam_type: ExamType
    status: ExamStatus
    active: bool
    missing_setup: list[str]


class MissingSetupOut(BaseModel):
    exam_id: int
    ready: bool = Field(description="true unless a running exam lacks something")
    missing: list[str]


class ExamDeletionReportOut(BaseModel):
    exam_id: int
    exam_name: str
    indicators: list[str]
    supporters: list[str]
    configuration: str | None = Field(description="the attached configuration, Ready To Use again afterwards")
    restriction: str | None = Field(description="the SEB restriction that is released on the LMS")
    other: dict[str, list[str]] = Field(description="data of other domains deleted with the exam")
    warnings: list[str] = Field(description="after deleting: what did not work (e.g. the LMS release)")

    @classmethod
    def of(cls, report: ExamDeletionReport) -> ExamDeletionReportOut:
        return cls(exam_id=report.exam_id, exam_name=report.exam_name, indicators=report.indicators,
                   supporters=report.supporters, configuration=report.configuration, restriction=report.restriction,
                   other=dict(report.other), warnings=report.warnings)


class AttachedConfigurationOut(BaseModel):
    configuration_id: int
    name: str
    description: str
    status: ConfigStatus
    password_protected: bool = Field(description="SEB clients get it encrypted with the exam's password")
    attached_at: datetime

    @classmethod
    def of(cls, attached: AttachedConfiguration) -> AttachedConfigurationOut:
        configuration = attached.configuration
        return cls(configuration_id=configuration.id, name=configuration.name,
                   description=configuration.description, status=ConfigStatus(configuration.status),
                   password_protected=attached.password_set, attached_at=attached.attached_at)


class ConfigurationChoiceOut(BaseModel):
    id: int
    name: str
    description: str


class ConfigurationChoicesOut(BaseModel):
    items: list[ConfigurationChoiceOut] = Field(description="Ready To Use exam configurations of the institution")


class ExamConfigKeyOut(BaseModel):
    config_key: str


class RestrictionFieldOut(BaseModel):
    name: str
    label: str
    choices: list[str] = Field(description="empty: free text")
    multiple: bool
    choices_from: str | None = Field(default=None, description="choices listed by the LMS for the exam's course, "
                                     "e.g. 'chapters' (ids stored, names shown in the UI); free text otherwise")


class RestrictionOut(BaseModel):
    supported: bool = Field(description="the LMS type has a SEB restriction API")
    unsupported_reason: str
    lms_type: str | None
    applied: bool
    message: str = Field(description="the outcome of the last call to the LMS")
    config_keys: list[str] = Field(description="from the attached configuration's published settings")
    browser_exam_keys: list[str]
    properties: dict[str, Any] = Field(description="LMS-specific properties (see fields)")
    fields: list[RestrictionFieldOut]
    outcome: str | None = Field(default=None, description="what the LMS call of this request did, if any")

    @classmethod
    def of(cls, details: RestrictionDetails, outcome: RestrictionOutcome | None = None) -> RestrictionOut:
        return cls(supported=details.supported, unsupported_reason=details.unsupported_reason,
                   lms_type=details.lms_type, applied=details.applied, message=details.message,
                   config_keys=list(details.config_keys), browser_exam_keys=list(details.browser_exam_keys),
                   properties=details.properties,
                   fields=[RestrictionFieldOut(name=f.name, label=f.label, choices=list(f.choices),
                                               multiple=f.multiple,
                                               choices_from=f.choices_from.value if f.choices_from else None)
                           for f in details.fields],
                   outcome=outcome.message if outcome else None)


def _id(request: Request, name: str = "id") -> int:
    value: int = request.path_params[name]
    return value


async def _exam(request: Request, actor: Actor, exam_id: int) -> dict[str, Any]:
    return out(ExamOut.of(await services_of(request).exams.details(actor, exam_id)))


# -- exams -------------------------------------------------------------------------------------------


@router.get("/exams", summary="List the exams you may see (supporters: the exams they are assigned to)", tag=TAG,
            response_model=ExamListItemOut, response_is_page=True, query=EXAM_QUERY.query_params())
async def list_exams(request: Request, actor: Actor) -> dict[str, Any]:
    page = await services_of(request).exams.rows(actor, EXAM_QUERY.parse(request))
    return page.to_json([out(ExamListItemOut(
        id=row.exam.id, institution_id=row.exam.institution_id, lms_setup_id=row.exam.lms_setup_id,
        lms_setup_name=row.setup_name, quiz_id=row.exam.external_id, name=row.exam.name,
        start_time=row.exam.start_time, end_time=row.exam.end_time, exam_type=ExamType(row.exam.exam_type),
        status=ExamStatus(row.exam.status), active=row.exam.active, missing_setup=row.missing)) for row in page.items])


@router.post("/exams", summary="Import a quiz of an LMS setup as an exam (ended and imported quizzes are refused; "
                               "exam_template_id applies its type, supporters, indicators and configuration)",
             tag=TAG, request_model=ExamImport, response_model=ExamOut, status_code=201)
async def import_exam(request: Request, actor: Actor) -> dict[str, Any]:
    data = await parse_body(request, ExamImport)
    exam = await services_of(request).exams.import_exam(actor, data)
    return await _exam(request, actor, exam.id)


@router.get("/exams/{id:int}", summary="One exam", tag=TAG, response_model=ExamOut)
async def get_exam(request: Request, actor: Actor) -> dict[str, Any]:
    return await _exam(request, actor, _id(request))


@router.patch("/exams/{id:int}", summary="Change exam type, supporters and/or SEB client checks (left out or null: "
              "unchanged)", tag=TAG, request_model=ExamUpdate, response_model=ExamOut)
async def update_exam(request: Request, actor: Actor) -> dict[str, Any]:
    data = await parse_body(request, ExamUpdate)
    await services_of(request).exams.update(actor, _id(request), data)
    return await _exam(request, actor, _id(request))


@router.get("/exams/{id:int}/missing-setup", summary="What the exam lacks to run (checked for running exams)",
            tag=TAG, response_model=MissingSetupOut)
async def exam_missing_setup(request: Request, actor: Actor) -> dict[str, Any]:
    missing = await services_of(request).exams.missing_setup(actor, _id(request))
    return out(MissingSetupOut(exam_id=_id(request), ready=not missing, missing=missing))


@router.get("/exams/{id:int}/deletion-report", summary="What deleting the exam removes, detaches and releases",
            tag=TAG, response_model=ExamDeletionReportOut)
async def exam_deletion_report(request: Request, actor: Actor) -> dict[str, Any]:
    return out(ExamDeletionReportOut.of(await services_of(request).exams.deletion_report(actor, _id(request))))


@router.delete("/exams/{id:int}", summary="Delete the exam with its indicators; its configuration is Ready To Use "
                                         "again and its SEB restriction released. Returns the report", tag=TAG,
               response_model=ExamDeletionReportOut)
async def delete_exam(request: Request, actor: Actor) -> dict[str, Any]:
    return out(ExamDeletionReportOut.of(await services_of(request).exams.delete(actor, _id(request))))


# -- the exam configuration --------------------------------------------------------------------------


@router.get("/exams/{id:int}/configuration", summary="The attached exam configuration (404 without one)", tag=TAG,
            response_model=AttachedConfigurationOut)
async def get_attached_configuration(request: Request, actor: Actor) -> dict[str, Any]:
    service = services_of(request).exams.configuration
    attached = await service.attached(actor, _id(request))
    if attached is None:
        raise NotFound(f"exam {_id(request)} has no exam configuration")
    return out(AttachedConfigurationOut.of(attached))


@router.get("/exams/{id:int}/configuration/choices",
            summary="The exam configurations that can be attached (Ready To Use, of the exam's institution)", tag=TAG,
            response_model=ConfigurationChoicesOut)
async def exam_configuration_choices(request: Request, actor: Actor) -> dict[str, Any]:
    available = await services_of(request).exams.configuration.available(actor, _id(request))
    return out(ConfigurationChoicesOut(items=[ConfigurationChoiceOut(id=c.id, name=c.name, description=c.description)
                                              for c in available]))


@router.post("/exams/{id:int}/configuration", summary="Attach a Ready To Use exam configuration (it becomes In Use); "
                                                     "password: SEB clients get it encrypted", tag=TAG,
             request_model=ConfigurationAttach, response_model=AttachedConfigurationOut, status_code=201)
async def attach_exam_configuration(request: Request, actor: Actor) -> dict[str, Any]:
    data = await parse_body(request, ConfigurationAttach)
    attached = await services_of(request).exams.configuration.attach(actor, _id(request), data)
    return out(AttachedConfigurationOut.of(attached))


@router.delete("/exams/{id:int}/configuration", summary="Detach the exam configuration (Ready To Use again)", tag=TAG,
               status_code=204)
async def remove_exam_configuration(request: Request, actor: Actor) -> Response:
    await services_of(request).exams.configuration.remove(actor, _id(request))
    return Response(status_code=204)


@router.get("/exams/{id:int}/configuration/export",
            summary="SEBExamSettings.seb of the attached configuration as SEB clients of the exam get it", tag=TAG,
            response_media=(SEB_MEDIA_TYPE,))
async def export_attached_configuration(request: Request, actor: Actor) -> Response:
    data = await services_of(request).exams.configuration.export(actor, _id(request))
    return Response(data, media_type=SEB_MEDIA_TYPE, headers={
        "Content-Disposition": f'attachment; filename="{EXPORT_FILENAME}"', "Cache-Control": "no-store"})


@router.get("/exams/{id:int}/configuration/config-key", summary="The Config Key of the attached configuration",
            tag=TAG, response_model=ExamConfigKeyOut)
async def exam_config_key(request: Request, actor: Actor) -> dict[str, Any]:
    key = await services_of(request).exams.configuration.config_key(actor, _id(request))
    return out(ExamConfigKeyOut(config_key=key))


# -- indicators --------------------------------------------------------------------------------------


@router.get("/indicator-types", summary="The installed indicator types (from plugins)", tag=TAG,
            response_model=IndicatorTypesOut)
async def list_indicator_types(request: Request, actor: Actor) -> dict[str, Any]:
    types = services_of(request).exams.indicators.types()
    return out(IndicatorTypesOut(items=[IndicatorTypeOut(name=t.name, display_name=t.display_name, inverse=t.inverse,
                                                         uses_tags=t.uses_tags, fixed_tags=list(t.fixed_tags))
                                        for t in types.values()]))


@router.get("/exams/{id:int}/indicators", summary="The exam's monitoring indicators", tag=TAG,
            response_model=IndicatorsOut)
async def list_exam_indicators(request: Request, actor: Actor) -> dict[str, Any]:
    rows = await services_of(request).exams.indicators.list(actor, _id(request))
    return out(IndicatorsOut(items=[IndicatorOut.of(row) for row in rows]))


@router.post("/exams/{id:int}/indicators", summary="Add an indicator (type from GET /indicator-types)", tag=TAG,
             request_model=IndicatorInput, response_model=IndicatorOut, status_code=201)
async def create_exam_indicator(request: Request, actor: Actor) -> dict[str, Any]:
    data = await parse_body(request, IndicatorInput)
    return out(IndicatorOut.of(await services_of(request).exams.indicators.create(actor, _id(request), data)))


@router.put("/exams/{id:int}/indicators/{indicator_id:int}", summary="Replace an indicator", tag=TAG,
            request_model=IndicatorInput, response_model=IndicatorOut)
async def replace_exam_indicator(request: Request, actor: Actor) -> dict[str, Any]:
    data = await parse_body(request, IndicatorInput)
    row = await services_of(request).exams.indicators.update(actor, _id(request), _id(request, "indicator_id"), data)
    return out(IndicatorOut.of(row))


@router.delete("/exams/{id:int}/indicators/{indicator_id:int}", summary="Delete an indicator", tag=TAG,
               status_code=204)
async def delete_exam_indicator(request: Request, actor: Actor) -> Response:
    await services_of(request).exams.indicators.delete(actor, _id(request), _id(request, "indicator_id"))
    return Response(status_code=204)


# -- SEB restriction ---------------------------------------------------------------------------------


@router.get("/exams/{id:int}/restriction", summary="The SEB restriction details and state", tag=TAG,
            response_model=RestrictionOut)
async def get_exam_restriction(request: Request, actor: Actor) -> dict[str, Any]:
    return out(RestrictionOut.of(await services_of(request).exams.restriction.details(actor, _id(request))))


@router.put("/exams/{id:int}/restriction",
            summary="Save Browser Exam Keys and LMS properties (null: unchanged); pushed at once while applied",
            tag=TAG, request_model=RestrictionUpdate, response_model=RestrictionOut)
async def update_exam_restriction(request: Request, actor: Actor) -> dict[str, Any]:
    data = await parse_body(request, RestrictionUpdate)
    details, outcome = await services_of(request).exams.restriction.update(actor, _id(request), data)
    return out(RestrictionOut.of(details, outcome))


@router.post("/exams/{id:int}/restriction/apply",
             summary="Apply the SEB restriction on the LMS (409 with the LMS's reason when it fails)", tag=TAG,
             response_model=RestrictionOut)
async def apply_exam_restriction(request: Request, actor: Actor) -> dict[str, Any]:
    restriction = services_of(request).exams.restriction
    outcome = await restriction.apply(actor, _id(request))
    return out(RestrictionOut.of(await restriction.details(actor, _id(request)), outcome))


@router.post("/exams/{id:int}/restriction/release",
             summary="Release the SEB restriction on the LMS (409 with the LMS's reason when it fails)", tag=TAG,
             response_model=RestrictionOut)
async def release_exam_restriction(request: Request, actor: Actor) -> dict[str, Any]:
    restriction = services_of(request).exams.restriction
    outcome = await restriction.release(actor, _id(request))
    return out(RestrictionOut.of(await restriction.details(actor, _id(request)), outcome))
