"""IP profile screens: list, view (canonical rules, exams using it, versions), create and edit with a "Check" of the
rules before saving, a version against the current one (diff), hide and unhide (never deleted), and the preview
"who would be blocked" of a draft against the current connections of running exams."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sebframe.core.accounts.actor import Actor
from sebframe.core.db.models import LocationProfile
from sebframe.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from sebframe.core.location.preview import PreviewRow
from sebframe.core.location.profiles import PROFILE_FILTERS, LocationProfileService, ProfileUsage, RulesRejected
from sebframe.core.location.rules import ParsedProfile
from sebframe.core.location.schemas import ProfileInput
from sebframe.core.paging import ListParams
from sebframe.core.validation import parse_input
from sebframe.web.pages import flash, form_fields, redirect, render, require_actor, services_of
from sebframe.web.views.common import current_path, fetch_list, field_errors, list_params, path_id, safe_next
from sebframe.web.views.config_screens import partial
from sebframe.web.views.locations import (
    HIDDEN_OPTIONS,
    institution_names,
    is_id,
    lists_all,
    require_location_read,
)

_FIELDS = ("name", "location_id", "default_room", "help_text", "rules")
BASE = "/location-profiles"


@dataclass(frozen=True, slots=True)
class DiffLine:
    kind: str  # "header", "hunk", "add", "remove" or "same"
    text: str


def rules_diff(old: str, new: str, old_label: str, new_label: str) -> list[DiffLine]:
    """A unified diff of two rule texts, line by line, for a simple coloured rendering."""
    lines = []
    for line in difflib.unified_diff(old.splitlines(), new.splitlines(), old_label, new_label, lineterm=""):
        if line.startswith(("---", "+++")):
            kind = "header"
        elif line.startswith("@@"):
            kind = "hunk"
        elif line.startswith("+"):
            kind = "add"
        elif line.startswith("-"):
            kind = "remove"
        else:
            kind = "same"
        lines.append(DiffLine(kind, line))
    return lines


def _flags(actor: Actor, profile: LocationProfile) -> str:
    flags = ["hidden" if profile.hidden else "visible"]
    if LocationProfileService.may_write(actor, profile.institution_id):
        flags.append("writable")
    return " ".join(flags)


async def _location_options(request: Request, actor: Actor, *, keep: int | None = None) -> list[tuple[str, str]]:
    """The visible locations to choose from, plus a hidden one the profile already has."""
    service = services_of(request).locations.profiles
    choices = [(str(location.id), location.name) for location in await service.location_choices(actor)]
    if keep is not None and str(keep) not in dict(choices):
        try:
            current = await service.get_location(actor, keep)
        except NotFound:
            return choices
        choices.append((str(current.id), f"{current.name} (hidden)"))
    return choices


async def list_profiles(request: Request) -> Response:
    actor = await require_actor(request)
    require_location_read(actor)
    service = services_of(request).locations.profiles
    params, errors = list_params(request, PROFILE_FILTERS)
    page, status = await fetch_list(lambda query: service.list_profiles(actor, query), params, errors)
    locations = await service.list_locations(actor, ListParams(size=500, filters={"hidden": "all"}))
    names = await institution_names(request, actor)
    rows = [{"profile": profile, "location": location_name, "flags": _flags(actor, profile),
             "institution": names.get(profile.institution_id, str(profile.institution_id))}
            for profile, location_name in page.items]
    return await render(request, "locations/profile_list.html", {
        "title": "IP Profiles",
        "params": params,
        "page": page,
        "rows": rows,
        "errors": errors,
        "location_options": [(str(location.id), location.name) for location in locations.items],
        "hidden_options": HIDDEN_OPTIONS,
        "show_institution": lists_all(actor),
        "may_create": LocationProfileService.may_write(actor),
        "here": current_path(request),
    }, status_code=status)


async def view_profile(request: Request) -> Response:
    actor = await require_actor(request)
    service = services_of(request).locations.profiles
    profile = await service.get_profile(actor, path_id(request))
    location = None
    if profile.location_id is not None:
        try:
            location = await service.get_location(actor, profile.location_id)
        except NotFound:
            location = None
    names = await institution_names(request, actor)
    return await render(request, "locations/profile_view.html", {
        "title": f"IP Profile {profile.name}",
        "profile": profile,
        "location": location,
        "parsed": service.check_rules(profile.rules_text),
        "usage": await service.usage(actor, profile.id),
        "versions": await service.versions(actor, profile.id),
        "institution": names.get(profile.institution_id, ""),
        "may_write": LocationProfileService.may_write(actor, profile.institution_id),
        "here": current_path(request),
    })


def _values_of(profile: LocationProfile) -> dict[str, Any]:
    return {"name": profile.name, "location_id": "" if profile.location_id is None else str(profile.location_id),
            "default_room": profile.default_room, "help_text": profile.help_text, "rules": profile.rules_text}


def _read_values(form: FormData) -> dict[str, Any]:
    values = form_fields(form, *_FIELDS)
    values["rules"] = values.get("rules", "").replace("\r\n", "\n")
    return values


async def _form_page(request: Request, actor: Actor, profile: LocationProfile | None, values: dict[str, Any],
                     errors: dict[str, str], *, parsed: ParsedProfile | None = None,
                     status_code: int = 200) -> Response:
    service = services_of(request).locations.profiles
    usage = await service.usage(actor, profile.id) if profile is not None else None
    return await render(request, "locations/profile_form.html", {
        "title": f"Edit IP Profile {profile.name}" if profile else "New IP Profile",
        "profile": profile,
        "values": values,
        "errors": errors,
        "location_options": await _location_options(request, actor,
                                                    keep=profile.location_id if profile is not None else None),
        "usage": usage,
        "check": _check_context(parsed, usage, values.get("default_room", "")) if parsed is not None else None,
    }, status_code=status_code)


def _check_context(parsed: ParsedProfile, usage: ProfileUsage | None, default_room: str) -> dict[str, Any]:
    return {"parsed": parsed, "usage": usage, "default_room": default_room}


async def _save(request: Request, actor: Actor, profile: LocationProfile | None) -> Response:
    service = services_of(request).locations.profiles
    form = await request.form()
    values = _read_values(form)
    parsed = service.check_rules(values["rules"])
    if form.get("check"):  # the "Check" button without JavaScript: the form again with the findings
        return await _form_page(request, actor, profile, values, {}, parsed=parsed)
    errors: dict[str, str] = {}
    try:
        data = parse_input(ProfileInput, values)
        if profile is None:
            saved = await service.create_profile(actor, data)
        else:
            saved = await service.update_profile(actor, profile.id, data)
    except RulesRejected as exc:
        parsed = exc.parsed
        errors = {"rules": f"The rules have {len(parsed.errors)} error(s); nothing was saved."}
    except ValidationFailed as exc:
        errors = field_errors(exc)
        if not parsed.ok:
            errors.setdefault("rules", f"The rules have {len(parsed.errors)} error(s).")
    except Conflict as exc:
        errors = {"name": exc.message}
    else:
        if profile is None:
            flash(request, f"IP profile {saved.name} created (version 1).")
        elif saved.version != profile.version:
            flash(request, f"IP profile {saved.name} saved as version {saved.version}; exams using it check with "
                           "this version from now on.")
        else:
            flash(request, f"IP profile {saved.name} saved.")
        for issue in parsed.warnings:
            flash(request, f"{issue.code} {issue.message}", "warning")
        return redirect(f"{BASE}/{saved.id}")
    return await _form_page(request, actor, profile, values, errors, parsed=parsed, status_code=422)


async def create_profile(request: Request) -> Response:
    actor = await require_actor(request)
    if not LocationProfileService.may_write(actor):
        raise PermissionDenied("You may not create IP profiles.")
    if request.method == "GET":
        values: dict[str, Any] = {"location_id": request.query_params.get("location_id", "")}
        return await _form_page(request, actor, None, values, {})
    return await _save(request, actor, None)


async def edit_profile(request: Request) -> Response:
    actor = await require_actor(request)
    profile = await services_of(request).locations.profiles.get_profile(actor, path_id(request))
    if not LocationProfileService.may_write(actor, profile.institution_id):
        raise PermissionDenied(f"You may not change IP profile {profile.name!r}.")
    if request.method == "GET":
        return await _form_page(request, actor, profile, _values_of(profile), {})
    return await _save(request, actor, profile)


async def check_rules(request: Request) -> Response:
    """The "Check" button (htmx): every error and warning of the rules with its line, and each rule's canonical
    form; nothing is saved."""
    actor = await require_actor(request)
    require_location_read(actor)
    service = services_of(request).locations.profiles
    form = await request.form()
    values = _read_values(form)
    usage = None
    profile_id = form.get("profile_id")
    if is_id(profile_id):
        usage = await service.usage(actor, int(profile_id))
    return partial(request, "locations/_check.html", {
        "check": _check_context(service.check_rules(values.get("rules", "")), usage, values.get("default_room", "")),
        "profile_id": profile_id if is_id(profile_id) else None,
    })


async def view_version(request: Request) -> Response:
    """One version of the rules, and what changed from it to the current version."""
    actor = await require_actor(request)
    service = services_of(request).locations.profiles
    profile = await service.get_profile(actor, path_id(request))
    number = path_id(request, "version")
    version = await service.version(actor, profile.id, number)
    return await render(request, "locations/profile_version.html", {
        "title": f"IP Profile {profile.name}, Version {version.version}",
        "profile": profile,
        "version": version,
        "parsed": service.check_rules(version.rules_text),
        "diff": rules_diff(version.rules_text, profile.rules_text, f"version {version.version}",
                           f"version {profile.version} (current)"),
        "help_changed": version.help_text != profile.help_text,
    })


async def hide_profile(request: Request) -> Response:
    """GET asks for confirmation, naming the exams that keep using it; POST hides."""
    actor = await require_actor(request)
    service = services_of(request).locations.profiles
    profile = await service.get_profile(actor, path_id(request))
    if not LocationProfileService.may_write(actor, profile.institution_id):
        raise PermissionDenied(f"You may not hide IP profile {profile.name!r}.")
    if request.method == "POST":
        form = await request.form()
        await service.set_profile_hidden(actor, profile.id, True)
        flash(request, f"IP profile {profile.name} hidden: it can no longer be chosen for exams; exams already "
                       "using it keep being checked with it.")
        return redirect(safe_next(form.get("next"), f"{BASE}/{profile.id}"))
    return await render(request, "locations/profile_hide.html", {
        "title": f"Hide IP Profile {profile.name}",
        "profile": profile,
        "usage": await service.usage(actor, profile.id),
        "next": safe_next(request.query_params.get("next"), f"{BASE}/{profile.id}"),
    })


async def unhide_profile(request: Request) -> Response:
    actor = await require_actor(request)
    form = await request.form()
    profile = await services_of(request).locations.profiles.set_profile_hidden(actor, path_id(request), False)
    flash(request, f"IP profile {profile.name} is available again for exams.")
    return redirect(safe_next(form.get("next"), f"{BASE}/{profile.id}"))


# -- preview: who would be blocked ------------------------------------------------------------------------


async def _exam_options(request: Request, actor: Actor) -> list[tuple[str, str]]:
    """The running exams the user may see (a preview decides their current connections)."""
    try:
        page = await services_of(request).exams.list(actor, ListParams(size=500, sort="name",
                                                                       filters={"status": "RUNNING"}))
    except PermissionDenied:
        return []
    return [(str(exam.id), exam.name) for exam in page.items]


def _ordered(rows: list[PreviewRow]) -> list[PreviewRow]:
    """Changed decisions first, otherwise as decided (by exam, then connection)."""
    return sorted(rows, key=lambda row: not row.changed)


async def preview(request: Request) -> Response:
    """GET: the profile's current rules against the current connections; POST: a draft instead (from the edit
    form's "Preview" button or this page's form). Nothing is saved."""
    actor = await require_actor(request)
    services = services_of(request)
    profile = await services.locations.profiles.get_profile(actor, path_id(request))
    if request.method == "POST":
        form = await request.form()
        draft = _read_values(form).get("rules", "")
        exam = form_fields(form, "exam_id").get("exam_id", "")
    else:
        draft = profile.rules_text
        exam = request.query_params.get("exam_id", "")
    exam_id = int(exam) if is_id(exam) else None
    errors: dict[str, str] = {}
    result = None
    parsed = None
    try:
        result = await services.locations.preview.who_would_be_blocked(
            actor, profile.id, draft if draft != profile.rules_text else None, exam_id)
    except RulesRejected as exc:
        parsed = exc.parsed
        errors["rules"] = f"The draft has {len(parsed.errors)} error(s); fix them to preview."
    return await render(request, "locations/preview.html", {
        "title": f"Preview IP Profile {profile.name}",
        "profile": profile,
        "draft": draft,
        "is_draft": draft != profile.rules_text,
        "exam_id": str(exam_id) if exam_id is not None else "",
        "exam_options": await _exam_options(request, actor),
        "result": result,
        "rows": _ordered(result.rows) if result is not None else [],
        "check": _check_context(parsed, None, profile.default_room) if parsed is not None else None,
        "errors": errors,
    }, status_code=422 if errors else 200)



routes = [
    Route(BASE, list_profiles),
    Route(f"{BASE}/new", create_profile, methods=["GET", "POST"]),
    Route(f"{BASE}/check", check_rules, methods=["POST"]),
    Route(BASE + "/{id:int}", view_profile),
    Route(BASE + "/{id:int}/edit", edit_profile, methods=["GET", "POST"]),
    Route(BASE + "/{id:int}/versions/{version:int}", view_version),
    Route(BASE + "/{id:int}/hide", hide_profile, methods=["GET", "POST"]),
    Route(BASE + "/{id:int}/unhide", unhide_profile, methods=["POST"]),
    Route(BASE + "/{id:int}/preview", preview, methods=["GET", "POST"]),
]
