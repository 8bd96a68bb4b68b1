"""The typed surface plugins implement: descriptors yielded by registration hooks, and adapter protocols.

Registration hooks are sync and cheap; they yield these frozen descriptors. Anything that does I/O lives
behind a descriptor in an adapter with async methods, built per configured instance (an LMS setup, a
proctoring service setting) by the descriptor's factory. Indicator computations are pure and sync: they
run on the ping path.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum, StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from pydantic import BaseModel

if TYPE_CHECKING:
    import httpx


def _normalised(name: str) -> str:
    name = name.strip()
    if not name:
        raise ValueError("a plugin descriptor needs a non-empty name")
    return name


# -- who is asking: roles, privileges and the signed-in user ---------------------------------------


class Role(StrEnum):
    """SEB Server's four user roles."""

    SEB_SERVER_ADMIN = "SEB_SERVER_ADMIN"
    INSTITUTIONAL_ADMIN = "INSTITUTIONAL_ADMIN"
    EXAM_ADMIN = "EXAM_ADMIN"
    EXAM_SUPPORTER = "EXAM_SUPPORTER"

    @property
    def label(self) -> str:
        return _ROLE_LABELS[self]


_ROLE_LABELS = {
    Role.SEB_SERVER_ADMIN: "SEB Server Administrator",
    Role.INSTITUTIONAL_ADMIN: "Institutional Administrator",
    Role.EXAM_ADMIN: "Exam Administrator",
    Role.EXAM_SUPPORTER: "Exam Supporter",
}


class Privilege(IntEnum):
    """read < modify < write; write includes create, delete and activate."""

    NONE = 0
    READ = 1
    MODIFY = 2
    WRITE = 3


class EntityType(StrEnum):
    """The kinds of entity privileges are granted on."""

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


class Scope(IntEnum):
    """How far a list query may reach for one entity type and privilege."""

    NONE = 0
    OWNER = 1
    INSTITUTION = 2
    OVERALL = 3


@runtime_checkable
class Actor(Protocol):
    """The signed-in user as hooks see it (``sebframe_menu_items``); the core's own actor implements it."""

    @property
    def user_id(self) -> int: ...

    @property
    def username(self) -> str: ...

    @property
    def institution_id(self) -> int: ...

    @property
    def roles(self) -> frozenset[Role]: ...

    def has_role(self, role: Role) -> bool: ...

    def may(self, privilege: Privilege, entity_type: EntityType, *, institution_id: int | None,
            owner_id: int | None = None) -> bool:
        """True if the user holds ``privilege`` on an entity of that institution and owner."""
        ...

    def scope(self, privilege: Privilege, entity_type: EntityType) -> Scope:
        """The widest reach the user's roles give for ``privilege`` on ``entity_type``."""
        ...


# -- start-up ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StartupContext:
    """What ``sebframe_startup`` gets besides the application: stable facts about this server, no services."""

    data_dir: Path  # the server's data directory; keep a plugin's files under ``data_dir / <plugin name>``
    external_url: str | None  # the URL SEB clients and browsers reach this server at, when configured
    plugin_names: tuple[str, ...]  # every registered plugin, built-ins included


# -- common values -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ConnectionTestResult:
    """Outcome of testing a configured integration; ``message`` is shown to the admin as it is."""

    ok: bool
    message: str = ""
    error_kind: str | None = None  # e.g. "dns", "refused", "tls", "unauthorized", "api", "timeout"

    @classmethod
    def success(cls, message: str = "connection works") -> ConnectionTestResult:
        return cls(True, message)

    @classmethod
    def failure(cls, kind: str, message: str) -> ConnectionTestResult:
        return cls(False, message, kind)


@dataclass(frozen=True, slots=True)
class IntegrationContext:
    """What an adapter factory gets for one configured instance (an LMS setup, a proctoring setting)."""

    instance_id: int
    institution_id: int
    url: str
    settings: BaseModel  # validated with the descriptor's ``settings_model``; secrets already decrypted
    http: httpx.AsyncClient  # shared client, with the instance's proxy and timeouts applied


# -- LMS course access ---------------------------------------------------------------------------


class LmsFeature(StrEnum):
    COURSE_API = "COURSE_API"
    SEB_RESTRICTION = "SEB_RESTRICTION"
    COURSE_RECOVERY = "COURSE_RECOVERY"
    LMS_FULL_INTEGRATION = "LMS_FULL_INTEGRATION"


@dataclass(frozen=True, slots=True)
class QuizData:
    """An LMS-neutral course or quiz; ``id`` is unique within one LMS setup."""

    id: str
    name: str
    start_time: datetime | None
    end_time: datetime | None
    start_url: str
    description: str = ""
    course_id: str | None = None
    additional: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class QuizFilter:
    name: str | None = None
    start_from: datetime | None = None


