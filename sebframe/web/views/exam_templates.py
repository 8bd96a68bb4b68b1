"""Exam template screens: list, view with the indicator editor, create, edit, delete."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sebframe.core.accounts.actor import Actor, Scope
from sebframe.core.accounts.roles import EntityType, Privilege
from sebframe.core.db.models import ExamTemplate
from sebframe.core.errors import NotFound, PermissionDenied, ValidationFailed
from sebframe.core.exams import EXAM_TEMPLATE_FILTERS
from sebframe.core.exams.schemas import ExamTemplateInput, IndicatorInput
from sebframe.core.exams.templates import template_indicators, template_supporter_ids
from sebframe.core.exams.types import exam_type_label
from sebframe.core.validation import parse_input
from sebframe.web.pages import flash, form_fields, redirect, render, require_actor, services_of
from sebframe.web.views.common import current_path, fetch_list, field_errors, list_params, path_id
from sebframe.web.views.exam_parts import (
    EXAM_TYPE_OPTIONS,
    indicator_page,
    indicator_values,
    people,
    posted_ids,
    read_indicator,
)
from sebframe.web.views.exams import indicator_rows

BASE = "/exam-templates"


def _lists_all(actor: Actor) -> bool:
    return actor.scope(Privilege.READ, EntityType.EXAM_TEMPLATE) == Scope.OVERALL


async def list_templates(request: Request) -> Response:
    actor = await require_actor(request)
    services = services_of(request)
    service = services.exams.templates
    params, errors = list_params(request, EXAM_TEMPLATE_FILTERS)
    page, status = await fetch_list(lambda query: service.list(actor, query), params, errors)
    lists_all = _lists_all(actor)
    institutions: dict[int, str] = {}
    if lists_all:
        institutions = {i.id: i.name for i in await services.institutions.choices(actor, active_only=False)}
    rows = [{"template": template, "type": exam_type_label(template.exam_type),
             "institution": institutions.get(template.institution_id, ""),
             "flags": "writable" if service.may(actor, Privilege.WRITE, template) else ""} for template in page.items]
    return await render(request, "exam_templates/list.html", {
        "title": "Exam Templates", "params": params, "page": page, "rows": rows, "errors": errors,
        "lists_all": lists_all, "type_options": EXAM_TYPE_OPTIONS, "may_create": service.may_create(actor),
        "institution_options": sorted(institutions.items(), key=lambda pair: pair[1].lower()),
        "here": current_path(request),
    }, status_code=status)


async def view_template(request: Request) -> Response:
    actor = await require_actor(request)
    services = services_of(request)
    service = services.exams.templates
    template = await service.get(actor, path_id(request))
    config_names = await services.exam_configs.names(actor, [template.configuration_template_id])
    supporters = await people(request, template_supporter_ids(template))
    may_write = service.may(actor, Privilege.WRITE, template)
    specs = list(enumerate(template_indicators(template)))
    return await render(request, "exam_templates/view.html", {
        "title": f"Exam Template {template.name}", "template": template, "supporters": supporters,
        "type_label": exam_type_label(template.exam_type),
        "configuration_template": config_names.get(template.configuration_template_id or 0),
        "indicators": indicator_rows(specs, services.exams.indicators.types()), "may_write": may_write,
        "here": current_path(request),
    })


def _values_of(template: ExamTemplate) -> dict[str, Any]:
    return {"name": template.name, "description": template.description,
            "institutional_default": template.institutional_default, "exam_type": template.exam_type,
            "configuration_template_id": str(template.configuration_template_id or ""),
            "supporter_ids": template_supporter_ids(template)}


def _read(form: FormData) -> dict[str, Any]:
    values: dict[str, Any] = form_fields(form, "name", "description", "exam_type", "configuration_template_id")
    values["institutional_default"] = form.get("institutional_default") == "1"
    values["supporter_ids"] = posted_ids(form)
    return values


async def _form_page(request: Request, actor: Actor, template: ExamTemplate | None, values: dict[str, Any],
                     errors: dict[str, str], status_code: int = 200) -> Response:
    services = services_of(request)
    configuration_templates = await services.exam_configs.template_choices(actor)
    return await render(request, "exam_templates/form.html", {
        "title": f"Edit Exam Template {template.name}" if template else "New Exam Template", "template": template,
        "values": values, "errors": errors, "type_options": EXAM_TYPE_OPTIONS,
        "configuration_template_options": [(t.id, t.name) for t in configuration_templates],
        "supporters": await people(request, values.get("supporter_ids", [])),
    }, status_code=status_code)


async def create_template(request: Request) -> Response:
    actor = await require_actor(request)
    service = services_of(request).exams.templates
    if not service.may_create(actor):
        raise PermissionDenied("you may not create exam templates")
    if request.method == "GET":
        return await _form_page(request, actor, None, {"exam_type": "UNDEFINED", "supporter_ids": []}, {})
    values = _read(await request.form())
    try:
        template = await service.create(actor, parse_input(ExamTemplateInput, values))
    except ValidationFailed as exc:
        return await _form_page(request, actor, None, values, field_errors(exc), 422)
    flash(request, f"Exam template {template.name} created." + (" It is the institutional default now."
                                                                 if template.institutional_default else ""))
    return redirect(f"{BASE}/{template.id}")


async def edit_template(request: Request) -> Response:
    actor = await require_actor(request)
    service = services_of(request).exams.templates
    template = await service.get(actor, path_id(request))
    if not service.may(actor, Privilege.WRITE, template):
        raise PermissionDenied(f"you may not change exam template {template.name!r}")
    if request.method == "GET":
        return await _form_page(request, actor, template, _values_of(template), {})
    values = _read(await request.form())
    try:
        template = await service.update(actor, template.id, parse_input(ExamTemplateInput, values))
    except ValidationFailed as exc:
        return await _form_page(request, actor, template, values, field_errors(exc), 422)
    flash(request, f"Exam template {template.name} saved.")
    return redirect(f"{BASE}/{template.id}")


async def delete_template(request: Request) -> Response:
    actor = await require_actor(request)
    template = await services_of(request).exams.templates.delete(actor, path_id(request))
    flash(request, f"Exam template {template.name} deleted; exams imported with it keep their settings.")
    return redirect(BASE)


# -- the template's indicators (by position) ---------------------------------------------------------


async def _indicator_form(request: Request, index: int | None) -> Response:
    actor = await require_actor(request)
    services = services_of(request)
    service = services.exams.templates
    template = await service.get(actor, path_id(request))
    if not service.may(actor, Privilege.WRITE, template):
        raise PermissionDenied(f"you may not change exam template {template.name!r}")
    specs = template_indicators(template)
    spec = None
    if index is not None:
        if not 0 <= index < len(specs):
            raise NotFound(f"the exam template has no indicator {index}")
        spec = specs[index]
    base = f"{BASE}/{template.id}/indicators"
    action_url = f"{base}/{index}/edit" if index is not None else f"{base}/new"
    title = f"Edit Indicator {spec.name}" if spec else "New Indicator"
    types = services.exams.indicators.types()
    owner_label = f"Exam Template {template.name}"
    cancel = f"{BASE}/{template.id}"
    if request.method == "GET":
        return await indicator_page(request, title=title, action_url=action_url, cancel_url=cancel,
                                    values=indicator_values(spec), errors={}, types=types, owner_label=owner_label)
    values = read_indicator(await request.form())
    try:
        data = parse_input(IndicatorInput, values)
        if index is None:
            saved = await service.add_indicator(actor, template.id, data)
        else:
            saved = await service.update_indicator(actor, template.id, index, data)
    except ValidationFailed as exc:
        return await indicator_page(request, title=title, action_url=action_url, cancel_url=cancel, values=values,
                                    errors=exc.field_errors, types=types, owner_label=owner_label,
                                    status_code=422)
    flash(request, f"Indicator {saved.name} saved.")
    return redirect(cancel)


async def new_indicator(request: Request) -> Response:
    return await _indicator_form(request, None)


async def edit_indicator(request: Request) -> Response:
    return await _indicator_form(request, path_id(request, "index"))


async def delete_indicator(request: Request) -> Response:
    actor = await require_actor(request)
    template_id = path_id(request)
    removed = await services_of(request).exams.templates.delete_indicator(actor, template_id,
                                                                        path_id(request, "index"))
    flash(request, f"Indicator {removed.name} deleted.")
    return redirect(f"{BASE}/{template_id}")


routes = [
    Route(BASE, list_templates),
    Route(BASE + "/new", create_template, methods=["GET", "POST"]),
    Route(BASE + "/{id:int}", view_template),
    Route(BASE + "/{id:int}/edit", edit_template, methods=["GET", "POST"]),
    Route(BASE + "/{id:int}/delete", delete_template, methods=["POST"]),
    Route(BASE + "/{id:int}/indicators/new", new_indicator, methods=["GET", "POST"]),
    Route(BASE + "/{id:int}/indicators/{index:int}/edit", edit_indicator, methods=["GET", "POST"]),
    Route(BASE + "/{id:int}/indicators/{index:int}/delete", delete_indicator, methods=["POST"]),
]
