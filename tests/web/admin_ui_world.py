"""An admin UI with one of every entity, and every page of it: for tests that walk all pages (security headers,
sessions). The demo exam (running, with its LMS setup, exam configuration and connection configuration) plus a
SEB connection with a log event, a configuration and an exam template, a certificate, a location with an IP
profile attached to the exam, an exception, the audit records all that wrote, and live proctoring (Jitsi) with
the connection in a collecting room. Build the services with ``world_services``."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import sebframe_proctoring_jitsi.plugin
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from sqlalchemy import select, update
from starlette.routing import Mount, Route

from sebframe.core.accounts.auth import actor_of
from sebframe.core.accounts.passwords import hash_password
from sebframe.core.db.models import (
    ClientConnection,
    ClientEvent,
    ConnectionConfiguration,
    Exam,
    ExamConfigurationMapping,
    Indicator,
    Institution,
    LocationAuditRecord,
    ProctoringRoom,
    UserAccount,
)
from sebframe.core.exams.schemas import ExamTemplateInput, IndicatorInput
from sebframe.core.location.schemas import ExceptionInput, LocationInput, PolicyInput, PolicyMode, ProfileInput
from sebframe.core.services import Services
from sebframe.settings import Settings
from sebframe.testing.fakes.jitsi import FakeJitsi
from sebframe.web.views import routes
from tests.conftest import PASSWORD
from tests.exam_helpers import exam_services, make_config_template
from tests.proctoring_helpers import jitsi_settings, supervise
from tests.seb_client import SebClient, build_seb_world

# Pages anyone may open; every other page needs a session.
PUBLIC_PAGES = frozenset({"/login", "/login/{suffix}", "/register", "/institutions/{institution_id}/logo"})
OTHER_QUIZ = "quiz4"  # a quiz of the demo's testing LMS that is not imported
# A 1x1 PNG: the institution's logo.
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")
# The demo exam's "Errors" indicator: amber from one error, red from three (the SEB client logs one).
ERROR_THRESHOLDS = '[{"value": 1, "color": "ffc20e"}, {"value": 3, "color": "ed1c24"}]'
STREAM = "/monitoring/{id:int}/stream"  # server-sent events that never end
_PARAMETER = re.compile(r"\{(\w+)(?::\w+)?\}")


def get_routes() -> Iterator[str]:
    """Every path template of the admin UI that answers GET (mounted routes with their prefix)."""
    def walk(entries: list[object], prefix: str) -> Iterator[str]:
        for entry in entries:
            if isinstance(entry, Mount):
                yield from walk(list(entry.routes), prefix + entry.path)
            elif isinstance(entry, Route) and "GET" in (entry.methods or ()):
                yield prefix + entry.path

    yield from walk(list(routes()), "")


@asynccontextmanager
async def world_services(settings: Settings) -> AsyncIterator[Services]:
    """Services with what the world's pages need: the indicator types (monitoring columns) and Jitsi Meet."""
    async with exam_services(settings, sebframe_proctoring_jitsi.plugin) as services:
        yield services


@dataclass
class World:
    ids: dict[str, int]  # entity kind -> id of one entity of that kind
    names: dict[str, str]  # path parameters that are not ids
    queries: dict[str, str]  # path template -> the query string its page needs
    paths: dict[str, str]  # path template -> the whole path, where parameters mean something else than elsewhere

    def path(self, template: str) -> str:
        """The path template filled with existing entities (each parameter chosen by the path's first segment)."""
        if template in self.paths:
            return self.paths[template]
        section = template.strip("/").split("/", 1)[0]

        def value(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in self.names:
                return self.names[name]
            kind = name.removesuffix("_id") if name != "id" else _SECTION_KINDS.get(section, section)
            assert kind in self.ids, f"{template}: no {kind} in the world; add one to build_world"
            return str(self.ids[kind])

        path = _PARAMETER.sub(value, template)
        return f"{path}?{self.queries[template]}" if template in self.queries else path


_SECTION_KINDS = {
    "institutions": "institution", "users": "user", "connection-configurations": "connection_configuration",
    "certificates": "certificate", "exam-configurations": "exam_configuration",
    "configuration-templates": "configuration_template", "lms-setups": "lms_setup", "lms-lookup": "lms_setup",
    "exams": "exam", "exam-templates": "exam_template", "monitoring": "exam", "client-logs": "client_event",
    "locations": "location", "location-profiles": "location_profile", "location-audit": "audit_record",
    "proctoring": "exam",
}


async def open_pages(world: World, viewers: list[httpx.AsyncClient], anonymous: httpx.AsyncClient
                     ) -> dict[str, httpx.Response]:
    """GET every page (the endless monitoring stream aside): public pages signed out, the others by the first of
    ``viewers`` (signed-in clients, e.g. of roles with more privileges further on) that gets a 200."""
    answers = {}
    for template in get_routes():
        if template == STREAM:
            continue
        path = world.path(template)
        for viewer in [anonymous] if template in PUBLIC_PAGES else viewers:
            answers[template] = await viewer.get(path)
            if answers[template].status_code == 200:
                break
    return answers


def self_signed_pem() -> bytes:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sebframe test")])
    now = datetime.now(UTC)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
                   .not_valid_after(now + timedelta(days=30)).sign(key, hashes.SHA256()))
    return certificate.public_bytes(serialization.Encoding.PEM)


