"""A fake Moodle: a real HTTP server on 127.0.0.1 speaking Moodle's web-service protocol as SEB Server meets it.

Start it with a context manager; it listens on a free port and stops when the block ends (or, at the latest,
after ``lifetime`` seconds)::

    from sebframe.testing.fakes.moodle import FakeMoodle

    with FakeMoodle() as moodle:
        ...  # point an LMS setup at moodle.url with moodle.username / moodle.password (or moodle.issue_token())
        assert moodle.calls_of("core_webservice_get_site_info")

Routes (see ``reference/lms-apis.md`` §3 and §7):

- ``GET|POST /login/token.php``: ``username``, ``password``, ``service`` in the query string (as SEB Server sends
  them) or the form body. Answers ``{"token", "privatetoken"}``, or, with HTTP 200, Moodle's AJAX error object
  ``{"error", "errorcode", "stacktrace", "debuginfo", "reproductionlink"}``: ``invalidlogin``,
  ``servicenotavailable`` (unknown or disabled service short name), ``enablewsdescription`` (web services off),
  ``missingparam``, ``sitemaintenance``. Repeated requests for the same service return the same token.
- ``GET|POST /webservice/rest/server.php``: ``wstoken``, ``wsfunction``, ``moodlewsrestformat`` and the function
  arguments anywhere in the query string or the ``application/x-www-form-urlencoded`` body (Moodle merges GET and
  POST, POST winning), with PHP array syntax (``a[]=1&a[]=2``, ``a[0]=1``, ``options[ids][0]=5``,
  ``data[quizid]=7``). Arguments are validated like Moodle's ``external_api::validate_parameters``: unknown
  keys, missing required keys, non-integers for integer parameters and scalars where arrays are expected are an
  ``invalid_parameter_exception``. Errors come back with **HTTP 200** and ``{"exception", "errorcode", "message"}``
  (plus ``debuginfo`` when ``debug`` is on): ``invalidtoken`` (unknown or revoked token),
  ``accessexception`` (function not in the token's service), ``invalidrecord`` (function does not exist, e.g.
  the SEB Server plugin is not installed), ``sitemaintenance``. With ``rest_enabled=False`` it answers 403 with
  an empty body, like Moodle with the REST protocol disabled.
- Functions: ``core_webservice_get_site_info``, ``core_course_search_courses`` (an empty search value lists
  all courses), ``core_course_get_courses`` (``options[ids][]``), ``core_course_get_courses_by_field``,
  ``mod_quiz_get_quizzes_by_courses`` (warning "No access rights in course context" for unknown course ids,
  e.g. a padding ``0``), ``core_user_get_users_by_field``; with the SEB Server plugin (``plugin="v2"``, the
  default, or ``"v1"``): ``quizaccess_sebserver_get_exams`` (paging with ``startneedle``/``perpage``,
  ``courseid[]=0`` for all courses, ``nocoursefound`` for an empty page; the SQL ``conditions`` are recorded but
  not applied), ``quizaccess_sebserver_get_restriction``, ``quizaccess_sebserver_set_restriction`` and, for
  ``v2``, ``quizaccess_sebserver_connection``, ``quizaccess_sebserver_connection_delete`` and
  ``quizaccess_sebserver_set_exam_data`` (which calls SEB Server back: ``POST {connection url}/seb_config``).
- Restriction rules of the plugin (``externallib.php``): only Browser Exam Keys are stored (``configkeys`` is
  always ``[]``; keys are lower-cased on get); both lists empty deletes the restriction with warning
  ``restrictiondeleted``; Config Keys without Browser Exam Keys, a quiz with attempts, a quiz without an enabled
  SEB Server record (``v2``) or a missing ``mod/quiz:manage`` capability are refused with a warning, not an
  exception. ``v1`` accepts ``quitlink``/``quitsecret`` and creates the SEB Server record itself; ``v2``
  rejects those keys as unexpected.
- ``GET /mod/quiz/view.php?id={coursemodule}``: the quiz page (the start URL SEB opens), 404 if unknown.
- ``GET /mod/quiz/accessrule/sebserver/classes/external/user.php``: with a ``MoodleSession`` cookie from
  ``login_session()`` prints the user id and sets ``X-LMS-USER-ID``/``-USERNAME``/``-EMAIL``/``-IDNUMBER``;
  without one it redirects to the login page (plugin installed only).

Failure switches (constructor arguments, and attributes you may change while it runs): ``fail_status`` answers
every request with that status; ``redirect_to`` redirects every request there (303, like a Moodle whose
``wwwroot`` is another address); ``delay`` sleeps that many seconds first; ``malformed_json`` prefixes every JSON
answer with a PHP warning (what a Moodle with debug output shows); ``maintenance`` answers ``sitemaintenance``;
``rest_enabled`` and ``webservices_enabled``; ``can_manage_quizzes`` and ``course_admin`` (capabilities of the
web-service user); ``responses[function]`` replaces a function's answer (a JSON value, or a callable taking the
parsed arguments). ``revoke_tokens()`` invalidates issued tokens. Everything received is in ``requests``.

Seed data follows SEB Server's unit-test Moodle fake: courses ``1..20`` with ``shortname=c{i}``,
``fullname=course{i}``, ``idnumber=i{i}``, a quiz ``10{i}`` in every course and ``11{i}`` in odd ones (course
module ids ``50{i}``/``51{i}``, so quiz id and course module id differ), course 21 without quizzes; SEB Server is
enabled for every seeded quiz. Users ``2`` (Test User), ``12`` (Ada Lovelace) and ``42`` (Grace Hopper).
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import threading
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import parse_qsl

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route

from sebframe.testing.fakes._server import BackgroundServer

DEFAULT_USERNAME = "sebserver"
DEFAULT_PASSWORD = "sebserver-Pa55!"
SEB_SERVER_SERVICE = "SEB-Server-Webservice"
MOBILE_APP_SERVICE = "moodle_mobile_app"
MOODLE_RELEASE = "4.5.2 (Build: 20250210)"
MOODLE_VERSION = "2024100702.00"
_FUNCTION_VERSION = "2024100700"

CORE_FUNCTIONS = (
    "core_webservice_get_site_info",
    "core_course_search_courses",
    "core_course_get_courses",
    "core_course_get_courses_by_field",
    "mod_quiz_get_quizzes_by_courses",
    "core_user_get_users_by_field",
)
PLUGIN_V1_FUNCTIONS = (
    "quizaccess_sebserver_get_exams",
    "quizaccess_sebserver_get_restriction",
    "quizaccess_sebserver_set_restriction",
)
PLUGIN_V2_FUNCTIONS = PLUGIN_V1_FUNCTIONS + (
    "quizaccess_sebserver_connection",
    "quizaccess_sebserver_connection_delete",
    "quizaccess_sebserver_set_exam_data",
)
# The plugin's pre-built service (db/services.php): its own functions plus site info and user lookup.
_PLUGIN_SERVICE_CORE = ("core_webservice_get_site_info", "core_user_get_users_by_field")

_TIME_2024 = 1704067200  # 2024-01-01T00:00:00Z
_DAY = 86400
_ACCESS_REASONS = (
    "There could be multiple reasons for this: 1. The service linked to the user token does not contain the "
    "function. 2. The service is user-restricted and the user is not listed. 3. The service is IP-restricted and "
    "the user IP is not listed. 4. The service is time-restricted and the time has expired. 5. The token is "
    "time-restricted and the time has expired. 6. The user has no capability to use the service. 7. The function "
    "is called with username/password (no user token is sent) and none of the services has the function to allow "
    "the user. These settings can be found in Administration > Site administration > Server > Web services > "
    "External services and Manage tokens."
)
# Lang strings of the error codes the fake raises; others read "{module}/{errorcode}" as in Moodle.
_STRINGS = {
    ("webservice", "invalidtoken"): "Invalid token - token not found",
    ("webservice", "accessexception"): "Access control exception",
    ("error", "invalidrecord"): "Can't find data record in database table {a}.",
    ("error", "sitemaintenance"): "The site is undergoing maintenance and is currently not available",
    ("debug", "invalidparameter"): "Invalid parameter value detected",
    ("error", "generalexceptionmessage"): "Exception - {a}",
    ("error", "invalidlogin"): "Invalid login, please try again",
    ("webservice", "servicenotavailable"): "Web service is not available (it doesn't exist or might be disabled)",
    ("webservice", "enablewsdescription"): "Web services must be enabled in Advanced features.",
    ("error", "missingparam"): "A required parameter ({a}) was missing",
}


# -- data ---------------------------------------------------------------------------------------------------


@dataclass
class FakeCourse:
    """A Moodle course; times are unix seconds (0 = not set)."""

    id: int
    shortname: str
    fullname: str
    idnumber: str = ""
    summary: str = ""
    startdate: int = 0
    enddate: int = 0
    timecreated: int = 0
    visible: bool = True
    categoryid: int = 1
    categoryname: str = "Miscellaneous"


@dataclass
class FakeQuiz:
    """A quiz; ``sebserver_enabled`` is the plugin's ``quizaccess_sebserver`` record with ``sebserverenabled=1``."""

    id: int
    course: int
    coursemodule: int
    name: str
    intro: str = ""
    timeopen: int = 0
    timeclose: int = 0
    timelimit: int = 0
    timecreated: int = 0
    has_attempts: bool = False
    sebserver_enabled: bool = True

    @property
    def context_id(self) -> int:
        return 100000 + self.coursemodule


