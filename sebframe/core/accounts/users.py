"""User accounts: create, register, edit, roles, passwords, activation and deletion."""

from __future__ import annotations

import builtins  # `list` is also a method name of a class here, shadowing the builtin in its signatures
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Select, false, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from sebframe.core.accounts.activity import Activity, record_activity
from sebframe.core.accounts.actor import Actor, Scope
from sebframe.core.accounts.dependencies import API_TOKENS, DeleteOption, Dependent, UserDependencies
from sebframe.core.accounts.passwords import hash_password, verify_password
from sebframe.core.accounts.roles import EntityType, Privilege, Role
from sebframe.core.accounts.schemas import PasswordChange, Registration, UserCreate, UserUpdate
from sebframe.core.db import Database, is_valid_id
from sebframe.core.db.models import Institution, UserAccount, UserRoleGrant
from sebframe.core.errors import NotFound, PermissionDenied, ValidationFailed
from sebframe.core.paging import ListParams, Page, contains, fetch_page

USER_FILTERS = ("institution_id", "name", "surname", "username", "email", "active", "role")
_SORTABLE = {
    "name": UserAccount.name,
    "surname": UserAccount.surname,
    "username": UserAccount.username,
    "email": UserAccount.email,
    "active": UserAccount.active,
    "institution_id": UserAccount.institution_id,
}
_ADMIN_ROLES = frozenset({Role.SEB_SERVER_ADMIN, Role.INSTITUTIONAL_ADMIN})


@dataclass(frozen=True, slots=True)
class DeletionReport:
    user_id: int
    username: str
    option: DeleteOption
    deleted: list[tuple[str, list[Dependent]]]  # (label, entities) deleted with the account
    kept: list[tuple[str, list[Dependent]]]  # owned entities that stay without owner


@dataclass(frozen=True, slots=True)
class UserActions:
    """What an actor may do with one user account; screens enable their actions by it.

    The service methods enforce the same rules; this only answers the question without trying.
    """

    edit: bool
    edit_roles: bool
    move_institution: bool
    change_password: bool
    set_active: bool
    delete: bool


