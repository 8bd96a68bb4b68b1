"""Institutions: the tenants of a sebframe server."""

from __future__ import annotations

import builtins  # `list` is also a method name of a class here, shadowing the builtin in its signatures
from dataclasses import dataclass

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from sebframe.core.accounts.activity import Activity, record_activity
from sebframe.core.accounts.actor import Actor, Scope
from sebframe.core.accounts.logo import logo_mime_type
from sebframe.core.accounts.roles import EntityType, Privilege, Role
from sebframe.core.accounts.schemas import InstitutionInput
from sebframe.core.db import Database, is_valid_id
from sebframe.core.db.models import Institution, UserAccount, UserRoleGrant
from sebframe.core.errors import NotFound, PermissionDenied, ValidationFailed
from sebframe.core.paging import ListParams, Page, contains, fetch_page

INSTITUTION_FILTERS = ("name", "url_suffix", "active")
_SORTABLE = {"name": Institution.name, "url_suffix": Institution.url_suffix, "active": Institution.active}

# Users who keep their access when their institution is deactivated (seed: "Activate / Deactivate").
_ROLES_KEPT_ON_DEACTIVATION = (Role.SEB_SERVER_ADMIN.value, Role.INSTITUTIONAL_ADMIN.value)


@dataclass(frozen=True, slots=True)
class DeactivationReport:
    """What deactivating an institution will switch off, shown before the admin confirms."""

    institution_id: int
    institution_name: str
    user_accounts: int

    @property
    def total(self) -> int:
        return self.user_accounts


