"""Exam screens: list, import from the LMS lookup, view (configuration, indicators, SEB restriction), edit,
delete with its report. The rules are in :mod:`sebframe.core.exams`; this only renders."""

from __future__ import annotations

import dataclasses
from typing import Any
from urllib.parse import urlencode

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sebframe.core.accounts.actor import Actor, Scope
from sebframe.core.accounts.roles import EntityType, Privilege
from sebframe.core.db.models import Exam
from sebframe.core.errors import Conflict, PermissionDenied, ValidationFailed
from sebframe.core.exams import EXAM_FILTERS, ExamStatus
from sebframe.core.exams.access import may
from sebframe.core.exams.client_checks import signature_key_grants
from sebframe.core.exams.indicators import IndicatorSpec, parse_thresholds, type_label
from sebframe.core.exams.restriction import RestrictionDetails
from sebframe.core.exams.schemas import ConfigurationAttach, ExamImport, ExamUpdate, IndicatorInput, RestrictionUpdate
from sebframe.core.exams.service import ImportPreview
from sebframe.core.exams.templates import template_supporter_ids
from sebframe.core.exams.types import EXAM_STATUS_LABELS, exam_status_label, exam_type_label
from sebframe.core.paging import ListParams
from sebframe.core.sebconfig.exam_configs import EXPORT_FILENAME, ConfigStatus
from sebframe.core.validation import parse_input
from sebframe.types import RestrictionField
from sebframe.web.pages import flash, form_fields, redirect, render, require_actor, services_of
from sebframe.web.templating import user_zone
from sebframe.web.views.activity import to_utc_filter
from sebframe.web.views.common import current_path, fetch_list, field_errors, list_params, path_id, safe_next
from sebframe.web.views.config_screens import partial
from sebframe.web.views.exam_location import card_values
from sebframe.web.views.exam_parts import (
    CLIENT_CHECK_TEXT_FIELDS,
    EXAM_TYPE_OPTIONS,
    client_check_values,
    indicator_page,
    indicator_values,
    people,
    plain_text,
    posted_ids,
    read_indicator,
    safe_link,
    supporter_search,
)

# The restriction details URL answers a dialog (htmx) or a page: caches must keep them apart.
VARY_HTMX = {"Vary": "HX-Request"}
STATUS_OPTIONS = [(status.value, label) for status, label in EXAM_STATUS_LABELS.items()]



def _lists_all(actor: Actor) -> bool:
    return actor.scope(Privilege.READ, EntityType.EXAM) == Scope.OVERALL


def _may_import(actor: Actor) -> bool:
    return actor.may(Privilege.WRITE, EntityType.EXAM, institution_id=actor.institution_id)


# -- list --------------------------------------------------------------------------------------------


async def list_exams(request: Request) -> Response:
    actor = await require_actor(request)
    services = services_of(request)
    if actor.scope(Privilege.READ, EntityType.EXAM) == Scope.NONE:
        raise PermissionDenied("you may not see exams")
    params, errors = list_params(request, EXAM_FILTERS)
    query = params
    if "start_from" in params.filters:
        filters = dict(params.filters)
        try:
            filters["start_from"] = to_utc_filter(filters["start_from"], user_zone(actor.timezone), end=False)
            query = dataclasses.replace(params, filters=filters)
        except ValidationFailed:
            errors["start_from"] = "use a date like 2026-11-22 or 2026-11-22T14:30"
            query = dataclasses.replace(params, filters={k: v for k, v in filters.items() if k != "start_from"})
    page, status = await fetch_list(lambda q: services.exams.rows(actor, q), query, errors)
    if errors:
        status = 422
    lists_all = _lists_all(actor)
    institutions: dict[int, str] = {}
    if lists_all:
        institutions = {i.id: i.name for i in await services.institutions.choices(actor, active_only=False)}
    setups = (await services.lms_setups.list(actor, ListParams(size=500))).items \
        if actor.scope(Privilege.READ, EntityType.LMS_SETUP) != Scope.NONE else []
    rows = []
    for row in page.items:
        exam = row.exam
        flags = [flag for flag, allowed in (("modifiable", row.may_modify), ("writable", row.may_write)) if allowed]
        rows.append({"exam": exam, "setup": row.setup_name, "missing": row.missing, "flags": " ".join(flags),
                     "status": exam_status_label(exam.status), "type": exam_type_label(exam.exam_type),
                     "institution": institutions.get(exam.institution_id, "")})
    return await render(request, "exams/list.html", {
        "title": "Exams", "params": params, "page": page, "rows": rows, "errors": errors, "lists_all": lists_all,
        "institution_options": sorted(institutions.items(), key=lambda pair: pair[1].lower()),
        "setup_options": [(setup.id, setup.name) for setup in setups], "status_options": STATUS_OPTIONS,
        "type_options": EXAM_TYPE_OPTIONS, "may_import": _may_import(actor), "here": current_path(request),
    }, status_code=status)