class UserService:
    def __init__(self, db: Database, *, registration_enabled: bool = True,
                 dependencies: Sequence[UserDependencies] = (API_TOKENS,)) -> None:
        self.db = db
        self.registration_enabled = registration_enabled
        self.dependencies = tuple(dependencies)  # what deleting an account takes along, by delete option

    # -- queries -------------------------------------------------------------------------------

    async def list(self, actor: Actor, params: ListParams) -> Page[UserAccount]:
        statement = self._visible_statement(actor)
        filters = params.filters
        if "institution_id" in filters:
            try:
                statement = statement.where(UserAccount.institution_id == int(filters["institution_id"]))
            except ValueError:
                raise ValidationFailed({"institution_id": "must be a number"}) from None
        for name in ("name", "surname", "username", "email"):
            if name in filters:
                statement = statement.where(contains(getattr(UserAccount, name), filters[name]))
        if filters.get("active") in ("true", "false"):
            statement = statement.where(UserAccount.active.is_(filters["active"] == "true"))
        if "role" in filters:
            statement = statement.where(
                UserAccount.id.in_(select(UserRoleGrant.user_id).where(UserRoleGrant.role == filters["role"]))
            )
        async with self.db.read() as session:
            return await fetch_page(session, statement, params, _SORTABLE, [UserAccount.username])

    async def get(self, actor: Actor, user_id: int) -> UserAccount:
        async with self.db.read() as session:
            return await self._visible(session, actor, user_id)

    async def search_supporters(self, actor: Actor, text: str, limit: int = 20) -> builtins.list[UserAccount]:
        """Active users of the actor's institution matching ``text`` (type-ahead for assignments)."""
        statement = (
            self._visible_statement(actor)
            .where(UserAccount.institution_id == actor.institution_id, UserAccount.active.is_(True))
            .order_by(UserAccount.username)
            .limit(limit)
        )
        if text:
            statement = statement.where(contains(UserAccount.username, text) | contains(UserAccount.surname, text))
        async with self.db.read() as session:
            return list((await session.execute(statement)).scalars())

    async def supporters_by_id(self, actor: Actor, ids: Sequence[int]) -> builtins.list[UserAccount]:
        """The accounts of the actor's institution among ``ids``, in their order (the picker's chosen entries);
        ids of other institutions or unknown ones are left out (the exam service reports them on save).

        Not limited by the user-account privilege: a supporter editing an exam sees its co-supporters' names,
        as on the exam's page, and must not drop them from the form by not seeing them."""
        if not ids:
            return []
        statement = select(UserAccount).where(UserAccount.institution_id == actor.institution_id,
                                              UserAccount.id.in_(list(ids)))
        async with self.db.read() as session:
            found = {user.id: user for user in (await session.execute(statement)).scalars()}
        return [found[user_id] for user_id in ids if user_id in found]

    # -- create --------------------------------------------------------------------------------

    async def create(self, actor: Actor, data: UserCreate) -> UserAccount:
        institution_id = data.institution_id if data.institution_id is not None else actor.institution_id
        if not actor.may(Privilege.WRITE, EntityType.USER_ACCOUNT, institution_id=institution_id):
            raise PermissionDenied("you may not create user accounts in this institution")
        self._check_roles_assignable(actor, set(), set(data.roles))
        if not data.roles:
            raise ValidationFailed({"roles": "choose at least one role"})
        async with self.db.transaction() as session:
            await self._check_institution(session, actor, institution_id)
            await self._check_unique_username(session, data.username)
            user = self._new_account(data, institution_id, data.roles, active=data.active)
            session.add(user)
            await session.flush()
            record_activity(session, actor, Activity.CREATE, EntityType.USER_ACCOUNT, user.id, user.username,
                            f"roles: {', '.join(sorted(data.roles))}", institution_id=institution_id)
        return user

    async def register(self, data: Registration) -> UserAccount:
        """Self-registration: an active exam supporter of an active institution."""
        if not self.registration_enabled:
            raise PermissionDenied("self-registration is switched off on this server")
        async with self.db.transaction() as session:
            institution = await session.get(Institution, data.institution_id)
            if institution is None or not institution.active:
                raise ValidationFailed({"institution_id": "choose one of the listed institutions"})
            await self._check_unique_username(session, data.username)
            user = self._new_account(data, institution.id, [Role.EXAM_SUPPORTER], active=True)
            session.add(user)
            await session.flush()
            itself = Actor(user.id, user.username, institution.id, frozenset({Role.EXAM_SUPPORTER}))
            record_activity(session, itself, Activity.CREATE, EntityType.USER_ACCOUNT, user.id, user.username,
                            "self-registration")
        return user

    @staticmethod
    def _new_account(
        data: UserCreate | Registration, institution_id: int, roles: builtins.list[Role], *, active: bool
    ) -> UserAccount:
        return UserAccount(
            institution_id=institution_id,
            username=data.username,
            name=data.name,
            surname=data.surname,
            email=data.email,
            timezone=data.timezone,
            password_hash=hash_password(data.password),
            active=active,
            roles=[UserRoleGrant(role=role.value) for role in sorted(set(roles))],
        )

    # -- modify --------------------------------------------------------------------------------

    async def update(self, actor: Actor, user_id: int, data: UserUpdate, *, activate: bool = False) -> UserAccount:
        """Change the given fields; ``activate`` also activates the account in the same transaction
        ("Save and Activate" of the edit form of an inactive account)."""
        changes = data.model_dump(exclude_unset=True)
        async with self.db.transaction() as session:
            user = await self._visible(session, actor, user_id)
            self._require(actor, Privilege.MODIFY, user)
            is_admin_of_user = actor.may(Privilege.WRITE, EntityType.USER_ACCOUNT,
                                         institution_id=user.institution_id)
            if "institution_id" in changes and changes["institution_id"] != user.institution_id:
                if not actor.may(Privilege.WRITE, EntityType.USER_ACCOUNT, institution_id=None):
                    raise PermissionDenied("only a SEB Server administrator moves users between institutions")
                await self._check_institution(session, actor, changes["institution_id"])
                user.institution_id = changes["institution_id"]
            if "roles" in changes and data.roles is not None:
                new_roles = {Role(role) for role in data.roles}
                if new_roles != set(user.role_names):
                    if not is_admin_of_user:
                        raise PermissionDenied("you may not change roles")
                    if not new_roles:
                        raise ValidationFailed({"roles": "choose at least one role"})
                    self._check_roles_assignable(actor, {Role(r) for r in user.role_names}, new_roles)
                    if user.id == actor.user_id and (actor.roles & _ADMIN_ROLES) - new_roles:
                        raise ValidationFailed({"roles": "you cannot remove your own administrator role"})
                    user.roles = [UserRoleGrant(role=role.value) for role in sorted(new_roles)]
            if "username" in changes and changes["username"] != user.username:
                await self._check_unique_username(session, changes["username"], exclude_id=user.id)
                user.username = changes["username"]
            for field in ("name", "surname", "timezone"):
                if changes.get(field) is not None:
                    setattr(user, field, changes[field])
            if "email" in changes:
                user.email = changes["email"]
            record_activity(session, actor, Activity.MODIFY, EntityType.USER_ACCOUNT, user.id, user.username,
                            ", ".join(sorted(changes)), institution_id=user.institution_id)
            if activate and not user.active:
                await self._set_active(session, actor, user, True)
        return user

    async def set_active(self, actor: Actor, user_id: int, active: bool) -> UserAccount:
        async with self.db.transaction() as session:
            user = await self._visible(session, actor, user_id)
            await self._set_active(session, actor, user, active)
        return user

    async def _set_active(self, session: AsyncSession, actor: Actor, user: UserAccount, active: bool) -> None:
        self._require(actor, Privilege.WRITE, user)
        if user.id == actor.user_id:
            raise ValidationFailed({"active": "you cannot activate or deactivate your own account"})
        if active:
            institution = await session.get(Institution, user.institution_id)
            if institution is not None and not institution.active:
                raise ValidationFailed(
                    {"active": f"institution {institution.name!r} is inactive; activate it first"}
                )
        if user.active != active:
            user.active = active
            if not active:
                user.security_stamp += 1  # signs the user out everywhere
            record_activity(session, actor, Activity.ACTIVATE if active else Activity.DEACTIVATE,
                            EntityType.USER_ACCOUNT, user.id, user.username,
                            institution_id=user.institution_id)

    async def change_password(self, actor: Actor, user_id: int, data: PasswordChange) -> UserAccount:
        """Own change needs the old password; an admin changing another's confirms with their own."""
        async with self.db.transaction() as session:
            user = await self._visible(session, actor, user_id)
            self._require(actor, Privilege.MODIFY, user)
            if user.id != actor.user_id and not actor.may(Privilege.WRITE, EntityType.USER_ACCOUNT,
                                                          institution_id=user.institution_id):
                raise PermissionDenied("you may only change your own password")
            verifier = user if user.id == actor.user_id else await session.get(UserAccount, actor.user_id)
            if verifier is None or not verify_password(verifier.password_hash, data.current_password):
                raise ValidationFailed({"current_password": "the current password is wrong"})
            user.password_hash = hash_password(data.password)
            user.security_stamp += 1
            record_activity(session, actor, Activity.PASSWORD_CHANGE, EntityType.USER_ACCOUNT, user.id,
                            user.username, institution_id=user.institution_id)
        return user

    # -- delete --------------------------------------------------------------------------------

    async def deletion_report(self, actor: Actor, user_id: int, option: DeleteOption) -> DeletionReport:
        async with self.db.read() as session:
            user = await self._deletable(session, actor, user_id)
            return await self._report(session, user, option)

    async def delete(self, actor: Actor, user_id: int, option: DeleteOption) -> DeletionReport:
        async with self.db.transaction() as session:
            user = await self._deletable(session, actor, user_id)
            report = await self._report(session, user, option)
            for provider in self.dependencies:
                if option in provider.options:
                    await provider.delete(session, user.id)
            deleted = sum(len(entities) for _, entities in report.deleted)
            record_activity(session, actor, Activity.DELETE, EntityType.USER_ACCOUNT, user.id, user.username,
                            f"option {option.value}, {deleted} dependent entities deleted",
                            institution_id=user.institution_id)
            await session.delete(user)
        return report

    async def _deletable(self, session: AsyncSession, actor: Actor, user_id: int) -> UserAccount:
        user = await self._visible(session, actor, user_id)
        self._require(actor, Privilege.WRITE, user)
        if user.id == actor.user_id:
            raise ValidationFailed({"user": "you cannot delete your own account"})
        return user

    async def _report(self, session: AsyncSession, user: UserAccount, option: DeleteOption) -> DeletionReport:
        deleted: list[tuple[str, list[Dependent]]] = []
        kept: list[tuple[str, list[Dependent]]] = []
        for provider in self.dependencies:
            entities = await provider.find(session, user.id)
            if entities:
                (deleted if option in provider.options else kept).append((provider.label, entities))
        return DeletionReport(user.id, user.username, option, deleted, kept)

    # -- rules ---------------------------------------------------------------------------------

    @classmethod
    def actions_for(cls, actor: Actor, user: UserAccount) -> UserActions:
        """The actions the privilege rules allow ``actor`` on ``user`` (a visible account)."""

        def allowed(privilege: Privilege) -> bool:
            try:
                cls._require(actor, privilege, user)
            except PermissionDenied:
                return False
            return True

        is_self = user.id == actor.user_id
        edit = allowed(Privilege.MODIFY)
        admin_of_user = actor.may(Privilege.WRITE, EntityType.USER_ACCOUNT, institution_id=user.institution_id)
        write_other = not is_self and allowed(Privilege.WRITE)
        return UserActions(
            edit=edit,
            edit_roles=edit and admin_of_user,
            move_institution=edit and actor.may(Privilege.WRITE, EntityType.USER_ACCOUNT, institution_id=None),
            change_password=edit and (is_self or admin_of_user),
            set_active=write_other,
            delete=write_other,
        )

    @staticmethod
    def _visible_statement(actor: Actor) -> Select[UserAccount]:
        statement = select(UserAccount)
        scope = actor.scope(Privilege.READ, EntityType.USER_ACCOUNT)
        if scope == Scope.INSTITUTION:
            statement = statement.where(
                (UserAccount.institution_id == actor.institution_id) | (UserAccount.id == actor.user_id)
            )
        elif scope == Scope.OWNER:
            statement = statement.where(UserAccount.id == actor.user_id)
        elif scope == Scope.NONE:
            statement = statement.where(false())
        return statement

    @staticmethod
    async def _visible(session: AsyncSession, actor: Actor, user_id: int) -> UserAccount:
        user = await session.get(UserAccount, user_id) if is_valid_id(user_id) else None
        if user is None or not actor.may(Privilege.READ, EntityType.USER_ACCOUNT,
                                         institution_id=user.institution_id, owner_id=user.id):
            raise NotFound(f"user account {user_id} not found")
        return user

    @staticmethod
    def _require(actor: Actor, privilege: Privilege, user: UserAccount) -> None:
        if not actor.may(privilege, EntityType.USER_ACCOUNT, institution_id=user.institution_id,
                         owner_id=user.id):
            raise PermissionDenied(f"you may not change user account {user.username!r}")
        # An institutional admin must not touch an account holding roles only a higher admin can grant.
        if user.id != actor.user_id and not {Role(r) for r in user.role_names} <= actor.assignable_roles():
            raise PermissionDenied(f"user account {user.username!r} has roles you cannot manage")

    @staticmethod
    def _check_roles_assignable(actor: Actor, old: set[Role], new: set[Role]) -> None:
        changed = old ^ new
        forbidden = changed - actor.assignable_roles()
        if forbidden:
            names = ", ".join(sorted(role.label for role in forbidden))
            raise ValidationFailed({"roles": f"you may not grant or remove: {names}"})

    @staticmethod
    async def _check_institution(session: AsyncSession, actor: Actor, institution_id: int) -> None:
        institution = await session.get(Institution, institution_id)
        if institution is None or not actor.may(Privilege.READ, EntityType.INSTITUTION,
                                                institution_id=institution_id):
            raise ValidationFailed({"institution_id": f"institution {institution_id} not found"})

    @staticmethod
    async def _check_unique_username(session: AsyncSession, username: str, exclude_id: int | None = None) -> None:
        statement = select(UserAccount.id).where(func.lower(UserAccount.username) == username.lower())
        if exclude_id is not None:
            statement = statement.where(UserAccount.id != exclude_id)
        if (await session.execute(statement)).first():
            raise ValidationFailed({"username": f"the username {username!r} is taken"})
