"""The four roles of SEB Server and the privilege table that says what each may do.

A privilege is read < modify < write (write includes create, delete and activate), granted at three
levels: overall (every institution), institutional (the user's own institution) and owner (entities the
user owns or, for user accounts, the user's own account). The table follows SEB Server's grants.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum, StrEnum


class Role(StrEnum):
    SEB_SERVER_ADMIN = "SEB_SERVER_ADMIN"
    INSTITUTIONAL_ADMIN = "INSTITUTIONAL_ADMIN"
    EXAM_ADMIN = "EXAM_ADMIN"
    EXAM_SUPPORTER = "EXAM_SUPPORTER"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.SEB_SERVER_ADMIN: "SEB Server Administrator",
    Role.INSTITUTIONAL_ADMIN: "Institutional Administrator",
    Role.EXAM_ADMIN: "Exam Administrator",
    Role.EXAM_SUPPORTER: "Exam Supporter",
}


class Privilege(IntEnum):
    NONE = 0
    READ = 1
    MODIFY = 2
    WRITE = 3


class EntityType(StrEnum):
    INSTITUTION = "INSTITUTION"
    USER_ACCOUNT = "USER_ACCOUNT"
    USER_ACTIVITY_LOG = "USER_ACTIVITY_LOG"
    CERTIFICATE = "CERTIFICATE"
    CONNECTION_CONFIGURATION = "CONNECTION_CONFIGURATION"
    LMS_SETUP = "LMS_SETUP"
    EXAM = "EXAM"
    EXAM_TEMPLATE = "EXAM_TEMPLATE"
    EXAM_CONFIGURATION = "EXAM_CONFIGURATION"
    CONFIGURATION_TEMPLATE = "CONFIGURATION_TEMPLATE"
    CLIENT_CONNECTION = "CLIENT_CONNECTION"
    CLIENT_EVENT = "CLIENT_EVENT"
    LOCATION = "LOCATION"  # testing-center locations and IP profiles


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
