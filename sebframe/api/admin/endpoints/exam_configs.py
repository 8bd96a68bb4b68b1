"""Exam configurations and configuration templates: CRUD, SEB settings (working copy), revisions, files.

Both kinds get the same endpoints under their own path (``/exam-configurations``,
``/configuration-templates``), registered by :func:`_register`. The two password settings never leave the
server: ``GET .../settings`` shows them as ``null`` and lists them in ``secrets_set``; ``PATCH`` sets
(plaintext, stored encrypted) or clears (``null``) them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import Response

from sebframe.api.admin.endpoints._common import Filter, ListQuery, check_query, out, parse_body, services_of
from sebframe.api.admin.routing import ApiRouter, QueryParam, UnsupportedMediaType, read_body
from sebframe.core.accounts.actor import Actor
from sebframe.core.db.models import ExamConfiguration
from sebframe.core.errors import ValidationFailed
from sebframe.core.sebconfig import SECRET_ATTRIBUTES
from sebframe.core.sebconfig.exam_configs import (
    EXPORT_FILENAME,
    MAX_IMPORT_BYTES,
    ConfigKind,
    ConfigStatus,
    ExamConfigCreate,
    ExamConfigService,
    ExamConfigUpdate,
    History,
    RevisionInfo,
    WorkingSettings,
)
from sebframe.core.sebconfig.settings import Change

router = ApiRouter()

PASSWORD_HEADER = "X-SEB-Password"
SEB_MEDIA_TYPE = "application/octet-stream"

CONFIG_QUERY = ListQuery(
    filters=(
        Filter("institution_id", "integer"),
        Filter("name", description="part of the name, case-insensitive"),
        Filter("description", description="part of the description, case-insensitive"),
        Filter("status", "choice", tuple(ConfigStatus)),
        Filter("template_id", "integer", description="created from this configuration template"),
    ),
    sortable=("name", "description", "status", "institution_id", "updated_at"),
    default_sort="name",
)


class ExamConfigOut(BaseModel):
    id: int
    institution_id: int
    kind: ConfigKind
    name: str
    description: str
    status: ConfigStatus
    template_id: int | None
    owner_id: int | None
    hidden_attributes: list[str] = Field(description="settings detached from the editor view (templates)")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, configuration: ExamConfiguration, service: ExamConfigService) -> ExamConfigOut:
        return cls(id=configuration.id, institution_id=configuration.institution_id,
                   kind=ConfigKind(configuration.kind), name=configuration.name,
                   description=configuration.description, status=ConfigStatus(configuration.status),
                   template_id=configuration.template_id, owner_id=configuration.owner_id,
                   hidden_attributes=service.template_attributes.hidden(configuration),
                   created_at=configuration.created_at, updated_at=configuration.updated_at)


class SettingsOut(BaseModel):
    """The working copy. Scalars are text (``"true"``, ``"25"``), tables lists of row objects."""

    values: dict[str, Any] = Field(description="setting name -> value; the password settings are always null")
    secrets_set: list[str] = Field(description="password settings that hold a value")
    published_version: int = Field(description="the version exports and Config Keys use")
    unpublished_changes: bool
    hidden_attributes: list[str]

    @classmethod
    def of(cls, working: WorkingSettings) -> SettingsOut:
        values = dict(working.values)
        secrets = sorted(name for name in SECRET_ATTRIBUTES if values.get(name))
        for name in SECRET_ATTRIBUTES:
            values[name] = None
        return cls(values=values, secrets_set=secrets, published_version=working.published_number,
                   unpublished_changes=working.unpublished_changes, hidden_attributes=sorted(working.hidden))


class SettingsPatch(BaseModel):
    values: dict[str, Any] = Field(description="settings to change (all or nothing); null resets to the default, "
                                               "a table takes its complete list of rows (row: column -> value, "
                                               "missing columns at their defaults)")


class ChangeOut(BaseModel):
    setting: str
    path: str = Field(description="setting, setting[row] or setting[row].column")
    old: Any
    new: Any

    @classmethod
    def of(cls, change: Change) -> ChangeOut:
        return cls(setting=change.name, path=change.path, old=change.old, new=change.new)


class RevisionOut(BaseModel):
    id: int
    version: int
    summary: str
    author: str
    published_at: datetime | None
    current: bool = Field(description="the version exports and Config Keys use")
    changes: list[ChangeOut] = Field(description="against the version before (passwords masked)")

    @classmethod
    def of(cls, revision: RevisionInfo) -> RevisionOut:
        return cls(id=revision.id, version=revision.number, summary=revision.summary, author=revision.author,
                   published_at=revision.published_at, current=revision.current,
                   changes=[ChangeOut.of(change) for change in revision.changes])


class HistoryOut(BaseModel):
    revisions: list[RevisionOut] = Field(description="newest first")
    pending: list[ChangeOut] = Field(description="unpublished changes of the working copy")

    @classmethod
    def of(cls, history: History) -> HistoryOut:
        return cls(revisions=[RevisionOut.of(r) for r in history.revisions],
                   pending=[ChangeOut.of(c) for c in history.pending])


class PublishIn(BaseModel):
    summary: str = Field(default="", max_length=2000)


class RestoreIn(BaseModel):
    revision_id: int = Field(ge=1, description="the id (not the version number) of a revision in the history")


class ChangeCount(BaseModel):
    changes: int = Field(description="settings that differed and were replaced")


class CopyIn(BaseModel):
    name: str
    description: str = ""
    with_history: bool = False


class ResetIn(BaseModel):
    attribute: str | None = Field(default=None, description="one setting; null: all settings")


class HiddenOut(BaseModel):
    hidden_attributes: list[str]


class ImportOut(BaseModel):
    configuration: ExamConfigOut
    warnings: list[str] = Field(description="settings ignored or converted while importing")


class ConfigKeyOut(BaseModel):
    config_key: str
    published_version: int


def _id(request: Request) -> int:
    value: int = request.path_params["id"]
    return value


ModelT = TypeVar("ModelT", bound=BaseModel)


async def _optional_body(request: Request, model: type[ModelT]) -> ModelT:
    """A JSON body that may be left out (no body: the model's defaults)."""
    if request.headers.get("content-length", "") in ("", "0") and "transfer-encoding" not in request.headers:
        return model()
    return await parse_body(request, model)


def _export_password(request: Request) -> str | None:
    check_query(request.query_params, {"password"})
    password = request.headers.get(PASSWORD_HEADER) or request.query_params.get("password")
    return password or None


def _register(kind: ConfigKind, base: str, tag: str, slug: str, noun: str) -> None:
    """Declare the endpoints of one kind; handler names (OpenAPI operationIds) carry ``slug``."""
    item = base + "/{id:int}"

    def named(name: str, handler: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        handler.__name__ = handler.__qualname__ = f"{name}_{slug}"
        return handler

    def one(request: Request, configuration: ExamConfiguration) -> dict[str, Any]:
        return out(ExamConfigOut.of(configuration, services_of(request).exam_configs))

    async def list_(request: Request, actor: Actor) -> dict[str, Any]:
        service = services_of(request).exam_configs
        page = await service.list(actor, CONFIG_QUERY.parse(request), kind=kind)
        return page.to_json([out(ExamConfigOut.of(c, service)) for c in page.items])

    router.get(base, summary=f"List the {noun}s you may see", tag=tag, response_model=ExamConfigOut,
               response_is_page=True, query=CONFIG_QUERY.query_params())(named("list", list_))

    async def create(request: Request, actor: Actor) -> dict[str, Any]:
        data = await parse_body(request, ExamConfigCreate)
        return one(request, await services_of(request).exam_configs.create(actor, data, kind=kind))

    summary = f"Create a {noun} in your institution"
    if kind is ConfigKind.EXAM_CONFIG:
        summary += " (template_id: start from a template's published settings and hidden settings)"
    router.post(base, summary=summary, tag=tag, request_model=ExamConfigCreate, response_model=ExamConfigOut,
                status_code=201)(named("create", create))

    async def get(request: Request, actor: Actor) -> dict[str, Any]:
        return one(request, await services_of(request).exam_configs.get(actor, _id(request), kind=kind))

    router.get(item, summary=f"One {noun}", tag=tag, response_model=ExamConfigOut)(named("get", get))

    async def update(request: Request, actor: Actor) -> dict[str, Any]:
        data = await parse_body(request, ExamConfigUpdate)
        service = services_of(request).exam_configs
        await service.get(actor, _id(request), kind=kind)
        return one(request, await service.update(actor, _id(request), data))

    router.patch(item, summary="Change name, description or status (IN_USE comes from attaching to an exam)",
                 tag=tag, request_model=ExamConfigUpdate, response_model=ExamConfigOut)(named("update", update))

    async def delete(request: Request, actor: Actor) -> Response:
        service = services_of(request).exam_configs
        await service.get(actor, _id(request), kind=kind)
        await service.delete(actor, _id(request))
        return Response(status_code=204)

    router.delete(item, summary=f"Delete a {noun} with its history (409 while in use)", tag=tag,
                  status_code=204)(named("delete", delete))

    async def settings(request: Request, actor: Actor) -> dict[str, Any]:
        service = services_of(request).exam_configs
        await service.get(actor, _id(request), kind=kind)
        return out(SettingsOut.of(await service.working_copy.get(actor, _id(request))))

    router.get(item + "/settings", summary="The SEB settings of the working copy", tag=tag,
               response_model=SettingsOut)(named("get_settings", settings))

    async def patch_settings(request: Request, actor: Actor) -> dict[str, Any]:
        data = await parse_body(request, SettingsPatch)
        service = services_of(request).exam_configs
        await service.get(actor, _id(request), kind=kind)
        await service.working_copy.set_values(actor, _id(request), data.values)
        return out(SettingsOut.of(await service.working_copy.get(actor, _id(request))))

    router.patch(item + "/settings", summary="Change SEB settings of the working copy (validated, all or nothing)",
                 tag=tag, request_model=SettingsPatch, response_model=SettingsOut)(
        named("patch_settings", patch_settings))

    async def publish(request: Request, actor: Actor) -> dict[str, Any]:
        data = await _optional_body(request, PublishIn)
        service = services_of(request).exam_configs
        await service.get(actor, _id(request), kind=kind)
        return out(RevisionOut.of(await service.revisions.publish(actor, _id(request), data.summary)))

    router.post(item + "/publish", summary="Publish the working copy as the next version (409: nothing to publish, "
                "or refused while its running exam has active SEB connections)", tag=tag, request_model=PublishIn,
                response_model=RevisionOut, status_code=201)(named("publish", publish))

    async def undo(request: Request, actor: Actor) -> dict[str, Any]:
        service = services_of(request).exam_configs
        await service.get(actor, _id(request), kind=kind)
        return out(ChangeCount(changes=await service.revisions.undo(actor, _id(request))))

    router.post(item + "/undo", summary="Drop the unpublished changes (working copy := last published version)",
                tag=tag, response_model=ChangeCount)(named("undo", undo))

    async def history(request: Request, actor: Actor) -> dict[str, Any]:
        service = services_of(request).exam_configs
        await service.get(actor, _id(request), kind=kind)
        return out(HistoryOut.of(await service.revisions.history(actor, _id(request))))

    router.get(item + "/history", summary="Published versions with what changed, and the unpublished changes",
               tag=tag, response_model=HistoryOut)(named("history", history))

    async def restore(request: Request, actor: Actor) -> dict[str, Any]:
        data = await parse_body(request, RestoreIn)
        service = services_of(request).exam_configs
        await service.get(actor, _id(request), kind=kind)
        return out(ChangeCount(changes=await service.revisions.restore(actor, _id(request), data.revision_id)))

    router.post(item + "/restore", summary="Working copy := a version from the history (publish to make it "
                "current)", tag=tag, request_model=RestoreIn, response_model=ChangeCount)(named("restore", restore))

    async def copy(request: Request, actor: Actor) -> dict[str, Any]:
        data = await parse_body(request, CopyIn)
        service = services_of(request).exam_configs
        await service.get(actor, _id(request), kind=kind)
        copied = await service.revisions.copy(actor, _id(request), data.name, description=data.description,
                                    with_history=data.with_history)
        return one(request, copied)

    router.post(item + "/copy", summary="Copy with the published settings (with_history: all versions)", tag=tag,
                request_model=CopyIn, response_model=ExamConfigOut, status_code=201)(named("copy", copy))

    async def export(request: Request, actor: Actor) -> Response:
        password = _export_password(request)
        service = services_of(request).exam_configs
        await service.get(actor, _id(request), kind=kind)
        data = await service.files.export(actor, _id(request), password=password)
        return Response(data, media_type=SEB_MEDIA_TYPE, headers={
            "Content-Disposition": f'attachment; filename="{EXPORT_FILENAME}"', "Cache-Control": "no-store"})

    router.get(item + "/export", summary=f"Download {EXPORT_FILENAME} of the published settings (plain XML; "
               f"with a password in the {PASSWORD_HEADER} header: encrypted)", tag=tag,
               query=(QueryParam("password", description=f"prefer the {PASSWORD_HEADER} header"),),
               response_media=(SEB_MEDIA_TYPE,))(named("export", export))

    async def config_key(request: Request, actor: Actor) -> dict[str, Any]:
        service = services_of(request).exam_configs
        await service.get(actor, _id(request), kind=kind)
        working = await service.working_copy.get(actor, _id(request))
        return out(ConfigKeyOut(config_key=await service.files.config_key(actor, _id(request)),
                                published_version=working.published_number))

    router.get(item + "/config-key", summary="The SEB Config Key of the published settings", tag=tag,
               response_model=ConfigKeyOut)(named("config_key", config_key))


_register(ConfigKind.EXAM_CONFIG, "/exam-configurations", "exam-configurations", "exam_configuration",
          "exam configuration")
_register(ConfigKind.TEMPLATE, "/configuration-templates", "configuration-templates", "configuration_template",
          "configuration template")


IMPORT_QUERY = (
    QueryParam("name", description="name of the new exam configuration (required)"),
    QueryParam("description"),
    QueryParam("status", {"type": "string", "enum": ["CONSTRUCTION", "READY_TO_USE"]}),
    QueryParam("password", description=f"the file's password; prefer the {PASSWORD_HEADER} header"),
)


@router.post("/exam-configurations/import",
             summary=f"Import a .seb file (raw body, at most {MAX_IMPORT_BYTES // (1024 * 1024)} MiB) as a new exam "
                     f"configuration; password in the {PASSWORD_HEADER} header", tag="exam-configurations",
             raw_body=(SEB_MEDIA_TYPE, "application/seb"), query=IMPORT_QUERY, response_model=ImportOut,
             status_code=201)
async def import_exam_configuration(request: Request, actor: Actor) -> dict[str, Any]:
    query = request.query_params
    check_query(query, {param.name for param in IMPORT_QUERY})
    declared = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if declared and declared not in (SEB_MEDIA_TYPE, "application/seb"):
        raise UnsupportedMediaType(f"send the .seb file as the raw body with Content-Type {SEB_MEDIA_TYPE}")
    if not query.get("name"):
        raise ValidationFailed({"name": "give the name of the new exam configuration (?name=...)"})
    data = await read_body(request, MAX_IMPORT_BYTES)
    password = request.headers.get(PASSWORD_HEADER) or query.get("password") or None
    status = query.get("status") or ConfigStatus.CONSTRUCTION.value
    service = services_of(request).exam_configs
    configuration, warnings = await service.files.import_seb(
        actor, data, password=password, name=query["name"], description=query.get("description", ""), status=status)
    return out(ImportOut(configuration=ExamConfigOut.of(configuration, service), warnings=warnings))


class AttributeIn(BaseModel):
    attribute: str = Field(description="a setting name, e.g. allowQuit")


@router.post("/configuration-templates/{id:int}/attach",
             summary="Show a setting again in the editor of exam configurations from this template",
             tag="configuration-templates", request_model=AttributeIn, response_model=HiddenOut)
async def attach_template_attribute(request: Request, actor: Actor) -> dict[str, Any]:
    data = await parse_body(request, AttributeIn)
    hidden = await services_of(request).exam_configs.template_attributes.set_shown(actor, _id(request), data.attribute,
                                                                                   True)
    return out(HiddenOut(hidden_attributes=hidden))


@router.post("/configuration-templates/{id:int}/detach",
             summary="Hide a setting in the editor of exam configurations from this template",
             tag="configuration-templates", request_model=AttributeIn, response_model=HiddenOut)
async def detach_template_attribute(request: Request, actor: Actor) -> dict[str, Any]:
    data = await parse_body(request, AttributeIn)
    hidden = await services_of(request).exam_configs.template_attributes.set_shown(actor, _id(request), data.attribute,
                                                                                   False)
    return out(HiddenOut(hidden_attributes=hidden))


@router.post("/configuration-templates/{id:int}/reset",
             summary="Set one setting (attribute) or all settings of the working copy to SEB Server's defaults",
             tag="configuration-templates", request_model=ResetIn, response_model=SettingsOut)
async def reset_template(request: Request, actor: Actor) -> dict[str, Any]:
    data = await _optional_body(request, ResetIn)
    service = services_of(request).exam_configs
    await service.get(actor, _id(request), kind=ConfigKind.TEMPLATE)
    await service.working_copy.reset_to_defaults(actor, _id(request), data.attribute)
    return out(SettingsOut.of(await service.working_copy.get(actor, _id(request))))