async def build_world(services: Services, http: httpx.AsyncClient, data_dir: Path) -> World:
    """Everything as the demo's exam administrator. Every user's password becomes ``PASSWORD``: "admin" (SEB
    Server administrator), "demo-institution-admin", "demo-exam-admin" and "demo-supporter". The SEB client talks
    to the server through ``http``."""
    seb = await build_seb_world(services, data_dir)
    async with services.db.transaction() as session:
        await session.execute(update(UserAccount).values(password_hash=hash_password(PASSWORD)))
        session.add(Indicator(exam_id=seb.exam_id, name="Errors", indicator_type="ERROR_COUNT", color="ffffff",
                              tags="", thresholds=ERROR_THRESHOLDS))
        await session.execute(update(Institution).where(Institution.id == seb.institution_id)
                              .values(logo=PNG, logo_mime_type="image/png"))
    async with services.db.read() as session:
        admin = (await session.execute(select(UserAccount).where(UserAccount.username == "demo-exam-admin"))
                 ).scalar_one()
        actor = actor_of(admin)
        institution = await session.get(Institution, admin.institution_id)
        assert institution is not None
    template = await make_config_template(services, actor)
    exam_template = await services.exams.templates.create(actor, ExamTemplateInput(
        name="Written Exam", indicators=[IndicatorInput(name="Errors", indicator_type="ERROR_COUNT")]))
    certificate = await services.certificates.import_file(actor, self_signed_pem(), alias="test-cert")
    locations = services.locations
    location = await locations.profiles.create_location(actor, LocationInput(name="Main Building"))
    profile = await locations.profiles.create_profile(actor, ProfileInput(
        name="Room A", rules="ALLOW 10.1.2.0/24 room=A", location_id=location.id))
    await locations.policies.set_policy(actor, seb.exam_id, PolicyInput(profile_ids=[profile.id],
                                                                        mode=PolicyMode.LOG_ONLY))
    exception = await locations.policies.add_exception(actor, seb.exam_id, ExceptionInput(name="bob",
                                                                                           reason="a test"))
    client = SebClient(http, seb, name="alice")  # outside Room A: the location check would block it (log only)
    await client.connect(user="alice")
    assert (await client.log({"type": "ERROR_LOG", "text": "a crash", "timestamp": 1})).status_code == 204
    with FakeJitsi() as jitsi:  # the connection test on save fetches the meeting server's external_api.js
        _, tested = await services.proctoring.service.save(actor, seb.exam_id, jitsi_settings(jitsi))
    assert tested.ok, tested.message
    await supervise(services)  # alice joins collecting room 1
    async with services.db.read() as session:
        async def first(column: object, *where: object) -> int:
            found = (await session.execute(select(column).where(*where))).scalars().first()  # type: ignore[call-overload]
            assert found, f"no {column} in the world"
            return int(found)

        ids = {
            "institution": institution.id, "user": admin.id, "exam": seb.exam_id,
            "lms_setup": await first(Exam.lms_setup_id, Exam.id == seb.exam_id),
            "exam_configuration": await first(ExamConfigurationMapping.configuration_id,
                                              ExamConfigurationMapping.exam_id == seb.exam_id),
            "connection_configuration": await first(ConnectionConfiguration.id,
                                                    ConnectionConfiguration.name == seb.connection_config_name),
            "configuration_template": template.id, "exam_template": exam_template.id,
            "certificate": certificate.certificate.id, "location": location.id, "location_profile": profile.id,
            "indicator": await first(Indicator.id, Indicator.exam_id == seb.exam_id),
            "connection": await first(ClientConnection.id), "client_event": await first(ClientEvent.id),
            "audit_record": await first(LocationAuditRecord.id), "exception": exception.id,
            "room": await first(ProctoringRoom.id),
        }
    lookup = f"lms_setup_id={ids['lms_setup']}&quiz_id={OTHER_QUIZ}"
    queries = {  # pages that show what their query string names
        "/exams/import": lookup, "/lms-lookup/details": lookup,
        "/monitoring/{id:int}/location/allow": f"connection_id={ids['connection']}",
        "/location-audit/export": f"exam_id={seb.exam_id}&format=csv",
    }
    paths = {"/proctoring/assets/{type}/{name}": "/proctoring/assets/JITSI_MEET/jitsi_window.js"}
    return World(ids, {"suffix": institution.url_suffix or "none", "name": "allowQuit", "index": "0",
                       "version": "1"}, queries, paths)

