"""Configuration template screens: the shared configuration screens plus the settings attribute list
(default values, attach to / remove from the view), reset to defaults and "Create Exam Configuration"."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sebframe.core.accounts.actor import Actor
from sebframe.core.accounts.roles import EntityType, Privilege
from sebframe.core.errors import Conflict, ValidationFailed
from sebframe.core.paging import Page
from sebframe.core.sebconfig import SECRET_ATTRIBUTES, Attribute
from sebframe.core.sebconfig.exam_configs import ConfigKind
from sebframe.web.pages import flash, form_fields, redirect, render, require_actor
from sebframe.web.views.common import current_path, field_errors, list_params, path_id, safe_next
from sebframe.web.views.config_screens import ConfigScreens, service_of
from sebframe.web.views.seb_settings import group_label

ATTRIBUTE_FILTERS = ("name", "view", "shown")
SHOWN_OPTIONS = [("true", "Shown"), ("false", "Hidden"), ("none", "No view")]


class TemplateScreens(ConfigScreens):
    def view_extra(self, actor: Actor) -> dict[str, Any]:
        return {"may_create_config": actor.may(Privilege.WRITE, EntityType.EXAM_CONFIGURATION,
                                               institution_id=actor.institution_id)}

    async def attributes(self, request: Request) -> Response:
        """Every setting with its default value in this template and whether the editor shows it."""
        actor = await require_actor(request)
        service = service_of(request)
        template = await self.load(request, actor)
        working = await service.working_copy.get(actor, template.id)
        params, errors = list_params(request, ATTRIBUTE_FILTERS)
        views = {view.name: view.label for view in service.catalogue.views()}
        rows = []
        for attribute in service.catalogue.root_attributes():
            place = attribute.orientation
            shown = "none" if place is None else "false" if attribute.name in working.hidden else "true"
            text = f"{attribute.name} {attribute.label}".lower()
            filters = params.filters
            if ("name" in filters and filters["name"].lower() not in text
                    or "view" in filters and (place is None or place.view != filters["view"])
                    or "shown" in filters and filters["shown"] != shown):
                continue
            rows.append({"attribute": attribute, "shown": shown, "view": views.get(place.view, "") if place else "",
                         "group": group_label(place.group) if place else "",
                         "value": _preview(attribute, working.values.get(attribute.name))})
        start = (params.page - 1) * params.size
        page = Page(items=rows[start:start + params.size], total=len(rows), page=params.page, size=params.size)
        return await render(request, "config_templates/attributes.html", self.context(
            title=f"Settings of {template.name}", config=template, page=page, params=params, errors=errors,
            view_options=list(views.items()), shown_options=SHOWN_OPTIONS,
            may_edit=self.may_edit_settings(request, actor, template), here=current_path(request),
        ))

    async def attribute(self, request: Request) -> Response:
        actor = await require_actor(request)
        service = service_of(request)
        template = await self.load(request, actor)
        attribute = self._attribute(request, request.path_params["name"])
        working = await service.working_copy.get(actor, template.id)
        may_edit = self.may_edit_settings(request, actor, template)
        editor = self.editor(request, template, working.hidden, readonly=not may_edit)
        place = attribute.orientation
        return await render(request, "config_templates/attribute.html", self.context(
            title=f"{attribute.name} in {template.name}", config=template, attribute=attribute,
            item=editor.item(attribute, working.values.get(attribute.name)), may_edit=may_edit,
            shown=place is not None and attribute.name not in working.hidden,
            view_label=service.catalogue.view(place.view).label if place else "",
            group=group_label(place.group) if place else "", here=current_path(request),
        ))

    async def _shown(self, request: Request, shown: bool) -> Response:
        actor = await require_actor(request)
        template_id = path_id(request)
        name = request.path_params["name"]
        form = await request.form()
        try:
            await service_of(request).template_attributes.set_shown(actor, template_id, name, shown)
        except (ValidationFailed, Conflict) as exc:
            flash(request, exc.message, "error")
        else:
            flash(request, f"{name} {'attached to' if shown else 'removed from'} the view.")
        return redirect(safe_next(form.get("next"), f"{self.base}/{template_id}/attributes"))

    async def attach(self, request: Request) -> Response:
        return await self._shown(request, True)

    async def detach(self, request: Request) -> Response:
        return await self._shown(request, False)

    async def reset(self, request: Request) -> Response:
        """Default values back to SEB Server's: one setting (``name`` in the path) or all."""
        actor = await require_actor(request)
        template_id = path_id(request)
        name = request.path_params.get("name")
        form = await request.form()
        try:
            await service_of(request).working_copy.reset_to_defaults(actor, template_id, name)
        except (ValidationFailed, Conflict) as exc:
            flash(request, exc.message, "error")
        else:
            flash(request, f"{name} set to its default value." if name else "All settings set to their defaults.")
        return redirect(safe_next(form.get("next"), f"{self.base}/{template_id}/settings"))

    async def create_config(self, request: Request) -> Response:
        """A new exam configuration with this template's published settings and hidden attributes."""
        actor = await require_actor(request)
        template = await self.load(request, actor)
        values: dict[str, Any] = {"name": "", "description": ""}
        errors: dict[str, str] = {}
        if request.method == "POST":
            form = await request.form()
            values = form_fields(form, "name", "description")
            try:
                configuration = await service_of(request).create_from_template(
                    actor, template.id, values.get("name", ""), values.get("description", ""))
            except ValidationFailed as exc:
                errors = field_errors(exc)
            else:
                flash(request, f"Exam configuration {configuration.name} created from template {template.name}.")
                return redirect(f"/exam-configurations/{configuration.id}")
        return await render(request, "config_templates/create_config.html", self.context(
            title=f"New Exam Configuration from {template.name}", config=template, values=values, errors=errors,
        ), status_code=422 if errors else 200)

    def routes(self) -> list[Route]:
        item = self.base + "/{id:int}"
        return [
            *super().routes(),
            Route(item + "/attributes", self.attributes),
            Route(item + "/attributes/{name}", self.attribute),
            Route(item + "/attributes/{name}/attach", self.attach, methods=["POST"]),
            Route(item + "/attributes/{name}/detach", self.detach, methods=["POST"]),
            Route(item + "/attributes/{name}/reset", self.reset, methods=["POST"]),
            Route(item + "/reset", self.reset, methods=["POST"]),
            Route(item + "/create-config", self.create_config, methods=["GET", "POST"]),
        ]


def _preview(attribute: Attribute, value: Any) -> str:
    if attribute.name in SECRET_ATTRIBUTES:
        return "(set)" if value else ""
    if isinstance(value, list):
        return f"{len(value)} entr{'y' if len(value) == 1 else 'ies'}"
    text = "" if value is None else str(value)
    return text if len(text) <= 60 else text[:57] + "..."


screens = TemplateScreens(ConfigKind.TEMPLATE, "/configuration-templates", "Configuration Template",
                          "Configuration Templates")
routes = screens.routes()
__all__ = ["routes", "screens"]
