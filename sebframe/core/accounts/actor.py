"""The signed-in user as services see it, with the privilege checks every query goes through."""

from __future__ import annotations

from dataclasses import dataclass

from sebframe.core.accounts.roles import ASSIGNABLE_ROLES, PRIVILEGES
from sebframe.types import EntityType, Privilege, Role, Scope

__all__ = ["Actor", "Scope"]


@dataclass(frozen=True, slots=True)
class Actor:
    """Implements ``sebframe.types.Actor`` over the privilege table."""

    user_id: int
    username: str
    institution_id: int
    roles: frozenset[Role]
    timezone: str = "UTC"

    def has_role(self, role: Role) -> bool:
        return role in self.roles

    def may(
        self,
        privilege: Privilege,
        entity_type: EntityType,
        *,
        institution_id: int | None,
        owner_id: int | None = None,
    ) -> bool:
        """True if any role grants ``privilege`` on an entity of that institution and owner."""
        grants = PRIVILEGES.get(entity_type, {})
        for role in self.roles:
            grant = grants.get(role)
            if grant is None:
                continue
            if grant.overall >= privilege:
                return True
            if grant.institutional >= privilege and institution_id == self.institution_id:
                return True
            if grant.owner >= privilege and owner_id is not None and owner_id == self.user_id:
                return True
        return False

    def scope(self, privilege: Privilege, entity_type: EntityType) -> Scope:
        """The widest reach any role gives for ``privilege``; list queries filter by it."""
        widest = Scope.NONE
        for role in self.roles:
            grant = PRIVILEGES.get(entity_type, {}).get(role)
            if grant is None:
                continue
            if grant.overall >= privilege:
                return Scope.OVERALL
            if grant.institutional >= privilege:
                widest = max(widest, Scope.INSTITUTION)
            elif grant.owner >= privilege:
                widest = max(widest, Scope.OWNER)
        return widest

    def assignable_roles(self) -> frozenset[Role]:
        allowed: set[Role] = set()
        for role in self.roles:
            allowed |= ASSIGNABLE_ROLES.get(role, frozenset())
        return frozenset(allowed)