class InstitutionService:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def list(self, actor: Actor, params: ListParams) -> Page[Institution]:
        statement = select(Institution)
        scope = actor.scope(Privilege.READ, EntityType.INSTITUTION)
        if scope == Scope.NONE:
            raise PermissionDenied("you may not list institutions")
        if scope != Scope.OVERALL:
            statement = statement.where(Institution.id == actor.institution_id)
            if not actor.has_role(Role.INSTITUTIONAL_ADMIN):
                statement = statement.where(Institution.active.is_(True))
        filters = params.filters
        if "name" in filters:
            statement = statement.where(contains(Institution.name, filters["name"]))
        if "url_suffix" in filters:
            statement = statement.where(contains(Institution.url_suffix, filters["url_suffix"]))
        if filters.get("active") in ("true", "false"):
            statement = statement.where(Institution.active.is_(filters["active"] == "true"))
        async with self.db.read() as session:
            return await fetch_page(session, statement, params, _SORTABLE, [Institution.name])

    async def choices(self, actor: Actor, *, active_only: bool = True) -> builtins.list[Institution]:
        """Institutions the actor may pick in a form (e.g. a user's institution)."""
        statement = select(Institution).order_by(Institution.name)
        if actor.scope(Privilege.READ, EntityType.INSTITUTION) != Scope.OVERALL:
            statement = statement.where(Institution.id == actor.institution_id)
        if active_only:
            statement = statement.where(Institution.active.is_(True))
        async with self.db.read() as session:
            return list((await session.execute(statement)).scalars())

    async def active_for_registration(self) -> builtins.list[Institution]:
        async with self.db.read() as session:
            statement = select(Institution).where(Institution.active.is_(True)).order_by(Institution.name)
            return list((await session.execute(statement)).scalars())

    async def get(self, actor: Actor, institution_id: int) -> Institution:
        async with self.db.read() as session:
            return await self._visible(session, actor, institution_id)

    async def by_url_suffix(self, url_suffix: str) -> Institution | None:
        """Public lookup for the login page; only active institutions show their branding."""
        async with self.db.read() as session:
            statement = select(Institution).where(
                Institution.url_suffix == url_suffix, Institution.active.is_(True)
            )
            return (await session.execute(statement)).scalar_one_or_none()

    async def logo(self, institution_id: int) -> tuple[bytes, str] | None:
        """Public: logos appear on the login page before anyone signs in."""
        async with self.db.read() as session:
            row = (
                await session.execute(
                    select(Institution.logo, Institution.logo_mime_type).where(
                        Institution.id == institution_id, Institution.active.is_(True)
                    )
                )
            ).one_or_none()
        if row is None or row.logo is None or row.logo_mime_type is None:
            return None
        return row.logo, row.logo_mime_type

    async def create(
        self, actor: Actor, data: InstitutionInput, *, logo: bytes | None = None, activate: bool = False
    ) -> Institution:
        if not actor.may(Privilege.WRITE, EntityType.INSTITUTION, institution_id=None):
            raise PermissionDenied("only a SEB Server administrator creates institutions")
        mime = logo_mime_type(logo) if logo is not None else None
        async with self.db.transaction() as session:
            await self._check_unique(session, data)
            institution = Institution(
                name=data.name, url_suffix=data.url_suffix, logo=logo, logo_mime_type=mime, active=activate
            )
            session.add(institution)
            await session.flush()
            record_activity(session, actor, Activity.CREATE, EntityType.INSTITUTION, institution.id,
                            institution.name, institution_id=institution.id)
            if activate:
                record_activity(session, actor, Activity.ACTIVATE, EntityType.INSTITUTION, institution.id,
                                institution.name, institution_id=institution.id)
        return institution

    async def update(
        self,
        actor: Actor,
        institution_id: int,
        data: InstitutionInput,
        *,
        logo: bytes | None = None,
        remove_logo: bool = False,
        activate: bool = False,
    ) -> Institution:
        """Save name and suffix; optionally replace (``logo``) or drop (``remove_logo``) the logo and
        activate in the same transaction ("Save and Activate" of the edit form)."""
        mime = logo_mime_type(logo) if logo is not None else None
        async with self.db.transaction() as session:
            institution = await self._visible(session, actor, institution_id)
            self._require(actor, Privilege.MODIFY, institution)
            if activate and not institution.active:
                self._require(actor, Privilege.WRITE, institution)
            await self._check_unique(session, data, exclude_id=institution.id)
            institution.name = data.name
            institution.url_suffix = data.url_suffix
            message = ""
            if logo is not None:
                institution.logo, institution.logo_mime_type = logo, mime
                message = "logo replaced"
            elif remove_logo and institution.logo_mime_type is not None:
                institution.logo, institution.logo_mime_type = None, None
                message = "logo removed"
            record_activity(session, actor, Activity.MODIFY, EntityType.INSTITUTION, institution.id,
                            institution.name, message, institution_id=institution.id)
            if activate and not institution.active:
                institution.active = True
                record_activity(session, actor, Activity.ACTIVATE, EntityType.INSTITUTION, institution.id,
                                institution.name, institution_id=institution.id)
        return institution

    async def current_logo(self, actor: Actor, institution_id: int) -> tuple[bytes, str] | None:
        """The logo of an institution the actor may see, active or not (preview in the edit form)."""
        async with self.db.read() as session:
            institution = await self._visible(session, actor, institution_id)
            row = (
                await session.execute(
                    select(Institution.logo, Institution.logo_mime_type).where(Institution.id == institution.id)
                )
            ).one()
        if row.logo is None or row.logo_mime_type is None:
            return None
        return row.logo, row.logo_mime_type

    async def set_logo(self, actor: Actor, institution_id: int, logo: bytes | None) -> Institution:
        """Replace the logo (PNG or JPEG), or remove it with ``None``."""
        mime = logo_mime_type(logo) if logo is not None else None
        async with self.db.transaction() as session:
            institution = await self._visible(session, actor, institution_id)
            self._require(actor, Privilege.MODIFY, institution)
            institution.logo, institution.logo_mime_type = logo, mime
            record_activity(session, actor, Activity.MODIFY, EntityType.INSTITUTION, institution.id,
                            institution.name, "logo replaced" if logo else "logo removed",
                            institution_id=institution.id)
        return institution

    async def deactivation_report(self, actor: Actor, institution_id: int) -> DeactivationReport:
        async with self.db.read() as session:
            institution = await self._visible(session, actor, institution_id)
            self._require(actor, Privilege.WRITE, institution)
            affected = self._affected_users(institution_id).subquery()
            count = (await session.execute(select(func.count()).select_from(affected))).scalar_one()
        return DeactivationReport(institution.id, institution.name, count)

    async def set_active(self, actor: Actor, institution_id: int, active: bool) -> DeactivationReport | None:
        """Activate, or deactivate with its dependent user accounts; returns what deactivation switched off."""
        async with self.db.transaction() as session:
            institution = await self._visible(session, actor, institution_id)
            self._require(actor, Privilege.WRITE, institution)
            if institution.active == active:
                return None
            institution.active = active
            activity = Activity.ACTIVATE if active else Activity.DEACTIVATE
            record_activity(session, actor, activity, EntityType.INSTITUTION, institution.id,
                            institution.name, institution_id=institution.id)
            if active:
                return None
            affected = self._affected_users(institution_id)
            users = list((await session.execute(select(UserAccount).where(UserAccount.id.in_(affected)))).scalars())
            for user in users:
                user.active = False
                user.security_stamp += 1
                record_activity(session, actor, Activity.DEACTIVATE, EntityType.USER_ACCOUNT, user.id,
                                user.username, f"institution {institution.name} deactivated",
                                institution_id=institution.id)
            return DeactivationReport(institution.id, institution.name, len(users))

    @staticmethod
    def _affected_users(institution_id: int) -> Select[int]:
        privileged = select(UserRoleGrant.user_id).where(UserRoleGrant.role.in_(_ROLES_KEPT_ON_DEACTIVATION))
        return select(UserAccount.id).where(
            UserAccount.institution_id == institution_id,
            UserAccount.active.is_(True),
            UserAccount.id.not_in(privileged),
        )

    async def _visible(self, session: AsyncSession, actor: Actor, institution_id: int) -> Institution:
        institution = await session.get(Institution, institution_id) if is_valid_id(institution_id) else None
        if institution is None or not actor.may(Privilege.READ, EntityType.INSTITUTION,
                                                institution_id=institution.id):
            raise NotFound(f"institution {institution_id} not found")
        if (not institution.active and actor.scope(Privilege.READ, EntityType.INSTITUTION) != Scope.OVERALL
                and not actor.has_role(Role.INSTITUTIONAL_ADMIN)):
            raise NotFound(f"institution {institution_id} not found")
        return institution

    @staticmethod
    def _require(actor: Actor, privilege: Privilege, institution: Institution) -> None:
        if not actor.may(privilege, EntityType.INSTITUTION, institution_id=institution.id):
            verb = "change" if privilege == Privilege.MODIFY else "activate, deactivate or create"
            raise PermissionDenied(f"you may not {verb} institution {institution.name!r}")

    @staticmethod
    async def _check_unique(session: AsyncSession, data: InstitutionInput, exclude_id: int | None = None) -> None:
        errors: dict[str, str] = {}
        same_name = select(Institution.id).where(func.lower(Institution.name) == data.name.lower())
        if exclude_id is not None:
            same_name = same_name.where(Institution.id != exclude_id)
        if (await session.execute(same_name)).first():
            errors["name"] = f"an institution named {data.name!r} already exists"
        if data.url_suffix:
            same_suffix = select(Institution.id).where(Institution.url_suffix == data.url_suffix)
            if exclude_id is not None:
                same_suffix = same_suffix.where(Institution.id != exclude_id)
            if (await session.execute(same_suffix)).first():
                errors["url_suffix"] = f"the URL suffix {data.url_suffix!r} is taken"
        if errors:
            raise ValidationFailed(errors)
