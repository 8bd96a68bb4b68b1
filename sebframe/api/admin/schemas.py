"""JSON shapes the admin API returns (request bodies reuse the services' input models)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from sebframe.core.accounts.actor import Actor
from sebframe.core.accounts.dependencies import DeleteOption, Dependent
from sebframe.core.accounts.institutions import DeactivationReport
from sebframe.core.accounts.roles import Role
from sebframe.core.accounts.schemas import InstitutionInput
from sebframe.core.accounts.users import DeletionReport
from sebframe.core.db.models import ActivityLogEntry, ApiToken, Institution, UserAccount
from sebframe.core.plugins import PluginInfo


class Me(BaseModel):
    id: int
    username: str
    institution_id: int
    roles: list[str]
    timezone: str

    @classmethod
    def of(cls, actor: Actor) -> Me:
        return cls(id=actor.user_id, username=actor.username, institution_id=actor.institution_id,
                   roles=sorted(actor.roles), timezone=actor.timezone)


class TokenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(default="api", min_length=1, max_length=255)
    expires_in_days: int | None = Field(default=None, ge=1, le=3650, description="null: never expires")


class TokenCreated(BaseModel):
    id: int
    name: str
    token: str
    expires_at: datetime | None

    @classmethod
    def of(cls, plain: str, token: ApiToken) -> TokenCreated:
        return cls(id=token.id, name=token.name, token=plain, expires_at=token.expires_at)


# -- accounts ------------------------------------------------------------------------------------
# Output shapes are built field by field from the models: a password hash, security stamp or logo
# blob can never leak through an ``extra`` attribute.


class InstitutionCreate(InstitutionInput):
    """``active: true`` saves and activates in one step ("Activate Institution" of the create form)."""

    active: bool = False


class InstitutionOut(BaseModel):
    id: int
    name: str
    url_suffix: str | None
    active: bool
    logo_mime_type: str | None = Field(description="image/png or image/jpeg; null when there is no logo")
    created_at: datetime

    @classmethod
    def of(cls, institution: Institution) -> InstitutionOut:
        return cls(id=institution.id, name=institution.name, url_suffix=institution.url_suffix,
                   active=institution.active, logo_mime_type=institution.logo_mime_type,
                   created_at=institution.created_at)


class DeactivationReportOut(BaseModel):
    """What deactivating the institution switches off (or switched off, after ``deactivate``)."""

    institution_id: int
    institution_name: str
    user_accounts: int = Field(description="active accounts without an administrator role")
    total: int

    @classmethod
    def of(cls, report: DeactivationReport) -> DeactivationReportOut:
        return cls(institution_id=report.institution_id, institution_name=report.institution_name,
                   user_accounts=report.user_accounts, total=report.total)


class DeactivationOut(BaseModel):
    institution: InstitutionOut
    deactivated: DeactivationReportOut


class UserOut(BaseModel):
    id: int
    institution_id: int
    username: str
    name: str
    surname: str
    email: str | None
    timezone: str
    roles: list[Role]
    active: bool
    created_at: datetime

    @classmethod
    def of(cls, user: UserAccount) -> UserOut:
        return cls(id=user.id, institution_id=user.institution_id, username=user.username, name=user.name,
                   surname=user.surname, email=user.email, timezone=user.timezone,
                   roles=sorted(Role(role) for role in user.role_names), active=user.active,
                   created_at=user.created_at)


class DependentOut(BaseModel):
    entity_type: str
    entity_id: str
    name: str


class DependentGroupOut(BaseModel):
    label: str
    count: int
    entities: list[DependentOut]

    @classmethod
    def of(cls, label: str, entities: list[Dependent]) -> DependentGroupOut:
        return cls(label=label, count=len(entities),
                   entities=[DependentOut(entity_type=e.entity_type, entity_id=e.entity_id, name=e.name)
                             for e in entities])


class DeletionReportOut(BaseModel):
    """The entities deleted with the account under ``option``, and the owned ones that stay."""

    user_id: int
    username: str
    option: DeleteOption
    deleted: list[DependentGroupOut]
    kept: list[DependentGroupOut]

    @classmethod
    def of(cls, report: DeletionReport) -> DeletionReportOut:
        return cls(user_id=report.user_id, username=report.username, option=report.option,
                   deleted=[DependentGroupOut.of(label, entities) for label, entities in report.deleted],
                   kept=[DependentGroupOut.of(label, entities) for label, entities in report.kept])


class ActivityOut(BaseModel):
    id: int
    at: datetime
    user_id: int | None
    username: str
    institution_id: int | None
    activity: str
    entity_type: str
    entity_id: str
    entity_name: str
    message: str

    @classmethod
    def of(cls, entry: ActivityLogEntry) -> ActivityOut:
        return cls(id=entry.id, at=entry.at, user_id=entry.user_id, username=entry.username,
                   institution_id=entry.institution_id, activity=entry.activity,
                   entity_type=entry.entity_type, entity_id=entry.entity_id, entity_name=entry.entity_name,
                   message=entry.message)


# -- plugins -------------------------------------------------------------------------------------


class PluginOut(BaseModel):
    name: str
    distribution: str | None
    version: str | None
    hooks: list[str]
    builtin: bool

    @classmethod
    def of(cls, info: PluginInfo) -> PluginOut:
        return cls(name=info.name, distribution=info.distribution, version=info.version,
                   hooks=list(info.hooks), builtin=info.builtin)


class PluginFailureOut(BaseModel):
    name: str
    stage: str = Field(description='"load", "register" or the name of the hook that failed')
    error: str


class PluginsOut(BaseModel):
    installed: list[PluginOut]
    failures: list[PluginFailureOut]
