"""Screens shared by exam configurations and configuration templates (one class, two instances).

List, create, view, edit and delete the configuration; the SEB settings editor (tabs, one htmx post per
field, table rows); publish, undo, history and restore; copy; export and the Config Key dialog. The
rules are in :class:`~sebframe.core.sebconfig.exam_configs.ExamConfigService`; this only renders.
"""

from __future__ import annotations

import builtins  # `list` is also a method name of a class here, shadowing the builtin in its signatures
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sebframe.core.accounts.actor import Actor, Scope
from sebframe.core.accounts.roles import Privilege
from sebframe.core.db.models import ExamConfiguration
from sebframe.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from sebframe.core.sebconfig import Attribute, AttributeType
from sebframe.core.sebconfig.exam_configs import (
    EXAM_CONFIG_FILTERS,
    EXPORT_FILENAME,
    ConfigKind,
    ConfigStatus,
    ExamConfigCreate,
    ExamConfigService,
    ExamConfigUpdate,
)
from sebframe.core.validation import parse_input
from sebframe.web.pages import flash, form_fields, redirect, render, require_actor, services_of
from sebframe.web.views.common import current_path, fetch_list, field_errors, list_params, path_id, safe_next
from sebframe.web.views.seb_settings import Editor, Field, submitted_value

STATUS_OPTIONS = [(status.value, status.label) for status in ConfigStatus]


def service_of(request: Request) -> ExamConfigService:
    return services_of(request).exam_configs


def partial(request: Request, template: str, context: dict[str, Any], status_code: int = 200,
            headers: dict[str, str] | None = None) -> Response:
    """A fragment for htmx (no layout)."""
    templates = request.app.state.templates
    response: Response = templates.TemplateResponse(request, template, context, status_code=status_code,
                                                    headers=headers)
    return response


def _first_error(exc: ValidationFailed, name: str) -> str:
    return exc.field_errors.get(name) or next(iter(exc.field_errors.values()), exc.message)


