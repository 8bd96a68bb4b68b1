"""Live proctoring screens: the exam's proctoring settings (a form generated from the meeting service's settings
model, the connection test on save, locked while rooms exist, "reset rooms"), the monitoring page's proctoring
panel (one link per room, town-hall, broadcast and chat toggles, one-to-one rooms), the proctor's window page,
and the meeting plugins' window scripts. The rules and rights are in :mod:`sebframe.core.proctoring.service`."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from sebframe.core.accounts.actor import Actor
from sebframe.core.errors import Conflict, NotFound, ValidationFailed
from sebframe.core.proctoring.service import SettingsView
from sebframe.types import ProctoringFeature, ProctoringType
from sebframe.web.model_form import form_values, model_fields, read_model_form
from sebframe.web.pages import flash, form_fields, redirect, render, require_actor, services_of
from sebframe.web.views.common import path_id, safe_next
from sebframe.web.views.exam_parts import posted_ids

FEATURE_LABELS = {
    ProctoringFeature.TOWN_HALL: "Town-hall (all SEB clients into one room)",
    ProctoringFeature.ONE_TO_ONE: "One-to-one rooms",
    ProctoringFeature.BROADCAST: "Broadcast (clients hear and see the proctor)",
    ProctoringFeature.ENABLE_CHAT: "Chat",
}
MASKED = "********"
ASSET_NAME = re.compile(r"^[A-Za-z0-9_.-]+\.js$")


# -- settings --------------------------------------------------------------------------------------------


def _type(request: Request, name: str | None) -> ProctoringType | None:
    types = services_of(request).proctoring.meetings.types()
    if name and name.upper() in types:
        return types[name.upper()]
    return next(iter(sorted(types.values(), key=lambda item: item.display_name)), None)


def _settings_context(proctoring_type: ProctoringType | None, values: dict[str, Any], stored: SettingsView | None
                      ) -> dict[str, Any]:
    if proctoring_type is None:
        return {"settings_fields": [], "settings_values": {}, "secrets_set": set(), "type_chosen": False}
    model = proctoring_type.settings_model
    fields = model_fields(model)
    shown = {field.name: field.default for field in fields if field.default is not None}
    shown.update(form_values(values, model))
    secrets = set()
    if stored is not None and stored.service_type == proctoring_type.name:
        secrets = {name for name, value in stored.settings.items() if value == MASKED}
    return {"settings_fields": fields, "settings_values": shown, "secrets_set": secrets, "type_chosen": True}


async def _page(request: Request, exam_id: int, stored: SettingsView | None, values: dict[str, Any],
                settings_values: dict[str, Any], errors: dict[str, str], result: Any = None,
                status_code: int = 200) -> Response:
    services = services_of(request)
    exam = await services.exams.get(await require_actor(request), exam_id)
    proctoring_type = _type(request, values.get("service_type"))
    return await render(request, "proctoring/settings.html", {
        "title": f"Proctoring of {exam.name}", "exam": exam, "stored": stored, "values": values, "errors": errors,
        "result": result, "types": services.proctoring.service.types(),
        "chosen": proctoring_type, "feature_labels": FEATURE_LABELS,
        **_settings_context(proctoring_type, settings_values, stored),
    }, status_code=status_code)


def _values_of(stored: SettingsView | None, default_type: ProctoringType | None) -> dict[str, Any]:
    if stored is None:
        return {"enabled": True, "service_type": default_type.name if default_type else "",
                "server_url": default_type.default_url if default_type else "", "collecting_room_size": 20,
                "features": [feature.value for feature in (default_type.features if default_type else ())]}
    return {"enabled": stored.enabled, "service_type": stored.service_type, "server_url": stored.server_url,
            "collecting_room_size": stored.collecting_room_size,
            "features": [feature.value for feature in stored.features]}


def _read(request: Request, form: FormData) -> tuple[dict[str, Any], dict[str, Any]]:
    values: dict[str, Any] = {**form_fields(form, "service_type", "server_url", "collecting_room_size",
                                            "features[]"), "enabled": form.get("enabled") == "1"}
    proctoring_type = _type(request, values.get("service_type"))
    settings = read_model_form(form, proctoring_type.settings_model) if proctoring_type else {}
    return values, settings


async def settings_page(request: Request) -> Response:
    actor = await require_actor(request)
    exam_id = path_id(request)
    proctoring = services_of(request).proctoring.service
    stored = await proctoring.settings(actor, exam_id)
    if request.method == "GET":
        values = _values_of(stored, _type(request, None))
        settings_values = {k: v for k, v in (stored.settings if stored else {}).items() if v != MASKED}
        return await _page(request, exam_id, stored, values, settings_values, {})
    form = await request.form()
    values, settings_values = _read(request, form)
    if form.get("reload"):  # without JavaScript: show the chosen type's inputs
        return await _page(request, exam_id, stored, values, settings_values, {})
    data = {**values, "settings": settings_values}
    if not str(data.get("collecting_room_size", "")).strip():
        data.pop("collecting_room_size")
    try:
        view, result = await proctoring.save(actor, exam_id, data)
    except ValidationFailed as exc:
        return await _page(request, exam_id, stored, values, settings_values, dict(exc.field_errors),
                           status_code=422)
    except Conflict as exc:
        return await _page(request, exam_id, stored, values, settings_values, {"__root__": exc.message},
                           status_code=409)
    if result.ok:
        flash(request, f"Proctoring settings saved; the connection test passed ({result.message}).")
        return redirect(f"/exams/{exam_id}/proctoring")
    # Saved, but not enabled: show why, with the form as it was sent.
    return await _page(request, exam_id, view, values, settings_values, {}, result=result)


async def type_settings(request: Request) -> Response:
    """The settings inputs of the chosen meeting service (htmx swaps them in when the type changes)."""
    actor = await require_actor(request)
    stored = await services_of(request).proctoring.service.settings(actor, path_id(request))
    proctoring_type = _type(request, request.query_params.get("service_type"))
    stored_values = stored.settings if stored and proctoring_type and stored.service_type == proctoring_type.name \
        else {}
    return await render(request, "lms_setups/_settings_fields.html", {
        "errors": {}, **_settings_context(proctoring_type, {k: v for k, v in stored_values.items() if v != MASKED},
                                          stored)})


async def reset_rooms(request: Request) -> Response:
    actor = await require_actor(request)
    exam_id = path_id(request)
    failures = await services_of(request).proctoring.service.reset_rooms(actor, exam_id)
    if failures:
        flash(request, "Rooms reset; the meeting service did not dispose every room yet (retried): "
              + "; ".join(failures), "warning")
    else:
        flash(request, "Rooms reset: SEB clients were told to leave, proctoring is off. Save the settings to "
                       "start again.")
    form = await request.form()
    return redirect(safe_next(form.get("next"), f"/exams/{exam_id}/proctoring"))


# -- the monitoring page's panel and actions -------------------------------------------------------------


async def panel(request: Request) -> Response:
    """The proctoring part of the monitoring page (loaded and refreshed by htmx)."""
    actor = await require_actor(request)
    exam_id = path_id(request)
    services = services_of(request)
    state = await services.proctoring.service.state(actor, exam_id)
    details = await services.exams.details(actor, exam_id)
    return await render(request, "proctoring/_panel.html", {
        "exam_id": exam_id, "state": state, "may_supervise": details.may_modify, "features": ProctoringFeature})


async def _action(request: Request, work: Any, done: str) -> Response:
    exam_id = path_id(request)
    try:
        await work
    except Conflict as exc:
        flash(request, exc.message, "error")
    else:
        flash(request, done)
    return redirect(f"/monitoring/{exam_id}")


async def town_hall(request: Request) -> Response:
    actor = await require_actor(request)
    exam_id = path_id(request)
    proctoring = services_of(request).proctoring.service
    if (await request.form()).get("action") == "close":
        return await _action(request, proctoring.close_town_hall(actor, exam_id), "Town-hall closed.")
    return await _action(request, proctoring.open_town_hall(actor, exam_id), "Town-hall opened.")


async def broadcast(request: Request) -> Response:
    actor = await require_actor(request)
    form = await request.form()
    flags = {name: form.get(name) == "1" for name in ("receive_audio", "receive_video", "allow_chat")}
    return await _action(request, services_of(request).proctoring.service.broadcast(
        actor, path_id(request), path_id(request, "room_id"), **flags), "Broadcast settings sent.")


async def close_room(request: Request) -> Response:
    actor = await require_actor(request)
    return await _action(request, services_of(request).proctoring.service.close_room(
        actor, path_id(request), path_id(request, "room_id")), "Room closed; its clients went back.")


async def one_to_one(request: Request) -> Response:
    actor = await require_actor(request)
    exam_id = path_id(request)
    ids = posted_ids(await request.form(), "connection_ids[]")
    try:
        room = await services_of(request).proctoring.service.open_one_to_one(actor, exam_id, ids)
    except Conflict as exc:
        flash(request, exc.message, "error")
        return redirect(f"/monitoring/{exam_id}")
    return redirect(f"/proctoring/{exam_id}/rooms/{room.id}/window")


# -- the proctor's window --------------------------------------------------------------------------------


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


async def window(request: Request) -> Response:
    """The proctor in a room: the meeting server's own script (never a copy of ours) and the plugin's window
    script, which reads the join data from a JSON element. Its Content-Security-Policy allows exactly that
    meeting server for scripts and frames, and what the plugin names for connections (``connect_sources``)."""
    actor: Actor = await require_actor(request)
    exam_id, room_id = path_id(request), path_id(request, "room_id")
    services = services_of(request)
    room, meeting = await services.proctoring.service.proctor_window(actor, exam_id, room_id)
    if meeting.open_url:
        return redirect(meeting.open_url)
    setting = await services.proctoring.service.settings(actor, exam_id)
    assert setting is not None
    origins = sorted({_origin(url) for url in meeting.scripts} | {_origin(setting.server_url)})
    response = await render(request, "proctoring/window.html", {
        "title": room.subject, "exam_id": exam_id, "room": room, "meeting_scripts": meeting.scripts,
        "plugin_scripts": [f"/proctoring/assets/{setting.service_type}/{name}" for name in meeting.plugin_scripts],
        "config_json": json.dumps(dict(meeting.config)).replace("</", "<\\/")})
    sources = " ".join(origins)
    connect = " ".join([sources, *meeting.connect_sources]).strip()
    wasm = " 'wasm-unsafe-eval'" if meeting.webassembly else ""
    workers = f"; worker-src 'self' {connect}; media-src 'self' {connect}" if meeting.connect_sources else ""
    # Meeting SDKs add <style> elements of their own, hence 'unsafe-inline' for styles (never for scripts).
    response.headers["Content-Security-Policy"] = (
        f"default-src 'self'; script-src 'self' {sources}{wasm}; frame-src {sources}; connect-src 'self' {connect}; "
        f"img-src 'self' data: {connect}; style-src 'self' 'unsafe-inline'; object-src 'none'; base-uri 'none'; "
        f"form-action 'self'; frame-ancestors 'none'{workers}")
    response.headers["Cache-Control"] = "no-store"  # the page holds a moderator token
    return response


async def asset(request: Request) -> Response:
    """A meeting plugin's window script, from its ``static_dir`` (only ``*.js`` names, no paths)."""
    await require_actor(request)
    proctoring_type = services_of(request).proctoring.meetings.types().get(request.path_params["type"].upper())
    name = request.path_params["name"]
    if proctoring_type is None or proctoring_type.static_dir is None or not ASSET_NAME.match(name):
        raise NotFound("not found")
    path = proctoring_type.static_dir / name
    if not path.is_file():
        raise NotFound("not found")
    return FileResponse(path, media_type="application/javascript", headers={"Cache-Control": "no-cache"})


routes = [
    Route("/exams/{id:int}/proctoring", settings_page, methods=["GET", "POST"]),
    Route("/exams/{id:int}/proctoring/type-settings", type_settings),
    Route("/exams/{id:int}/proctoring/reset", reset_rooms, methods=["POST"]),
    Route("/monitoring/{id:int}/proctoring", panel),
    Route("/monitoring/{id:int}/proctoring/town-hall", town_hall, methods=["POST"]),
    Route("/monitoring/{id:int}/proctoring/one-to-one", one_to_one, methods=["POST"]),
    Route("/monitoring/{id:int}/proctoring/rooms/{room_id:int}/broadcast", broadcast, methods=["POST"]),
    Route("/monitoring/{id:int}/proctoring/rooms/{room_id:int}/close", close_room, methods=["POST"]),
    Route("/proctoring/{id:int}/rooms/{room_id:int}/window", window),
    Route("/proctoring/assets/{type}/{name}", asset),
]
