"""LMS setups: which LMSs an institution uses, with encrypted credentials, proxy and a connection test."""

from __future__ import annotations

import builtins  # `list` is also a method name of a class here, shadowing the builtin in its signatures
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from sebframe.core.accounts.activity import Activity, record_activity
from sebframe.core.accounts.actor import Actor
from sebframe.core.accounts.roles import EntityType, Privilege
from sebframe.core.accounts.scoping import load_visible, scoped_to_institution
from sebframe.core.db import Database, utc_now
from sebframe.core.db.models import Exam, LmsSetup
from sebframe.core.errors import PermissionDenied, ValidationFailed
from sebframe.core.http import create_http_client, describe_http_failure
from sebframe.core.integration_settings import secret_field_names, settings_to_json, validate_settings
from sebframe.core.lms.schemas import LmsSetupInput
from sebframe.core.paging import ListParams, Page, contains, fetch_page
from sebframe.core.plugins import PluginRegistry
from sebframe.core.secrets import SecretBox
from sebframe.types import ConnectionTestResult, IntegrationContext, LmsAdapter, LmsType, RestrictionApi

log = logging.getLogger(__name__)

LMS_SETUP_FILTERS = ("institution_id", "name", "lms_type", "active")
_SORTABLE = {"name": LmsSetup.name, "lms_type": LmsSetup.lms_type, "active": LmsSetup.active,
             "institution_id": LmsSetup.institution_id}


@dataclass(frozen=True, slots=True)
class LmsSetupDeactivationReport:
    setup_id: int
    setup_name: str
    exams: list[tuple[int, str]]  # active exams of the setup that are deactivated with it


