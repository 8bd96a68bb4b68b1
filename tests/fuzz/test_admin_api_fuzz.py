"""Property-based fuzzing of the admin API and the public API from their OpenAPI documents (schemathesis).

Every documented operation gets requests generated from its schema: the "coverage" phase (boundary values,
every kind of malformed input: wrong types, missing fields, bad path and query values, unexpected methods,
missing or wrong credentials) and the "fuzzing" phase (random valid and invalid data). They run as a SEB
Server administrator, an institutional administrator and an exam administrator, on a seeded database whose
ids the path parameters mostly take, so requests reach real entities. No answer may be a server error, and
every answer must match the document (status code, content type, JSON schema of the body).

Bounded and deterministic: a fixed seed, derandomized generation, a fixed number of examples per operation.
Each run gets a freshly seeded world, so a DELETE in one run cannot starve the next.
"""

from __future__ import annotations

import base64
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import schemathesis
import sebframe_proctoring_jitsi.plugin
from schemathesis.engine import events, from_schema
from schemathesis.python import asgi as schemathesis_asgi

from sebframe.app import create_app
from sebframe.core.accounts.passwords import hash_password
from sebframe.core.accounts.roles import Role
from sebframe.core.db.models import ClientConnection, Exam, UserAccount, UserRoleGrant
from sebframe.core.services import Services
from sebframe.core.session.clock import now_ms
from sebframe.settings import Settings
from sebframe.testing.fakes.jitsi import FakeJitsi
from tests.api.admin.helpers import BASE, PNG
from tests.api.admin.test_admin_certificates import certificate_der
from tests.client_log_helpers import Event, add_connection, add_events
from tests.conftest import PASSWORD, Factory
from tests.exam_helpers import TESTING_SETTINGS, exam_services
from tests.proctoring_helpers import jitsi_settings, supervise

SEED = 20261122
# Random examples per operation and identity in the fuzzing phase (each positive and negative); the coverage
# phase sends its fixed set of boundary and malformed cases besides. Together about two and a half minutes of
# one core on SQLite (some 30,000 requests).
FUZZ_EXAMPLES = 8
PUBLIC_FUZZ_EXAMPLES = 200  # the public API is one operation: its address parsing gets many more
IDENTITY_ROLES = {"root": Role.SEB_SERVER_ADMIN, "a-admin": Role.INSTITUTIONAL_ADMIN, "a-examadmin": Role.EXAM_ADMIN}
IDENTITIES = tuple(IDENTITY_ROLES)
IDENTITY_IDS = 900_001
PHASES = ("coverage", "fuzzing")
# Which entity an ``{id}`` path parameter names, by the path's first segment; other path parameters by name.
ID_KINDS = {
    "institutions": "institution", "users": "user", "certificates": "certificate",
    "connection-configurations": "connection_config", "exam-configurations": "exam_config",
    "configuration-templates": "template", "lms-setups": "lms_setup", "exams": "exam", "monitoring": "exam",
    "exam-templates": "exam_template", "client-logs": "client_log", "locations": "location",
    "location-profiles": "profile", "location-audit": "audit",
}
PARAMETER_KINDS = {"indicator_id": "indicator", "exception_id": "exception", "version": "version", "room": "room"}
# Share of generated path parameters that take a seeded id; the rest are random (mostly unknown ids).
SEEDED_ID_SHARE = 0.8
# Body fields that name something (an id, a type, a quiz) or must match (passwords), with the values that get
# past the first check, so generated requests also reach the services' deeper paths: field -> dictionary.
BODY_FIELDS = {
    "lms_setup_id": "lms_setup", "quiz_id": "quiz", "supporter_ids[*]": "user", "exam_template_id": "exam_template",
    "configuration_id": "exam_config", "configuration_template_id": "template", "template_id": "template",
    "certificate_id": "certificate", "location_id": "location", "profile_ids[*]": "profile",
    "institution_id": "institution", "connection_id": "connection", "lms_type": "lms_type",
    "indicator_type": "indicator_type", "indicators[*].indicator_type": "indicator_type", "color": "color",
    "thresholds[*].color": "color", "indicators[*].color": "color", "attribute": "attribute",
    "password": "password", "confirm_password": "password", "current_password": "password", "data": "certificate_data",
}
SEEDED_BODY_SHARE = 0.5