# -- import ------------------------------------------------------------------------------------------


def _import_url(setup_id: int, quiz_id: str) -> str:
    return "/exams/import?" + urlencode({"lms_setup_id": setup_id, "quiz_id": quiz_id})


async def _import_page(request: Request, actor: Actor, preview: ImportPreview, values: dict[str, Any],
                       errors: dict[str, str], status_code: int = 200) -> Response:
    services = services_of(request)
    templates = await services.exams.templates.choices(actor, preview.setup.institution_id)
    supporters = await people(request, values.get("supporter_ids", []))
    quiz = preview.quiz
    return await render(request, "exams/import.html", {
        "title": f"Import Exam {quiz.name}", "preview": preview, "quiz": quiz, "setup": preview.setup,
        "description": plain_text(quiz.description), "start_link": safe_link(quiz.start_url), "values": values,
        "errors": errors, "type_options": EXAM_TYPE_OPTIONS, "supporters": supporters,
        "template_options": [(t.id, t.name + (" (institutional default)" if t.institutional_default else ""))
                             for t in templates],
        "template_url": _import_url(preview.setup.id, quiz.id), "lookup_url": "/lms-lookup",
    }, status_code=status_code)


async def import_exam(request: Request) -> Response:
    """The import page the LMS Exam Lookup links to: the quiz, read-only, with type, supporters and template."""
    actor = await require_actor(request)
    services = services_of(request)
    source = request.query_params if request.method == "GET" else await request.form()
    raw_setup, quiz_id = source.get("lms_setup_id", ""), source.get("quiz_id", "")
    if not isinstance(raw_setup, str) or not raw_setup.isdigit() or len(raw_setup) > 10 \
            or not isinstance(quiz_id, str) or not quiz_id:
        return await render(request, "error.html", {"title": "Not found", "message": "Choose a course or quiz "
                                                    "in the LMS Exam Lookup to import it."}, status_code=404)
    try:
        preview = await services.exams.preview_import(actor, int(raw_setup), quiz_id)
    except ValidationFailed as exc:
        return await render(request, "error.html", {"title": "Cannot import", "message": exc.message},
                            status_code=422)
    if request.method == "GET":
        templates = await services.exams.templates.choices(actor, preview.setup.institution_id)
        if "exam_template_id" in request.query_params:
            chosen = request.query_params["exam_template_id"]
            template = next((t for t in templates if str(t.id) == chosen), None)
        else:
            template = next((t for t in templates if t.institutional_default), None)
        supporter_ids: list[int] = []
        if template is not None:
            supporter_ids = template_supporter_ids(template)
        values = {"exam_template_id": str(template.id) if template else "",
                  "exam_type": template.exam_type if template else "UNDEFINED", "supporter_ids": supporter_ids}
        return await _import_page(request, actor, preview, values, {})
    form = source
    values = {**form_fields(form, "exam_type", "exam_template_id"), "supporter_ids": posted_ids(form)}  # type: ignore[arg-type]
    if preview.refusal:
        return await _import_page(request, actor, preview, values, {"quiz_id": preview.refusal}, 422)
    try:
        data = parse_input(ExamImport, {"lms_setup_id": raw_setup, "quiz_id": quiz_id, **values})
        exam = await services.exams.import_exam(actor, data)
    except ValidationFailed as exc:
        return await _import_page(request, actor, preview, values, field_errors(exc), 422)
    except Conflict as exc:
        return await _import_page(request, actor, preview, values, {"quiz_id": exc.message}, 409)
    flash(request, f"Exam {exam.name} imported.")
    return redirect(f"/exams/{exam.id}")


