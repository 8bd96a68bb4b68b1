"""The location restriction of an exam: its settings (IP profiles, enforce or log-only trial, hiding from the
handshake list, the reaction to a violation), the emergency switch (suspend and resume, with a reason) and the
planned exceptions for users and groups. The rules and the privilege checks are in
:mod:`sebframe.core.location.exam_location` (exam administrators change settings and exceptions; whoever supervises
the exam may suspend and resume); this only renders."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sebframe.core.accounts.actor import Actor
from sebframe.core.db.models import LocationException, LocationProfile
from sebframe.core.errors import PermissionDenied, ValidationFailed
from sebframe.core.exams.service import ExamDetails
from sebframe.core.location.exam_location import ExamPolicy
from sebframe.core.location.schemas import (
    ExceptionInput,
    ExceptionKind,
    PolicyInput,
    PolicyMode,
    SuspendInput,
    ViolationAction,
)
from sebframe.core.validation import parse_input
from sebframe.web.pages import flash, form_fields, redirect, render, require_actor, services_of
from sebframe.web.templating import user_zone
from sebframe.web.views.common import field_errors, path_id, safe_next
from sebframe.web.views.exam_parts import posted_ids

MODE_OPTIONS = [(PolicyMode.ENFORCE.value, "Enforce: refuse SEB clients outside the profiles"),
                (PolicyMode.LOG_ONLY.value, "Log only (trial): record who would be refused, refuse nobody")]
MODE_LABELS = {PolicyMode.ENFORCE: "Enforce", PolicyMode.LOG_ONLY: "Log only (trial)"}
VIOLATION_OPTIONS = [(ViolationAction.LOG.value, "Log and flag the connection"),
                     (ViolationAction.QUIT.value, "Log, flag and quit the SEB client")]
VIOLATION_LABELS = {ViolationAction.LOG: "Log and flag", ViolationAction.QUIT: "Log, flag and quit SEB"}
KIND_OPTIONS = [(ExceptionKind.USER.value, "User"), (ExceptionKind.GROUP.value, "Group")]
AUDIT_FORMATS = (("log", "Log lines"), ("jsonl", "JSON lines"), ("csv", "CSV"))
TIME_HINT = "use a date and time like 2026-11-22T09:00"


# -- time inputs in the user's zone --------------------------------------------------------------------------



def aware_input(value: str, zone: ZoneInfo, field: str) -> str:
    """A ``datetime-local`` value, typed in the user's zone, as an aware ISO time for the input models
    ("" stays "": not given)."""
    text = value.strip()
    if not text:
        return ""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValidationFailed({field: TIME_HINT}) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.isoformat()


def local_input(moment: datetime | None, zone: ZoneInfo) -> str:
    """A stored time as the value of a ``datetime-local`` input in the user's zone."""
    return moment.astimezone(zone).strftime("%Y-%m-%dT%H:%M") if moment is not None else ""


# -- the card on the exam view -------------------------------------------------------------------------------


def audit_links(exam_id: int) -> list[tuple[str, str]]:
    """The exam's location audit export (built by the audit screens), one link per format."""
    return [(f"/location-audit/export?exam_id={exam_id}&format={name}", label) for name, label in AUDIT_FORMATS]


def card_values(policy: ExamPolicy, details: ExamDetails) -> dict[str, Any]:
    """What ``exams/_location_card.html`` needs besides the exam."""
    return {"location": policy, "location_mode": MODE_LABELS[policy.mode],
            "location_violation": VIOLATION_LABELS[policy.on_violation],
            "location_audit": audit_links(policy.exam_id), "location_may_write": details.may_write,
            "location_may_supervise": details.may_modify}


# -- settings ------------------------------------------------------------------------------------------------


def profile_options(profiles: Sequence[LocationProfile]) -> list[tuple[int, str]]:
    """Profiles to choose; a hidden one (offered only because the exam has it) is marked."""
    return [(profile.id, profile.name + (" (hidden)" if profile.hidden else "")) for profile in profiles]


async def _writable(request: Request, actor: Actor, what: str) -> ExamDetails:
    details = await services_of(request).exams.details(actor, path_id(request))
    if not details.may_write:
        raise PermissionDenied(f"you may not change the location {what} of exam {details.exam.name!r}")
    return details


