"""Testing-center locations and IP profiles: create, edit (each edit of the rules is a new immutable version),
hide and unhide (never delete), validate before save, compile for checks.

Exam offices and institutional administrators write them (``EntityType.LOCATION``); exam supporters read
them. Another institution's locations and profiles are "not found".
"""

from __future__ import annotations

import difflib
import logging
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from sebframe.core.accounts.activity import Activity, record_activity
from sebframe.core.accounts.actor import Actor, Scope
from sebframe.core.accounts.roles import EntityType, Privilege
from sebframe.core.db import Database, is_valid_id
from sebframe.core.db.models import Exam, ExamLocationProfile, Location, LocationProfile, LocationProfileVersion
from sebframe.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from sebframe.core.exams.access import visible
from sebframe.core.location.audit_format import AuditCode
from sebframe.core.location.audit_log import LocationAudit
from sebframe.core.location.decide import ProfileVersion
from sebframe.core.location.rules import CompiledProfile, ParsedProfile, compile_profile, parse_profile
from sebframe.core.location.schemas import LocationInput, ProfileInput
from sebframe.core.net import IPNetwork
from sebframe.core.paging import AnySelect, ListParams, Page, contains, fetch_page

log = logging.getLogger(__name__)

LOCATION_FILTERS = ("name", "hidden")
PROFILE_FILTERS = ("name", "location", "hidden")
_COMPILED_CACHE = 512  # profile versions kept compiled per process

EntityT = TypeVar("EntityT", Location, LocationProfile)


class RulesRejected(ValidationFailed):
    """The rules have errors; ``parsed`` carries every line-numbered issue (errors and warnings)."""

    def __init__(self, parsed: ParsedProfile) -> None:
        self.parsed = parsed
        super().__init__({"rules": "\n".join(issue.message for issue in parsed.errors)},
                         f"the rules have {len(parsed.errors)} error(s)")


@dataclass(frozen=True, slots=True)
class ProfileUsage:
    """The exams that have a profile: those the reader may see (id, name, status), and how many in all."""

    exams: list[tuple[int, str, str]] = field(default_factory=list)
    total: int = 0

    @property
    def hidden_from_reader(self) -> int:
        return self.total - len(self.exams)


class ProfileCompiler:
    """Compiled profile versions, cached by (profile id, version): versions never change once written."""

    def __init__(self, size: int = _COMPILED_CACHE) -> None:
        self._size = size
        self._cache: OrderedDict[tuple[int, int], CompiledProfile] = OrderedDict()

    def compiled(self, profile_id: int, version: int, rules_text: str) -> CompiledProfile:
        key = (profile_id, version)
        found = self._cache.get(key)
        if found is None:
            # Stored rules were valid when saved; a line that no longer parses (a stricter release) is left
            # out rather than failing every check of the exam.
            found = compile_profile(parse_profile(rules_text).rules)
            self._cache[key] = found
            if len(self._cache) > self._size:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(key)
        return found

    def version_of(self, profile: LocationProfile, location_name: str = "") -> ProfileVersion:
        return ProfileVersion(profile.id, profile.version, profile.name, profile.help_text, profile.default_room,
                              self.compiled(profile.id, profile.version, profile.rules_text), location_name)