# -- view --------------------------------------------------------------------------------------------


def indicator_rows(specs: list[tuple[Any, IndicatorSpec]], types: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"key": key, "spec": spec, "type": type_label(types, spec.indicator_type)} for key, spec in specs]


async def view_exam(request: Request) -> Response:
    actor = await require_actor(request)
    services = services_of(request)
    details = await services.exams.details(actor, path_id(request))
    exam = details.exam
    attached = await services.exams.configuration.attached(actor, exam.id)
    indicators = await services.exams.indicators.list(actor, exam.id)
    types = services.exams.indicators.types()
    restriction = await services.exams.restriction.details(actor, exam.id)
    location = await services.locations.policies.policy(actor, exam.id)
    specs = [(row.id, IndicatorSpec.from_row(row)) for row in indicators]
    return await render(request, "exams/view.html", {
        "title": f"Exam {exam.name}", "d": details, "exam": exam, "attached": attached,
        "config_status": ConfigStatus(attached.configuration.status).label if attached else "",
        "indicators": indicator_rows(specs, types), "restriction": restriction,
        "signature_key_grants": signature_key_grants(exam),
        "status_label": exam_status_label(exam.status), "type_label": exam_type_label(exam.exam_type),
        "description": plain_text(exam.description), "start_link": safe_link(exam.start_url),
        "running": exam.status == ExamStatus.RUNNING, "here": current_path(request),
        "may_attach": details.may_write and attached is None,
        "may_watch": may(actor, Privilege.READ, exam, {user.id for user in details.supporters},
                         EntityType.CLIENT_CONNECTION),  # the participation report lists the connections
        "may_create_config": actor.may(
            Privilege.WRITE, EntityType.EXAM_CONFIGURATION, institution_id=actor.institution_id),
        **card_values(location, details),
    })


# -- edit --------------------------------------------------------------------------------------------


async def edit_exam(request: Request) -> Response:
    actor = await require_actor(request)
    services = services_of(request)
    details = await services.exams.details(actor, path_id(request))
    exam = details.exam
    if not details.may_modify:
        raise PermissionDenied(f"you may not change exam {exam.name!r}")
    errors: dict[str, str] = {}
    if request.method == "GET":
        values: dict[str, Any] = {"exam_type": exam.exam_type, "supporter_ids": [u.id for u in details.supporters],
                                  **client_check_values(exam)}
    else:
        form = await request.form()
        values = {**form_fields(form, "exam_type", *CLIENT_CHECK_TEXT_FIELDS), "supporter_ids": posted_ids(form),
                  "signature_key_check_enabled": form.get("signature_key_check_enabled") == "1"}
        try:
            await services.exams.update(actor, exam.id, parse_input(ExamUpdate, values))
        except ValidationFailed as exc:
            errors = field_errors(exc)
        else:
            flash(request, f"Exam {exam.name} saved.")
            return redirect(f"/exams/{exam.id}")
    return await render(request, "exams/form.html", {
        "title": f"Edit Exam {exam.name}", "exam": exam, "setup": details.setup, "values": values, "errors": errors,
        "type_options": EXAM_TYPE_OPTIONS, "supporters": await people(request, values["supporter_ids"]),
    }, status_code=422 if errors else 200)