async def location_settings(request: Request) -> Response:
    actor = await require_actor(request)
    services = services_of(request)
    details = await _writable(request, actor, "restriction")
    exam = details.exam
    policies = services.locations.policies
    policy = await policies.policy(actor, exam.id)
    errors: dict[str, str] = {}
    if request.method == "GET":
        values: dict[str, Any] = {"profile_ids": [profile.id for profile in policy.profiles],
                                  "mode": policy.mode.value, "hide_when_outside": policy.hide_when_outside,
                                  "on_violation": policy.on_violation.value}
    else:
        form = await request.form()
        values = {**form_fields(form, "mode", "on_violation"), "profile_ids": posted_ids(form, "profile_ids[]"),
                  "hide_when_outside": form.get("hide_when_outside") == "1"}
        try:
            saved = await policies.set_policy(actor, exam.id, parse_input(PolicyInput, values))
        except ValidationFailed as exc:
            errors = field_errors(exc)
        else:
            flash(request, f"Location restriction of {exam.name} saved.")
            if not saved.profiles:
                flash(request, "No IP profile is attached: SEB clients of this exam are not restricted.", "warning")
            return redirect(f"/exams/{exam.id}")
    choices = await services.locations.profiles.profile_choices(
        actor, exam.institution_id, keep=[profile.id for profile in policy.profiles])
    return await render(request, "exams/location.html", {
        "title": f"Location Restriction of {exam.name}", "exam": exam, "values": values, "errors": errors,
        "profile_options": profile_options(choices), "mode_options": MODE_OPTIONS,
        "violation_options": VIOLATION_OPTIONS,
    }, status_code=422 if errors else 200)


# -- the emergency switch ------------------------------------------------------------------------------------


async def _switch(request: Request, suspend: bool) -> Response:
    """Suspend (or resume) the restriction at once, with a reason; a form page of its own (the exam view and the
    monitoring page post to it directly), shown again with the error when the reason is missing."""
    actor = await require_actor(request)
    services = services_of(request)
    details = await services.exams.details(actor, path_id(request))
    exam = details.exam
    if not details.may_modify:
        raise PermissionDenied(f"you may not {'suspend' if suspend else 'resume'} the location restriction of "
                               f"exam {exam.name!r}: only its supporters and exam administrators may")
    source = request.query_params if request.method == "GET" else await request.form()
    back = safe_next(source.get("next"), f"/exams/{exam.id}")
    errors: dict[str, str] = {}
    reason = ""
    if request.method == "POST":
        reason = str(source.get("reason") or "")
        try:
            await services.locations.policies.suspend(actor, exam.id, parse_input(SuspendInput, {"reason": reason}),
                                                      suspended=suspend)
        except ValidationFailed as exc:
            errors = field_errors(exc)
            if "reason" in errors:
                errors["reason"] = "give a reason (it is kept in the audit log)"
        else:
            if suspend:
                flash(request, f"Location restriction of {exam.name} suspended: SEB clients are no longer checked "
                               "until it is resumed.", "warning")
            else:
                flash(request, f"Location restriction of {exam.name} resumed.")
            return redirect(back)
    policy = await services.locations.policies.policy(actor, exam.id)
    return await render(request, "exams/location_suspend.html", {
        "title": f"{'Suspend' if suspend else 'Resume'} Location Restriction of {exam.name}", "exam": exam,
        "suspend": suspend, "location": policy, "reason": reason, "errors": errors, "next": back,
    }, status_code=422 if errors else 200)


async def suspend_restriction(request: Request) -> Response:
    return await _switch(request, True)


async def resume_restriction(request: Request) -> Response:
    return await _switch(request, False)


# -- planned exceptions --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ExceptionRow:
    exception: LocationException
    members: list[str]
    substitute: str  # the substitute profile's name, "" for any location


def exception_values(exception: LocationException | None, zone: ZoneInfo) -> dict[str, Any]:
    if exception is None:
        return {"kind": ExceptionKind.USER.value, "name": "", "members": "", "substitute_profile_id": "",
                "valid_from": "", "valid_to": "", "reason": ""}
    return {"kind": exception.kind, "name": exception.name, "members": exception.members,
            "substitute_profile_id": str(exception.substitute_profile_id or ""),
            "valid_from": local_input(exception.valid_from, zone), "valid_to": local_input(exception.valid_to, zone),
            "reason": exception.reason}


def read_exception(form: FormData, zone: ZoneInfo) -> tuple[dict[str, str], dict[str, Any]]:
    """The form as typed (to show again) and as the input model's data (times made aware in the user's zone)."""
    values = form_fields(form, "kind", "name", "members", "substitute_profile_id", "valid_from", "valid_to",
                         "reason")
    data: dict[str, Any] = dict(values)
    if values.get("kind") != ExceptionKind.GROUP.value:
        data["members"] = ""
    problems: dict[str, str] = {}
    for name in ("valid_from", "valid_to"):
        try:
            data[name] = aware_input(values.get(name, ""), zone, name)
        except ValidationFailed as exc:
            problems.update(exc.field_errors)
    if problems:
        raise ValidationFailed(problems)
    return values, data