@dataclass(frozen=True, slots=True)
class ExamineeAccount:
    id: str
    name: str | None = None
    username: str | None = None
    email: str | None = None

    @property
    def display_name(self) -> str:
        if not self.name or self.name == self.id:
            return self.id
        return f"{self.name} ({self.id})"


@dataclass(frozen=True, slots=True)
class Chapter:
    id: str
    name: str


@runtime_checkable
class LmsAdapter(Protocol):
    """Course access for one LMS setup (mirrors SEB Server's CourseAccessAPI)."""

    async def test(self) -> ConnectionTestResult: ...

    async def find_quizzes(self, quiz_filter: QuizFilter) -> list[QuizData]: ...

    async def get_quizzes(self, ids: Sequence[str]) -> list[QuizData]:
        """Quizzes by id; unknown ids are left out, not an error."""
        ...

    async def get_examinee(self, user_session_id: str) -> ExamineeAccount: ...

    async def get_course_chapters(self, course_id: str) -> list[Chapter]: ...


@dataclass(frozen=True, slots=True)
class LmsType:
    """An LMS a plugin can talk to, e.g. ``OPEN_EDX``; yielded by ``sebframe_lms_types``."""

    name: str
    display_name: str
    settings_model: type[BaseModel]
    create_adapter: Callable[[IntegrationContext], LmsAdapter]
    features: frozenset[LmsFeature] = frozenset({LmsFeature.COURSE_API})

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", _normalised(self.name).upper())


# -- SEB restriction on the LMS ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SebRestriction:
    """What the LMS enforces: Config Keys, Browser Exam Keys and LMS-specific properties."""

    config_keys: tuple[str, ...] = ()
    browser_exam_keys: tuple[str, ...] = ()
    properties: Mapping[str, Any] = field(default_factory=dict)

    @property
    def is_restricting(self) -> bool:
        return bool(self.config_keys or self.browser_exam_keys)


@runtime_checkable
class RestrictionApi(Protocol):
    """SEB restriction of quizzes on one LMS setup (mirrors SEB Server's SEBRestrictionAPI)."""

    async def test(self) -> ConnectionTestResult: ...

    async def get(self, quiz: QuizData) -> SebRestriction | None: ...

    async def apply(self, quiz: QuizData, restriction: SebRestriction) -> SebRestriction:
        """Create or update the restriction; returns what the LMS now holds."""
        ...

    async def release(self, quiz: QuizData) -> None: ...


class ChoiceSource(StrEnum):
    """Where the core fetches the choices of a ``RestrictionField`` from, per exam."""

    CHAPTERS = "chapters"  # LmsAdapter.get_course_chapters(): chapter ids stored, chapter names shown


@dataclass(frozen=True, slots=True)
class RestrictionField:
    """An LMS-specific restriction property shown in the restriction dialog (e.g. Open edX paths).

    ``choices`` are fixed values; ``choices_from`` asks the core to fetch them from the exam's course instead
    (plugins declare, the core fetches). Without either the field is free text, also the fallback when the LMS
    cannot list the choices.
    """

    name: str
    label: str
    choices: tuple[str, ...] = ()  # empty: free text (or the choices from ``choices_from``)
    multiple: bool = False
    choices_from: ChoiceSource | None = None

    def __post_init__(self) -> None:
        if self.choices and self.choices_from:
            raise ValueError(f"restriction field {self.name!r}: give fixed choices or choices_from, not both")
        if self.choices_from is not None:
            object.__setattr__(self, "choices_from", ChoiceSource(self.choices_from))


@dataclass(frozen=True, slots=True)
class RestrictionType:
    """The SEB restriction API for one LMS type; yielded by ``sebframe_restriction_apis``."""

    lms_type: str
    create_api: Callable[[IntegrationContext], RestrictionApi]
    fields: tuple[RestrictionField, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "lms_type", _normalised(self.lms_type).upper())


# -- indicators ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Threshold:
    value: float
    color: str  # hex RGB without '#', as SEB Server stores it


@dataclass(frozen=True, slots=True)
class ClientEventView:
    """A client log event as indicators see it."""

    type: str  # ERROR_LOG, WARN_LOG, INFO_LOG, DEBUG_LOG, ...
    text: str
    numeric_value: float | None
    server_time_ms: int


class IndicatorComputation(Protocol):
    """Pure and sync: folds events into a value, and reads the value at a moment."""

    def initial_value(self) -> float: ...

    def on_event(self, value: float, event: ClientEventView) -> float: ...

    def current_value(self, value: float, last_ping_ms: int | None, now_ms: int) -> float: ...


