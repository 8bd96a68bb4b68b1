"""Exam templates: what an exam import applies (type, supporters, indicators, configuration template)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import Response

from sebframe.api.admin.endpoints._common import Filter, ListQuery, out, parse_body, services_of
from sebframe.api.admin.endpoints.exams import ThresholdOut
from sebframe.api.admin.routing import ApiRouter
from sebframe.core.accounts.actor import Actor
from sebframe.core.db.models import ExamTemplate
from sebframe.core.exams import ExamType
from sebframe.core.exams.schemas import ExamTemplateInput
from sebframe.core.exams.templates import template_indicators, template_supporter_ids

router = ApiRouter()

TAG = "exam templates"

EXAM_TEMPLATE_QUERY = ListQuery(
    filters=(
        Filter("institution_id", "integer"),
        Filter("name", description="part of the name, case-insensitive"),
        Filter("exam_type", "choice", tuple(ExamType)),
    ),
    sortable=("name", "exam_type", "institutional_default", "institution_id"),
    default_sort="name",
)


class TemplateIndicatorOut(BaseModel):
    name: str
    indicator_type: str
    color: str
    tags: list[str]
    thresholds: list[ThresholdOut]


class ExamTemplateOut(BaseModel):
    id: int
    institution_id: int
    name: str
    description: str
    institutional_default: bool = Field(description="preselected on exam import; one per institution")
    exam_type: ExamType
    configuration_template_id: int | None
    supporter_ids: list[int]
    indicators: list[TemplateIndicatorOut]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, template: ExamTemplate) -> ExamTemplateOut:
        indicators = [TemplateIndicatorOut(name=spec.name, indicator_type=spec.indicator_type, color=spec.color,
                                           tags=list(spec.tags),
                                           thresholds=[ThresholdOut(value=value, color=color)
                                                       for value, color in spec.thresholds])
                      for spec in template_indicators(template)]
        return cls(id=template.id, institution_id=template.institution_id, name=template.name,
                   description=template.description, institutional_default=template.institutional_default,
                   exam_type=ExamType(template.exam_type), configuration_template_id=template.configuration_template_id,
                   supporter_ids=template_supporter_ids(template), indicators=indicators,
                   created_at=template.created_at, updated_at=template.updated_at)


@router.get("/exam-templates", summary="List the exam templates you may see", tag=TAG, response_model=ExamTemplateOut,
            response_is_page=True, query=EXAM_TEMPLATE_QUERY.query_params())
async def list_exam_templates(request: Request, actor: Actor) -> dict[str, Any]:
    page = await services_of(request).exams.templates.list(actor, EXAM_TEMPLATE_QUERY.parse(request))
    return page.to_json([out(ExamTemplateOut.of(template)) for template in page.items])


@router.post("/exam-templates", summary="Create an exam template in your institution (institutional_default: "
                                        "replaces the current default)", tag=TAG, request_model=ExamTemplateInput,
             response_model=ExamTemplateOut, status_code=201)
async def create_exam_template(request: Request, actor: Actor) -> dict[str, Any]:
    data = await parse_body(request, ExamTemplateInput)
    return out(ExamTemplateOut.of(await services_of(request).exams.templates.create(actor, data)))


@router.get("/exam-templates/{id:int}", summary="One exam template", tag=TAG, response_model=ExamTemplateOut)
async def get_exam_template(request: Request, actor: Actor) -> dict[str, Any]:
    return out(ExamTemplateOut.of(await services_of(request).exams.templates.get(actor, request.path_params["id"])))


@router.put("/exam-templates/{id:int}", summary="Replace an exam template (indicators left out or null: kept)",
            tag=TAG, request_model=ExamTemplateInput, response_model=ExamTemplateOut)
async def replace_exam_template(request: Request, actor: Actor) -> dict[str, Any]:
    data = await parse_body(request, ExamTemplateInput)
    template = await services_of(request).exams.templates.update(actor, request.path_params["id"], data)
    return out(ExamTemplateOut.of(template))


@router.delete("/exam-templates/{id:int}", summary="Delete an exam template (exams imported with it keep "
                                                   "everything)", tag=TAG, status_code=204)
async def delete_exam_template(request: Request, actor: Actor) -> Response:
    await services_of(request).exams.templates.delete(actor, request.path_params["id"])
    return Response(status_code=204)
