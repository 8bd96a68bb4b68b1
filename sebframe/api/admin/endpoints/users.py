"""User accounts: list, create, edit, activation, password and deletion (with its report)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel
from starlette.requests import Request

from sebframe.api.admin.endpoints._common import Filter, ListQuery, check_query, out, parse_body, services_of
from sebframe.api.admin.routing import ApiRouter, QueryParam
from sebframe.core.accounts.actor import Actor
from sebframe.core.accounts.dependencies import DeleteOption, Dependent
from sebframe.core.accounts.roles import Role
from sebframe.core.accounts.schemas import PasswordChange, UserCreate, UserUpdate
from sebframe.core.accounts.users import DeletionReport
from sebframe.core.db.models import UserAccount
from sebframe.core.errors import ValidationFailed

router = ApiRouter()


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

TAG = "users"

USER_QUERY = ListQuery(
    filters=(
        Filter("institution_id", "integer"),
        Filter("name", description="part of the first name, case-insensitive"),
        Filter("surname", description="part of the surname"),
        Filter("username", description="part of the username"),
        Filter("email", description="part of the e-mail address"),
        Filter("role", "choice", tuple(Role)),
        Filter("active", "boolean"),
    ),
    sortable=("name", "surname", "username", "email", "active", "institution_id"),
    default_sort="username",
)

OPTION_QUERY = (
    QueryParam("option", {"type": "string", "enum": list(DeleteOption), "default": DeleteOption.ACCOUNT_ONLY},
               "ACCOUNT_ONLY keeps owned entities (without owner), WITH_EXAMS also deletes the user's exams, "
               "WITH_ALL also the exam configurations"),
)

# UserUpdate reads an explicit null as "no change" for some fields and as a value for others; only
# e-mail may be cleared, so a null anywhere else is refused rather than guessed at.
_NULLABLE_UPDATE_FIELDS = frozenset({"email"})


def _delete_option(request: Request) -> DeleteOption:
    check_query(request.query_params, {"option"})
    raw = request.query_params.get("option") or DeleteOption.ACCOUNT_ONLY.value
    try:
        return DeleteOption(raw)
    except ValueError:
        raise ValidationFailed({"option": f"choose one of {', '.join(DeleteOption)}"}) from None


@router.get("/users", summary="List the user accounts you may see", tag=TAG, response_model=UserOut,
            response_is_page=True, query=USER_QUERY.query_params())
async def list_users(request: Request, actor: Actor) -> dict[str, Any]:
    page = await services_of(request).users.list(actor, USER_QUERY.parse(request))
    return page.to_json([out(UserOut.of(user)) for user in page.items])


@router.post("/users", summary="Create a user account (institution defaults to yours)", tag=TAG,
             request_model=UserCreate, response_model=UserOut, status_code=201)
async def create_user(request: Request, actor: Actor) -> dict[str, Any]:
    data = await parse_body(request, UserCreate)
    return out(UserOut.of(await services_of(request).users.create(actor, data)))


@router.get("/users/{id:int}", summary="One user account", tag=TAG, response_model=UserOut)
async def get_user(request: Request, actor: Actor) -> dict[str, Any]:
    return out(UserOut.of(await services_of(request).users.get(actor, request.path_params["id"])))


@router.patch("/users/{id:int}", summary="Change the given fields (null clears the e-mail)", tag=TAG,
              request_model=UserUpdate, response_model=UserOut)
async def update_user(request: Request, actor: Actor) -> dict[str, Any]:
    data = await parse_body(request, UserUpdate)
    nulls = {name: "must not be null" for name in data.model_fields_set
             if getattr(data, name) is None and name not in _NULLABLE_UPDATE_FIELDS}
    if nulls:
        raise ValidationFailed(nulls)
    return out(UserOut.of(await services_of(request).users.update(actor, request.path_params["id"], data)))


@router.post("/users/{id:int}/activate", summary="Activate a user account", tag=TAG, response_model=UserOut)
async def activate_user(request: Request, actor: Actor) -> dict[str, Any]:
    user = await services_of(request).users.set_active(actor, request.path_params["id"], True)
    return out(UserOut.of(user))


@router.post("/users/{id:int}/deactivate", summary="Deactivate a user account (voids its tokens)", tag=TAG,
             response_model=UserOut)
async def deactivate_user(request: Request, actor: Actor) -> dict[str, Any]:
    user = await services_of(request).users.set_active(actor, request.path_params["id"], False)
    return out(UserOut.of(user))


@router.put("/users/{id:int}/password",
            summary="Change a password; current_password is the caller's own (voids the user's tokens)",
            tag=TAG, request_model=PasswordChange, response_model=UserOut)
async def change_user_password(request: Request, actor: Actor) -> dict[str, Any]:
    data = await parse_body(request, PasswordChange)
    user = await services_of(request).users.change_password(actor, request.path_params["id"], data)
    return out(UserOut.of(user))


@router.get("/users/{id:int}/deletion-report", summary="What deleting the account with this option removes",
            tag=TAG, response_model=DeletionReportOut, query=OPTION_QUERY)
async def user_deletion_report(request: Request, actor: Actor) -> dict[str, Any]:
    option = _delete_option(request)
    report = await services_of(request).users.deletion_report(actor, request.path_params["id"], option)
    return out(DeletionReportOut.of(report))


@router.delete("/users/{id:int}", summary="Delete a user account; returns what was deleted", tag=TAG,
               response_model=DeletionReportOut, query=OPTION_QUERY)
async def delete_user(request: Request, actor: Actor) -> dict[str, Any]:
    option = _delete_option(request)
    report = await services_of(request).users.delete(actor, request.path_params["id"], option)
    return out(DeletionReportOut.of(report))