class LocationProfileService:
    def __init__(self, db: Database, audit: LocationAudit, compiler: ProfileCompiler,
                 trusted_proxies: Sequence[IPNetwork] = (),
                 on_rules_changed: Callable[[], None] | None = None) -> None:
        self.db = db
        self.audit = audit
        self.compiler = compiler
        self.trusted_proxies = tuple(trusted_proxies)
        # LocationGate.invalidate: this process's checks (and previews) see a new version at once
        self._on_rules_changed = on_rules_changed

    # -- rules ---------------------------------------------------------------------------------------

    def check_rules(self, text: str) -> ParsedProfile:
        """Every error and warning of ``text``, line-numbered, without saving (the editor's "Check")."""
        return parse_profile(text, trusted_proxies=self.trusted_proxies)

    def _valid_rules(self, text: str) -> ParsedProfile:
        parsed = self.check_rules(text)
        if not parsed.ok:
            raise RulesRejected(parsed)
        return parsed

    # -- locations -----------------------------------------------------------------------------------

    async def list_locations(self, actor: Actor, params: ListParams) -> Page[Location]:
        statement = self._visible(select(Location), Location, actor)
        if name := params.filters.get("name"):
            statement = statement.where(contains(Location.name, name))
        statement = _hidden_filter(statement, Location, params)
        async with self.db.read() as session:
            return await fetch_page(session, statement, params, {"name": Location.name},
                                    (func.lower(Location.name), Location.id))

    async def location_choices(self, actor: Actor) -> list[Location]:
        async with self.db.read() as session:
            statement = self._visible(select(Location), Location, actor).where(Location.hidden.is_(False))
            return list((await session.execute(statement.order_by(func.lower(Location.name)))).scalars())

    async def get_location(self, actor: Actor, location_id: int) -> Location:
        async with self.db.read() as session:
            return await self._load(session, actor, Location, location_id)

    async def create_location(self, actor: Actor, data: LocationInput) -> Location:
        self._require_write(actor, actor.institution_id)
        location = Location(institution_id=actor.institution_id, name=data.name, description=data.description)
        async with self.db.transaction() as session:
            await self._check_unique(session, Location, actor.institution_id, data.name)
            session.add(location)
            await session.flush()
            record_activity(session, actor, Activity.CREATE, EntityType.LOCATION, location.id, location.name)
        return location

    async def update_location(self, actor: Actor, location_id: int, data: LocationInput) -> Location:
        async with self.db.transaction() as session:
            location = await self._load(session, actor, Location, location_id, Privilege.WRITE)
            await self._check_unique(session, Location, location.institution_id, data.name, location.id)
            location.name, location.description = data.name, data.description
            record_activity(session, actor, Activity.MODIFY, EntityType.LOCATION, location.id, location.name,
                            institution_id=location.institution_id)
        return location

    async def set_location_hidden(self, actor: Actor, location_id: int, hidden: bool) -> Location:
        async with self.db.transaction() as session:
            location = await self._load(session, actor, Location, location_id, Privilege.WRITE)
            location.hidden = hidden
            record_activity(session, actor, Activity.DEACTIVATE if hidden else Activity.ACTIVATE,
                            EntityType.LOCATION, location.id, location.name, institution_id=location.institution_id)
        return location

    # -- profiles ------------------------------------------------------------------------------------

    async def list_profiles(self, actor: Actor, params: ListParams) -> Page[tuple[LocationProfile, str]]:
        """Profiles with their location's name ("" when none)."""
        statement = self._visible(select(LocationProfile), LocationProfile, actor)
        if name := params.filters.get("name"):
            statement = statement.where(contains(LocationProfile.name, name))
        if location := params.filters.get("location"):
            try:
                statement = statement.where(LocationProfile.location_id == int(location))
            except ValueError:
                raise ValidationFailed({"location": "choose a location"}) from None
        statement = _hidden_filter(statement, LocationProfile, params)
        async with self.db.read() as session:
            page = await fetch_page(session, statement, params,
                                    {"name": LocationProfile.name, "updated": LocationProfile.updated_at},
                                    (func.lower(LocationProfile.name), LocationProfile.id))
            names = await self._location_names(session, {profile.location_id for profile in page.items})
        return Page([(profile, names.get(profile.location_id or 0, "")) for profile in page.items],
                    page.total, page.page, page.size)

    async def profile_choices(self, actor: Actor, institution_id: int, *, keep: Sequence[int] = ()
                              ) -> list[LocationProfile]:
        """Profiles an exam of the institution may get: the visible ones, plus hidden ones it already has."""
        async with self.db.read() as session:
            statement = select(LocationProfile).where(LocationProfile.institution_id == institution_id)
            rows = (await session.execute(statement.order_by(func.lower(LocationProfile.name)))).scalars()
            return [profile for profile in rows if not profile.hidden or profile.id in keep]

    async def get_profile(self, actor: Actor, profile_id: int) -> LocationProfile:
        async with self.db.read() as session:
            return await self._load(session, actor, LocationProfile, profile_id)

    async def versions(self, actor: Actor, profile_id: int) -> list[LocationProfileVersion]:
        """Newest first."""
        async with self.db.read() as session:
            profile = await self._load(session, actor, LocationProfile, profile_id)
            return list((await session.execute(
                select(LocationProfileVersion).where(LocationProfileVersion.profile_id == profile.id)
                .order_by(LocationProfileVersion.version.desc()))).scalars())

    async def version(self, actor: Actor, profile_id: int, version: int) -> LocationProfileVersion:
        async with self.db.read() as session:
            profile = await self._load(session, actor, LocationProfile, profile_id)
            found = (await session.execute(select(LocationProfileVersion).where(
                LocationProfileVersion.profile_id == profile.id, LocationProfileVersion.version == version))
            ).scalar_one_or_none()
        if found is None:
            raise NotFound(f"version {version} of profile {profile.name!r} not found")
        return found

    async def exams_using(self, actor: Actor, profile_id: int) -> list[int]:
        async with self.db.read() as session:
            profile = await self._load(session, actor, LocationProfile, profile_id)
            return list((await session.execute(select(ExamLocationProfile.exam_id).where(
                ExamLocationProfile.profile_id == profile.id))).scalars())

    async def usage(self, actor: Actor, profile_id: int) -> ProfileUsage:
        """The exams using the profile that ``actor`` may see, by name, and how many use it in all."""
        async with self.db.read() as session:
            profile = await self._load(session, actor, LocationProfile, profile_id)
            using = select(ExamLocationProfile.exam_id).where(ExamLocationProfile.profile_id == profile.id)
            total = (await session.execute(select(func.count()).select_from(using.subquery()))).scalar_one()
            rows = (await session.execute(visible(select(Exam.id, Exam.name, Exam.status), actor)
                                          .where(Exam.id.in_(using)).order_by(func.lower(Exam.name), Exam.id))).all()
        return ProfileUsage([(row.id, row.name, row.status) for row in rows], total)

    async def create_profile(self, actor: Actor, data: ProfileInput) -> LocationProfile:
        self._require_write(actor, actor.institution_id)
        parsed = self._valid_rules(data.rules)
        profile = LocationProfile(institution_id=actor.institution_id, name=data.name, help_text=data.help_text,
                                  default_room=data.default_room, version=1, rules_text=data.rules)
        async with self.db.transaction() as session:
            await self._check_unique(session, LocationProfile, actor.institution_id, data.name)
            profile.location_id = await self._location_id(session, actor, data.location_id)
            session.add(profile)
            await session.flush()
            session.add(LocationProfileVersion(profile_id=profile.id, version=1, rules_text=data.rules,
                                               help_text=data.help_text, created_by=actor.username))
            record_activity(session, actor, Activity.CREATE, EntityType.LOCATION, profile.id, profile.name,
                            f"IP profile with {len(parsed.rules)} rule(s)")
            self.audit.admin(session, AuditCode.PROFILE_CREATED, actor, profile.institution_id,
                             profile_id=profile.id, profile_ver=1,
                             msg=f"profile {profile.name!r} created with {len(parsed.rules)} rule(s)")
        return profile

    async def update_profile(self, actor: Actor, profile_id: int, data: ProfileInput) -> LocationProfile:
        """A change of the rules or the help text makes a new version; running exams use it from their next
        check on, and earlier decisions keep naming the version they used."""
        parsed = self._valid_rules(data.rules)
        async with self.db.transaction() as session:
            profile = await self._load(session, actor, LocationProfile, profile_id, Privilege.WRITE, lock=True)
            await self._check_unique(session, LocationProfile, profile.institution_id, data.name, profile.id)
            diff = _diff(profile.rules_text, data.rules)
            new_version = data.rules != profile.rules_text or data.help_text != profile.help_text
            profile.name, profile.default_room = data.name, data.default_room
            profile.location_id = await self._location_id(session, actor, data.location_id)
            if new_version:
                profile.version += 1
                profile.rules_text, profile.help_text = data.rules, data.help_text
                session.add(LocationProfileVersion(profile_id=profile.id, version=profile.version,
                                                   rules_text=data.rules, help_text=data.help_text,
                                                   created_by=actor.username))
            record_activity(session, actor, Activity.MODIFY, EntityType.LOCATION, profile.id, profile.name,
                            f"version {profile.version}, {len(parsed.rules)} rule(s)" if new_version else "",
                            institution_id=profile.institution_id)
            self.audit.admin(session, AuditCode.PROFILE_UPDATED, actor, profile.institution_id,
                             profile_id=profile.id, profile_ver=profile.version,
                             msg=f"profile {profile.name!r} version {profile.version}" + (f"\n{diff}" if diff else ""))
        if self._on_rules_changed is not None:
            self._on_rules_changed()
        return profile

    async def set_profile_hidden(self, actor: Actor, profile_id: int, hidden: bool) -> LocationProfile:
        """A hidden profile cannot be attached to more exams; exams that have it keep being checked with it
        (hiding never silently removes protection, reference E10)."""
        async with self.db.transaction() as session:
            profile = await self._load(session, actor, LocationProfile, profile_id, Privilege.WRITE)
            if profile.hidden == hidden:
                return profile
            profile.hidden = hidden
            record_activity(session, actor, Activity.DEACTIVATE if hidden else Activity.ACTIVATE,
                            EntityType.LOCATION, profile.id, profile.name, institution_id=profile.institution_id)
            self.audit.admin(session, AuditCode.PROFILE_HIDDEN if hidden else AuditCode.PROFILE_UNHIDDEN, actor,
                             profile.institution_id, profile_id=profile.id, profile_ver=profile.version,
                             msg=f"profile {profile.name!r} {'hidden' if hidden else 'unhidden'}")
        return profile

    async def trusted_proxy_overlaps(self) -> list[tuple[LocationProfile, str]]:
        """Profiles whose rules overlap a trusted proxy (W105), with the warning; logged at startup: a lab
        address that is also a trusted proxy can forge its origin (reference X13)."""
        if not self.trusted_proxies:
            return []
        async with self.db.read() as session:
            profiles = list((await session.execute(select(LocationProfile).where(
                LocationProfile.hidden.is_(False)))).scalars())
        found = []
        for profile in profiles:
            for issue in self.check_rules(profile.rules_text).issues:
                if issue.code == "W105":
                    found.append((profile, issue.message))
                    log.warning("IP profile %r (institution %s) overlaps a trusted proxy: %s", profile.name,
                                profile.institution_id, issue.message)
        return found

    @staticmethod
    def may_write(actor: Actor, institution_id: int | None = None) -> bool:
        return actor.may(Privilege.WRITE, EntityType.LOCATION,
                         institution_id=actor.institution_id if institution_id is None else institution_id)

    # -- helpers -------------------------------------------------------------------------------------

    def _require_write(self, actor: Actor, institution_id: int) -> None:
        if not self.may_write(actor, institution_id):
            raise PermissionDenied("you may not change locations and IP profiles")

    @staticmethod
    def _visible(statement: AnySelect, model: type[Location] | type[LocationProfile], actor: Actor
                 ) -> AnySelect:
        scope = actor.scope(Privilege.READ, EntityType.LOCATION)
        if scope == Scope.OVERALL:
            return statement
        if scope == Scope.NONE:
            return statement.where(model.id.is_(None))
        return statement.where(model.institution_id == actor.institution_id)

    async def _load(self, session: AsyncSession, actor: Actor, model: type[EntityT], entity_id: int,
                    privilege: Privilege = Privilege.READ, *, lock: bool = False) -> EntityT:
        kind = "location" if model is Location else "IP profile"
        entity = (await session.get(model, entity_id, with_for_update=lock or None)
                  if isinstance(entity_id, int) and is_valid_id(entity_id) else None)
        if entity is None or not actor.may(Privilege.READ, EntityType.LOCATION,
                                           institution_id=entity.institution_id):
            raise NotFound(f"{kind} {entity_id} not found")
        if privilege > Privilege.READ:
            self._require_write(actor, entity.institution_id)
        return entity

    async def _location_id(self, session: AsyncSession, actor: Actor, location_id: int | None) -> int | None:
        if location_id is None:
            return None
        location = (await session.get(Location, location_id)) if is_valid_id(location_id) else None
        if location is None or location.institution_id != actor.institution_id:
            raise ValidationFailed({"location_id": f"location {location_id} not found"})
        return location.id

    @staticmethod
    async def _location_names(session: AsyncSession, ids: set[int | None]) -> dict[int, str]:
        wanted = [item for item in ids if item is not None]
        if not wanted:
            return {}
        rows = await session.execute(select(Location.id, Location.name).where(Location.id.in_(wanted)))
        return {row.id: row.name for row in rows}

    @staticmethod
    async def _check_unique(session: AsyncSession, model: type[Location] | type[LocationProfile],
                            institution_id: int, name: str, exclude_id: int | None = None) -> None:
        statement = select(model.id).where(model.institution_id == institution_id,
                                           func.lower(model.name) == name.lower())
        if exclude_id is not None:
            statement = statement.where(model.id != exclude_id)
        if (await session.execute(statement.limit(1))).first() is not None:
            kind = "location" if model is Location else "IP profile"
            raise Conflict(f"a {kind} named {name!r} already exists")


def _hidden_filter(statement: AnySelect, model: type[Location] | type[LocationProfile], params: ListParams
                   ) -> AnySelect:
    """Hidden entities are listed only when asked for (``hidden=yes``, or ``all``)."""
    wanted = params.filters.get("hidden", "no").lower()
    if wanted in ("yes", "true", "1"):
        return statement.where(model.hidden.is_(True))
    if wanted == "all":
        return statement
    return statement.where(model.hidden.is_(False))


def _diff(old: str, new: str) -> str:
    """The rule changes as a unified diff (the audit record of an edit, reference L4)."""
    lines = difflib.unified_diff(old.splitlines(), new.splitlines(), "before", "after", lineterm="", n=0)
    return "\n".join(list(lines)[2:])