# -- delete ------------------------------------------------------------------------------------------


async def delete_exam(request: Request) -> Response:
    actor = await require_actor(request)
    services = services_of(request)
    exam_id = path_id(request)
    if request.method == "POST":
        report = await services.exams.delete(actor, exam_id)
        flash(request, f"Exam {report.exam_name} deleted.")
        for warning in report.warnings:
            flash(request, warning, "warning")
        return redirect("/exams")
    report = await services.exams.deletion_report(actor, exam_id)
    return await render(request, "exams/delete.html", {"title": f"Delete Exam {report.exam_name}",
                                                       "report": report})


# -- configuration -----------------------------------------------------------------------------------


async def attach_configuration(request: Request) -> Response:
    actor = await require_actor(request)
    services = services_of(request)
    details = await services.exams.details(actor, path_id(request))
    exam = details.exam
    if not details.may_write:
        raise PermissionDenied(f"you may not attach exam configurations to exam {exam.name!r}")
    errors: dict[str, str] = {}
    values: dict[str, str] = {}
    if request.method == "POST":
        form = await request.form()
        values = form_fields(form, "configuration_id")
        password, confirm = form.get("password") or "", form.get("confirm_password") or ""
        if password != confirm:
            errors["confirm_password"] = "password and confirmation differ"
        else:
            try:
                data = parse_input(ConfigurationAttach, {**values, "password": password})
                attached = await services.exams.configuration.attach(actor, exam.id, data)
            except ValidationFailed as exc:
                errors = field_errors(exc)
            except Conflict as exc:
                errors = {"configuration_id": exc.message}
            else:
                flash(request, f"Exam configuration {attached.configuration.name} attached to {exam.name}.")
                return redirect(f"/exams/{exam.id}")
    available = await services.exams.configuration.available(actor, exam.id)
    return await render(request, "exams/attach.html", {
        "title": f"Add Exam Configuration to {exam.name}", "exam": exam, "available": available, "values": values,
        "errors": errors, "may_create_config": actor.may(Privilege.WRITE, EntityType.EXAM_CONFIGURATION,
                                                         institution_id=actor.institution_id),
    }, status_code=422 if errors else 200)


async def remove_configuration(request: Request) -> Response:
    actor = await require_actor(request)
    exam_id = path_id(request)
    try:
        configuration = await services_of(request).exams.configuration.remove(actor, exam_id)
    except Conflict as exc:
        flash(request, exc.message, "error")
    else:
        flash(request, f"Exam configuration {configuration.name} removed; it is Ready To Use again.")
    return redirect(f"/exams/{exam_id}")


async def export_configuration(request: Request) -> Response:
    actor = await require_actor(request)
    data = await services_of(request).exams.configuration.export(actor, path_id(request))
    return Response(data, media_type="application/octet-stream", headers={
        "Content-Disposition": f'attachment; filename="{EXPORT_FILENAME}"',
        "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff",
    })


async def config_key(request: Request) -> Response:
    actor = await require_actor(request)
    services = services_of(request)
    exam = await services.exams.get(actor, path_id(request))
    attached = await services.exams.configuration.attached(actor, exam.id)
    key = await services.exams.configuration.config_key(actor, exam.id)
    context = {"title": f"Config Key of {exam.name}", "exam": exam, "attached": attached, "key": key}
    if request.headers.get("hx-request"):
        return partial(request, "exams/_config_key.html", context)
    return await render(request, "exams/config_key.html", context)


# -- indicators --------------------------------------------------------------------------------------