@dataclass(frozen=True, slots=True)
class IndicatorType:
    """An indicator kind, e.g. ``LAST_PING``; yielded by ``sebframe_indicator_types``."""

    name: str
    display_name: str
    create: Callable[[Sequence[str]], IndicatorComputation]  # argument: the indicator's tags
    inverse: bool = False  # low values are bad (battery, WLAN)
    uses_tags: bool = False
    fixed_tags: tuple[str, ...] = ()
    show_only_when_active: bool = False
    default_thresholds: tuple[Threshold, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", _normalised(self.name).upper())


# -- proctoring ----------------------------------------------------------------------------------


class ProctoringFeature(StrEnum):
    """What a meeting service supports and an exam enables (SEB Server's ``enabledFeatures`` constants)."""

    TOWN_HALL = "TOWN_HALL"  # all clients of the exam into one room
    ONE_TO_ONE = "ONE_TO_ONE"  # a break-out room with chosen clients
    BROADCAST = "BROADCAST"  # clients receive the proctor's audio and video (SEB_RECONFIGURE_SETTINGS)
    ENABLE_CHAT = "ENABLE_CHAT"  # clients get the meeting's chat


class RoomKind(StrEnum):
    """A room's purpose; the value is the ``roomType`` a SEB client gets with a JOIN."""

    COLLECTING = "proctoring"
    TOWN_HALL = "townhall"
    BREAK_OUT = "breakout"


@dataclass(frozen=True, slots=True)
class RoomRequest:
    """A room the core asks a meeting service for."""

    kind: RoomKind
    name: str  # unique (a UUID made by the core); a service may use it as the meeting's room name
    subject: str  # what people see: "Room 3", "Town-hall", "One-to-one"
    exam_id: int
    ends_at: datetime  # the exam's end plus a margin: a meeting (and every token for it) lasts until then


@dataclass(frozen=True, slots=True)
class ProctoringRoom:
    """A room as the meeting service made it. ``data`` is what the service needs later (a meeting id, its
    password, its host): the core stores it encrypted and hands it back with every call for the room."""

    kind: RoomKind
    name: str
    subject: str
    data: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Participant:
    """Who joins a room: a SEB client (``moderator`` False, named by its user session) or a proctor."""

    display_name: str
    moderator: bool
    expires_at: datetime  # tokens for this join expire then (the exam's end plus a margin)
    user_id: str = ""  # the proctor's username or the connection's id, for the service's reports


@dataclass(frozen=True, slots=True)
class ProctorWindow:
    """What the proctor's window page loads. The page loads ``scripts`` (absolute URLs on the meeting
    server: never a copy of ours), then the type's ``plugin_scripts`` (files of ``ProctoringType.static_dir``),
    which find ``config`` as JSON in the element ``#proctoring-config`` and a ``#meeting`` element to fill.
    ``open_url`` instead sends the proctor to that URL (a meeting service's own app). ``connect_sources`` are
    further origins the meeting's scripts talk to (web sockets, media, workers; wildcards as in CSP, e.g.
    ``wss://*.zoom.us``), ``webassembly`` whether they compile WebAssembly: the page's Content-Security-Policy
    allows those and nothing else."""

    scripts: tuple[str, ...] = ()
    plugin_scripts: tuple[str, ...] = ()
    config: Mapping[str, Any] = field(default_factory=dict)
    open_url: str | None = None
    connect_sources: tuple[str, ...] = ()
    webassembly: bool = False


@runtime_checkable
class ProctoringService(Protocol):
    """A meeting service for the exam it was built for (``IntegrationContext.instance_id`` is the exam id,
    ``url`` the meeting server, ``settings`` the type's validated settings with secrets)."""

    async def test(self) -> ConnectionTestResult:
        """Reach the meeting server with the settings; the message says what to fix."""
        ...

    async def create_room(self, request: RoomRequest) -> ProctoringRoom: ...

    async def dispose_room(self, room: ProctoringRoom) -> None:
        """End and delete the meeting; idempotent (a room disposed already, or never made, is fine)."""
        ...

    async def client_join(self, room: ProctoringRoom, participant: Participant) -> Mapping[str, str]:
        """The service's attributes of a ``SEB_PROCTORING`` JOIN (``jitsiMeetRoom``, ``jitsiMeetToken``, ...);
        the core adds ``service-type``, ``method`` and ``roomType``."""
        ...

    async def proctor_join(self, room: ProctoringRoom, participant: Participant) -> ProctorWindow: ...

    def reconfigure_attributes(self, *, receive_audio: bool, receive_video: bool, allow_chat: bool
                               ) -> Mapping[str, str]:
        """The attributes of ``SEB_RECONFIGURE_SETTINGS`` in the names the SEB clients read."""
        ...


@dataclass(frozen=True, slots=True)
class ProctoringType:
    """A meeting service, e.g. ``JITSI_MEET``; yielded by ``sebframe_proctoring_services``.

    ``name`` is the ``service-type`` SEB clients get. ``settings_model`` is the part of an exam's proctoring
    settings that is the service's own (credentials as ``SecretStr``: stored encrypted, never shown);
    ``features`` what it supports; ``static_dir`` the files the proctor window's ``plugin_scripts`` name.
    """

    name: str
    display_name: str
    settings_model: type[BaseModel]
    create_service: Callable[[IntegrationContext], ProctoringService]
    features: frozenset[ProctoringFeature] = frozenset(ProctoringFeature)
    default_url: str = ""
    static_dir: Path | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", _normalised(self.name).upper())
        object.__setattr__(self, "features", frozenset(ProctoringFeature(item) for item in self.features))


# -- connection admission ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AdmissionRequest:
    """A SEB client asking to bind to an exam (handshake steps) or reporting from a new address.

    ``step`` is "handshake-create" (only with an exam id), "handshake-update", "exam-config",
    "handshake-establish" or "address-change" (a ping or log from a new address while bound to the exam;
    refusing it cannot stop the ping, see ``AdmissionDecision.quit_client``). ``handshake-list`` asks
    ``AdmissionCheck.filter_exams`` which running exams a new client may see.
    """

    step: str
    institution_id: int
    exam_id: int | None
    connection_token: str
    client_address: str | None  # resolved through the trusted proxies; None: unresolvable
    user_session_id: str | None = None  # the LMS user id, once the client sent it
    connection_id: int | None = None  # None only before the connection exists (handshake-create)
    peer_address: str | None = None  # the socket peer the request came from
    forwarded_chain: str = ""  # the forwarding header as received from a trusted proxy
    address_problem: str | None = None  # why the address could not be resolved
    forwarding_ignored: bool = False  # forwarding headers from a peer that is not a trusted proxy
    previous_address: str | None = None  # for "address-change"
    user_agent: str = ""
    request_line: str = ""  # method and path, e.g. "GET /exam-api/v1/examconfig"


@dataclass(frozen=True, slots=True)
class AdmissionDecision:
    allowed: bool
    reason: str = ""  # shown to the student when refused
    code: str | None = None
    details: Mapping[str, str] = field(default_factory=dict)  # more fields of the 403 body (an approval code)
    quit_client: bool = False  # "address-change" refused: send the client SEB_QUIT

    @classmethod
    def allow(cls) -> AdmissionDecision:
        return cls(True)

    @classmethod
    def deny(cls, reason: str, code: str | None = None, *, details: Mapping[str, str] | None = None,
             quit_client: bool = False) -> AdmissionDecision:
        return cls(False, reason, code, dict(details or {}), quit_client)


@dataclass(frozen=True, slots=True)
class AdmissionCheck:
    """Called at handshake steps; the first denial refuses the client. Yielded by ``sebframe_admission_checks``.

    ``filter_exams`` (optional) gets the running exam ids a new client would be offered (``POST /handshake``
    without an exam) and returns those it may see.
    """

    name: str
    check: Callable[[AdmissionRequest], Awaitable[AdmissionDecision]]
    filter_exams: Callable[[AdmissionRequest, Sequence[int]], Awaitable[Collection[int]]] | None = None


# -- web UI --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MenuItem:
    """An entry of the left menu; ``section`` groups entries under a heading."""

    section: str
    label: str
    href: str
    order: int = 100
    tooltip: str = ""



__all__ = [
    "Actor",
    "AdmissionCheck",
    "AdmissionDecision",
    "AdmissionRequest",
    "Chapter",
    "ChoiceSource",
    "ClientEventView",
    "ConnectionTestResult",
    "EntityType",
    "ExamineeAccount",
    "IndicatorComputation",
    "IndicatorType",
    "IntegrationContext",
    "LmsAdapter",
    "LmsFeature",
    "LmsType",
    "MenuItem",
    "Privilege",
    "Participant",
    "ProctorWindow",
    "ProctoringFeature",
    "ProctoringRoom",
    "ProctoringService",
    "ProctoringType",
    "QuizData",
    "QuizFilter",
    "RestrictionApi",
    "RestrictionField",
    "RestrictionType",
    "Role",
    "RoomKind",
    "RoomRequest",
    "Scope",
    "SebRestriction",
    "StartupContext",
    "Threshold",
]