async def exceptions_list(request: Request) -> Response:
    actor = await require_actor(request)
    services = services_of(request)
    details = await services.exams.details(actor, path_id(request))
    exam = details.exam
    policy = await services.locations.policies.policy(actor, exam.id)
    wanted = [item.substitute_profile_id for item in policy.exceptions if item.substitute_profile_id is not None]
    names = {profile.id: profile.name for profile in await services.locations.profiles.profile_choices(
        actor, exam.institution_id, keep=wanted)}
    rows = [ExceptionRow(item, [line for line in item.members.splitlines() if line.strip()],
                         names.get(item.substitute_profile_id, f"IP profile {item.substitute_profile_id}")
                         if item.substitute_profile_id is not None else "")
            for item in policy.exceptions]
    return await render(request, "exams/location_exceptions.html", {
        "title": f"Location Exceptions of {exam.name}", "exam": exam, "rows": rows, "location": policy,
        "may_write": details.may_write,
    })


async def _exception_form(request: Request, exception_id: int | None) -> Response:
    actor = await require_actor(request)
    services = services_of(request)
    details = await _writable(request, actor, "exceptions")
    exam = details.exam
    policies = services.locations.policies
    zone = user_zone(actor.timezone)
    current = await policies.get_exception(actor, exam.id, exception_id) if exception_id is not None else None
    base = f"/exams/{exam.id}/location/exceptions"
    errors: dict[str, str] = {}
    if request.method == "GET":
        values: dict[str, Any] = exception_values(current, zone)
    else:
        form = await request.form()
        values = form_fields(form, "kind", "name", "members", "substitute_profile_id", "valid_from", "valid_to",
                             "reason")
        try:
            values, data = read_exception(form, zone)
            parsed = parse_input(ExceptionInput, data)
            if exception_id is None:
                saved = await policies.add_exception(actor, exam.id, parsed)
            else:
                saved = await policies.update_exception(actor, exam.id, exception_id, parsed)
        except ValidationFailed as exc:
            errors = field_errors(exc)
        else:
            flash(request, f"Location exception for {saved.kind.lower()} {saved.name} saved.")
            return redirect(base)
    keep = [current.substitute_profile_id] if current is not None and current.substitute_profile_id else []
    choices = await services.locations.profiles.profile_choices(actor, exam.institution_id, keep=keep)
    title = f"Edit Location Exception {current.name}" if current is not None else "New Location Exception"
    return await render(request, "exams/location_exception_form.html", {
        "title": title, "exam": exam, "values": values, "errors": errors, "kind_options": KIND_OPTIONS,
        "profile_options": profile_options(choices), "timezone_name": zone.key,
        "action_url": f"{base}/{exception_id}/edit" if exception_id is not None else f"{base}/new",
        "cancel_url": base,
    }, status_code=422 if errors else 200)


async def new_exception(request: Request) -> Response:
    return await _exception_form(request, None)


async def edit_exception(request: Request) -> Response:
    return await _exception_form(request, path_id(request, "exception_id"))


async def delete_exception(request: Request) -> Response:
    actor = await require_actor(request)
    services = services_of(request)
    details = await _writable(request, actor, "exceptions")
    exception_id = path_id(request, "exception_id")
    policies = services.locations.policies
    exception = await policies.get_exception(actor, details.exam.id, exception_id)
    await policies.delete_exception(actor, details.exam.id, exception_id)
    flash(request, f"Location exception for {exception.kind.lower()} {exception.name} deleted.")
    return redirect(f"/exams/{details.exam.id}/location/exceptions")


routes = [
    Route("/exams/{id:int}/location", location_settings, methods=["GET", "POST"]),
    Route("/exams/{id:int}/location/suspend", suspend_restriction, methods=["GET", "POST"]),
    Route("/exams/{id:int}/location/resume", resume_restriction, methods=["GET", "POST"]),
    Route("/exams/{id:int}/location/exceptions", exceptions_list),
    Route("/exams/{id:int}/location/exceptions/new", new_exception, methods=["GET", "POST"]),
    Route("/exams/{id:int}/location/exceptions/{exception_id:int}/edit", edit_exception, methods=["GET", "POST"]),
    Route("/exams/{id:int}/location/exceptions/{exception_id:int}/delete", delete_exception, methods=["POST"]),
]