@dataclass
class SeededWorld:
    """What seeding created: admin API tokens by username; ids of entities, and other valid values, by kind."""

    tokens: dict[str, str] = field(default_factory=dict)
    values: dict[str, list[int | str]] = field(default_factory=dict)


class FuzzedServer:
    """The whole server as an ASGI app whose lifespan builds the services and seeds a world.

    Schemathesis calls an ASGI app in its own thread and event loop; the services (database pools) must live
    in that loop, so they are created at the lifespan startup it sends and closed (tables emptied) at its
    shutdown. Requests go to the real application, as in production, without its background tasks.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.world = SeededWorld()
        self._app: Any = None
        self.jitsi = FakeJitsi().start()  # the exams' live proctoring: settings are saved with a connection test

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        else:
            await self._app(scope, receive, send)

    async def _lifespan(self, receive: Any, send: Any) -> None:
        await receive()  # lifespan.startup
        async with exam_services(self.settings, sebframe_proctoring_jitsi.plugin) as services:
            try:
                self._app = create_app(services=services)
                self.world = await seed(services, self._app, self.jitsi)
            except Exception as exc:
                await send({"type": "lifespan.startup.failed", "message": f"seeding failed: {exc!r}"})
                return
            await send({"type": "lifespan.startup.complete"})
            await receive()  # lifespan.shutdown
        await send({"type": "lifespan.shutdown.complete"})

    def start(self) -> SeededWorld:
        """Build services and seed a fresh world: entering schemathesis's client starts the app's lifespan, which
        then runs until ``stop``."""
        with schemathesis_asgi.get_client(self):
            return self.world

    def stop(self) -> None:
        schemathesis_asgi.shutdown_lifespans()
        self.jitsi.stop()


async def seed(services: Services, app: Any, jitsi: FakeJitsi) -> SeededWorld:
    """Two institutions, one user per role, and of every entity the admin API has a path for one to keep and
    one to spare (what the deleting and deactivating operations get, so the others still find theirs)."""
    world = SeededWorld()
    factory = Factory(services)
    a = await factory.institution("ETH Zurich", url_suffix="eth")
    b = await factory.institution("University of Zurich", url_suffix="uzh")
    users = {username: await factory.user(institution, username, role) for institution, username, role in
             [(a, "a-supporter", Role.EXAM_SUPPORTER), (a, "a-spare", Role.EXAM_SUPPORTER),
              (b, "b-admin", Role.INSTITUTIONAL_ADMIN)]}
    # The identities the fuzzer calls as get ids far above its small guesses: no generated request deactivates
    # them, changes their roles or password (which revokes their tokens) or deletes them.
    for offset, (username, role) in enumerate(IDENTITY_ROLES.items()):
        async with services.db.transaction() as session:
            session.add(UserAccount(id=IDENTITY_IDS + offset, institution_id=a.id, username=username,
                                    name=username.title(), surname="Tester", email=f"{username}@example.org",
                                    timezone="UTC", password_hash=hash_password(PASSWORD), active=True,
                                    roles=[UserRoleGrant(role=role.value)]))
    for username in [*users, *IDENTITY_ROLES]:
        world.tokens[username] = await factory.token(username)
    values: dict[str, list[int | str]] = {
        "institution": [a.id, b.id], "spare_institution": [b.id], "user": [user.id for user in users.values()],
        "spare_user": [users["a-spare"].id], "version": [1],
    }

    def add(kind: str, entity: dict[str, Any]) -> dict[str, Any]:
        values.setdefault(kind, []).append(entity["id"])
        return entity

    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:

        async def call(username: str, method: str, path: str, status: int = 201, **kwargs: Any) -> Any:
            headers = {"Authorization": f"Bearer {world.tokens[username]}", **kwargs.pop("headers", {})}
            response = await client.request(method, BASE + path, headers=headers, **kwargs)
            assert response.status_code == status, (method, path, response.status_code, response.text)
            return response.json()

        await call("root", "PUT", f"/institutions/{a.id}/logo", 200, content=PNG,
                   headers={"Content-Type": "image/png"})
        lms_setup = add("lms_setup", await call("a-admin", "POST", "/lms-setups", json={
            "name": "Fuzz LMS", "lms_type": "TESTING", "url": "https://lms.example.org", "active": True,
            "settings": TESTING_SETTINGS}))
        for spare, prefix in ((False, ""), (True, "spare_")):
            name = "Fuzz spare" if spare else "Fuzz"
            add(f"{prefix}certificate", await call("a-admin", "POST", "/certificates", json={
                "data": base64.b64encode(certificate_der(f"{prefix}fuzz.example.org")).decode()}))
            add(f"{prefix}connection_config", await call("a-admin", "POST", "/connection-configurations",
                                                         json={"name": name, "active": True}))
            add(f"{prefix}exam_config", await call("a-examadmin", "POST", "/exam-configurations",
                                                   json={"name": f"{name} draft"}))
            ready = add(f"{prefix}exam_config", await call("a-examadmin", "POST", "/exam-configurations",
                                                           json={"name": f"{name} ready", "status": "READY_TO_USE"}))
            add(f"{prefix}template", await call("a-examadmin", "POST", "/configuration-templates",
                                                json={"name": f"{name} template"}))
            add(f"{prefix}exam_template", await call("a-examadmin", "POST", "/exam-templates",
                                                     json={"name": f"{name} exam template"}))
            if spare:
                add("spare_lms_setup", await call("a-admin", "POST", "/lms-setups", json={
                    "name": "Fuzz spare LMS", "lms_type": "TESTING", "url": "https://lms.example.org",
                    "active": True, "settings": TESTING_SETTINGS}))
            exam = add(f"{prefix}exam", await call("a-examadmin", "POST", "/exams", json={
                "lms_setup_id": lms_setup["id"], "quiz_id": "quiz6" if spare else "quiz1",
                "supporter_ids": [users["a-supporter"].id]}))
            await call("a-examadmin", "POST", f"/exams/{exam['id']}/configuration",
                       json={"configuration_id": ready["id"]})
            add(f"{prefix}indicator", await call("a-examadmin", "POST", f"/exams/{exam['id']}/indicators", json={
                "name": "Battery", "indicator_type": "BATTERY_STATUS",
                "thresholds": [{"value": 20, "color": "ffc20e"}]}))
            location = add(f"{prefix}location", await call("a-admin", "POST", "/locations", json={"name": name}))
            profile = add(f"{prefix}profile", await call("a-admin", "POST", "/location-profiles", json={
                "name": f"{name} profile", "rules": "ALLOW 10.1.0.0/24 room=A", "location_id": location["id"]}))
            await call("a-examadmin", "PUT", f"/exams/{exam['id']}/location", 200,
                       json={"profile_ids": [profile["id"]]})
            add(f"{prefix}exception", await call("a-examadmin", "POST", f"/exams/{exam['id']}/location/exceptions",
                                                 json={"name": "fuzz-user"}))
            # A closed SEB connection (participation) and a SEB client log event of the exam.
            async with services.db.transaction() as session:
                session.add(ClientConnection(connection_token=f"{prefix}fuzz-closed", institution_id=a.id,
                                             exam_id=exam["id"], status="CLOSED", client_address="10.1.0.7",
                                             created_ms=now_ms(), changed_ms=now_ms()))
            async with services.db.read() as session:
                exam_row = await session.get(Exam, exam["id"])
            assert exam_row is not None
            connection = await add_connection(services, exam_row, "fuzz-user", address="10.2.0.9")
            values.setdefault(f"{prefix}connection", []).append(connection.id)
            values.setdefault(f"{prefix}client_log", []).extend(
                await add_events(services, connection, [Event("INFO_LOG", 1, "Fuzz", 1)]))
            # Live proctoring (Jitsi) with the active connection in its collecting room.
            await call("a-examadmin", "PUT", f"/exams/{exam['id']}/proctoring", 200, json=jitsi_settings(jitsi))
            await supervise(services)
            rooms = await call("a-examadmin", "GET", f"/exams/{exam['id']}/proctoring/rooms", 200)
            values.setdefault(f"{prefix}room", []).extend(room["id"] for room in rooms["items"])
        values["audit"] = [entry["id"] for entry in (await call("a-admin", "GET", "/location-audit", 200))["items"]]
        values["lms_type"] = [item["name"] for item in (await call("a-admin", "GET", "/lms-types", 200))["items"]]
        values["indicator_type"] = [item["name"] for item in
                                    (await call("a-examadmin", "GET", "/indicator-types", 200))["items"]]

    world.values = {
        **values, "quiz": ["quiz2 äöüèÜÄÖ ?<", "quiz4", "quiz5"], "color": ["ffc20e", "00ff00"],
        "attribute": ["allowQuit", "browserViewMode"], "password": [PASSWORD],
        "address": ["10.1.0.7", "10.2.0.9", "::ffff:10.1.0.8", "2001:db8::1"],
        "certificate_data": [base64.b64encode(certificate_der("posted.example.org")).decode()],
    }
    return world


def fuzz_config(world: SeededWorld, username: str, phase: str, operations: list[tuple[str, str]],
                examples: int) -> schemathesis.Config:
    return schemathesis.Config.from_dict({
        "seed": SEED,
        "workers": 1,
        "cache": {"enabled": False},  # nothing written to disk
        # Nothing that depends on the machine's speed: a loaded CI machine gets the same verdict.
        "suppress-health-check": ["too_slow"],
        "request-timeout": 120,
        "auth": {"openapi": {"bearer": {"bearer": world.tokens[username]}}},
        "generation": {"deterministic": True, "max-examples": examples, "mode": "all", "database": "none"},
        # Values come from the schema and the seeded dictionaries only, not from earlier responses: those name
        # the identities, and the runs stay reproducible.
        "phases": {"examples": {"enabled": False}, "stateful": {"enabled": False},
                   "coverage": {"enabled": phase == "coverage", "extra-data-sources": {"responses": False}},
                   "fuzzing": {"enabled": phase == "fuzzing", "extra-data-sources": {"responses": False}}},
        # A schema-valid request may still break a business rule (a 409 or 422 is right then), and the
        # document cannot express every rule: those two checks do not apply. All others do (no 5xx, status
        # code, content type and body documented, authentication enforced, 405 with Allow).
        "checks": {"positive_data_acceptance": {"enabled": False}, "negative_data_rejection": {"enabled": False}},
        "dictionaries": {kind: {"values": values} for kind, values in world.values.items() if values},
        "parameters": {**{f"body.{name}": {"dictionary": kind, "probability": SEEDED_BODY_SHARE}
                          for name, kind in BODY_FIELDS.items() if world.values.get(kind)},
                       "query.address": {"dictionary": "address", "probability": SEEDED_BODY_SHARE}},
        "operations": seeded_path_parameters(world, operations),
    })


def seeded_path_parameters(world: SeededWorld, operations: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """Per documented operation, its path parameters bound to the seeded ids of the entity they name: the
    spare one for an operation that deletes or deactivates its entity."""
    configs = []
    for method, path in operations:
        destroys = path.endswith("/deactivate") or method == "DELETE" and path.count("/") == 2
        parameters = {}
        for name in re.findall(r"{(\w+)}", path):
            kind = ID_KINDS.get(path.split("/")[1]) if name == "id" else PARAMETER_KINDS.get(name)
            if kind is not None and destroys and f"spare_{kind}" in world.values:
                kind = f"spare_{kind}"
            if kind is not None:
                parameters[f"path.{name}"] = {"dictionary": kind, "probability": SEEDED_ID_SHARE}
        if parameters:
            configs.append({"include-name": f"{method} {path}", "parameters": parameters})
    return configs


@dataclass(frozen=True)
class Problem:
    """A failed check: enough to reproduce it and to see why."""

    username: str
    phase: str
    operation: str
    title: str
    message: str
    curl: str
    response: str = ""

    def describe(self) -> str:
        lines = [f"{self.operation} — {self.title} (as {self.username}, {self.phase})"]
        lines += [f"    {line}" for line in self.message.strip().splitlines()[:12]]
        lines.append(f"    {self.curl if len(self.curl) < 1500 else self.curl[:1500] + '…'}")
        if self.response:
            lines.append(f"    -> {self.response}")
        return "\n".join(lines)


@dataclass
class RunReport:
    problems: list[Problem] = field(default_factory=list)
    operations: set[str] = field(default_factory=set)
    documented: set[str] = field(default_factory=set)
    succeeded: set[str] = field(default_factory=set)  # operations that answered 2xx at least once
    statuses: Counter[int] = field(default_factory=Counter)


def run_engine(schema: Any, username: str, phase: str, report: RunReport) -> None:
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            recorder = event.recorder
            report.operations.add(recorder.label)
            statuses = [interaction.response.status_code for interaction in recorder.interactions.values()
                        if interaction.response is not None]
            report.statuses.update(statuses)
            if any(200 <= status < 300 for status in statuses):
                report.succeeded.add(recorder.label)
            for case_id, checks in recorder.checks.items():
                for check in checks:
                    if check.failure_info is not None:
                        failure = check.failure_info.failure
                        interaction = recorder.interactions.get(case_id)
                        response = interaction.response if interaction is not None else None
                        answer = f"{response.status_code} {response.text_lossy()[:300]}" if response is not None else ""
                        report.problems.append(Problem(username, phase, recorder.label, failure.title,
                                                       failure.message, check.failure_info.code_sample, answer))
        elif isinstance(event, events.NonFatalError):
            report.problems.append(Problem(username, phase, event.label, "engine error", str(event.value), ""))
        elif isinstance(event, events.FatalError):
            report.problems.append(Problem(username, phase, "(run)", "fatal engine error", str(event.exception), ""))


def fuzz(server: FuzzedServer, document: str, usernames: tuple[str, ...], examples: int) -> RunReport:
    report = RunReport()
    for username in usernames:
        for phase in PHASES:
            world = server.start()
            try:
                with schemathesis_asgi.get_client(server) as client:
                    paths = client.get(document).json()["paths"]
                operations = [(method.upper(), path) for path, item in paths.items() for method in item]
                report.documented = {f"{method} {path}" for method, path in operations}
                config = fuzz_config(world, username, phase, operations, examples)
                run_engine(schemathesis.openapi.from_asgi(document, server, config=config), username, phase, report)
                # The identity must have survived its own run, or the rest of it tested only the 401 path.
                with schemathesis_asgi.get_client(server) as client:
                    me = client.get(BASE + "/me", headers={"Authorization": f"Bearer {world.tokens[username]}"})
                assert me.status_code == 200, f"{username} lost access during the {phase} phase: {me.text}"
            finally:
                server.stop()
    return report


def failure_list(report: RunReport) -> str:
    unique: dict[tuple[str, str], Problem] = {}
    for problem in report.problems:
        unique.setdefault((problem.operation, problem.title), problem)
    lines = [f"{len(unique)} failing operation/check pairs ({len(report.problems)} failures):"]
    lines += [problem.describe() for _, problem in sorted(unique.items())]
    return "\n".join(lines)


@pytest.fixture
def server(settings: Settings) -> Iterator[FuzzedServer]:
    server = FuzzedServer(settings)
    try:
        yield server
    finally:
        server.stop()


@pytest.mark.slow
def test_admin_api_answers_every_generated_request_without_server_error_and_as_documented(
    server: FuzzedServer,
) -> None:
    document = BASE + "/openapi.json"
    report = fuzz(server, document, IDENTITIES, FUZZ_EXAMPLES)
    assert not report.problems, failure_list(report)
    assert report.operations == report.documented  # every operation was exercised
    assert not [status for status in report.statuses if status >= 500]
    # The seeded world works: requests get past validation and privileges to the services, not only refusals.
    assert len(report.succeeded) >= 0.85 * len(report.documented), sorted(report.documented - report.succeeded)


@pytest.mark.slow
def test_public_api_answers_every_generated_request_without_server_error_and_as_documented(
    server: FuzzedServer,
) -> None:
    document = "/api/v1/openapi.json"
    report = fuzz(server, document, ("root", "a-examadmin"), PUBLIC_FUZZ_EXAMPLES)
    assert not report.problems, failure_list(report)
    assert report.operations == report.documented
    assert report.succeeded == report.documented, report.statuses


def test_the_failure_list_names_operation_check_identity_and_request() -> None:
    report = RunReport(problems=[
        Problem("root", "fuzzing", "POST /exams", "Server error", "Status 500\n" + "detail\n" * 20,
                "curl -X POST http://testserver/admin-api/v1/exams", '500 {"error":"internal_error"}'),
        Problem("a-admin", "coverage", "POST /exams", "Server error", "Status 500", "curl …"),
    ])
    text = failure_list(report)
    assert text.startswith("1 failing operation/check pairs (2 failures):")
    assert "POST /exams — Server error (as root, fuzzing)" in text
    assert "curl -X POST http://testserver/admin-api/v1/exams" in text
    assert '-> 500 {"error":"internal_error"}' in text
    assert len(re.findall("detail", text)) == 11  # long messages are cut
