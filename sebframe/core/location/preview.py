"""What-if questions about addresses: "who would be blocked" if a profile's rules changed, and "which
locations, rooms and profiles is this address in" (the public check API and the "where am I" page).

The preview runs a draft of a profile against the current connections of the running exams that use it
(or one chosen exam), next to today's decision, so an exam office sees who changes before saving.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, func, or_, select

from sebframe.core.accounts.actor import Actor
from sebframe.core.accounts.roles import EntityType, Privilege
from sebframe.core.db import Database
from sebframe.core.db.models import (
    ACTIVE_STATES,
    ClientConnection,
    ConnectionLocation,
    Exam,
    ExamLocationProfile,
    Location,
    LocationProfile,
)
from sebframe.core.errors import NotFound, ValidationFailed
from sebframe.core.exams.access import load_monitored_exam, visible
from sebframe.core.location.decide import Decision, ProfileVersion, Reason, decide
from sebframe.core.location.gate import LocationGate
from sebframe.core.location.profiles import LocationProfileService, RulesRejected
from sebframe.core.location.rules import Action, compile_profile
from sebframe.core.location.schemas import LocationStatus
from sebframe.core.net import parse_address

MAX_PREVIEW_CONNECTIONS = 20_000


@dataclass(frozen=True, slots=True)
class PreviewRow:
    connection_id: int
    exam_id: int
    exam_name: str
    user: str | None
    address: str | None
    before: Decision
    after: Decision

    @property
    def changed(self) -> bool:
        return self.before.allowed != self.after.allowed


@dataclass(frozen=True, slots=True)
class Preview:
    rows: list[PreviewRow]

    @property
    def newly_blocked(self) -> int:
        return sum(1 for row in self.rows if row.before.allowed and not row.after.allowed)

    @property
    def newly_allowed(self) -> int:
        return sum(1 for row in self.rows if not row.before.allowed and row.after.allowed)

    @property
    def blocked(self) -> int:
        return sum(1 for row in self.rows if not row.after.allowed)


@dataclass(frozen=True, slots=True)
class ProfileHit:
    """An address inside a profile: the deciding rule, its action and labels."""

    profile_id: int
    profile_name: str
    location_id: int | None
    location_name: str
    action: Action
    rule: str  # "line:ACTION spec"
    room: str
    seat: str


class LocationPreview:
    def __init__(self, db: Database, profiles: LocationProfileService, gate: LocationGate) -> None:
        self.db = db
        self.profiles = profiles
        self.gate = gate

    async def who_would_be_blocked(self, actor: Actor, profile_id: int, draft_rules: str | None = None,
                                   exam_id: int | None = None) -> Preview:
        """The current connections of the running exams that use the profile (or of ``exam_id``), decided
        with the profile as it is and with ``draft_rules`` instead (the saved rules when None)."""
        profile = await self.profiles.get_profile(actor, profile_id)
        text = profile.rules_text if draft_rules is None else draft_rules
        parsed = self.profiles.check_rules(text)
        if not parsed.ok:
            raise RulesRejected(parsed)
        draft = ProfileVersion(profile.id, profile.version + 1, profile.name, profile.help_text,
                               profile.default_room, compile_profile(parsed.rules))
        async with self.db.read() as session:
            # Only exams whose connections the actor may see (CLIENT_CONNECTION read): reading a profile is not
            # reading who sits in its rooms (a SEB Server administrator reads every institution's profiles).
            if exam_id is not None:
                exam = (await load_monitored_exam(session, actor, exam_id)).exam
                exam_ids = [exam.id]
            else:
                exam_ids = list((await session.execute(visible(
                    select(Exam.id).join(ExamLocationProfile, ExamLocationProfile.exam_id == Exam.id)
                    .where(ExamLocationProfile.profile_id == profile.id, Exam.status == "RUNNING"),
                    actor, Privilege.READ, EntityType.CLIENT_CONNECTION))).scalars())
            # Bound connections, and clients refused before they could bind (their exam is in the snapshot).
            exam_of = func.coalesce(ClientConnection.exam_id, ConnectionLocation.exam_id)
            rows = (await session.execute(
                select(ClientConnection.id, exam_of.label("exam_id"), ClientConnection.user_session_id,
                       func.coalesce(ClientConnection.lms_user_session_id, ConnectionLocation.user_id)
                       .label("lms_user_session_id"), ClientConnection.client_address, Exam.name)
                .outerjoin(ConnectionLocation, ConnectionLocation.connection_id == ClientConnection.id)
                .join(Exam, Exam.id == exam_of)
                .where(ClientConnection.status.in_([state.value for state in ACTIVE_STATES]),
                       or_(ClientConnection.exam_id.in_(exam_ids),
                           and_(ClientConnection.exam_id.is_(None), ConnectionLocation.exam_id.in_(exam_ids),
                                ConnectionLocation.status == LocationStatus.BLOCKED)))
                .order_by(exam_of, ClientConnection.id).limit(MAX_PREVIEW_CONNECTIONS))).all()
        now = datetime.now(UTC)
        result = []
        by_exam: dict[int, list[Any]] = {}
        for row in rows:
            by_exam.setdefault(row.exam_id, []).append(row)
        for each_exam in exam_ids:
            restriction = await self.gate.restriction(each_exam)
            if restriction is None:
                continue
            if not any(version.profile_id == profile.id for version in restriction.profiles):
                # a chosen exam without this profile: preview it as if the draft were added
                changed = restriction.profiles + (draft,)
            else:
                changed = tuple(draft if version.profile_id == profile.id else version
                                for version in restriction.profiles)
            after_restriction = replace(restriction, profiles=changed, suspended=False)
            before_restriction = replace(restriction, suspended=False)
            for row in by_exam.get(each_exam, ()):
                users = tuple(filter(None, (row.lms_user_session_id, row.user_session_id)))
                before = (decide(before_restriction, row.client_address, connection_id=row.id, user_ids=users,
                                 now=now) if before_restriction.profiles else Decision(True, Reason.UNRESTRICTED))
                after = decide(after_restriction, row.client_address, connection_id=row.id, user_ids=users, now=now)
                result.append(PreviewRow(row.id, row.exam_id, row.name, row.user_session_id, row.client_address,
                                         before, after))
        return Preview(result)

    async def check_address(self, actor: Actor, address: str) -> list[ProfileHit]:
        """The visible profiles of the actor's institution that have a rule for ``address``."""
        parsed = parse_address(address or "")
        if parsed is None:
            raise ValidationFailed({"address": "give an IPv4 or IPv6 address, e.g. 192.0.2.10 or 2001:db8::1"})
        if not actor.may(Privilege.READ, EntityType.LOCATION, institution_id=actor.institution_id):
            raise NotFound("no locations")
        async with self.db.read() as session:
            rows = (await session.execute(
                select(LocationProfile, Location.name).outerjoin(Location, Location.id == LocationProfile.location_id)
                .where(LocationProfile.institution_id == actor.institution_id, LocationProfile.hidden.is_(False))
                .order_by(LocationProfile.name))).all()
        hits = []
        for profile, location_name in rows:
            version = self.gate.compiler.version_of(profile, location_name or "")
            rule = version.compiled.match(parsed)
            if rule is None:
                continue
            hits.append(ProfileHit(profile.id, profile.name, profile.location_id, location_name or "", rule.action,
                                   f"{rule.line}:{rule.action.value} {rule.spec}", rule.room or profile.default_room,
                                   rule.seat or ""))
        return hits