@dataclass
class FakeUser:
    id: int
    username: str
    firstname: str
    lastname: str
    email: str = ""
    idnumber: str = ""
    department: str = ""
    auth: str = "manual"
    suspended: bool = False
    lang: str = "en"
    timezone: str = "99"

    @property
    def fullname(self) -> str:
        return f"{self.firstname} {self.lastname}".strip()


@dataclass
class SebServerRecord:
    """The plugin's per-quiz ``quizaccess_sebserver`` row."""

    enabled: bool = True
    restricted: bool = False
    quitlink: str = ""
    quitsecret: str = ""
    templateid: int = 0
    showquitlink: bool = False
    nextquizid: int = 0
    nextcourseid: int = 0


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str  # without the base path and the query
    query: tuple[tuple[str, str], ...]
    form: tuple[tuple[str, str], ...]  # the urlencoded body, in order
    headers: Mapping[str, str]  # lower-case names
    function: str | None = None  # wsfunction of a web-service call
    params: Mapping[str, Any] = field(default_factory=dict)  # merged arguments parsed like PHP (no ws* keys)

    def arg(self, name: str) -> str | None:
        """The last raw value of ``name`` (exact key such as ``courseid[0]``) from the body, else the query."""
        for pairs in (self.form, self.query):
            values = [value for key, value in pairs if key == name]
            if values:
                return values[-1]
        return None


def demo_courses() -> tuple[list[FakeCourse], list[FakeQuiz]]:
    """Courses 1..20 (c{i}, course{i}, i{i}) with quiz 10{i}, and 11{i} in odd courses; course 21 is empty."""
    courses: list[FakeCourse] = []
    quizzes: list[FakeQuiz] = []
    for i in range(1, 21):
        start = _TIME_2024 + i * _DAY
        courses.append(FakeCourse(i, f"c{i}", f"course{i}", idnumber=f"i{i}", summary=f"<p>Course {i}</p>",
                                  startdate=start, enddate=0 if i % 2 == 0 else start + 365 * _DAY,
                                  timecreated=start - 30 * _DAY))
        quizzes.append(FakeQuiz(int(f"10{i}"), i, int(f"50{i}"), f"quiz 10{i}", intro=f"<p>quiz 10{i}</p>",
                                timeopen=start + 7 * _DAY, timeclose=start + 8 * _DAY, timelimit=3600,
                                timecreated=start))
        if i % 2:
            quizzes.append(FakeQuiz(int(f"11{i}"), i, int(f"51{i}"), f"quiz 11{i}", intro=f"<p>quiz 11{i}</p>",
                                    timecreated=start))
    courses.append(FakeCourse(21, "c21", "course21", idnumber="i21", startdate=_TIME_2024))
    return courses, quizzes


def demo_users() -> list[FakeUser]:
    return [
        FakeUser(2, "testuser", "Test", "User", "test.user@example.org", idnumber="T-2"),
        FakeUser(12, "ada", "Ada", "Lovelace", "ada@example.org", idnumber="S-12"),
        FakeUser(42, "grace", "Grace", "Hopper", "grace@example.org"),
    ]


# -- Moodle's error model -----------------------------------------------------------------------------------


class MoodleException(Exception):
    """What Moodle's REST server turns into ``{"exception", "errorcode", "message"[, "debuginfo"]}``."""

    def __init__(self, errorcode: str, *, module: str = "error", exception: str = "moodle_exception",
                 a: str = "", debuginfo: str | None = None) -> None:
        template = _STRINGS.get((module, errorcode))
        self.errorcode = errorcode
        self.exception = exception
        self.message = template.format(a=a) if template is not None else f"{module}/{errorcode}"
        self.debuginfo = debuginfo
        super().__init__(self.message)

    def body(self, debug: bool) -> dict[str, Any]:
        body: dict[str, Any] = {"exception": self.exception, "errorcode": self.errorcode, "message": self.message}
        if debug and self.debuginfo:
            body["debuginfo"] = self.debuginfo
        return body


