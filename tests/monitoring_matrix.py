"""The monitoring privilege matrix, shared by the admin API and the web UI tests: who may see an exam's live SEB
connections, read its client log texts and supervise it, for each role on an exam of its own institution and
on one of another institution; and the world both surfaces are tested against.

The matrix is written out as decided (docs/architecture.md, "Privileges and tenant isolation"); the API tests
check that every outcome also follows from ``sebframe.core.accounts.roles.PRIVILEGES`` (:func:`by_table`).
Outcomes: ``OK`` (done, shown), ``LISTED``/``HIDDEN`` (a list shows the exam's data or not), 404 (the caller may
not see the exam: nothing reveals it exists), 403 (it may see the exam but not this).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import pytest
from sqlalchemy import func, select, update

from sebframe.core.accounts.roles import PRIVILEGES, EntityType, Grant, Privilege, Role
from sebframe.core.db.models import (
    ClientConnection,
    ClientEvent,
    ClientInstruction,
    ClientNotification,
    ConnectionLocation,
    Institution,
    LocationOverride,
)
from sebframe.core.services import Services
from sebframe.core.session.clock import now_ms
from tests.client_log_helpers import Event, add_connection, add_events, add_exam
from tests.conftest import Factory

OK, LISTED, HIDDEN = "ok", "listed", "hidden"
SCOPES = ("own", "other")


class Staff(StrEnum):
    """The users of institution A the matrix is about (their usernames); the supporter is assigned to A's exam."""

    SSA = "root"
    IA = "a-admin"
    EA = "a-examadmin"
    ES = "a-supporter"
    BYSTANDER = "a-bystander"  # an exam supporter of A not assigned to the exam

    @property
    def role(self) -> Role:
        return {Staff.SSA: Role.SEB_SERVER_ADMIN, Staff.IA: Role.INSTITUTIONAL_ADMIN, Staff.EA: Role.EXAM_ADMIN,
                Staff.ES: Role.EXAM_SUPPORTER, Staff.BYSTANDER: Role.EXAM_SUPPORTER}[self]


# What each action needs, step by step, and the outcome when a step fails: ("exam", entity, privilege, denial)
# is the grant on this exam (the owner level: its assigned supporters), ("any", ...) any grant at all (lists).
WATCH = (("exam", EntityType.EXAM, Privilege.READ, 404), ("exam", EntityType.CLIENT_CONNECTION, Privilege.READ, 403))
SUPERVISE = (*WATCH, ("exam", EntityType.EXAM, Privilege.MODIFY, 403))
_WATCHING = ("connections", "stream", "search", "detail", "participation", "participation_csv", "lane",
             "placements", "overrides")  # the heat map / listing, its stream, the search, one connection, ...
_SUPERVISING = ("quit", "lock", "quit_all", "cancel", "confirm", "allow")  # instructions, ..., a location override
NEEDS: dict[str, tuple[tuple[str, EntityType, Privilege, Any], ...]] = {
    "running": (("any", EntityType.CLIENT_CONNECTION, Privilege.READ, 403),  # the running exams to monitor
                ("exam", EntityType.EXAM, Privilege.READ, HIDDEN),
                ("exam", EntityType.CLIENT_CONNECTION, Privilege.READ, HIDDEN)),
    **{action: WATCH for action in _WATCHING},
    **{action: SUPERVISE for action in _SUPERVISING},
    # the SEB client logs: the list, one event, the CSV, deleting the exam's events
    "logs": (("any", EntityType.CLIENT_EVENT, Privilege.READ, 403),
             ("exam", EntityType.CLIENT_EVENT, Privilege.READ, HIDDEN)),
    "log": (("any", EntityType.CLIENT_EVENT, Privilege.READ, 403),
            ("exam", EntityType.CLIENT_EVENT, Privilege.READ, 404)),
    "logs_csv": (("any", EntityType.CLIENT_EVENT, Privilege.READ, 403),
                 ("exam", EntityType.CLIENT_EVENT, Privilege.READ, HIDDEN)),
    "delete_logs": (("any", EntityType.CLIENT_EVENT, Privilege.WRITE, 403),
                    ("exam", EntityType.CLIENT_EVENT, Privilege.WRITE, HIDDEN)),
}
LIST_ACTIONS = frozenset({"running", "logs", "logs_csv", "delete_logs"})
WRITES = frozenset({*_SUPERVISING, "delete_logs"})