class ConfigScreens:
    """The screens of one kind under ``base`` (``/exam-configurations`` or ``/configuration-templates``)."""

    def __init__(self, kind: ConfigKind, base: str, title: str, plural: str) -> None:
        self.kind = kind
        self.base = base
        self.title = title  # "Exam Configuration"
        self.plural = plural  # "Exam Configurations"

    # -- helpers -------------------------------------------------------------------------------

    def context(self, **extra: Any) -> dict[str, Any]:
        return {"kind": self.kind.value, "base": self.base, "kind_title": self.title, "kind_plural": self.plural,
                "is_template": self.kind is ConfigKind.TEMPLATE, **extra}

    async def load(self, request: Request, actor: Actor) -> ExamConfiguration:
        return await service_of(request).get(actor, path_id(request), kind=self.kind)

    def may_create(self, actor: Actor) -> bool:
        return actor.may(Privilege.WRITE, self.kind.entity_type, institution_id=actor.institution_id)

    def url(self, configuration: ExamConfiguration, suffix: str = "") -> str:
        return f"{self.base}/{configuration.id}{suffix}"

    def editor(self, request: Request, configuration: ExamConfiguration, hidden: frozenset[str], *,
               readonly: bool) -> Editor:
        return Editor(service_of(request).catalogue, self.url(configuration, "/settings"), readonly=readonly,
                      hidden=hidden, show_hidden=self.kind is ConfigKind.TEMPLATE)

    def may_edit_settings(self, request: Request, actor: Actor, configuration: ExamConfiguration) -> bool:
        return (service_of(request).may(actor, Privilege.MODIFY, configuration)
                and configuration.status != ConfigStatus.ARCHIVED)

    # -- list, view, create, edit, delete ------------------------------------------------------

    async def list(self, request: Request) -> Response:
        actor = await require_actor(request)
        service = service_of(request)
        params, errors = list_params(request, EXAM_CONFIG_FILTERS)
        page, status = await fetch_list(lambda query: service.list(actor, query, kind=self.kind), params, errors)
        lists_all = actor.scope(Privilege.READ, self.kind.entity_type) == Scope.OVERALL
        institutions = {}
        if lists_all:
            choices = await services_of(request).institutions.choices(actor, active_only=False)
            institutions = {institution.id: institution.name for institution in choices}
        templates = await service.template_choices(actor) if self.kind is ConfigKind.EXAM_CONFIG else []
        template_names = await service.names(actor, [c.template_id for c in page.items if c.template_id])
        rows = []
        for configuration in page.items:
            modifiable = (service.may(actor, Privilege.MODIFY, configuration)
                          and configuration.status != ConfigStatus.ARCHIVED)
            rows.append({"config": configuration, "flags": "modifiable" if modifiable else "",
                         "status": ConfigStatus(configuration.status).label,
                         "template": template_names.get(configuration.template_id or 0, ""),
                         "institution": institutions.get(configuration.institution_id, "")})
        return await render(request, "exam_configs/list.html", self.context(
            title=self.plural, params=params, page=page, rows=rows, errors=errors, lists_all=lists_all,
            institution_options=sorted(institutions.items(), key=lambda pair: pair[1].lower()),
            status_options=STATUS_OPTIONS, template_options=[(t.id, t.name) for t in templates],
            may_create=self.may_create(actor), here=current_path(request),
        ), status_code=status)

    async def view(self, request: Request) -> Response:
        actor = await require_actor(request)
        service = service_of(request)
        configuration = await self.load(request, actor)
        working = await service.working_copy.get(actor, configuration.id)
        template_name = (await service.names(actor, [configuration.template_id])).get(configuration.template_id or 0)
        institution = await services_of(request).institutions.get(actor, configuration.institution_id)
        return await render(request, "exam_configs/view.html", self.context(
            title=f"{self.title} {configuration.name}", config=configuration, working=working,
            status_label=ConfigStatus(configuration.status).label, template_name=template_name,
            institution_name=institution.name,
            may_modify=service.may(actor, Privilege.MODIFY, configuration),
            may_write=service.may(actor, Privilege.WRITE, configuration), may_create=self.may_create(actor),
            editable=self.may_edit_settings(request, actor, configuration), here=current_path(request),
            **self.view_extra(actor),
        ))

    def view_extra(self, actor: Actor) -> dict[str, Any]:
        """More context for the view page (the templates' screens add theirs)."""
        return {}

    async def _form(self, request: Request, actor: Actor, configuration: ExamConfiguration | None,
                    values: dict[str, Any], errors: dict[str, str], status_code: int = 200) -> Response:
        templates = []
        if configuration is None and self.kind is ConfigKind.EXAM_CONFIG:
            templates = await service_of(request).template_choices(actor)
        statuses = [(s.value, s.label) for s in (ConfigStatus.CONSTRUCTION, ConfigStatus.READY_TO_USE)]
        if configuration is not None:
            statuses.append((ConfigStatus.ARCHIVED.value, ConfigStatus.ARCHIVED.label))
        return await render(request, "exam_configs/form.html", self.context(
            title=f"Edit {self.title} {configuration.name}" if configuration else f"New {self.title}",
            config=configuration, values=values, errors=errors, status_options=statuses,
            status_locked=configuration is not None and configuration.status == ConfigStatus.IN_USE,
            status_label=ConfigStatus(configuration.status).label if configuration else "",
            template_options=[(t.id, t.name) for t in templates],
        ), status_code=status_code)

    async def create(self, request: Request) -> Response:
        actor = await require_actor(request)
        if not self.may_create(actor):
            raise PermissionDenied(f"you may not create {self.plural.lower()}")
        if request.method == "GET":
            values = {"status": ConfigStatus.CONSTRUCTION.value,
                      "template_id": request.query_params.get("template_id", "")}
            return await self._form(request, actor, None, values, {})
        form = await request.form()
        names = ["name", "description"]
        if self.kind is ConfigKind.EXAM_CONFIG:
            names += ["status", "template_id"]
        values = form_fields(form, *names)
        try:
            configuration = await service_of(request).create(actor, parse_input(ExamConfigCreate, values),
                                                             kind=self.kind)
        except ValidationFailed as exc:
            return await self._form(request, actor, None, values, field_errors(exc), 422)
        flash(request, f"{self.title} {configuration.name} created.")
        return redirect(self.url(configuration))

    async def edit(self, request: Request) -> Response:
        actor = await require_actor(request)
        service = service_of(request)
        configuration = await self.load(request, actor)
        if not service.may(actor, Privilege.MODIFY, configuration):
            raise PermissionDenied(f"you may not change {self.title.lower()} {configuration.name!r}")
        if request.method == "GET":
            values = {"name": configuration.name, "description": configuration.description,
                      "status": configuration.status}
            return await self._form(request, actor, configuration, values, {})
        form = await request.form()
        names = ["name", "description"]
        if self.kind is ConfigKind.EXAM_CONFIG and configuration.status != ConfigStatus.IN_USE:
            names.append("status")
        values = form_fields(form, *names)
        try:
            configuration = await service.update(actor, configuration.id, parse_input(ExamConfigUpdate, values))
        except ValidationFailed as exc:
            return await self._form(request, actor, configuration, values, field_errors(exc), 422)
        except Conflict as exc:
            return await self._form(request, actor, configuration, values, {"status": exc.message}, 409)
        flash(request, f"{self.title} {configuration.name} saved.")
        return redirect(self.url(configuration))

    async def delete(self, request: Request) -> Response:
        actor = await require_actor(request)
        config_id = path_id(request)
        form = await request.form()
        try:
            configuration = await service_of(request).delete(actor, config_id)
        except Conflict as exc:
            flash(request, exc.message, "error")
            return redirect(safe_next(form.get("next"), f"{self.base}/{config_id}"))
        flash(request, f"{self.title} {configuration.name} deleted.")
        return redirect(self.base)

    # -- the settings editor -------------------------------------------------------------------

    async def settings(self, request: Request) -> Response:
        actor = await require_actor(request)
        service = service_of(request)
        configuration = await self.load(request, actor)
        working = await service.working_copy.get(actor, configuration.id)
        may_edit = self.may_edit_settings(request, actor, configuration)
        # A configuration in use opens read-only; "Edit SEB Settings" unlocks it (seed: "... in Use").
        unlocked = configuration.status != ConfigStatus.IN_USE or request.query_params.get("edit") == "1"
        editor = self.editor(request, configuration, working.hidden, readonly=not (may_edit and unlocked))
        tabs = editor.tabs()
        names = [view.name for view, _ in tabs]
        current = request.query_params.get("tab") or names[0]
        if current not in names:
            raise NotFound(f"no settings tab {current!r}")
        return await render(request, "exam_configs/settings.html", self.context(
            title=f"SEB Settings of {configuration.name}", config=configuration, working=working, tabs=tabs,
            tab=editor.tab(current, working.values), current_tab=current, may_edit=may_edit, unlocked=unlocked,
            readonly=editor.readonly, status_label=ConfigStatus(configuration.status).label,
            here=current_path(request),
        ))

    async def settings_status(self, request: Request) -> Response:
        actor = await require_actor(request)
        configuration = await self.load(request, actor)
        working = await service_of(request).working_copy.get(actor, configuration.id)
        return partial(request, "exam_configs/_status.html", self.context(config=configuration, working=working))

    def _attribute(self, request: Request, name: str) -> Attribute:
        attribute = service_of(request).catalogue.get(name)
        if attribute is None or not attribute.is_root:
            raise NotFound(f"no setting {name!r}")
        return attribute

    async def set_field(self, request: Request) -> Response:
        """One setting changed in the editor: store it, answer with the field (and its error)."""
        actor = await require_actor(request)
        service = service_of(request)
        configuration = await self.load(request, actor)
        attribute = self._attribute(request, request.path_params["name"])
        if attribute.is_table:
            raise NotFound(f"{attribute.name} is a table")
        form = await request.form()
        posted = [value for value in form.getlist("value") if isinstance(value, str)]
        value: str | None = submitted_value(attribute, posted)
        raw = value
        error, status = "", 200
        if attribute.type == AttributeType.PASSWORD_FIELD:
            raw = ""
            if form.get("clear") == "1":
                value = None
            elif value != form.get("confirm"):
                error, status = "password and confirmation differ", 422
            elif not value:
                error, status = "enter a password, or use Clear to remove it", 422
        stored: Any = None
        if not error:
            try:
                stored = await service.working_copy.set_value(actor, configuration.id, attribute.name, value)
            except ValidationFailed as exc:
                error, status = _first_error(exc, attribute.name), 422
            except Conflict as exc:
                error, status = exc.message, 409
        if error:
            current = (await service.working_copy.get(actor, configuration.id)).values.get(attribute.name)
            field = self._field(request, configuration, attribute, current, error=error, raw=raw)
        else:
            field = self._field(request, configuration, attribute, stored)
        return partial(request, "exam_configs/_field.html", {"f": field}, status,
                       headers={"HX-Trigger": "settings-changed"} if not error else None)

    def _field(self, request: Request, configuration: ExamConfiguration, attribute: Attribute, value: Any, *,
               error: str = "", raw: str | None = None) -> Field:
        hidden = frozenset(service_of(request).template_attributes.hidden(configuration))
        editor = self.editor(request, configuration, hidden, readonly=False)
        item = editor.item(attribute, value, error=error, raw=raw)
        assert isinstance(item, Field)
        return item

    async def _table_response(self, request: Request, actor: Actor, configuration: ExamConfiguration,
                              attribute: Attribute, *, open_row: int | None = None, error: str = "",
                              status: int = 200) -> Response:
        working = await service_of(request).working_copy.get(actor, configuration.id)
        editor = self.editor(request, configuration, working.hidden, readonly=False)
        table = editor.table(attribute, working.values.get(attribute.name) or [], open_row=open_row, error=error)
        headers = {"HX-Trigger": "settings-changed"} if not error else None
        return partial(request, "exam_configs/_table.html", {"t": table}, status, headers=headers)

    async def _table_change(self, request: Request, change: Callable[[ExamConfigService, Actor, int, str],
                                                                      Awaitable[int | None]]) -> Response:
        actor = await require_actor(request)
        configuration = await self.load(request, actor)
        attribute = self._attribute(request, request.path_params["name"])
        if not attribute.is_table:
            raise NotFound(f"{attribute.name} is not a table")
        try:
            open_row = await change(service_of(request), actor, configuration.id, attribute.name)
        except (ValidationFailed, Conflict) as exc:
            message = _first_error(exc, attribute.name) if isinstance(exc, ValidationFailed) else exc.message
            return await self._table_response(request, actor, configuration, attribute, error=message,
                                              status=exc.status_code)
        return await self._table_response(request, actor, configuration, attribute, open_row=open_row)

    async def add_row(self, request: Request) -> Response:
        return await self._table_change(request, lambda service, actor, config_id, table:
                                        service.working_copy.add_row(actor, config_id, table))

    async def delete_row(self, request: Request) -> Response:
        index = request.path_params["index"]

        async def change(service: ExamConfigService, actor: Actor, config_id: int, table: str) -> None:
            await service.working_copy.delete_row(actor, config_id, table, index)

        return await self._table_change(request, change)

    async def set_cell(self, request: Request) -> Response:
        actor = await require_actor(request)
        service = service_of(request)
        configuration = await self.load(request, actor)
        table = self._attribute(request, request.path_params["name"])
        column = service.catalogue.child(table.name, request.path_params["column"]) if table.is_table else None
        if column is None:
            raise NotFound("no such table column")
        index = request.path_params["index"]
        form = await request.form()
        value = submitted_value(column, [v for v in form.getlist("value") if isinstance(v, str)])
        error, status = "", 200
        try:
            row = await service.working_copy.update_row(actor, configuration.id, table.name, index, {column.key: value})
            stored = row[column.key]
        except ValidationFailed as exc:
            error, status, stored = _first_error(exc, column.key), 422, None
        except Conflict as exc:
            error, status, stored = exc.message, 409, None
        hidden = frozenset(service.template_attributes.hidden(configuration))
        editor = self.editor(request, configuration, hidden, readonly=False)
        field = editor.cell(table, column, index, stored, error=error, raw=value if error else None)
        return partial(request, "exam_configs/_field.html", {"f": field}, status,
                       headers={"HX-Trigger": "settings-changed"} if not error else None)

    # -- revisions -----------------------------------------------------------------------------

    async def publish(self, request: Request) -> Response:
        actor = await require_actor(request)
        config_id = path_id(request)
        form = await request.form()
        summary = form.get("summary")
        try:
            revision = await service_of(request).revisions.publish(actor, config_id,
                                                                   summary if isinstance(summary, str) else "")
        except (Conflict, ValidationFailed) as exc:
            flash(request, f"Not published: {exc.message}", "error")
        else:
            count = len(revision.changes)
            flash(request, f"Version {revision.number} published ({count} change{'s' if count != 1 else ''}).")
        return redirect(safe_next(form.get("next"), f"{self.base}/{config_id}/settings"))

    async def undo(self, request: Request) -> Response:
        actor = await require_actor(request)
        config_id = path_id(request)
        form = await request.form()
        try:
            count = await service_of(request).revisions.undo(actor, config_id)
        except Conflict as exc:
            flash(request, exc.message, "error")
        else:
            flash(request, f"{count} unpublished change{'s' if count != 1 else ''} undone." if count
                  else "There were no unpublished changes.", "success" if count else "info")
        return redirect(safe_next(form.get("next"), f"{self.base}/{config_id}/settings"))

    async def history(self, request: Request) -> Response:
        actor = await require_actor(request)
        configuration = await self.load(request, actor)
        history = await service_of(request).revisions.history(actor, configuration.id)
        catalogue = service_of(request).catalogue
        labels = {name: attribute.label for name, attribute in catalogue.items()}
        return await render(request, "exam_configs/history.html", self.context(
            title=f"History of {configuration.name}", config=configuration, history=history, labels=labels,
            may_edit=self.may_edit_settings(request, actor, configuration),
        ))

    async def restore(self, request: Request) -> Response:
        actor = await require_actor(request)
        config_id = path_id(request)
        try:
            count = await service_of(request).revisions.restore(actor, config_id, request.path_params["revision"])
        except Conflict as exc:
            flash(request, exc.message, "error")
            return redirect(f"{self.base}/{config_id}/history")
        flash(request, f"Working copy restored ({count} change{'s' if count != 1 else ''}); publish to make it "
                       "the current version." if count else "The working copy already had these settings.",
              "success" if count else "info")
        return redirect(f"{self.base}/{config_id}/settings")

    # -- copy, export, Config Key --------------------------------------------------------------

    async def copy(self, request: Request) -> Response:
        actor = await require_actor(request)
        configuration = await self.load(request, actor)
        if not self.may_create(actor):
            raise PermissionDenied(f"you may not copy {self.plural.lower()}")
        values: dict[str, Any] = {"name": f"Copy of {configuration.name}"[:255],
                                  "description": configuration.description, "with_history": False}
        errors: dict[str, str] = {}
        if request.method == "POST":
            form = await request.form()
            values = {**form_fields(form, "name", "description"), "with_history": form.get("with_history") == "1"}
            try:
                copied = await service_of(request).revisions.copy(actor, configuration.id, values.get("name", ""),
                                                        description=values.get("description", ""),
                                                        with_history=values["with_history"])
            except ValidationFailed as exc:
                errors = field_errors(exc)
            else:
                flash(request, f"{self.title} {copied.name} created as a copy of {configuration.name}.")
                return redirect(self.url(copied))
        return await render(request, "exam_configs/copy.html", self.context(
            title=f"Copy {configuration.name}", config=configuration, values=values, errors=errors,
        ), status_code=422 if errors else 200)

    @staticmethod
    def _download(data: bytes) -> Response:
        return Response(data, media_type="application/octet-stream", headers={
            "Content-Disposition": f'attachment; filename="{EXPORT_FILENAME}"',
            "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff",
        })

    async def export(self, request: Request) -> Response:
        actor = await require_actor(request)
        return self._download(await service_of(request).files.export(actor, path_id(request)))

    async def export_protected(self, request: Request) -> Response:
        actor = await require_actor(request)
        configuration = await self.load(request, actor)
        errors: dict[str, str] = {}
        if request.method == "POST":
            form = await request.form()
            password, confirm = form.get("password"), form.get("confirm_password")
            if not isinstance(password, str) or not password:
                errors["password"] = "enter the password SEB will ask for"
            elif password != confirm:
                errors["confirm_password"] = "password and confirmation differ"
            else:
                try:
                    return self._download(await service_of(request).files.export(actor, configuration.id,
                                                                           password=password))
                except ValidationFailed as exc:
                    errors = field_errors(exc)
        return await render(request, "exam_configs/export.html", self.context(
            title=f"Export {configuration.name}", config=configuration, errors=errors,
        ), status_code=422 if errors else 200)

    async def config_key(self, request: Request) -> Response:
        actor = await require_actor(request)
        service = service_of(request)
        configuration = await self.load(request, actor)
        key = await service.files.config_key(actor, configuration.id)
        working = await service.working_copy.get(actor, configuration.id)
        context = self.context(title=f"Config Key of {configuration.name}", config=configuration, key=key,
                               working=working)
        if request.headers.get("hx-request"):
            return partial(request, "exam_configs/_config_key.html", context)
        return await render(request, "exam_configs/config_key.html", context)

    # -- routes --------------------------------------------------------------------------------

    def routes(self) -> builtins.list[Route]:
        b = self.base
        item = b + "/{id:int}"
        return [
            Route(b, self.list),
            Route(b + "/new", self.create, methods=["GET", "POST"]),
            Route(item, self.view),
            Route(item + "/edit", self.edit, methods=["GET", "POST"]),
            Route(item + "/delete", self.delete, methods=["POST"]),
            Route(item + "/settings", self.settings),
            Route(item + "/settings/status", self.settings_status),
            Route(item + "/settings/{name}", self.set_field, methods=["POST"]),
            Route(item + "/settings/{name}/rows", self.add_row, methods=["POST"]),
            Route(item + "/settings/{name}/rows/{index:int}/delete", self.delete_row, methods=["POST"]),
            Route(item + "/settings/{name}/rows/{index:int}/{column}", self.set_cell, methods=["POST"]),
            Route(item + "/publish", self.publish, methods=["POST"]),
            Route(item + "/undo", self.undo, methods=["POST"]),
            Route(item + "/history", self.history),
            Route(item + "/history/{revision:int}/restore", self.restore, methods=["POST"]),
            Route(item + "/copy", self.copy, methods=["GET", "POST"]),
            Route(item + "/export", self.export),
            Route(item + "/export-protected", self.export_protected, methods=["GET", "POST"]),
            Route(item + "/config-key", self.config_key),
        ]