async def _indicator_form(request: Request, indicator_id: int | None) -> Response:
    actor = await require_actor(request)
    services = services_of(request)
    details = await services.exams.details(actor, path_id(request))
    exam = details.exam
    if not (details.may_write if indicator_id is None else details.may_modify):
        raise PermissionDenied(f"you may not {'add' if indicator_id is None else 'change'} indicators of exam "
                               f"{exam.name!r}")
    indicators = services.exams.indicators
    base = f"/exams/{exam.id}/indicators"
    action_url = f"{base}/{indicator_id}/edit" if indicator_id is not None else f"{base}/new"
    spec = None
    if indicator_id is not None:
        row = await indicators.get(actor, exam.id, indicator_id)
        spec = IndicatorSpec(row.name, row.indicator_type, row.color, tuple(t for t in row.tags.split(",") if t),
                             parse_thresholds(row.thresholds))
    title = f"Edit Indicator {spec.name}" if spec else "New Indicator"
    if request.method == "GET":
        return await indicator_page(request, title=title, action_url=action_url, cancel_url=f"/exams/{exam.id}",
                                    values=indicator_values(spec), errors={}, types=indicators.types(),
                                    owner_label=f"Exam {exam.name}")
    values = read_indicator(await request.form())
    try:
        data = parse_input(IndicatorInput, values)
        if indicator_id is None:
            saved = await indicators.create(actor, exam.id, data)
        else:
            saved = await indicators.update(actor, exam.id, indicator_id, data)
    except ValidationFailed as exc:
        return await indicator_page(request, title=title, action_url=action_url, cancel_url=f"/exams/{exam.id}",
                                    values=values, errors=exc.field_errors, types=indicators.types(),
                                    owner_label=f"Exam {exam.name}", status_code=422)
    flash(request, f"Indicator {saved.name} saved.")
    return redirect(f"/exams/{exam.id}")


async def new_indicator(request: Request) -> Response:
    return await _indicator_form(request, None)


async def edit_indicator(request: Request) -> Response:
    return await _indicator_form(request, path_id(request, "indicator_id"))


async def delete_indicator(request: Request) -> Response:
    actor = await require_actor(request)
    exam_id = path_id(request)
    removed = await services_of(request).exams.indicators.delete(actor, exam_id, path_id(request, "indicator_id"))
    flash(request, f"Indicator {removed.name} deleted.")
    return redirect(f"/exams/{exam_id}")


# -- SEB restriction ---------------------------------------------------------------------------------


def restriction_values(details: RestrictionDetails) -> dict[str, Any]:
    return {"browser_exam_keys": "\n".join(details.browser_exam_keys), "properties": dict(details.properties)}


def read_restriction_properties(form: FormData, fields: tuple[RestrictionField, ...]) -> dict[str, Any]:
    """The posted LMS properties. A multiple field comes as ticked boxes or as one text area (one value per line):
    a field with LMS choices falls back to the text area when the LMS did not answer."""
    properties: dict[str, Any] = {}
    for spec in fields:
        name = f"prop_{spec.name}"
        if spec.multiple:
            posted = [value for value in form.getlist(name) if isinstance(value, str)]
            properties[spec.name] = [line.strip() for value in posted for line in value.splitlines() if line.strip()]
        else:
            properties[spec.name] = str(form.get(name) or "")
    return properties


def _is_htmx(request: Request) -> bool:
    return bool(request.headers.get("hx-request"))


