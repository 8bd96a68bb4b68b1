"""Supervision of live SEB connections: list an exam's connections, send instructions (quit, lock screen),
mark connections as canceled, confirm raise-hand and lock-screen notifications. Listing needs the exam's
``CLIENT_CONNECTION`` read (403 for an exam the caller sees but whose connections it may not), the rest also the
exam's modify privilege; the services check both."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field
from starlette.requests import Request

from sebframe.api.admin.endpoints._common import out, parse_body, services_of
from sebframe.api.admin.routing import ApiRouter
from sebframe.core.accounts.actor import Actor
from sebframe.core.monitoring.live import NO_NAME, ConnectionState
from sebframe.core.session.actions import InstructionResult
from sebframe.core.validation import InputModel

router = ApiRouter()

TAG = "monitoring"


class NotificationOut(BaseModel):
    id: int = Field(description="confirm it with POST .../notifications/{id}/confirm")
    type: str = Field(description="raisehand or lockscreen")
    text: str = Field(description="what the SEB client sent with it; empty unless you may read the exam's SEB "
                      "client logs (CLIENT_EVENT)")
    client_id: int = Field(description="the SEB client's own number of the notification")


class ConnectionOut(BaseModel):
    id: int
    connection_token: str
    status: str = Field(description="CONNECTION_REQUESTED, READY, ACTIVE, CLOSED or DISABLED (canceled)")
    user_session_id: str | None = Field(description="the LMS user's name once known, else OS login or machine")
    client_address: str | None
    seb_os_name: str | None
    seb_machine_name: str | None
    seb_version: str | None
    missing_ping: bool
    pending_notifications: list[NotificationOut] = Field(description="raised hands and lock screens to confirm")
    security_check_granted: bool | None = Field(description="app signature key trusted; null: not checked")
    client_version_granted: bool | None = Field(description="SEB version allowed; null: not checked")
    last_ping_ms: int | None = Field(description="epoch milliseconds of the last ping")

    @classmethod
    def of(cls, state: ConnectionState) -> ConnectionOut:
        return cls(id=state.id, connection_token=state.token, status=state.status.value,
                   user_session_id=None if state.user_session_id == NO_NAME else state.user_session_id,
                   client_address=state.client_address, seb_os_name=state.seb_os_name,
                   seb_machine_name=state.seb_machine_name, seb_version=state.seb_version,
                   missing_ping=state.missing,
                   pending_notifications=[NotificationOut(id=item.id, type=item.type, text=item.text,
                                                          client_id=item.client_id) for item in state.notifications],
                   security_check_granted=state.security_check_granted,
                   client_version_granted=state.client_version_granted, last_ping_ms=state.last_ping_ms)


class ConnectionListOut(BaseModel):
    items: list[ConnectionOut]


class InstructionIn(InputModel):
    type: str = Field(description="SEB_QUIT or SEB_FORCE_LOCK_SCREEN")
    connection_tokens: list[str] | None = Field(default=None, max_length=10_000,
                                                description="the connections; left out or null: all active ones")
    message: str | None = Field(default=None, max_length=1000, description="shown on the lock screen")


class TokensIn(InputModel):
    connection_tokens: list[str] = Field(min_length=1, max_length=10_000)


class ResultOut(BaseModel):
    sent: int = Field(description="connections the instruction or change applied to")
    skipped: int = Field(description="selected connections it did not apply to (state, other exam)")

    @classmethod
    def of(cls, result: InstructionResult) -> ResultOut:
        return cls(sent=result.sent, skipped=result.skipped)


class ConfirmedOut(BaseModel):
    notification_id: int
    newly_confirmed: bool = Field(description="false: it was confirmed before (nothing sent again)")


def _exam_id(request: Request) -> int:
    exam_id: int = request.path_params["id"]
    return exam_id


@router.get("/monitoring/{id:int}/connections", summary="The exam's SEB client connections", tag=TAG,
            response_model=ConnectionListOut)
async def list_connections(request: Request, actor: Actor) -> dict[str, Any]:
    snapshot = await services_of(request).monitoring.snapshot(actor, _exam_id(request))
    newest_first = reversed(snapshot.connections)
    return out(ConnectionListOut(items=[ConnectionOut.of(state) for state in newest_first]))


@router.post("/monitoring/{id:int}/instruction", summary="Quit or lock the screen of SEB clients; delivered on "
             "their next ping (within a minute, else dropped)", tag=TAG, request_model=InstructionIn,
             response_model=ResultOut)
async def send_instruction(request: Request, actor: Actor) -> dict[str, Any]:
    data = await parse_body(request, InstructionIn)
    attributes = {"message": data.message} if data.message else {}
    result = await services_of(request).sessions.actions.send_instruction(
        actor, _exam_id(request), data.connection_tokens, data.type, attributes)
    return out(ResultOut.of(result))


@router.post("/monitoring/{id:int}/disable-connection", summary="Mark connections as canceled (only closed ones "
             "and ones with a missing ping); a client still pinging is told to quit", tag=TAG,
             request_model=TokensIn, response_model=ResultOut)
async def disable_connections(request: Request, actor: Actor) -> dict[str, Any]:
    data = await parse_body(request, TokensIn)
    result = await services_of(request).sessions.actions.disable(actor, _exam_id(request), data.connection_tokens)
    return out(ResultOut.of(result))


@router.post("/monitoring/{id:int}/notifications/{notification_id:int}/confirm",
             summary="Confirm a raise-hand or lock-screen notification; the client gets NOTIFICATION_CONFIRM",
             tag=TAG, response_model=ConfirmedOut)
async def confirm_notification(request: Request, actor: Actor) -> dict[str, Any]:
    notification_id: int = request.path_params["notification_id"]
    newly = await services_of(request).sessions.actions.confirm_notification(
        actor, _exam_id(request), notification_id)
    return out(ConfirmedOut(notification_id=notification_id, newly_confirmed=newly))