def _row(running: tuple[Any, Any], watch: tuple[Any, Any], supervise: tuple[Any, Any], logs: tuple[Any, Any],
         log: tuple[Any, Any], delete: tuple[Any, Any]) -> dict[str, tuple[Any, Any]]:
    return {"running": running, **{action: watch for action in _WATCHING},
            **{action: supervise for action in _SUPERVISING},
            "logs": logs, "log": log, "logs_csv": logs, "delete_logs": delete}


# staff -> action -> (on A's exam, on B's exam). SEB Server and institutional administrators watch their own
# institution's exams but read no client log texts and supervise nothing; exam administrators and the assigned
# supporter watch and supervise it; nobody reaches another institution's connections (a SEB Server administrator
# sees that exam, hence 403, the others do not, hence 404).
MONITORING_MATRIX: dict[Staff, dict[str, tuple[Any, Any]]] = {
    Staff.SSA: _row((LISTED, HIDDEN), (OK, 403), (403, 403), (403, 403), (403, 403), (403, 403)),
    Staff.IA: _row((LISTED, HIDDEN), (OK, 404), (403, 404), (403, 403), (403, 403), (403, 403)),
    Staff.EA: _row((LISTED, HIDDEN), (OK, 404), (OK, 404), (LISTED, HIDDEN), (OK, 404), (LISTED, HIDDEN)),
    Staff.ES: _row((LISTED, HIDDEN), (OK, 404), (OK, 404), (LISTED, HIDDEN), (OK, 404), (403, 403)),
    Staff.BYSTANDER: _row((HIDDEN, HIDDEN), (404, 404), (404, 404), (HIDDEN, HIDDEN), (404, 404), (403, 403)),
}


def by_table(staff: Staff, action: str, scope: str) -> Any:
    """The outcome ``PRIVILEGES`` gives, on A's exam (``own``, where the supporter is assigned) or B's."""
    for kind, entity, privilege, denial in NEEDS[action]:
        held = PRIVILEGES.get(entity, {}).get(staff.role, Grant())
        if kind == "any":
            level = max(held.overall, held.institutional, held.owner)
        else:
            own = scope == "own"
            level = max(held.overall, held.institutional if own else Privilege.NONE,
                        held.owner if own and staff is Staff.ES else Privilege.NONE)
        if level < privilege:
            return denial
    return LISTED if action in LIST_ACTIONS else OK


def cases(actions: set[str] | frozenset[str]) -> list[Any]:
    """pytest params (staff, action, scope, expected) for the actions a surface has."""
    return [pytest.param(staff, action, scope, expected[index], id=f"{staff.name}-{action}-{scope}")
            for staff, row in MONITORING_MATRIX.items() for action, expected in row.items() if action in actions
            for index, scope in enumerate(SCOPES)]


def may_read_logs(staff: Staff, scope: str) -> bool:
    """Whether the exam's client log texts (events, notification texts) may appear in what ``staff`` gets."""
    return MONITORING_MATRIX[staff]["log"][SCOPES.index(scope)] == OK


# -- the world ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExamSide:
    """One exam with a live connection (events, a raised hand, a blocked location decision), a closed one (to
    cancel) and a location override; the texts that identify them in a response body."""

    exam_id: int
    connection_id: int
    token: str
    closed_id: int
    closed_token: str
    notification_id: int
    event_id: int
    user: str  # the connection's user
    address: str
    log_text: str
    hand_text: str
    override_address: str
    approval_code: str  # of the connection's blocked location decision

    @property
    def markers(self) -> tuple[str, ...]:
        """Everything of the exam's connections a response may contain only for those who may see them."""
        return (self.user, self.address, self.log_text, self.hand_text, self.override_address)


@dataclass(frozen=True)
class MonitoringWorld:
    own: ExamSide  # institution A's exam; "a-supporter" is assigned to it
    other: ExamSide  # institution B's exam

    def side(self, scope: str) -> ExamSide:
        return self.own if scope == "own" else self.other


async def add_staff(factory: Factory, institution: Institution) -> dict[Staff, int]:
    """The matrix's users of A (the web tests; the admin API world has all but the bystander); their ids."""
    return {staff: (await factory.user(institution, staff.value, staff.role)).id for staff in Staff}


