"""User account screens: list, view, create, edit, (de)activate, change password and delete."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sebframe.core.accounts.actor import Actor, Scope
from sebframe.core.accounts.dependencies import DeleteOption
from sebframe.core.accounts.roles import EntityType, Privilege, Role
from sebframe.core.accounts.schemas import MIN_PASSWORD_LENGTH, PasswordChange, UserCreate, UserUpdate, time_zones
from sebframe.core.accounts.users import USER_FILTERS, UserService
from sebframe.core.db.models import UserAccount
from sebframe.core.errors import PermissionDenied, ValidationFailed
from sebframe.core.validation import parse_input
from sebframe.web.pages import (
    end_session,
    flash,
    form_fields,
    redirect,
    render,
    require_actor,
    services_of,
    web_sessions_of,
)
from sebframe.web.views.common import (
    STATUS_OPTIONS,
    current_path,
    fetch_list,
    field_errors,
    list_params,
    path_id,
    safe_next,
    without_passwords,
)

ROLE_OPTIONS = [(role.value, role.label) for role in Role]
DELETE_OPTIONS = [
    (DeleteOption.ACCOUNT_ONLY.value, "Only the user account",
     "Exams and exam configurations the user owns stay, without owner."),
    (DeleteOption.WITH_EXAMS.value, "Include all exams",
     "Also delete the exams the user owns with their indicators and monitoring data; exam configurations stay."),
    (DeleteOption.WITH_ALL.value, "Include all dependencies",
     "Also delete the exams and the exam configurations the user owns."),
]
_USER_FIELDS = ("name", "surname", "username", "email", "timezone")


def _manages_users(actor: Actor) -> bool:
    return actor.scope(Privilege.WRITE, EntityType.USER_ACCOUNT) >= Scope.INSTITUTION


def _picks_institution(actor: Actor) -> bool:
    return actor.scope(Privilege.WRITE, EntityType.USER_ACCOUNT) == Scope.OVERALL


def _role_labels(user: UserAccount) -> list[str]:
    return [role.label for role in Role if role.value in user.role_names]


async def _institution_names(request: Request, actor: Actor) -> dict[int, str]:
    choices = await services_of(request).institutions.choices(actor, active_only=False)
    return {institution.id: institution.name for institution in choices}


async def list_users(request: Request) -> Response:
    actor = await require_actor(request)
    if not _manages_users(actor):
        # Without user-account write privilege a user sees only the own account (seed: "User Accounts").
        return redirect(f"/users/{actor.user_id}")
    params, errors = list_params(request, USER_FILTERS)
    page, status = await fetch_list(lambda query: services_of(request).users.list(actor, query), params, errors)
    names = await _institution_names(request, actor)
    rows = []
    for user in page.items:
        actions = UserService.actions_for(actor, user)
        flags = [name for name, on in (("active", user.active), ("editable", actions.edit),
                                       ("switchable", actions.set_active), ("deletable", actions.delete)) if on]
        rows.append({"user": user, "roles": _role_labels(user), "flags": " ".join(flags),
                     "institution": names.get(user.institution_id, str(user.institution_id))})
    return await render(request, "users/list.html", {
        "title": "User Accounts",
        "params": params,
        "page": page,
        "rows": rows,
        "errors": errors,
        "show_institution": _picks_institution(actor),
        "institution_options": sorted(names.items(), key=lambda pair: pair[1].lower()),
        "role_options": ROLE_OPTIONS,
        "status_options": STATUS_OPTIONS,
        "here": current_path(request),
    }, status_code=status)


async def view_user(request: Request) -> Response:
    actor = await require_actor(request)
    user = await services_of(request).users.get(actor, path_id(request))
    names = await _institution_names(request, actor)
    is_self = user.id == actor.user_id
    return await render(request, "users/view.html", {
        "title": f"User Account {user.username}",
        "user": user,
        "roles": _role_labels(user),
        "institution": names.get(user.institution_id, str(user.institution_id)),
        "actions": UserService.actions_for(actor, user),
        "is_self": is_self,
        # My Account lists where the account is signed in (this browser marked), to end them all at once.
        "web_sessions": await web_sessions_of(request).active(user.id) if is_self else [],
        "this_session": getattr(request.state, "session_id", None),
        "lists_users": _manages_users(actor),
        "here": current_path(request),
    })


async def sign_out_everywhere(request: Request) -> Response:
    """Ends every session of the own account, this one included (a stolen cookie too); API tokens stay."""
    actor = await require_actor(request)
    if path_id(request) != actor.user_id:
        raise PermissionDenied("you may only sign out your own account everywhere")
    ended = await web_sessions_of(request).end_all(actor)
    await end_session(request)
    flash(request, f"You are signed out everywhere ({ended} session{'' if ended == 1 else 's'} ended).", "info")
    return redirect("/login")


async def _form_page(
    request: Request, actor: Actor, user: UserAccount | None, values: dict[str, Any], errors: dict[str, str],
    status_code: int = 200,
) -> Response:
    actions = UserService.actions_for(actor, user) if user is not None else None
    assignable = {role.value for role in actor.assignable_roles()}
    current = set(user.role_names) if user is not None else set()
    names = await _institution_names(request, actor)
    return await render(request, "users/form.html", {
        "title": f"Edit User Account {user.username}" if user else "New User Account",
        "user": user,
        "values": values,
        "errors": errors,
        "show_roles": user is None or (actions is not None and actions.edit_roles),
        "role_options": [(value, label) for value, label in ROLE_OPTIONS if value in assignable | current],
        "locked_roles": current - assignable,
        "selected_roles": set(values.get("roles", [])),
        "show_institution": _picks_institution(actor) if user is None else bool(actions and actions.move_institution),
        "institution_options": sorted(names.items(), key=lambda pair: pair[1].lower()),
        "institution_name": names.get(user.institution_id, "") if user else "",
        "time_zone_options": [(zone, zone) for zone in time_zones()],
        "may_activate": user is None or (not user.active and actions is not None and actions.set_active),
        "min_password_length": MIN_PASSWORD_LENGTH,
    }, status_code=status_code)


def _parse(model: type[UserCreate] | type[UserUpdate], data: dict[str, Any]) -> tuple[Any, dict[str, str]]:
    try:
        return parse_input(model, data), {}
    except ValidationFailed as exc:
        errors = field_errors(exc)
        if "institution_id" in errors and not data.get("institution_id"):
            errors["institution_id"] = "choose an institution"
        return None, errors


async def create_user(request: Request) -> Response:
    actor = await require_actor(request)
    if not _manages_users(actor):
        raise PermissionDenied("you may not create user accounts")
    if request.method == "GET":
        values = {"timezone": actor.timezone, "roles": [Role.EXAM_SUPPORTER.value]}
        if _picks_institution(actor):
            values["institution_id"] = str(actor.institution_id)
        return await _form_page(request, actor, None, values, {})
    form = await request.form()
    names = [*_USER_FIELDS, "password", "confirm_password", "roles[]"]
    if _picks_institution(actor):
        names.append("institution_id")
    values = form_fields(form, *names)
    activate = form.get("activate") == "1"
    data, errors = _parse(UserCreate, {**values, "active": activate})
    if data is not None:
        try:
            user = await services_of(request).users.create(actor, data)
        except ValidationFailed as exc:
            errors = field_errors(exc)
        else:
            flash(request, f"User account {user.username} created" + (" and activated." if activate else "."))
            return redirect(f"/users/{user.id}")
    return await _form_page(request, actor, None, without_passwords(values), errors, 422)


async def edit_user(request: Request) -> Response:
    actor = await require_actor(request)
    service = services_of(request).users
    user = await service.get(actor, path_id(request))
    actions = UserService.actions_for(actor, user)
    if not actions.edit:
        raise PermissionDenied(f"you may not change user account {user.username!r}")
    if request.method == "GET":
        values: dict[str, Any] = {name: getattr(user, name) or "" for name in _USER_FIELDS}
        values["roles"] = sorted(user.role_names)
        values["institution_id"] = str(user.institution_id)
        return await _form_page(request, actor, user, values, {})
    form = await request.form()
    names = list(_USER_FIELDS)
    if actions.edit_roles:
        names.append("roles[]")
    if actions.move_institution:
        names.append("institution_id")
    values = form_fields(form, *names)
    activate = form.get("activate") == "1" and not user.active and actions.set_active
    data, errors = _parse(UserUpdate, values)
    if data is not None:
        try:
            user = await service.update(actor, user.id, data, activate=activate)
        except ValidationFailed as exc:
            errors = field_errors(exc)
        else:
            flash(request, f"User account {user.username} saved" + (" and activated." if activate else "."))
            return redirect(f"/users/{user.id}")
    if "roles" not in values:
        values["roles"] = sorted(user.role_names)
    return await _form_page(request, actor, user, values, errors, 422)


async def _set_active(request: Request, active: bool) -> Response:
    actor = await require_actor(request)
    user_id = path_id(request)
    form = await request.form()
    target = safe_next(form.get("next"), f"/users/{user_id}")
    try:
        user = await services_of(request).users.set_active(actor, user_id, active)
    except ValidationFailed as exc:
        flash(request, "; ".join(exc.field_errors.values()) or exc.message, "error")
    else:
        flash(request, f"User account {user.username} {'activated' if active else 'deactivated'}.")
    return redirect(target)


async def activate_user(request: Request) -> Response:
    return await _set_active(request, True)


async def deactivate_user(request: Request) -> Response:
    return await _set_active(request, False)


async def change_password(request: Request) -> Response:
    actor = await require_actor(request)
    service = services_of(request).users
    user = await service.get(actor, path_id(request))
    if not UserService.actions_for(actor, user).change_password:
        raise PermissionDenied("you may only change your own password")
    is_self = user.id == actor.user_id
    context: dict[str, Any] = {
        "title": "Change Password" if is_self else f"Change Password of {user.username}",
        "user": user,
        "is_self": is_self,
        "errors": {},
        "min_password_length": MIN_PASSWORD_LENGTH,
    }
    if request.method == "GET":
        return await render(request, "users/password.html", context)
    form = await request.form()
    values = form_fields(form, "current_password", "password", "confirm_password")
    try:
        await service.change_password(actor, user.id, parse_input(PasswordChange, values))
    except ValidationFailed as exc:
        context["errors"] = field_errors(exc)
        return await render(request, "users/password.html", context, status_code=422)
    if is_self:
        # The new security stamp voids every session of the account; this browser forgets its cookie too.
        await end_session(request)
        flash(request, "Your password has been changed. Please sign in with your new password.", "info")
        return redirect("/login")
    flash(request, f"The password of {user.username} has been changed.")
    return redirect(f"/users/{user.id}")


def _delete_option(value: Any) -> DeleteOption:
    try:
        return DeleteOption(value)
    except ValueError:
        return DeleteOption.ACCOUNT_ONLY


async def delete_user(request: Request) -> Response:
    """GET: the delete dialog (with the report when asked for); POST: delete with the chosen option."""
    actor = await require_actor(request)
    service = services_of(request).users
    user = await service.get(actor, path_id(request))
    if not UserService.actions_for(actor, user).delete:
        raise PermissionDenied(f"you may not delete user account {user.username!r}")
    if request.method == "POST":
        form = await request.form()
        option = _delete_option(form.get("option"))
        try:
            report = await service.delete(actor, user.id, option)
        except ValidationFailed as exc:
            flash(request, "; ".join(exc.field_errors.values()) or exc.message, "error")
            return redirect(f"/users/{user.id}")
        deleted = sum(len(entities) for _, entities in report.deleted)
        flash(request, f"User account {report.username} deleted"
                       + (f" with {deleted} dependent entit{'y' if deleted == 1 else 'ies'}." if deleted else "."))
        return redirect("/users")
    option = _delete_option(request.query_params.get("option", DeleteOption.ACCOUNT_ONLY.value))
    preview = await service.deletion_report(actor, user.id, option) if request.query_params.get("report") else None
    return await render(request, "users/delete.html", {
        "title": f"Delete User Account {user.username}",
        "user": user,
        "option": option.value,
        "options": DELETE_OPTIONS,
        "report": preview,
    })


routes = [
    Route("/users", list_users),
    Route("/users/new", create_user, methods=["GET", "POST"]),
    Route("/users/{id:int}", view_user),
    Route("/users/{id:int}/edit", edit_user, methods=["GET", "POST"]),
    Route("/users/{id:int}/activate", activate_user, methods=["POST"]),
    Route("/users/{id:int}/deactivate", deactivate_user, methods=["POST"]),
    Route("/users/{id:int}/password", change_password, methods=["GET", "POST"]),
    Route("/users/{id:int}/sign-out-everywhere", sign_out_everywhere, methods=["POST"]),
    Route("/users/{id:int}/delete", delete_user, methods=["GET", "POST"]),
]