def _invalid_parameter(debuginfo: str) -> MoodleException:
    return MoodleException("invalidparameter", module="debug", exception="invalid_parameter_exception",
                           debuginfo=debuginfo)


def _warning(item: str, itemid: int, code: str, message: str) -> dict[str, Any]:
    return {"item": item, "itemid": itemid, "warningcode": code, "message": message}


# -- PHP-style parameters -----------------------------------------------------------------------------------

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")


def parse_php_params(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Parse urlencoded pairs like PHP builds ``$_GET``/``$_POST``: ``a[]``, ``a[0]``, ``a[k][0]`` nest.

    PHP arrays become dicts keyed by ``int`` (numeric keys) or ``str``; a repeated plain key keeps its last value.
    """
    result: dict[Any, Any] = {}
    for key, value in pairs:
        match = _KEY.match(key)
        if match is None:
            result[key] = value
            continue
        parts: list[str] = [match.group(1), *re.findall(r"\[([^\[\]]*)\]", match.group(2))]
        node: dict[Any, Any] = result
        for position, part in enumerate(parts):
            slot: Any
            if part == "" and position > 0:
                slot = max((k for k in node if isinstance(k, int)), default=-1) + 1
            elif re.fullmatch(r"-?\d+", part) and position > 0:
                slot = int(part)
            else:
                slot = part
            if position == len(parts) - 1:
                node[slot] = value
            else:
                child = node.get(slot)
                if not isinstance(child, dict):
                    child = {}
                    node[slot] = child
                node = child
    return result


# Parameter descriptions: a type name ("int", "bool", "raw", "alpha", "text"), a one-element list for
# external_multiple_structure, a dict of (description, default) for external_single_structure. The default is
# REQUIRED, OPTIONAL (left out when missing) or a value.
REQUIRED = object()
OPTIONAL = object()
Spec = Any


def _clean(value: Any, spec: Spec, name: str) -> Any:
    if isinstance(spec, list):
        if not isinstance(value, dict):
            raise _invalid_parameter(f"{name} => Invalid parameter value detected (Only arrays accepted. "
                                     f"The bad value is: '{value}')")
        return [_clean(item, spec[0], f"{name}[{key}]") for key, item in value.items()]
    if isinstance(spec, dict):
        if not isinstance(value, dict):
            raise _invalid_parameter(f"{name} => Invalid parameter value detected (Only arrays accepted.)")
        return _validate(spec, value, prefix=f"{name} => ")
    if isinstance(value, dict):
        raise _invalid_parameter(f"{name} => Invalid parameter value detected (Scalar type expected, array or "
                                 f"object received.)")
    text = str(value)
    if spec == "int":
        if not re.fullmatch(r"\s*-?\d+\s*", text):
            raise _invalid_parameter(f'{name} => Invalid parameter value detected (Invalid external api parameter: '
                                     f'the value is "{text}", the server was expecting "int" type)')
        return int(text)
    if spec == "bool":
        if text.lower() not in ("0", "1", "true", "false"):
            raise _invalid_parameter(f'{name} => Invalid parameter value detected (Invalid external api parameter: '
                                     f'the value is "{text}", the server was expecting "bool" type)')
        return text.lower() in ("1", "true")
    if spec == "alpha":
        return re.sub(r"[^a-zA-Z]", "", text)
    return text


def _validate(spec: Mapping[str, tuple[Spec, Any]], params: Mapping[Any, Any], prefix: str = "") -> dict[str, Any]:
    unexpected = [str(key) for key in params if key not in spec]
    if unexpected:
        raise _invalid_parameter(f"{prefix}Unexpected keys ({', '.join(unexpected)}) detected in parameter array.")
    cleaned: dict[str, Any] = {}
    for name, (description, default) in spec.items():
        if name in params:
            cleaned[name] = _clean(params[name], description, name)
        elif default is REQUIRED:
            raise _invalid_parameter(f"{prefix}{name} => Invalid parameter value detected (Missing required key "
                                     f"in single structure: {name})")
        elif default is not OPTIONAL:
            cleaned[name] = default
    return cleaned


_SPECS: dict[str, dict[str, tuple[Spec, Any]]] = {
    "core_webservice_get_site_info": {"serviceshortnames": (["raw"], [])},
    "core_course_search_courses": {
        "criterianame": ("alpha", REQUIRED), "criteriavalue": ("raw", REQUIRED), "page": ("int", 0),
        "perpage": ("int", 0), "requiredcapabilities": (["raw"], []), "limittoenrolled": ("bool", False),
        "onlywithcompletion": ("bool", False),
    },
    "core_course_get_courses": {"options": ({"ids": (["int"], OPTIONAL)}, {})},
    "core_course_get_courses_by_field": {"field": ("alpha", ""), "value": ("raw", "")},
    "mod_quiz_get_quizzes_by_courses": {"courseids": (["int"], [])},
    "core_user_get_users_by_field": {"field": ("alpha", REQUIRED), "values": (["raw"], REQUIRED)},
    "quizaccess_sebserver_get_exams": {
        "courseid": (["int"], OPTIONAL), "conditions": ("text", ""), "filtercourses": ("int", 0),
        "showemptycourses": ("int", 1), "startneedle": ("int", 0), "perpage": ("int", 99999),
    },
    "quizaccess_sebserver_get_restriction": {"quizid": ("int", REQUIRED)},
    "quizaccess_sebserver_set_restriction": {
        "quizid": ("int", REQUIRED), "browserkeys": (["raw"], []), "configkeys": (["raw"], []),
    },
    "quizaccess_sebserver_connection": {"connection": ("raw", REQUIRED)},
    "quizaccess_sebserver_connection_delete": {"id": ("raw", REQUIRED)},
    "quizaccess_sebserver_set_exam_data": {"data": ({
        "quizid": ("int", REQUIRED), "addordelete": ("int", REQUIRED), "templateid": ("int", OPTIONAL),
        "showquitlink": ("bool", OPTIONAL), "quitsecret": ("text", OPTIONAL), "quitlink": ("text", OPTIONAL),
        "nextquizid": ("int", OPTIONAL), "nextcourseid": ("int", OPTIONAL),
    }, REQUIRED)},
}
_V1_SET_RESTRICTION = {**_SPECS["quizaccess_sebserver_set_restriction"], "quitlink": ("text", ""),
                       "quitsecret": ("text", "")}


# -- the server ---------------------------------------------------------------------------------------------


class FakeMoodle:
    """A fake Moodle on 127.0.0.1; use as a context manager (``with FakeMoodle() as moodle``)."""

    def __init__(
        self,
        *,
        courses: Iterable[FakeCourse] | None = None,
        quizzes: Iterable[FakeQuiz] | None = None,
        users: Iterable[FakeUser] | None = None,
        username: str = DEFAULT_USERNAME,
        password: str = DEFAULT_PASSWORD,
        plugin: Literal["v1", "v2"] | None = "v2",
        mobile_service: bool = True,
        base_path: str = "",
        debug: bool = True,
        fail_status: int | None = None,
        redirect_to: str | None = None,
        delay: float = 0.0,
        malformed_json: bool = False,
        maintenance: bool = False,
        rest_enabled: bool = True,
        webservices_enabled: bool = True,
        can_manage_quizzes: bool = True,
        course_admin: bool = True,
        lifetime: float = 120.0,
    ) -> None:
        if plugin not in (None, "v1", "v2"):
            raise ValueError("plugin is None (not installed), 'v1' or 'v2'")
        seeded_courses, seeded_quizzes = demo_courses()
        self.courses: dict[int, FakeCourse] = {c.id: c for c in (seeded_courses if courses is None else courses)}
        self.quizzes: dict[int, FakeQuiz] = {q.id: q for q in (seeded_quizzes if quizzes is None else quizzes)}
        self.users: dict[int, FakeUser] = {u.id: u for u in (demo_users() if users is None else users)}
        self.username = username
        self.password = password
        self.plugin = plugin
        self.base_path = "/" + base_path.strip("/") if base_path.strip("/") else ""
        self.debug = debug
        self.fail_status = fail_status
        self.redirect_to = redirect_to
        self.delay = delay
        self.malformed_json = malformed_json
        self.maintenance = maintenance
        self.rest_enabled = rest_enabled
        self.webservices_enabled = webservices_enabled
        self.can_manage_quizzes = can_manage_quizzes
        self.course_admin = course_admin
        self.lifetime = lifetime
        self.responses: dict[str, Any] = {}  # function -> JSON value or callable(params) replacing its answer
        self.services: dict[str, set[str]] = {}
        if mobile_service:
            self.services[MOBILE_APP_SERVICE] = set(CORE_FUNCTIONS)
        if plugin is not None:
            own = PLUGIN_V2_FUNCTIONS if plugin == "v2" else PLUGIN_V1_FUNCTIONS
            self.services[SEB_SERVER_SERVICE] = set(own) | set(_PLUGIN_SERVICE_CORE)
        # Plugin state: quizaccess_sebserver rows, core SEB settings (allowed BEKs), the SEB Server connection.
        self.sebserver: dict[int, SebServerRecord] = {
            quiz.id: SebServerRecord() for quiz in self.quizzes.values() if quiz.sebserver_enabled
        }
        self.allowed_browser_keys: dict[int, str] = {}
        self.connection: dict[str, Any] | None = None
        self.seb_config_files: dict[int, bytes] = {}
        self.sessions: dict[str, int] = {}  # MoodleSession cookie -> user id
        self.requests: list[RecordedRequest] = []
        self._tokens: dict[str, str] = {}  # token -> service short name
        self._lock = threading.Lock()
        self.app = self._build_app()
        self._background = BackgroundServer(self.app, "fake-moodle", http="h11", lifetime=lifetime)

    # -- lifecycle ------------------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The Moodle root URL (``wwwroot``), without a trailing slash."""
        if not self.port:
            raise RuntimeError("the fake Moodle is not running; use it as a context manager")
        return f"http://127.0.0.1:{self.port}{self.base_path}"

    @property
    def port(self) -> int:
        return self._background.port

    def start(self, timeout: float = 10.0) -> FakeMoodle:
        self._background.start(timeout)
        return self

    def stop(self) -> None:
        self._background.stop()

    def __enter__(self) -> FakeMoodle:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- helpers for tests ----------------------------------------------------------------------------------

    def issue_token(self, service: str = SEB_SERVER_SERVICE) -> str:
        """A pre-created web-service token for the web-service user (Site administration > Manage tokens)."""
        if service not in self.services:
            raise ValueError(f"the fake Moodle has no service {service!r}; it has {sorted(self.services)}")
        token = secrets.token_hex(16)
        with self._lock:
            self._tokens[token] = service
        return token

    def revoke_tokens(self) -> None:
        """Delete every token (as an expiry or an admin would): the next call with one gets ``invalidtoken``."""
        with self._lock:
            self._tokens.clear()

    def clear_requests(self) -> None:
        with self._lock:
            self.requests.clear()

    def requests_to(self, path: str) -> list[RecordedRequest]:
        """Recorded requests whose path (below the base path) starts with ``path``."""
        with self._lock:
            recorded = list(self.requests)
        return [request for request in recorded if request.path.startswith(path)]

    def calls_of(self, function: str) -> list[RecordedRequest]:
        """Recorded web-service calls of ``function``."""
        with self._lock:
            recorded = list(self.requests)
        return [request for request in recorded if request.function == function]

    def login_session(self, user_id: int) -> str:
        """A ``MoodleSession`` cookie value for ``user_id`` (for the plugin's ``user.php``)."""
        cookie = secrets.token_hex(13)
        self.sessions[cookie] = user_id
        return cookie

    def browser_keys_of(self, quiz_id: int) -> list[str] | None:
        """The Browser Exam Keys Moodle enforces for a quiz, ``None`` without SEB settings."""
        stored = self.allowed_browser_keys.get(quiz_id)
        return None if stored is None else [key for key in re.split(r"[ \t\n\r,;]+", stored) if key]

    # -- the application ------------------------------------------------------------------------------------

    def _build_app(self) -> Starlette:
        wrap = self._endpoint
        routes = [
            Route("/login/token.php", wrap(self._token), methods=["GET", "POST"]),
            Route("/webservice/rest/server.php", wrap(self._rest), methods=["GET", "POST"]),
            Route("/mod/quiz/view.php", wrap(self._quiz_view), methods=["GET"]),
            Route("/mod/quiz/accessrule/sebserver/classes/external/user.php", wrap(self._user_php), methods=["GET"]),
        ]
        app = Starlette(routes=[Mount(self.base_path, routes=routes)] if self.base_path else routes)
        app.router.redirect_slashes = False
        return app

    def _endpoint(self, handler: Callable[[Request, RecordedRequest], Awaitable[Response]]
                  ) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            body = await request.body()
            form: tuple[tuple[str, str], ...] = ()
            content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
            if content_type == "application/x-www-form-urlencoded":
                form = tuple(parse_qsl(body.decode(errors="replace"), keep_blank_values=True))
            query = tuple(request.query_params.multi_items())
            path = request.url.path[len(self.base_path):] if self.base_path else request.url.path
            merged = {**parse_php_params(query), **parse_php_params(form)}
            function = merged.get("wsfunction") if path == "/webservice/rest/server.php" else None
            params = {key: value for key, value in merged.items()
                      if key not in ("wstoken", "wsfunction", "moodlewsrestformat")}
            recorded = RecordedRequest(method=request.method, path=path, query=query, form=form,
                                       headers={key.lower(): value for key, value in request.headers.items()},
                                       function=function if isinstance(function, str) else None, params=params)
            with self._lock:
                self.requests.append(recorded)
            if self.delay > 0:
                await self._background.sleep(self.delay)
            if self.fail_status is not None:
                return HTMLResponse("<h1>Internal Server Error</h1>", status_code=self.fail_status)
            if self.redirect_to:  # like a Moodle whose wwwroot is another address (e.g. https)
                return RedirectResponse(self.redirect_to.rstrip("/") + path, status_code=303)
            return await handler(request, recorded)

        return endpoint

    def _json(self, payload: Any) -> Response:
        text = json.dumps(payload, separators=(",", ":"))
        if self.malformed_json:
            text = ("<br />\n<b>Warning</b>:  Undefined variable $bk in /var/www/moodle/mod/quiz/accessrule/"
                    "sebserver/externallib.php on line 838<br />\n" + text)
        return Response(text, media_type="application/json")

    # -- login/token.php ------------------------------------------------------------------------------------

    def _ajax_error(self, errorcode: str, module: str = "error", a: str = "") -> Response:
        message = MoodleException(errorcode, module=module, a=a).message
        return self._json({"error": message, "errorcode": errorcode, "stacktrace": None, "debuginfo": None,
                           "reproductionlink": None})

    async def _token(self, request: Request, recorded: RecordedRequest) -> Response:
        args = {**dict(recorded.query), **dict(recorded.form)}  # required_param: POST first, then GET
        if self.maintenance:
            return self._ajax_error("sitemaintenance")
        if not self.webservices_enabled:
            return self._ajax_error("enablewsdescription", "webservice")
        for name in ("username", "password", "service"):
            if name not in args:
                return self._ajax_error("missingparam", a=name)
        if args["username"] != self.username or args["password"] != self.password:
            return self._ajax_error("invalidlogin")
        service = args["service"]
        if service not in self.services:
            return self._ajax_error("servicenotavailable", "webservice")
        with self._lock:
            token = next((t for t, s in self._tokens.items() if s == service), None)
            if token is None:
                token = secrets.token_hex(16)
                self._tokens[token] = service
        return self._json({"token": token, "privatetoken": None})

    # -- webservice/rest/server.php -------------------------------------------------------------------------

    async def _rest(self, request: Request, recorded: RecordedRequest) -> Response:
        if not self.rest_enabled or not self.webservices_enabled:
            return Response(b"", status_code=403)
        try:
            return self._json(await self._dispatch(request, recorded))
        except MoodleException as exc:
            return self._json(exc.body(self.debug))

    async def _dispatch(self, request: Request, recorded: RecordedRequest) -> Any:
        merged = {**parse_php_params(recorded.query), **parse_php_params(recorded.form)}
        if self.maintenance:
            raise MoodleException("sitemaintenance")
        token = merged.get("wstoken")
        with self._lock:
            service = self._tokens.get(token) if isinstance(token, str) else None
        if service is None:
            raise MoodleException("invalidtoken", module="webservice")
        function = recorded.function
        if not function:
            raise _invalid_parameter("Missing function name")
        if function not in self._installed_functions():
            raise MoodleException("invalidrecord", exception="dml_missing_record_exception", a="external_functions",
                                  debuginfo=f"SELECT * FROM {{external_functions}} WHERE name = ?\n[array (\n  0 => "
                                            f"'{function}',\n)]")
        if function not in self.services.get(service, set()):
            raise MoodleException("accessexception", module="webservice", exception="webservice_access_exception",
                                  debuginfo=f"Access to the function {function}() is not allowed. {_ACCESS_REASONS}")
        params = dict(recorded.params)
        if function in self.responses:
            answer = self.responses[function]
            return answer(params) if callable(answer) else answer
        spec = _V1_SET_RESTRICTION if function == "quizaccess_sebserver_set_restriction" and self.plugin == "v1" \
            else _SPECS[function]
        cleaned = _validate(spec, params)
        handler: Callable[[dict[str, Any], str], Any] = getattr(self, "_fn_" + function)
        result = handler(cleaned, service)
        return await result if asyncio.iscoroutine(result) else result

    def _installed_functions(self) -> set[str]:
        functions = set(CORE_FUNCTIONS)
        if self.plugin == "v1":
            functions |= set(PLUGIN_V1_FUNCTIONS)
        elif self.plugin == "v2":
            functions |= set(PLUGIN_V2_FUNCTIONS)
        return functions

    # -- core functions -------------------------------------------------------------------------------------

    def _fn_core_webservice_get_site_info(self, params: dict[str, Any], service: str) -> Any:
        functions = sorted(self.services.get(service, set()) & self._installed_functions())
        return {
            "sitename": "Fake Moodle", "username": self.username, "firstname": "SEB", "lastname": "Server",
            "fullname": "SEB Server", "lang": "en", "userid": 3, "siteurl": self.url,
            "userpictureurl": f"{self.url}/theme/image.php/boost/core/1/u/f1", "functions": [
                {"name": name, "version": _FUNCTION_VERSION} for name in functions
            ], "downloadfiles": 1, "uploadfiles": 1, "release": MOODLE_RELEASE, "version": MOODLE_VERSION,
            "mobilecssurl": "", "advancedfeatures": [{"name": "usecomments", "value": 1}],
            "usercanmanageownfiles": True, "userquota": 104857600, "usermaxuploadfilesize": 104857600,
            "userhomepage": 1, "userprivateaccesskey": secrets.token_hex(16), "siteid": 1,
            "sitecalendartype": "gregorian", "usercalendartype": "gregorian", "theme": "boost",
        }

    def _course_json(self, course: FakeCourse) -> dict[str, Any]:
        return {
            "id": course.id, "fullname": course.fullname, "displayname": course.fullname,
            "shortname": course.shortname, "categoryid": course.categoryid, "categoryname": course.categoryname,
            "sortorder": 10000 + course.id, "summary": course.summary, "summaryformat": 1, "summaryfiles": [],
            "overviewfiles": [], "idnumber": course.idnumber, "format": "topics", "showgrades": 1, "newsitems": 5,
            "startdate": course.startdate, "enddate": course.enddate, "maxbytes": 0, "showreports": 0,
            "visible": int(course.visible), "groupmode": 0, "groupmodeforce": 0, "defaultgroupingid": 0,
            "enablecompletion": 1, "completionnotify": 0, "lang": "", "theme": "", "marker": 0, "legacyfiles": 0,
            "calendartype": "", "timecreated": course.timecreated, "timemodified": course.timecreated,
            "requested": 0, "cacherev": 1, "filters": [], "courseformatoptions": [],
        }

    def _fn_core_course_search_courses(self, params: dict[str, Any], service: str) -> Any:
        if params["criterianame"] not in ("search", "modulelist", "blocklist", "tagid"):
            raise _invalid_parameter("Invalid value for criterianame parameter")
        terms = params["criteriavalue"].lower().split() if params["criterianame"] == "search" else []
        found = [course for _, course in sorted(self.courses.items())
                 if all(term in f"{course.fullname} {course.shortname} {course.summary}".lower() for term in terms)]
        page, perpage = params["page"], params["perpage"]
        shown = found[page * perpage:(page + 1) * perpage] if perpage > 0 else found
        keys = ("id", "fullname", "displayname", "shortname", "categoryid", "categoryname", "sortorder", "summary",
                "summaryformat", "summaryfiles", "overviewfiles")
        return {"total": len(found), "courses": [
            {**{key: self._course_json(course)[key] for key in keys}, "showactivitydates": False,
             "showcompletionconditions": None, "contacts": [], "enrollmentmethods": ["manual"]}
            for course in shown
        ], "warnings": []}

    def _fn_core_course_get_courses(self, params: dict[str, Any], service: str) -> Any:
        ids = params["options"].get("ids")
        chosen = [self.courses[i] for i in ids if i in self.courses] if ids else \
            [course for _, course in sorted(self.courses.items())]
        if ids and len(chosen) < len(ids):
            missing = next(i for i in ids if i not in self.courses)
            raise MoodleException("invalidrecord", exception="dml_missing_record_exception", a="course",
                                  debuginfo=f"SELECT id,category FROM {{course}} WHERE id = ?\n[array (\n  0 => "
                                            f"{missing},\n)]")
        return [self._course_json(course) for course in chosen]

    def _fn_core_course_get_courses_by_field(self, params: dict[str, Any], service: str) -> Any:
        field_name, value = params["field"], params["value"]
        if field_name and field_name not in ("id", "ids", "shortname", "idnumber", "category", "sectionid"):
            raise _invalid_parameter("Invalid field name")
        if field_name and not value:
            raise _invalid_parameter("When using a field name you must specify a value")
        courses = [course for _, course in sorted(self.courses.items())]
        if field_name == "id":
            courses = [course for course in courses if str(course.id) == value.strip()]
        elif field_name == "ids":
            wanted = {part.strip() for part in value.split(",")}
            courses = [course for course in courses if str(course.id) in wanted]
        elif field_name == "shortname":
            courses = [course for course in courses if course.shortname == value]
        elif field_name == "idnumber":
            courses = [course for course in courses if course.idnumber == value]
        elif field_name == "category":
            courses = [course for course in courses if str(course.categoryid) == value.strip()]
        return {"courses": [self._course_json(course) for course in courses], "warnings": []}

    def _quiz_json(self, quiz: FakeQuiz) -> dict[str, Any]:
        return {
            "id": quiz.id, "coursemodule": quiz.coursemodule, "course": quiz.course, "name": quiz.name,
            "intro": quiz.intro, "introformat": 1, "introfiles": [], "lang": "", "timeopen": quiz.timeopen,
            "timeclose": quiz.timeclose, "timelimit": quiz.timelimit, "overduehandling": "autosubmit",
            "graceperiod": 0, "preferredbehaviour": "deferredfeedback", "attempts": 0, "grademethod": 1,
            "decimalpoints": 2, "questiondecimalpoints": -1, "sumgrades": 10, "grade": 10, "hasfeedback": 0,
            "section": 1, "visible": 1, "groupmode": 0, "groupingid": 0, "hasquestions": 1,
        }

    def _fn_mod_quiz_get_quizzes_by_courses(self, params: dict[str, Any], service: str) -> Any:
        ids: list[int] = params["courseids"] or sorted(self.courses)
        warnings = [_warning("course", i, "1", "No access rights in course context") for i in ids
                    if i not in self.courses]
        wanted = [i for i in ids if i in self.courses]
        quizzes = [self._quiz_json(quiz) for _, quiz in sorted(self.quizzes.items()) if quiz.course in wanted]
        return {"quizzes": quizzes, "warnings": warnings}

    def _user_json(self, user: FakeUser) -> dict[str, Any]:
        return {
            "id": user.id, "username": user.username, "firstname": user.firstname, "lastname": user.lastname,
            "fullname": user.fullname, "email": user.email, "department": user.department, "idnumber": user.idnumber,
            "firstaccess": _TIME_2024, "lastaccess": _TIME_2024 + _DAY, "auth": user.auth,
            "suspended": user.suspended, "confirmed": True, "lang": user.lang, "theme": "",
            "timezone": user.timezone, "mailformat": 1, "description": "", "descriptionformat": 1,
            "profileimageurlsmall": f"{self.url}/theme/image.php/boost/core/1/u/f2",
            "profileimageurl": f"{self.url}/theme/image.php/boost/core/1/u/f1",
        }

    def _fn_core_user_get_users_by_field(self, params: dict[str, Any], service: str) -> Any:
        field_name = params["field"]
        if field_name not in ("id", "idnumber", "username", "email"):
            raise _invalid_parameter(f"The search field '{field_name}' is not supported, look at the web service "
                                     f"documentation")
        values: list[str] = params["values"]
        found = []
        for user in self.users.values():
            current = {"id": str(user.id), "idnumber": user.idnumber, "username": user.username,
                       "email": user.email}[field_name]
            if any(current == (str(int(v)) if field_name == "id" and re.fullmatch(r"\s*\d+\s*", v) else v)
                   for v in values):
                found.append(self._user_json(user))
        return found

    # -- SEB Server plugin: exams ---------------------------------------------------------------------------

    def _fn_quizaccess_sebserver_get_exams(self, params: dict[str, Any], service: str) -> Any:
        courseid: list[int] | None = params.get("courseid")
        if courseid is None:  # PHP 8: max([]) in get_exams
            raise MoodleException("generalexceptionmessage", exception="ValueError",
                                  a="max(): Argument #1 ($value) must contain at least one element")
        everything = courseid == [0]
        chosen = [course for _, course in sorted(self.courses.items()) if everything or course.id in courseid]
        page = chosen[params["startneedle"]:params["startneedle"] + params["perpage"]]
        if not page:
            raise MoodleException("nocoursefound", module="webservice")
        results = []
        for course in page:
            info: dict[str, Any] = {"id": course.id, "shortname": course.shortname, "fullname": course.fullname,
                                    "startdate": course.startdate, "enddate": course.enddate}
            if self.course_admin:
                info.update(idnumber=course.idnumber, visible=int(course.visible), timecreated=course.timecreated)
            quizzes = []
            for _, quiz in sorted(self.quizzes.items()):
                if quiz.course != course.id:
                    continue
                details: dict[str, Any] = {"id": quiz.id, "course": quiz.course, "coursemodule": quiz.coursemodule,
                                           "name": quiz.name, "intro": quiz.intro, "timeopen": quiz.timeopen,
                                           "timeclose": quiz.timeclose}
                if self.course_admin:
                    details["timecreated"] = quiz.timecreated
                quizzes.append(details)
            info["quizzes"] = quizzes
            if not quizzes and not params["showemptycourses"]:
                continue
            if self.course_admin or course.visible:
                results.append(info)
        return {"stats": {"coursecount": str(len(page)), "needle": params["startneedle"],
                          "perpage": params["perpage"]}, "results": results}

    # -- SEB Server plugin: restriction ---------------------------------------------------------------------

    def _quiz_lookup(self, quizid: int, warnings: list[dict[str, Any]], code: str) -> FakeQuiz | None:
        quiz = self.quizzes.get(quizid)
        if quiz is None:
            warnings.append(_warning("quiz", quizid, code, "Can't find data record in database table quiz."))
        return quiz

    def _fn_quizaccess_sebserver_set_restriction(self, params: dict[str, Any], service: str) -> Any:
        quizid = params["quizid"]
        if not quizid:
            raise MoodleException("quizidmissing")
        v1 = self.plugin == "v1"
        warnings: list[dict[str, Any]] = []
        data: list[dict[str, Any]] = []
        browserkeys: list[str] = params["browserkeys"]
        extra = {"quitlink": params["quitlink"].strip(), "quitsecret": params["quitsecret"].strip()} if v1 else {}
        quiz = self._quiz_lookup(quizid, warnings, "quiznotfound")
        try:
            if quiz is None:
                raise MoodleException("invalidrecord", exception="dml_missing_record_exception", a="quiz")
            if v1 and quiz.has_attempts:
                raise MoodleException("attemptexist", module="sebserver")
            if not self.can_manage_quizzes:
                warnings.append(_warning("quiz", quizid, "nopermission",
                                         f"You are not allowed to SET the restriction for quiz {quizid}"))
            else:
                bk = "\n".join(browserkeys).strip() if browserkeys else ""
                ck = "\n".join(params["configkeys"]).strip() if params["configkeys"] else ""
                if not v1 and quiz.has_attempts:
                    raise MoodleException("attemptexist", module="sebserver")
                if not ck and not bk:
                    if v1:
                        self.sebserver.pop(quizid, None)
                    elif quizid in self.sebserver:
                        self.sebserver[quizid].restricted = False
                    self.allowed_browser_keys.pop(quizid, None)
                    warnings.append(_warning("quiz", quizid, "restrictiondeleted",
                                             f"You have deleted restriction for quiz: {quizid}"))
                    return {"data": [{"quizid": quizid, **extra, "browserkeys": browserkeys, "configkeys": []}],
                            "warnings": warnings}
                if ck and not bk:
                    raise MoodleException("browserkeysempty")
                record = self.sebserver.get(quizid)
                if v1:
                    record = record or SebServerRecord()
                    record.enabled, record.restricted = True, True
                    record.quitlink, record.quitsecret = extra["quitlink"], extra["quitsecret"]
                    self.sebserver[quizid] = record
                elif record is None:
                    raise MoodleException("You can not set restriction on a quiz with no SebServer Info!")
                elif not record.enabled:
                    raise MoodleException("You can not set restriction on a quiz with SebServer disabled!")
                else:
                    record.restricted = True
                self.allowed_browser_keys[quizid] = bk
                data.append({"quizid": quizid, **extra, "browserkeys": browserkeys, "configkeys": []})
        except MoodleException as exc:
            warnings.append(_warning("quiz", quizid, "errorsavingrestriction", exc.message))
        return {"data": data, "warnings": warnings}

    def _fn_quizaccess_sebserver_get_restriction(self, params: dict[str, Any], service: str) -> Any:
        quizid = params["quizid"]
        if not quizid:
            raise MoodleException("quizidmissing")
        v1 = self.plugin == "v1"
        warnings: list[dict[str, Any]] = []
        data: list[dict[str, Any]] = []
        quiz = self._quiz_lookup(quizid, warnings, "quiznotfound" if v1 else "getrestirctionquiznotfound")
        try:
            if quiz is None:
                raise MoodleException("invalidrecord", exception="dml_missing_record_exception", a="quiz")
            if not self.can_manage_quizzes:
                warnings.append(_warning("quiz", quizid, "nopermission",
                                         f"You are not allowed to GET the restriction for quiz {quizid}"))
            else:
                record = self.sebserver.get(quizid)
                if record is None:
                    raise MoodleException(f"SEB Server is not enabled for quiz ID {quizid}")
                if not record.enabled:
                    raise MoodleException(f"SEB Server available but not enabled for quiz ID {quizid}" if v1
                                          else f"SEB Server is disabled for quiz ID {quizid}")
                if quizid not in self.allowed_browser_keys:
                    raise MoodleException(f"SEB Client is not enabled for quiz ID {quizid}. Check if someone "
                                          f"updated the quiz manually.")
                keys = [key.lower() for key in self.browser_keys_of(quizid) or []]
                extra = {"quitlink": record.quitlink, "quitsecret": record.quitsecret} if v1 else {}
                data.append({"quizid": quizid, **extra, "browserkeys": keys, "configkeys": []})
        except MoodleException as exc:
            warnings.append(_warning("quiz", quizid, "errorsavingrestriction" if v1 else "errorgettingrestriction",
                                     exc.message))
        return {"data": data, "warnings": warnings}

    # -- SEB Server plugin v2: full integration -------------------------------------------------------------

    def _fn_quizaccess_sebserver_connection(self, params: dict[str, Any], service: str) -> Any:
        raw = params["connection"].strip()
        if not raw:
            raise MoodleException("Connection data missing")
        try:
            decoded = json.loads(raw)
        except ValueError as exc:
            raise MoodleException(f"Connection is not a valid JSON format: {exc}") from None
        if not isinstance(decoded, dict):
            raise MoodleException("Connection is not a valid JSON format: not an object")
        if self.connection is not None and self.connection.get("id") != decoded.get("id"):
            return {"success": False, "warnings": [_warning(
                "sebserver", 0, "connectiondoesntmatch",
                f"The connection ID does not match. Update failed. Registered ID: {self.connection.get('id')}. "
                f"Update ID: {decoded.get('id')}")]}
        self.connection = decoded
        return {"success": True, "warnings": []}

    def _fn_quizaccess_sebserver_connection_delete(self, params: dict[str, Any], service: str) -> Any:
        if not params["id"]:
            raise MoodleException("Connection ID missing.")
        if self.connection is None:
            return {"success": False, "warnings": [_warning("sebserver", 0, "noconnectionfound",
                                                            "There is no SebServer connection found.")]}
        if self.connection.get("id") != params["id"]:
            return {"success": False, "warnings": [_warning("sebserver", 0, "connectiondoesntmatch",
                                                            "The connection ID does not match.")]}
        self.connection = None
        return {"success": True, "warnings": []}

    async def _fn_quizaccess_sebserver_set_exam_data(self, params: dict[str, Any], service: str) -> Any:
        data = params["data"]
        quizid = data["quizid"]
        if not quizid:
            raise MoodleException("quizidmissing")
        warnings: list[dict[str, Any]] = []
        quiz = self._quiz_lookup(quizid, warnings, "quiznotfound")
        next_context = None
        if data.get("nextquizid") and data.get("nextcourseid"):
            following = self.quizzes.get(data["nextquizid"])
            if following is None:
                raise MoodleException("invalidrecord", exception="dml_missing_record_exception", a="quiz")
            next_context = following.context_id
        if data["addordelete"] == 0:
            self.sebserver.pop(quizid, None)
            self.seb_config_files.pop(quizid, None)
            warnings.append(_warning("quiz", quizid, "deletioninfo",
                                     f"SUCCESS: Exam Sebserver data has been deleted for quiz: {quizid}"))
        else:
            record = self.sebserver.get(quizid) or SebServerRecord(restricted=False)
            record.enabled = True
            record.templateid = data.get("templateid") or 0
            record.showquitlink = bool(data.get("showquitlink", "quitlink" in data))
            record.quitlink, record.quitsecret = data.get("quitlink", ""), data.get("quitsecret", "")
            record.nextquizid, record.nextcourseid = data.get("nextquizid") or 0, data.get("nextcourseid") or 0
            self.sebserver[quizid] = record
            warnings.append(_warning("quiz", quizid, "insertrecordinfo", f"Successfully inserted for quiz: {quizid}. "
                                     f"Attempting to request SebServerConfig.seb file in next step."))
        if quiz is None:
            raise MoodleException(f"Unknown quiz with id: {quizid}")
        error = await self._request_seb_config(quiz)
        if error:
            warnings.append(_warning("quiz", quizid, "requestsebconfig",
                                     f"Problem getting Seb Server Config file for Quiz : {quizid}. Error: {error}"))
            return {"success": False, "context": None, "warnings": warnings}
        warnings.append(_warning("quiz", quizid, "requestsebconfig",
                                 f"Successfully uploaded Seb Server config for : {quizid} CMID: {quiz.coursemodule}"))
        return {"success": True, "context": next_context, "warnings": warnings}

    async def _request_seb_config(self, quiz: FakeQuiz) -> str:
        """The plugin's synchronous call back to SEB Server for the quiz's ``.seb`` file; an error text or ''."""
        if not self.connection or not self.connection.get("url"):
            return "Error: /seb_config: no SEB Server connection"
        url = str(self.connection["url"]).rstrip("/") + "/seb_config"
        query = {"id": str(self.connection.get("id", "")), "course_id": str(quiz.course), "quiz_id": str(quiz.id)}
        headers = {"Content-Type": "application/x-www-form-urlencoded",
                   "Authorization": f"Bearer {self.connection.get('access_token', '')}"}
        try:
            async with httpx.AsyncClient(timeout=5.0, verify=False) as client:
                response = await client.post(url, params=query, headers=headers)
        except httpx.HTTPError as exc:
            return f"Error: /seb_config: {type(exc).__name__}: {exc}"
        if response.status_code != 200:
            return f"Error: /seb_config: HTTP {response.status_code}"
        self.seb_config_files[quiz.id] = response.content
        return ""

    # -- pages ----------------------------------------------------------------------------------------------

    async def _quiz_view(self, request: Request, recorded: RecordedRequest) -> Response:
        cmid = request.query_params.get("id", "")
        quiz = next((q for q in self.quizzes.values() if str(q.coursemodule) == cmid), None)
        if quiz is None:
            return HTMLResponse("<p>Invalid course module ID</p>", status_code=404)
        return HTMLResponse(f"<h1>{quiz.name}</h1><div>{quiz.intro}</div>")

    async def _user_php(self, request: Request, recorded: RecordedRequest) -> Response:
        if self.plugin is None:
            return HTMLResponse("<p>Not found</p>", status_code=404)
        user = self.users.get(self.sessions.get(request.cookies.get("MoodleSession", ""), -1))
        if user is None:
            return RedirectResponse(f"{self.url}/login/index.php", status_code=303)
        headers = {"X-LMS-USER-ID": str(user.id), "X-LMS-USER-USERNAME": user.username,
                   "X-LMS-USER-EMAIL": user.email, "X-LMS-USER-IDNUMBER": user.idnumber}
        return Response(str(user.id), media_type="text/html", headers=headers)


__all__ = [
    "CORE_FUNCTIONS",
    "DEFAULT_PASSWORD",
    "DEFAULT_USERNAME",
    "MOBILE_APP_SERVICE",
    "PLUGIN_V1_FUNCTIONS",
    "PLUGIN_V2_FUNCTIONS",
    "SEB_SERVER_SERVICE",
    "FakeCourse",
    "FakeMoodle",
    "FakeQuiz",
    "FakeUser",
    "MoodleException",
    "RecordedRequest",
    "SebServerRecord",
    "demo_courses",
    "demo_users",
    "parse_php_params",
]