async def monitoring_world(factory: Factory, a: Institution, b: Institution, supporter_id: int) -> MonitoringWorld:
    """A's exam (``supporter_id`` assigned) and B's exam (a supporter of B assigned), each with its data."""
    b_supporter = await factory.user(b, f"b-supporter-{secrets.token_hex(2)}", Role.EXAM_SUPPORTER)
    own = await _side(factory.services, a, "a", "10.1", supporter_id)
    other = await _side(factory.services, b, "b", "10.2", b_supporter.id)
    return MonitoringWorld(own, other)


async def _side(services: Services, institution: Institution, tag: str, net: str, supporter_id: int) -> ExamSide:
    exam = await add_exam(services, institution.id, f"Exam of {tag.upper()}", supporter_ids=[supporter_id])
    user = f"student-of-{tag}"
    connection = await add_connection(services, exam, user, address=f"{net}.0.7", machine=f"PC-{tag}")
    closed = await add_connection(services, exam, user, address=f"{net}.0.7", machine=f"PC-{tag}")
    recent = now_ms() - 60_000  # the web list of client logs opens on the last day
    [event_id] = await add_events(services, connection, [Event("ERROR_LOG", 0, f"log-text-of-{tag}",
                                                               server_ms=recent)])
    async with services.db.transaction() as session:
        await session.execute(update(ClientConnection).where(ClientConnection.id == closed.id)
                              .values(status="CLOSED"))
        notification = ClientNotification(connection_id=connection.id, notification_type="raisehand", value=1,
                                          text=f"hand-text-of-{tag}", created_ms=recent)
        session.add(notification)
        session.add(ConnectionLocation(connection_id=connection.id, exam_id=exam.id, status="BLOCKED",
                                       reason="NO_MATCH", address=f"{net}.0.7", approval_code=f"{tag.upper()}7Q",
                                       decided_ms=recent))
        session.add(LocationOverride(exam_id=exam.id, scope="ADDRESS", address=f"{net}.9.9", reason="pool room",
                                     created_by="proctor", expires_at=datetime.now(UTC) + timedelta(hours=1),
                                     active_key=f"{exam.id}:ADDRESS:{net}.9.9"))
        await session.flush()
        notification_id = notification.id
    return ExamSide(exam.id, connection.id, connection.connection_token, closed.id, closed.connection_token,
                    notification_id, event_id, user, f"{net}.0.7", f"log-text-of-{tag}", f"hand-text-of-{tag}",
                    f"{net}.9.9", f"{tag.upper()}7Q")


# -- effects -----------------------------------------------------------------------------------------------


async def effect(services: Services, side: ExamSide, action: str) -> bool:
    """Whether the write ``action`` happened on the exam (False for actions that write nothing)."""
    async with services.db.read() as session:
        if action in ("quit", "lock", "quit_all"):
            return bool((await session.execute(select(func.count()).select_from(ClientInstruction).where(
                ClientInstruction.connection_id == side.connection_id))).scalar_one())
        if action == "cancel":
            status = (await session.execute(select(ClientConnection.status).where(
                ClientConnection.id == side.closed_id))).scalar_one()
            return bool(status == "DISABLED")
        if action == "confirm":
            return (await session.execute(select(ClientNotification.confirmed_ms).where(
                ClientNotification.id == side.notification_id))).scalar_one() is not None
        if action == "allow":
            return bool((await session.execute(select(func.count()).select_from(LocationOverride).where(
                LocationOverride.exam_id == side.exam_id))).scalar_one() > 1)
        if action == "delete_logs":
            return not (await session.execute(select(func.count()).select_from(ClientEvent).where(
                ClientEvent.exam_id == side.exam_id))).scalar_one()
    return False


def assert_body(body: str, staff: Staff, action: str, scope: str, world: MonitoringWorld, *, shown: bool,
                wanted: str | None, texts: tuple[str, ...] = ()) -> None:
    """What a response may contain: the targeted exam's ``wanted`` marker exactly when ``shown``, its client log
    ``texts`` exactly when shown to somebody who may read them (and no log text of it otherwise), and never
    anything of the other institution's connections."""
    for marker in world.other.markers:
        assert marker not in body, (staff, action, scope, marker)
    side = world.side(scope)
    if wanted is not None:
        assert (wanted in body) == shown, (staff, action, scope, wanted, shown)
    logs = may_read_logs(staff, scope)
    for text in texts:
        assert (text in body) == (shown and logs), (staff, action, scope, text)
    if not logs:
        assert side.log_text not in body and side.hand_text not in body, (staff, action, scope)