class LmsSetupService:
    def __init__(self, db: Database, plugins: PluginRegistry, secrets: SecretBox) -> None:
        self.db = db
        self.plugins = plugins
        self.secrets = secrets
        self._clients: dict[int, tuple[datetime, httpx.AsyncClient]] = {}
        # Called after a deactivation commits with the ids of the exams deactivated with the setup
        # (the exam domain releases their SEB restrictions); a failing listener is logged, not raised.
        self.deactivation_listeners: list[Callable[[list[int]], Awaitable[None]]] = []

    # -- queries -------------------------------------------------------------------------------

    async def list(self, actor: Actor, params: ListParams) -> Page[LmsSetup]:
        statement = scoped_to_institution(select(LmsSetup), actor, EntityType.LMS_SETUP, LmsSetup.institution_id,
                                          "LMS setups")
        filters = params.filters
        if "institution_id" in filters:
            if not filters["institution_id"].isdigit():
                raise ValidationFailed({"institution_id": "must be a number"})
            statement = statement.where(LmsSetup.institution_id == int(filters["institution_id"]))
        if "name" in filters:
            statement = statement.where(contains(LmsSetup.name, filters["name"]))
        if "lms_type" in filters:
            statement = statement.where(LmsSetup.lms_type == filters["lms_type"])
        if filters.get("active") in ("true", "false"):
            statement = statement.where(LmsSetup.active.is_(filters["active"] == "true"))
        async with self.db.read() as session:
            return await fetch_page(session, statement, params, _SORTABLE, [LmsSetup.name])

    async def get(self, actor: Actor, setup_id: int) -> LmsSetup:
        async with self.db.read() as session:
            return await self._visible(session, actor, setup_id)

    async def active_setups(self, actor: Actor, institution_id: int | None = None) -> builtins.list[LmsSetup]:
        """Active setups of the actor's institution (or, for overall readers, of ``institution_id``)."""
        target = actor.institution_id if institution_id is None else institution_id
        if not actor.may(Privilege.READ, EntityType.LMS_SETUP, institution_id=target):
            raise PermissionDenied("you may not use the LMS setups of this institution")
        async with self.db.read() as session:
            statement = (select(LmsSetup).where(LmsSetup.institution_id == target, LmsSetup.active.is_(True))
                         .order_by(LmsSetup.name))
            return list((await session.execute(statement)).scalars())

    def lms_type(self, setup: LmsSetup) -> LmsType:
        try:
            return self.plugins.get_lms_type(setup.lms_type)
        except LookupError as exc:
            raise ValidationFailed({"lms_type": str(exc)}) from None

    def settings_of(self, setup: LmsSetup, *, masked: bool = True) -> dict[str, Any]:
        """The stored settings; secrets are masked unless ``masked`` is False (never for output)."""
        values: dict[str, Any] = json.loads(self.secrets.decrypt(setup.settings_encrypted))
        if masked:
            try:
                secret_names = secret_field_names(self.lms_type(setup).settings_model)
            except ValidationFailed:
                secret_names = set(values)
            for name in secret_names & set(values):
                values[name] = "" if not values[name] else "********"
        return values

    # -- adapters ------------------------------------------------------------------------------

    def context(self, setup: LmsSetup) -> IntegrationContext:
        lms_type = self.lms_type(setup)
        settings = lms_type.settings_model.model_validate(self.settings_of(setup, masked=False))
        return IntegrationContext(instance_id=setup.id, institution_id=setup.institution_id, url=setup.url,
                                  settings=settings, http=self._client(setup))

    def adapter(self, setup: LmsSetup) -> LmsAdapter:
        return self.lms_type(setup).create_adapter(self.context(setup))

    def restriction_api(self, setup: LmsSetup) -> RestrictionApi | None:
        restriction_type = self.plugins.restriction_types().get(setup.lms_type)
        return restriction_type.create_api(self.context(setup)) if restriction_type else None

    def _client(self, setup: LmsSetup) -> httpx.AsyncClient:
        # One client per setup and version of it, so its connections and proxy are reused between calls.
        cached = self._clients.get(setup.id)
        if cached is not None and cached[0] == setup.updated_at:
            return cached[1]
        proxy = None
        if setup.proxy_host:
            credentials = ""
            if setup.proxy_username:
                password = self.secrets.decrypt(setup.proxy_password_encrypted) if setup.proxy_password_encrypted \
                    else ""
                credentials = f"{quote(setup.proxy_username, safe='')}:{quote(password, safe='')}@"
            proxy = f"http://{credentials}{setup.proxy_host}:{setup.proxy_port or 3128}"
        client = create_http_client(proxy=proxy)
        self._clients[setup.id] = (setup.updated_at, client)
        return client

    async def close(self) -> None:
        for _, client in self._clients.values():
            await client.aclose()
        self._clients.clear()

    async def test(self, actor: Actor, setup_id: int) -> ConnectionTestResult:
        """Test the setup's course access (and restriction API) now; the result is stored with the setup.

        Needs the modify privilege: the test contacts the LMS with the stored credentials and records the
        outcome, which read-only roles (exam supporters) only look at.
        """
        setup = await self.get(actor, setup_id)
        self._require(actor, Privilege.MODIFY, setup)
        result = await self._run_test(setup)
        async with self.db.transaction() as session:
            stored = await session.get(LmsSetup, setup.id)
            if stored is not None:
                stored.last_test_ok, stored.last_test_message = result.ok, result.message
                stored.last_tested_at = utc_now()
        return result

    async def _run_test(self, setup: LmsSetup) -> ConnectionTestResult:
        try:
            result = await self.adapter(setup).test()
            if result.ok:
                restriction = self.restriction_api(setup)
                if restriction is not None:
                    restricted = await restriction.test()
                    if not restricted.ok:
                        return ConnectionTestResult.failure(
                            restricted.error_kind or "api",
                            f"course access works, but the SEB restriction API does not: {restricted.message}",
                        )
            return result
        except ValidationFailed as exc:
            return ConnectionTestResult.failure("config", exc.message)
        except Exception as exc:  # an adapter must not break the page: report what went wrong
            return describe_http_failure(exc, setup.url)

    # -- changes -------------------------------------------------------------------------------

    async def create(self, actor: Actor, data: LmsSetupInput, *, activate: bool = False,
                     institution_id: int | None = None) -> tuple[LmsSetup, ConnectionTestResult]:
        """Save a new setup and test its connection; a failing test still saves it, inactive.

        ``activate`` activates it only when the test passes; the returned result says why not.
        """
        target = actor.institution_id if institution_id is None else institution_id
        if not actor.may(Privilege.WRITE, EntityType.LMS_SETUP, institution_id=target):
            raise PermissionDenied("you may not create LMS setups in this institution")
        lms_type = self._type_for(data.lms_type)
        settings = validate_settings(lms_type.settings_model, data.settings, previous=None)
        async with self.db.transaction() as session:
            await self._check_unique(session, target, data.name)
            setup = LmsSetup(institution_id=target, name=data.name, lms_type=lms_type.name, url=data.url,
                             settings_encrypted=self.secrets.encrypt(settings_to_json(settings)),
                             connection_id=str(uuid.uuid4()), active=False)
            self._apply_proxy(setup, data)
            session.add(setup)
            await session.flush()
            record_activity(session, actor, Activity.CREATE, EntityType.LMS_SETUP, setup.id, setup.name,
                            institution_id=target)
        result = await self.test(actor, setup.id)
        if activate and result.ok:
            setup, result = await self._activate(actor, setup.id, result)
        return await self.get(actor, setup.id), result

    async def update(self, actor: Actor, setup_id: int, data: LmsSetupInput, *,
                     activate: bool = False) -> tuple[LmsSetup, ConnectionTestResult]:
        """Secrets left empty keep their stored value, so an edit form never has to show them.

        Like ``create``, the changes are saved whatever the connection test says; ``activate`` activates only
        when the test passes (the returned result tells why not), and needs the write privilege up front.
        """
        async with self.db.transaction() as session:
            setup = await self._visible(session, actor, setup_id)
            self._require(actor, Privilege.WRITE if activate else Privilege.MODIFY, setup)
            lms_type = self._type_for(data.lms_type)
            previous = self.settings_of(setup, masked=False) if lms_type.name == setup.lms_type else None
            settings = validate_settings(lms_type.settings_model, data.settings, previous=previous)
            await self._check_unique(session, setup.institution_id, data.name, exclude_id=setup.id)
            setup.name, setup.lms_type, setup.url = data.name, lms_type.name, data.url
            setup.settings_encrypted = self.secrets.encrypt(settings_to_json(settings))
            self._apply_proxy(setup, data)
            setup.updated_at = utc_now()
            record_activity(session, actor, Activity.MODIFY, EntityType.LMS_SETUP, setup.id, setup.name,
                            institution_id=setup.institution_id)
        result = await self.test(actor, setup_id)
        if activate and result.ok:
            return await self._activate(actor, setup_id, result)
        return await self.get(actor, setup_id), result

    async def activate(self, actor: Actor, setup_id: int) -> tuple[LmsSetup, ConnectionTestResult]:
        """Test the connection and activate when it passes (else ``ValidationFailed`` with the reason)."""
        self._require(actor, Privilege.WRITE, await self.get(actor, setup_id))  # before contacting the LMS
        result = await self.test(actor, setup_id)
        return await self._activate(actor, setup_id, result)

    async def _activate(self, actor: Actor, setup_id: int,
                        result: ConnectionTestResult) -> tuple[LmsSetup, ConnectionTestResult]:
        if not result.ok:
            raise ValidationFailed({"active": f"the connection test failed, so the setup stays inactive: "
                                              f"{result.message}"})
        async with self.db.transaction() as session:
            setup = await self._visible(session, actor, setup_id)
            self._require(actor, Privilege.WRITE, setup)
            if not setup.active:
                setup.active = True
                record_activity(session, actor, Activity.ACTIVATE, EntityType.LMS_SETUP, setup.id, setup.name,
                                institution_id=setup.institution_id)
        return setup, result

    async def deactivation_report(self, actor: Actor, setup_id: int) -> LmsSetupDeactivationReport:
        async with self.db.read() as session:
            setup = await self._visible(session, actor, setup_id)
            self._require(actor, Privilege.WRITE, setup)
            return LmsSetupDeactivationReport(setup.id, setup.name, await self._active_exams(session, setup.id))

    async def deactivate(self, actor: Actor, setup_id: int) -> LmsSetupDeactivationReport:
        """Deactivate the setup and its active exams (they cannot run without their LMS)."""
        async with self.db.transaction() as session:
            setup = await self._visible(session, actor, setup_id)
            self._require(actor, Privilege.WRITE, setup)
            exams = await self._active_exams(session, setup.id)
            if setup.active:
                setup.active = False
                record_activity(session, actor, Activity.DEACTIVATE, EntityType.LMS_SETUP, setup.id, setup.name,
                                institution_id=setup.institution_id)
            for exam_id, exam_name in exams:
                exam = await session.get(Exam, exam_id)
                if exam is not None:
                    exam.active = False
                    record_activity(session, actor, Activity.DEACTIVATE, EntityType.EXAM, exam.id, exam_name,
                                    f"LMS setup {setup.name} deactivated", institution_id=setup.institution_id)
            report = LmsSetupDeactivationReport(setup.id, setup.name, exams)
        for listener in self.deactivation_listeners:
            try:
                await listener([exam_id for exam_id, _ in exams])
            except Exception:
                log.exception("a listener failed after LMS setup %s was deactivated", setup_id)
        return report

    async def delete(self, actor: Actor, setup_id: int) -> None:
        async with self.db.transaction() as session:
            setup = await self._visible(session, actor, setup_id)
            self._require(actor, Privilege.WRITE, setup)
            count = (await session.execute(select(func.count()).where(Exam.lms_setup_id == setup.id))).scalar_one()
            if count:
                raise ValidationFailed({"lms_setup": f"{count} exam(s) were imported from {setup.name!r}; "
                                                     f"delete them or deactivate the setup instead"})
            record_activity(session, actor, Activity.DELETE, EntityType.LMS_SETUP, setup.id, setup.name,
                            institution_id=setup.institution_id)
            await session.delete(setup)

    def check_settings(self, lms_type: str, given: dict[str, Any], setup: LmsSetup | None = None) -> None:
        """Raise ``ValidationFailed`` (``settings.<field>`` keys) unless ``given`` are valid settings of the type.

        For an existing ``setup`` of that type, empty secrets count as its stored ones (as ``update`` does). Forms
        use it to report the settings' problems together with those of the other fields.
        """
        checked = self._type_for(lms_type)
        previous = self.settings_of(setup, masked=False) if setup is not None and setup.lms_type == checked.name \
            else None
        validate_settings(checked.settings_model, given, previous=previous)

    # -- rules ---------------------------------------------------------------------------------

    def _type_for(self, name: str) -> LmsType:
        try:
            return self.plugins.get_lms_type(name.strip().upper())
        except LookupError as exc:
            raise ValidationFailed({"lms_type": str(exc)}) from None

    def _apply_proxy(self, setup: LmsSetup, data: LmsSetupInput) -> None:
        setup.proxy_host, setup.proxy_port, setup.proxy_username = data.proxy_host, data.proxy_port, data.proxy_username
        if not data.proxy_host:
            setup.proxy_port = setup.proxy_username = setup.proxy_password_encrypted = None
        elif data.proxy_password:
            setup.proxy_password_encrypted = self.secrets.encrypt(data.proxy_password)
        elif not data.proxy_username:
            setup.proxy_password_encrypted = None

    @staticmethod
    async def _active_exams(session: AsyncSession, setup_id: int) -> builtins.list[tuple[int, str]]:
        rows = await session.execute(select(Exam.id, Exam.name).where(Exam.lms_setup_id == setup_id,
                                                                      Exam.active.is_(True)).order_by(Exam.name))
        return [(row.id, row.name) for row in rows]

    @staticmethod
    async def _visible(session: AsyncSession, actor: Actor, setup_id: int) -> LmsSetup:
        return await load_visible(session, actor, LmsSetup, setup_id, EntityType.LMS_SETUP, "LMS setup")

    @staticmethod
    def _require(actor: Actor, privilege: Privilege, setup: LmsSetup) -> None:
        if not actor.may(privilege, EntityType.LMS_SETUP, institution_id=setup.institution_id):
            raise PermissionDenied(f"you may not change LMS setup {setup.name!r}")

    @staticmethod
    async def _check_unique(
        session: AsyncSession, institution_id: int, name: str, exclude_id: int | None = None
    ) -> None:
        statement = select(LmsSetup.id).where(LmsSetup.institution_id == institution_id,
                                              func.lower(LmsSetup.name) == name.lower())
        if exclude_id is not None:
            statement = statement.where(LmsSetup.id != exclude_id)
        if (await session.execute(statement)).first():
            raise ValidationFailed({"name": f"an LMS setup named {name!r} already exists in this institution"})
