"""Exam configuration screens: the shared configuration screens plus "Import Exam Configuration"."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sebframe.core.errors import PermissionDenied, ValidationFailed
from sebframe.core.sebconfig.exam_configs import MAX_IMPORT_BYTES, ConfigKind, ConfigStatus
from sebframe.web.pages import flash, form_fields, redirect, render, require_actor, upload_bytes
from sebframe.web.views.common import field_errors
from sebframe.web.views.config_screens import ConfigScreens, service_of

screens = ConfigScreens(ConfigKind.EXAM_CONFIG, "/exam-configurations", "Exam Configuration",
                        "Exam Configurations")
MAX_WARNINGS_SHOWN = 8


async def import_config(request: Request) -> Response:
    """Upload a .seb file (with its password, if any) as a new exam configuration."""
    actor = await require_actor(request)
    if not screens.may_create(actor):
        raise PermissionDenied("you may not create exam configurations")
    values: dict[str, str] = {"status": ConfigStatus.CONSTRUCTION.value}
    errors: dict[str, str] = {}
    if request.method == "POST":
        form = await request.form()
        values = form_fields(form, "name", "description", "status")
        password = form.get("password")
        data = await upload_bytes(form, "file", MAX_IMPORT_BYTES)
        if data is None:
            errors["file"] = "choose a SEB configuration file"
        else:
            try:
                configuration, warnings = await service_of(request).files.import_seb(
                    actor, data, password=password if isinstance(password, str) and password else None,
                    name=values.get("name", ""), description=values.get("description", ""),
                    status=values.get("status", ConfigStatus.CONSTRUCTION.value),
                )
            except ValidationFailed as exc:
                errors = field_errors(exc)
            else:
                flash(request, f"Exam configuration {configuration.name} imported.")
                if warnings:
                    flash(request, _warnings_text(warnings), "warning")
                return redirect(screens.url(configuration))
    return await render(request, "exam_configs/import.html", screens.context(
        title="Import Exam Configuration", values=values, errors=errors,
        status_options=[(s.value, s.label) for s in (ConfigStatus.CONSTRUCTION, ConfigStatus.READY_TO_USE)],
        max_mib=MAX_IMPORT_BYTES // (1024 * 1024),
    ), status_code=422 if errors else 200)


def _warnings_text(warnings: list[str]) -> str:
    count = len(warnings)
    more = f" (and {count - MAX_WARNINGS_SHOWN} more)" if count > MAX_WARNINGS_SHOWN else ""
    return f"{count} import warning{'s' if count != 1 else ''}: {'; '.join(warnings[:MAX_WARNINGS_SHOWN])}{more}"


routes = [Route("/exam-configurations/import", import_config, methods=["GET", "POST"]), *screens.routes()]