async def restriction_page(request: Request) -> Response:
    """The SEB restriction details: Config Keys (from the configuration), Browser Exam Keys, LMS fields (with
    choices from the LMS where a field asks for them). A dialog on the exam view when htmx asks, a page of its
    own otherwise, so the URL works without JavaScript."""
    actor = await require_actor(request)
    services = services_of(request)
    exam_details = await services.exams.details(actor, path_id(request))
    exam = exam_details.exam
    restriction = services.exams.restriction
    details = await restriction.details(actor, exam.id)
    values = restriction_values(details)
    errors: dict[str, str] = {}
    if request.method == "POST":
        form = await request.form()
        values = {"browser_exam_keys": str(form.get("browser_exam_keys") or ""),
                  "properties": read_restriction_properties(form, details.fields)}
        data: dict[str, Any] = {"browser_exam_keys": values["browser_exam_keys"]}
        if details.fields:
            data["properties"] = values["properties"]
        try:
            saved, outcome = await restriction.update(actor, exam.id, parse_input(RestrictionUpdate, data))
        except ValidationFailed as exc:
            errors = {key.removeprefix("properties."): text for key, text in exc.field_errors.items()}
        else:
            notices = [("success", "SEB restriction details saved.")]
            if outcome is not None:
                notices.append(("success" if outcome.ok else "error", f"On the LMS: {outcome.message}"))
            if _is_htmx(request):
                return _restriction_saved(request, exam, saved, notices)
            for kind, text in notices:
                flash(request, text, kind)
            return redirect(safe_next(form.get("next"), f"/exams/{exam.id}"))
    context = {
        "title": f"SEB Restriction of {exam.name}", "exam": exam, "details": details, "values": values,
        "errors": errors, "may_modify": exam_details.may_modify,
        "choices": await restriction.lms_choices(actor, exam.id, values["properties"]),
    }
    status_code = 422 if errors else 200
    if _is_htmx(request):
        return partial(request, "exams/_restriction_dialog.html", context, status_code, headers=VARY_HTMX)
    response = await render(request, "exams/restriction.html", context, status_code=status_code)
    response.headers.update(VARY_HTMX)
    return response


def _restriction_saved(request: Request, exam: Exam, details: RestrictionDetails,
                       notices: list[tuple[str, str]]) -> Response:
    """After saving in the dialog: the restriction card of the exam view (out of band) and an empty dialog slot,
    which closes the dialog."""
    return partial(request, "exams/_restriction_card.html", {
        "exam": exam, "restriction": details, "notices": notices, "oob": True,
    }, headers={"HX-Retarget": "#dialog-slot", "HX-Reswap": "innerHTML"})


async def _restriction_action(request: Request, apply: bool) -> Response:
    actor = await require_actor(request)
    exam_id = path_id(request)
    restriction = services_of(request).exams.restriction
    form = await request.form()
    try:
        outcome = await (restriction.apply(actor, exam_id) if apply else restriction.release(actor, exam_id))
    except Conflict as exc:
        flash(request, f"SEB restriction not {'applied' if apply else 'released'}: {exc.message}", "error")
    else:
        flash(request, f"SEB restriction {outcome.message}.")
    return redirect(safe_next(form.get("next"), f"/exams/{exam_id}"))


async def apply_restriction(request: Request) -> Response:
    return await _restriction_action(request, True)


async def release_restriction(request: Request) -> Response:
    return await _restriction_action(request, False)


routes = [
    Route("/exams", list_exams),
    Route("/exams/import", import_exam, methods=["GET", "POST"]),
    Route("/exams/supporter-search", supporter_search),
    Route("/exams/{id:int}", view_exam),
    Route("/exams/{id:int}/edit", edit_exam, methods=["GET", "POST"]),
    Route("/exams/{id:int}/delete", delete_exam, methods=["GET", "POST"]),
    Route("/exams/{id:int}/configuration", attach_configuration, methods=["GET", "POST"]),
    Route("/exams/{id:int}/configuration/remove", remove_configuration, methods=["POST"]),
    Route("/exams/{id:int}/configuration/export", export_configuration),
    Route("/exams/{id:int}/configuration/config-key", config_key),
    Route("/exams/{id:int}/indicators/new", new_indicator, methods=["GET", "POST"]),
    Route("/exams/{id:int}/indicators/{indicator_id:int}/edit", edit_indicator, methods=["GET", "POST"]),
    Route("/exams/{id:int}/indicators/{indicator_id:int}/delete", delete_indicator, methods=["POST"]),
    Route("/exams/{id:int}/restriction", restriction_page, methods=["GET", "POST"]),
    Route("/exams/{id:int}/restriction/apply", apply_restriction, methods=["POST"]),
    Route("/exams/{id:int}/restriction/release", release_restriction, methods=["POST"]),
]
