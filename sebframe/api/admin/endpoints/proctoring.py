"""Live proctoring of an exam: the meeting services installed, the exam's settings (secrets never returned),
the connection test, "reset rooms", the rooms with their participants, a proctor's join of a room, the
town-hall, one-to-one rooms and broadcast."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import Response

from sebframe.api.admin.endpoints._common import out, parse_body, services_of
from sebframe.api.admin.routing import ApiRouter
from sebframe.core.accounts.actor import Actor
from sebframe.core.integration_settings import secret_field_names
from sebframe.core.proctoring.schemas import ProctoringSettingsInput
from sebframe.core.proctoring.service import RoomView, SettingsView
from sebframe.core.validation import InputModel
from sebframe.types import ConnectionTestResult, ProctorWindow

router = ApiRouter()

TAG = "proctoring"


class ProctoringTypeOut(BaseModel):
    name: str = Field(description="the service-type SEB clients get, e.g. JITSI_MEET")
    display_name: str
    features: list[str] = Field(description="TOWN_HALL, ONE_TO_ONE, BROADCAST, ENABLE_CHAT: what it supports")
    default_url: str
    settings_schema: dict[str, Any] = Field(description="JSON schema of the service's own settings")
    secret_settings: list[str] = Field(description="settings that are stored encrypted and never returned")


class ProctoringTypesOut(BaseModel):
    items: list[ProctoringTypeOut]


class TestOut(BaseModel):
    ok: bool
    message: str
    error_kind: str | None

    @classmethod
    def of(cls, result: ConnectionTestResult) -> TestOut:
        return cls(ok=result.ok, message=result.message, error_kind=result.error_kind)


class ProctoringSettingsOut(BaseModel):
    exam_id: int
    enabled: bool
    service_type: str
    server_url: str
    collecting_room_size: int = Field(description="0: unlimited")
    features: list[str]
    settings: dict[str, Any] = Field(description="the service's settings; secrets as ******** (or empty)")
    last_test_ok: bool | None
    last_test_message: str
    rooms: int = Field(description="rooms that exist: the settings are locked until the rooms are reset")
    locked: bool
    configured: bool = Field(default=True, description="false: the exam has no proctoring settings yet")

    @classmethod
    def none(cls, exam_id: int) -> ProctoringSettingsOut:
        return cls(exam_id=exam_id, enabled=False, service_type="", server_url="", collecting_room_size=20,
                   features=[], settings={}, last_test_ok=None, last_test_message="", rooms=0, locked=False,
                   configured=False)

    @classmethod
    def of(cls, view: SettingsView) -> ProctoringSettingsOut:
        return cls(exam_id=view.exam_id, enabled=view.enabled, service_type=view.service_type,
                   server_url=view.server_url, collecting_room_size=view.collecting_room_size,
                   features=[feature.value for feature in view.features], settings=view.settings,
                   last_test_ok=view.last_test_ok, last_test_message=view.last_test_message, rooms=view.rooms,
                   locked=view.locked)


class SavedOut(BaseModel):
    settings: ProctoringSettingsOut
    test: TestOut = Field(description="the connection test run on saving; enabled only when it passed")


class ParticipantOut(BaseModel):
    connection_id: int
    name: str


class RoomOut(BaseModel):
    id: int
    kind: str = Field(description="proctoring (collecting), townhall or breakout (one-to-one)")
    number: int
    subject: str
    label: str = Field(description="as the monitoring page shows it, e.g. 'Room 1 (12 / 20)'")
    size: int
    max_size: int
    receive_audio: bool
    receive_video: bool
    allow_chat: bool
    participants: list[ParticipantOut] = Field(description="the connections currently sent to this room")

    @classmethod
    def of(cls, room: RoomView) -> RoomOut:
        return cls(id=room.id, kind=room.kind.value, number=room.number, subject=room.subject, label=room.label,
                   size=room.size, max_size=room.max_size, receive_audio=room.receive_audio,
                   receive_video=room.receive_video, allow_chat=room.allow_chat,
                   participants=[ParticipantOut(connection_id=cid, name=name) for cid, name in room.participants])


class RoomsOut(BaseModel):
    enabled: bool
    items: list[RoomOut]


class JoinOut(BaseModel):
    room: RoomOut
    scripts: list[str] = Field(description="scripts of the meeting server the proctor's page loads")
    config: dict[str, Any] = Field(description="the meeting service's join data (contains a moderator token)")
    open_url: str | None = Field(description="set: open this URL instead (the meeting service's own app)")
    window_url: str = Field(description="sebframe's proctor window page for this room")

    @classmethod
    def of(cls, exam_id: int, room: RoomView, window: ProctorWindow) -> JoinOut:
        return cls(room=RoomOut.of(room), scripts=list(window.scripts), config=dict(window.config),
                   open_url=window.open_url, window_url=f"/proctoring/{exam_id}/rooms/{room.id}/window")


class TownHallIn(InputModel):
    subject: str = Field(default="Town-hall", min_length=1, max_length=255, description="what people see")


class OneToOneIn(InputModel):
    connection_ids: list[int] = Field(min_length=1, max_length=50)


class BroadcastIn(InputModel):
    receive_audio: bool = False
    receive_video: bool = False
    allow_chat: bool = False


class SentOut(BaseModel):
    sent: int = Field(description="clients the reconfiguration was sent to")


class ResetOut(BaseModel):
    failures: list[str] = Field(description="rooms the meeting service could not dispose (retried)")


def _ids(request: Request) -> tuple[int, int]:
    return request.path_params["id"], request.path_params.get("room_id", 0)


@router.get("/proctoring-types", summary="The installed meeting services, with the JSON schema of their settings",
            tag=TAG, response_model=ProctoringTypesOut)
async def list_types(request: Request, actor: Actor) -> dict[str, Any]:
    types = services_of(request).proctoring.service.types()
    return out(ProctoringTypesOut(items=[ProctoringTypeOut(
        name=item.name, display_name=item.display_name, features=sorted(feature.value for feature in item.features),
        default_url=item.default_url, settings_schema=item.settings_model.model_json_schema(),
        secret_settings=sorted(secret_field_names(item.settings_model))) for item in types]))


@router.get("/exams/{id:int}/proctoring", summary="The exam's proctoring settings (secrets masked)", tag=TAG,
            response_model=ProctoringSettingsOut)
async def get_settings(request: Request, actor: Actor) -> dict[str, Any]:
    exam_id, _ = _ids(request)
    view = await services_of(request).proctoring.service.settings(actor, exam_id)
    return out(ProctoringSettingsOut.of(view) if view is not None else ProctoringSettingsOut.none(exam_id))


@router.put("/exams/{id:int}/proctoring", summary="Save the proctoring settings and test the meeting server; "
            "'enabled' holds only when the test passes. 409 while rooms exist (reset them first). An empty "
            "secret keeps the stored one", tag=TAG, request_model=ProctoringSettingsInput, response_model=SavedOut)
async def save_settings(request: Request, actor: Actor) -> dict[str, Any]:
    exam_id, _ = _ids(request)
    data = await parse_body(request, ProctoringSettingsInput)
    view, result = await services_of(request).proctoring.service.save(actor, exam_id, data.model_dump(mode="json"))
    return out(SavedOut(settings=ProctoringSettingsOut.of(view), test=TestOut.of(result)))


@router.post("/exams/{id:int}/proctoring/test", summary="Test the meeting server with the stored settings", tag=TAG,
             response_model=TestOut)
async def test_settings(request: Request, actor: Actor) -> dict[str, Any]:
    exam_id, _ = _ids(request)
    return out(TestOut.of(await services_of(request).proctoring.service.test(actor, exam_id)))


@router.delete("/exams/{id:int}/proctoring/rooms", summary="Reset the rooms: clients in a room get a LEAVE, the "
               "rooms are disposed and proctoring is switched off, so the settings can be changed", tag=TAG,
               response_model=ResetOut)
async def reset_rooms(request: Request, actor: Actor) -> dict[str, Any]:
    exam_id, _ = _ids(request)
    return out(ResetOut(failures=await services_of(request).proctoring.service.reset_rooms(actor, exam_id)))


@router.get("/exams/{id:int}/proctoring/rooms", summary="The exam's proctoring rooms and who is in each", tag=TAG,
            response_model=RoomsOut)
async def list_rooms(request: Request, actor: Actor) -> dict[str, Any]:
    exam_id, _ = _ids(request)
    state = await services_of(request).proctoring.service.state(actor, exam_id)
    return out(RoomsOut(enabled=state.active, items=[RoomOut.of(room) for room in state.rooms]))


@router.post("/exams/{id:int}/proctoring/rooms/{room_id:int}/join", summary="A proctor's join of a room (moderator "
             "token); only for users who may supervise the exam", tag=TAG, response_model=JoinOut)
async def join_room(request: Request, actor: Actor) -> dict[str, Any]:
    exam_id, room_id = _ids(request)
    room, window = await services_of(request).proctoring.service.proctor_window(actor, exam_id, room_id)
    return out(JoinOut.of(exam_id, room, window))


@router.post("/exams/{id:int}/proctoring/town-hall", summary="Open the town-hall: every client of the exam joins it",
             tag=TAG, request_model=TownHallIn, response_model=RoomOut, status_code=201)
async def open_town_hall(request: Request, actor: Actor) -> dict[str, Any]:
    exam_id, _ = _ids(request)
    data = await parse_body(request, TownHallIn)
    return out(RoomOut.of(await services_of(request).proctoring.service.open_town_hall(actor, exam_id,
                                                                                      subject=data.subject)))


@router.delete("/exams/{id:int}/proctoring/town-hall", summary="Close the town-hall: clients go back to their rooms",
               tag=TAG, status_code=204)
async def close_town_hall(request: Request, actor: Actor) -> Response:
    exam_id, _ = _ids(request)
    await services_of(request).proctoring.service.close_town_hall(actor, exam_id)
    return Response(status_code=204)


@router.post("/exams/{id:int}/proctoring/one-to-one", summary="Open a one-to-one room with the given connections",
             tag=TAG, request_model=OneToOneIn, response_model=RoomOut, status_code=201)
async def open_one_to_one(request: Request, actor: Actor) -> dict[str, Any]:
    exam_id, _ = _ids(request)
    data = await parse_body(request, OneToOneIn)
    room = await services_of(request).proctoring.service.open_one_to_one(actor, exam_id, data.connection_ids)
    return out(RoomOut.of(room))


@router.delete("/exams/{id:int}/proctoring/rooms/{room_id:int}", summary="Close a one-to-one room (or the "
               "town-hall): its clients go back", tag=TAG, status_code=204)
async def close_room(request: Request, actor: Actor) -> Response:
    exam_id, room_id = _ids(request)
    await services_of(request).proctoring.service.close_room(actor, exam_id, room_id)
    return Response(status_code=204)


@router.post("/exams/{id:int}/proctoring/rooms/{room_id:int}/broadcast", summary="Set what the room's clients get: "
             "the proctor's audio and video, the chat (SEB_RECONFIGURE_SETTINGS)", tag=TAG,
             request_model=BroadcastIn, response_model=SentOut)
async def broadcast(request: Request, actor: Actor) -> dict[str, Any]:
    exam_id, room_id = _ids(request)
    data = await parse_body(request, BroadcastIn)
    sent = await services_of(request).proctoring.service.broadcast(
        actor, exam_id, room_id, receive_audio=data.receive_audio, receive_video=data.receive_video,
        allow_chat=data.allow_chat)
    return out(SentOut(sent=sent))
