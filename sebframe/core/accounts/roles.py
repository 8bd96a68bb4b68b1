"""The four roles of SEB Server and the privilege table that says what each may do.

A privilege is read < modify < write (write includes create, delete and activate), granted at three
levels: overall (every institution), institutional (the user's own institution) and owner (entities the
user owns or, for user accounts, the user's own account). The table follows SEB Server's grants.
"""

from __future__ import annotations

from dataclasses import dataclass

# The vocabulary is public (plugins check privileges too); the grants below are the core's.
from sebframe.types import EntityType, Privilege, Role

__all__ = ["ASSIGNABLE_ROLES", "PRIVILEGES", "EntityType", "Grant", "Privilege", "Role"]


@dataclass(frozen=True, slots=True)
class Grant:
    overall: Privilege = Privilege.NONE
    institutional: Privilege = Privilege.NONE
    owner: Privilege = Privilege.NONE


R, M, W = Privilege.READ, Privilege.MODIFY, Privilege.WRITE
SSA, IA, EA, ES = Role.SEB_SERVER_ADMIN, Role.INSTITUTIONAL_ADMIN, Role.EXAM_ADMIN, Role.EXAM_SUPPORTER

PRIVILEGES: dict[EntityType, dict[Role, Grant]] = {
    EntityType.INSTITUTION: {SSA: Grant(overall=W), IA: Grant(institutional=M), EA: Grant(institutional=R),
                             ES: Grant(institutional=R)},
    EntityType.USER_ACCOUNT: {SSA: Grant(overall=W), IA: Grant(institutional=W),
                              EA: Grant(institutional=R, owner=M), ES: Grant(owner=M)},
    EntityType.USER_ACTIVITY_LOG: {SSA: Grant(overall=R), IA: Grant(institutional=R)},
    EntityType.CERTIFICATE: {SSA: Grant(overall=R), IA: Grant(institutional=W), EA: Grant(institutional=W)},
    EntityType.CONNECTION_CONFIGURATION: {SSA: Grant(overall=R), IA: Grant(institutional=W),
                                          EA: Grant(institutional=W)},
    EntityType.LMS_SETUP: {SSA: Grant(overall=R), IA: Grant(institutional=W), EA: Grant(institutional=M),
                           ES: Grant(institutional=R)},
    EntityType.EXAM: {SSA: Grant(overall=R), IA: Grant(institutional=R), EA: Grant(institutional=W),
                      ES: Grant(owner=M)},
    EntityType.EXAM_TEMPLATE: {SSA: Grant(overall=R), IA: Grant(institutional=R), EA: Grant(institutional=W)},
    EntityType.EXAM_CONFIGURATION: {SSA: Grant(overall=R), IA: Grant(institutional=R),
                                    EA: Grant(institutional=W), ES: Grant(institutional=R)},
    EntityType.CONFIGURATION_TEMPLATE: {SSA: Grant(overall=R), IA: Grant(institutional=R),
                                        EA: Grant(institutional=W), ES: Grant(institutional=R)},
    EntityType.CLIENT_CONNECTION: {SSA: Grant(institutional=R), IA: Grant(institutional=R),
                                   EA: Grant(institutional=W), ES: Grant(owner=R)},
    EntityType.CLIENT_EVENT: {EA: Grant(institutional=W), ES: Grant(owner=R)},
    # Exam offices (exam administrators) and institutional administrators define the testing-center
    # networks; supporters read them (room labels in monitoring, the public check).
    EntityType.LOCATION: {SSA: Grant(overall=R), IA: Grant(institutional=W), EA: Grant(institutional=W),
                          ES: Grant(institutional=R)},
}

# Which roles a holder of a role may hand out. Nobody but a SEB Server administrator creates one.
ASSIGNABLE_ROLES: dict[Role, frozenset[Role]] = {
    SSA: frozenset(Role),
    IA: frozenset({IA, EA, ES}),
}
