"""The handshake of a SEB client (POST/PATCH/PUT/DELETE ``/exam-api/v1/handshake``) and the exam
configuration download, with SEB Server's rules, messages and state transitions.

These calls are rare next to pings, so they write through to the database at once and then update the
process's live copy of the connection.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import NoReturn, TypeVar

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from sebframe.core.db import Database, is_valid_id
from sebframe.core.db.models import ACTIVE_STATES, ClientConnection, ConnectionStatus, Exam, LmsSetup
from sebframe.core.exams.seb_versions import is_version_allowed
from sebframe.core.lms.setups import LmsSetupService
from sebframe.core.plugins import PluginRegistry
from sebframe.core.sebconfig.exam_configs import ExamConfigService
from sebframe.core.secrets import SecretBox
from sebframe.core.session.admission import Admission
from sebframe.core.session.ask import app_signature_key_hash, decrypt_app_signature_key, new_exam_salt
from sebframe.core.session.clock import now_ms
from sebframe.core.session.errors import illegal_argument, not_found
from sebframe.core.session.events import EventType
from sebframe.core.session.instructions import InstructionType
from sebframe.core.session.live import LiveConnection
from sebframe.core.session.origin import Origin
from sebframe.core.session.running import RunningExam
from sebframe.core.session.runtime import SessionRuntime
from sebframe.core.session.text import client_text
from sebframe.core.session.tokens import TokenGrant

log = logging.getLogger(__name__)

T = TypeVar("T")

NAME_CACHE_SECONDS = 600.0
LMS_LOOKUP_TIMEOUT = 5.0
FILE_RECHECK_SECONDS = 2.0
MAX_FIELD = 255
MAX_RUNNING_CHECKS = 10_000  # exam ids looked up lately; a client sending made-up ids cannot grow it further


@dataclass(frozen=True)
class CreatedConnection:
    token: str
    exams: list[dict[str, str]]
    salt: str | None
    browser_exam_key: str | None


@dataclass(frozen=True)
class ExamHeaders:
    """``SEBExamSalt`` and ``SEBServerBEK`` response headers (absent when None)."""

    salt: str | None = None
    browser_exam_key: str | None = None


class HandshakeService:
    def __init__(self, db: Database, runtime: SessionRuntime, plugins: PluginRegistry, secrets: SecretBox,
                 exam_configs: ExamConfigService, lms_setups: LmsSetupService) -> None:
        self.db = db
        self.runtime = runtime
        self.plugins = plugins
        self.secrets = secrets
        self.exam_configs = exam_configs
        self.lms_setups = lms_setups
        self._names: dict[tuple[int, str], tuple[str, float]] = {}
        self._files: dict[tuple[int, str | None], tuple[int, bytes, float]] = {}
        self._running_checked: dict[int, float] = {}
        self.admission = Admission(plugins)

    # -- POST: create the connection, list the running exams -----------------------------------------

    async def create(self, grant: TokenGrant, params: Mapping[str, str], origin: Origin) -> CreatedConnection:
        address = origin.address
        institution = params.get("institutionId", "").strip()
        if institution != str(grant.institution_id):
            raise illegal_argument("Institutional integrity violation")
        exam = None
        if params.get("examId", "").strip():
            exam = await self._running_exam(grant, params["examId"])
        token = str(uuid.uuid4())
        if exam is not None:  # without an exam nothing is bound yet: the client only gets the list
            await self.admission.admit(self.admission.request("handshake-create", grant.institution_id, exam.id,
                                                              token, origin))
        client_id = _field(params.get("client_id"))
        machine = _field(params.get("seb_machine_name"))
        now = now_ms()
        row = ClientConnection(
            connection_token=token, institution_id=grant.institution_id, exam_id=exam.id if exam else None,
            connection_config_id=grant.connection_config_id, status=ConnectionStatus.CONNECTION_REQUESTED.value,
            client_address=address, seb_os_name=_field(params.get("seb_os_name")), seb_machine_name=machine,
            seb_version=_field(params.get("seb_version")), seb_client_user_id=client_id,
            user_session_id=client_id or machine, missing_ping=False, created_ms=now, changed_ms=now)
        async with self.db.transaction() as session:
            session.add(row)
            salt = await self._salt(session, exam) if exam else None
        await self.runtime.adopt(row, created=True)
        if exam is not None:
            exams = [exam.handshake_entry()]
        else:
            offered = [running for running in self.runtime.running.values()
                       if running.institution_id == grant.institution_id and running.name and running.url]
            if offered:
                visible = await self.admission.visible_exams(
                    self.admission.request("handshake-list", grant.institution_id, None, token, origin,
                                           connection_id=row.id), [running.id for running in offered])
                offered = [running for running in offered if running.id in visible]
            exams = [running.handshake_entry() for running in offered]
        return CreatedConnection(token, exams, salt, exam.alternative_bek if exam else None)

    # -- PATCH: select the exam, send the LMS user ---------------------------------------------------

    async def update(self, grant: TokenGrant, token: str, params: Mapping[str, str], origin: Origin
                     ) -> ExamHeaders:
        address = origin.address
        live = await self._live(grant, token)
        exam = await self._requested_exam(grant, live, params)
        user_id = _field(params.get("seb_user_session_id")) or ""
        # LMS calls and plugin checks happen before the transaction: no database connection waits on them.
        name = await self._examinee_name(exam, user_id) if user_id else None
        await self._admit("handshake-update", grant, exam, live, origin, user_id)

        async def apply(session: AsyncSession, row: ClientConnection) -> ExamHeaders:
            bound = await self._bind_exam(grant, row, params)
            self._address(live, row, address)
            for column, field_name in _CLIENT_FIELDS:
                if getattr(row, column) is None and params.get(field_name, "").strip():
                    setattr(row, column, _field(params[field_name]))
            if user_id and name is not None:
                self._user_session(row, user_id, name)
                if row.status == ConnectionStatus.READY.value:
                    row.status = ConnectionStatus.ACTIVE.value
            salt = await self._salt(session, bound) if bound else None
            self._signature_key(row, params.get("seb_signature_key"), salt)
            self._version_check(row, bound)
            return ExamHeaders(salt, bound.alternative_bek if bound else None)

        return await self._change(grant, token, apply)

    # -- PUT: establish ------------------------------------------------------------------------------

    async def establish(self, grant: TokenGrant, token: str, params: Mapping[str, str], origin: Origin
                        ) -> ExamHeaders:
        address = origin.address
        live = await self._live(grant, token)
        exam = await self._requested_exam(grant, live, params)
        if exam is None:
            raise illegal_argument("ClientConnection integrity violation")
        user_id = _field(params.get("seb_user_session_id")) or ""
        name = await self._examinee_name(exam, user_id) if user_id else None
        await self._admit("handshake-establish", grant, exam, live, origin, user_id)

        async def apply(session: AsyncSession, row: ClientConnection) -> ExamHeaders:
            bound = await self._bind_exam(grant, row, params)
            if bound is None:
                raise illegal_argument("ClientConnection integrity violation")
            self._address(live, row, address)
            for column, field_name in _CLIENT_FIELDS:
                if params.get(field_name, "").strip():
                    setattr(row, column, _field(params[field_name]))
            if user_id and name is not None:
                self._user_session(row, user_id, name)
            row.status = (ConnectionStatus.ACTIVE if row.lms_user_session_id else ConnectionStatus.READY).value
            self._signature_key(row, params.get("seb_signature_key"), await self._salt(session, bound))
            self._version_check(row, bound)
            return ExamHeaders(None, bound.alternative_bek)

        return await self._change(grant, token, apply)

    # -- DELETE: close -------------------------------------------------------------------------------

    async def close(self, grant: TokenGrant, token: str) -> None:
        await self._live(grant, token)

        async def apply(session: AsyncSession, row: ClientConnection) -> None:
            row.status = ConnectionStatus.CLOSED.value

        await self._change(grant, token, apply, check_state=False)

    # -- GET examconfig ------------------------------------------------------------------------------

    async def exam_config(self, grant: TokenGrant, token: str, params: Mapping[str, str], origin: Origin
                          ) -> bytes:
        """The exam's published configuration; binds the exam like PATCH when ``examId`` is given."""
        if params.get("examId", "").strip():
            await self.update(grant, token, {"examId": params["examId"]}, origin)
        live = await self._live(grant, token)
        if not live.status.client_active:
            await self._refuse_inactive(live.id)
        if live.exam_id is None:
            raise illegal_argument("ClientConnection integrity violation: no exam selected")
        exam = await self._running_exam(grant, str(live.exam_id))
        await self._admit("exam-config", grant, exam, live, origin, "")
        return await self._config_file(exam)

    # -- rules shared by the calls -------------------------------------------------------------------

    async def _live(self, grant: TokenGrant, token: str) -> LiveConnection:
        """The connection as this process holds it (loaded once); another institution's token is as unknown
        as a made-up one."""
        live = await self.runtime.connection(token) if token and len(token) <= 64 else None
        if live is None or live.institution_id != grant.institution_id:
            raise not_found(f"No client connection found for connection token: {token[:64]}")
        return live

    async def _requested_exam(self, grant: TokenGrant, live: LiveConnection, params: Mapping[str, str]
                              ) -> RunningExam | None:
        requested = params.get("examId", "").strip()
        if requested:
            if live.exam_id is not None and requested != str(live.exam_id):
                raise illegal_argument("Exam integrity violation: another examId is already set for the connection")
            return await self._running_exam(grant, requested)
        return await self._running_exam(grant, str(live.exam_id)) if live.exam_id is not None else None

    async def _change(self, grant: TokenGrant, token: str,
                      apply: Callable[[AsyncSession, ClientConnection], Awaitable[T]], *, check_state: bool = True
                      ) -> T:
        """Load the connection row, check its state, apply the change and refresh the live copy."""
        async with self.db.transaction() as session:
            row = (await session.execute(
                select(ClientConnection).where(ClientConnection.connection_token == token))).scalar_one_or_none()
            if row is None or row.institution_id != grant.institution_id:
                raise not_found(f"No client connection found for connection token: {token[:64]}")
            inactive = check_state and ConnectionStatus(row.status) not in ACTIVE_STATES
            if not inactive:
                result = await apply(session, row)
                row.changed_ms = now_ms()
        if inactive:
            await self._refuse_inactive(row.id)
        await self.runtime.adopt(row)
        return result

    async def _refuse_inactive(self, connection_id: int) -> NoReturn:
        """SEB Server queues SEB_QUIT for a closed or canceled connection that calls again, and refuses."""
        await self.runtime.queue_instruction([connection_id], InstructionType.SEB_QUIT, None)
        raise illegal_argument("ClientConnection integrity violation: client connection is not in expected state")

    async def _bind_exam(self, grant: TokenGrant, row: ClientConnection, params: Mapping[str, str]
                         ) -> RunningExam | None:
        requested = params.get("examId", "").strip()
        if requested:
            if row.exam_id is not None and requested != str(row.exam_id):
                raise illegal_argument("Exam integrity violation: another examId is already set for the connection")
            exam = await self._running_exam(grant, requested)
            row.exam_id = exam.id
            return exam
        if row.exam_id is None:
            return None
        return await self._running_exam(grant, str(row.exam_id))

    async def _running_exam(self, grant: TokenGrant, exam_id: str) -> RunningExam:
        try:
            number = int(exam_id.strip())
        except ValueError:
            raise illegal_argument(f"The exam {exam_id[:64]} is not running") from None
        exam = self.runtime.running.get(number)
        if exam is None and is_valid_id(number) and time.monotonic() - self._running_checked.get(number, 0.0) > 1.0:
            # An exam that just started: look once a second, not for each of its clients (nor for made-up ids).
            if len(self._running_checked) >= MAX_RUNNING_CHECKS:
                self._running_checked.clear()
            self._running_checked[number] = time.monotonic()
            await self.runtime.refresh_running_exams()
            exam = self.runtime.running.get(number)
        if exam is None:
            raise illegal_argument(f"The exam {number} is not running")
        if exam.institution_id != grant.institution_id:
            raise illegal_argument(
                "Exam institution mismatch. The requested exam is not within the expected institution")
        if exam.configuration_id is None:
            raise illegal_argument("Exam is currently running but has no default SEB Exam configuration attached")
        return exam

    async def _admit(self, step: str, grant: TokenGrant, exam: RunningExam | None, live: LiveConnection,
                     origin: Origin, user_id: str) -> None:
        if exam is None:
            return
        await self.admission.admit(self.admission.request(
            step, grant.institution_id, exam.id, live.token, origin, connection_id=live.id,
            user_session_id=user_id or live.lms_user_session_id))

    def _address(self, live: LiveConnection, row: ClientConnection, address: str | None) -> None:
        """An address change during the handshake is allowed, and logged as SEB Server does."""
        if address and row.client_address and address != row.client_address:
            self.runtime.server_event(live, EventType.WARN_LOG,
                                      f"SEB Client IP address changed: {row.client_address} -> {address}")
        if address:
            row.client_address = address

    @staticmethod
    def _user_session(row: ClientConnection, user_id: str, name: str) -> None:
        """SEB Server's rule: a placeholder (OS login, machine, address) is replaced by the LMS user's name,
        a different earlier name is kept after it."""
        current = row.user_session_id
        placeholders = {row.seb_client_user_id, row.seb_machine_name, row.client_address, None}
        if current != name:
            if current in placeholders or row.lms_user_session_id is not None:
                row.user_session_id = name
            else:
                row.user_session_id = f"{name} | {current}"[:MAX_FIELD]
        row.lms_user_session_id = user_id

    async def _examinee_name(self, exam: RunningExam | None, user_id: str) -> str:
        """The LMS's name for the user (cached); the raw id when there is no LMS or it does not answer."""
        if exam is None or exam.lms_setup_id is None:
            return user_id
        key = (exam.lms_setup_id, user_id)
        cached = self._names.get(key)
        if cached is not None and time.monotonic() - cached[1] < NAME_CACHE_SECONDS:
            return cached[0]
        name = user_id
        try:
            async with self.db.read() as session:
                setup = await session.get(LmsSetup, exam.lms_setup_id)
            if setup is not None and setup.active:
                account = await asyncio.wait_for(self.lms_setups.adapter(setup).get_examinee(user_id),
                                                 LMS_LOOKUP_TIMEOUT)
                name = _field(account.display_name) or user_id
        except Exception as exc:  # the exam goes on without the name
            log.warning("LMS user lookup for %r failed: %s", user_id, exc)
        self._names[key] = (name, time.monotonic())
        return name

    async def _salt(self, session: AsyncSession, exam: RunningExam) -> str:
        """The exam's app-signature-key salt, created once (concurrent first requests agree on one)."""
        if exam.app_signature_salt:
            return exam.app_signature_salt
        await session.execute(update(Exam).where(Exam.id == exam.id, Exam.app_signature_salt.is_(None))
                              .values(app_signature_salt=new_exam_salt()))
        salt = (await session.execute(select(Exam.app_signature_salt).where(Exam.id == exam.id))).scalar_one()
        assert salt is not None  # the UPDATE above filled it in if it was empty
        exam.app_signature_salt = salt
        return salt

    @staticmethod
    def _signature_key(row: ClientConnection, encrypted: str | None, salt: str | None) -> None:
        if not encrypted or not encrypted.strip() or salt is None:
            return
        plain = decrypt_app_signature_key(encrypted.strip(), row.connection_token, salt)
        if plain is None:
            log.warning("could not decrypt the app signature key of connection %s", row.id)
            return
        row.ask = app_signature_key_hash(plain)
        row.security_check_granted = None  # decided by the supervision with the other connections

    @staticmethod
    def _version_check(row: ClientConnection, exam: RunningExam | None) -> None:
        if exam is None or not exam.allowed_versions:
            row.client_version_granted = None
            return
        row.client_version_granted = is_version_allowed(exam.allowed_versions, row.seb_os_name, row.seb_version)

    async def _config_file(self, exam: RunningExam) -> bytes:
        """Built once per published version (checked at most every few seconds): thousands of clients
        download it at the exam's start."""
        if exam.configuration_id is None:
            raise illegal_argument("Exam is currently running but has no default SEB Exam configuration attached")
        password = self.secrets.decrypt(exam.configuration_password) if exam.configuration_password else None
        key = (exam.configuration_id, password)
        cached = self._files.get(key)
        now = time.monotonic()
        if cached is not None and now - cached[2] < FILE_RECHECK_SECONDS:
            return cached[1]
        files = self.exam_configs.files
        if cached is not None and cached[0] == await files.published_revision_id(exam.configuration_id):
            self._files[key] = (cached[0], cached[1], now)
            return cached[1]
        revision_id, data = await files.client_file(exam.configuration_id, password=password)
        self._files[key] = (revision_id, data, now)
        return data


_CLIENT_FIELDS = (("seb_os_name", "seb_os_name"), ("seb_machine_name", "seb_machine_name"),
                  ("seb_version", "seb_version"), ("seb_client_user_id", "client_id"))


def _field(value: str | None) -> str | None:
    """A client-sent value as stored: storable (:func:`client_text`), stripped, at most 255 characters; blank is
    None."""
    if value is None:
        return None
    return client_text(value).strip()[:MAX_FIELD] or None
