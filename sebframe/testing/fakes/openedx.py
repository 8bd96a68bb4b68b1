"""A fake Open edX LMS: a real HTTP server on 127.0.0.1 with the routes and JSON shapes SEB Server uses.

Start it with a context manager; it listens on a free port and stops when the block ends::

    from sebframe.testing.fakes.openedx import FakeCourse, FakeOpenEdx

    with FakeOpenEdx(courses=[FakeCourse("course-v1:ETH+Exam1+2026", "Exam 1")]) as lms:
        ...  # point an LMS setup at lms.url with lms.client_id / lms.client_secret
        assert lms.requests_to("/oauth2/access_token")

Routes (see ``reference/lms-apis.md`` §2 and §7):

- ``POST /oauth2/access_token``: form ``grant_type=client_credentials`` with ``client_id``/``client_secret``
  in the body (or HTTP Basic); 401 ``invalid_client`` for unknown credentials, 400 for other grants. Issues
  opaque Bearer tokens (``token_type=jwt`` in the form gives a ``JWT`` token) valid ``token_lifetime`` seconds.
- ``GET /api/courses/v1/courses/``: ``page``, ``page_size`` (capped at ``max_page_size``), ``org``; the real
  nested shape ``{"results": [...], "pagination": {"next", "previous", "count", "num_pages"}}`` or, with
  ``pagination="flat"``, the legacy top-level ``count/next/previous/num_pages/results``. 404 for a page
  beyond the last. Anonymous access is allowed; a bad token is a 401.
- ``GET /api/courses/v1/courses/{course_id}``: one course; 403 when the course is ``restricted``, 404 if unknown.
- ``GET /api/courses/v1/blocks/?depth=1&all_blocks=true&course_id=``: the course block and its chapters
  (``all_blocks`` needs a staff token: 403 otherwise; ``requested_fields=children`` adds outline order).
- ``GET /api/user/v1/accounts?username=a,b``: JSON array of accounts; 404 if none exists; a non-staff
  caller sees only the public fields of other users.
- ``GET /seb-openedx/seb-info``: 403 for token authentication (it only serves staff sessions), like the plugin.
- ``GET|POST|PUT|PATCH|DELETE /seb-openedx/api/v1/course/{course_id}/configuration/``: seb-openedx's
  configuration API: GET 200 or 404 without configuration, POST 422 when one exists, PUT replaces, PATCH
  merges, DELETE 204; 400 on serializer errors, 401 without a valid token, 403 for a non-staff token.
  With ``seb_plugin=False`` every ``/seb-openedx/`` route is a 404, as on an LMS without the plugin.

Failure switches (constructor arguments, and attributes you may change while it runs): ``fail_status``
answers every request under ``failure_path`` with that status; ``throttle`` answers the next N course API
requests with 429 and ``Retry-After``; ``delay`` sleeps before answering requests under ``failure_path``;
``malformed_json`` answers them with broken JSON; ``reject_token`` refuses every token request (401).
``expire_tokens()`` invalidates the issued tokens. Everything received is in ``requests``.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import parse_qs, quote, urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from sebframe.testing.fakes._server import BackgroundServer

DEFAULT_CLIENT_ID = "sebframe-client"
DEFAULT_CLIENT_SECRET = "sebframe-secret"

SEB_CONFIG_KEYS = ("BROWSER_KEYS", "CONFIG_KEYS", "WHITELIST_PATHS", "BLACKLIST_CHAPTERS", "PERMISSION_COMPONENTS",
                   "USER_BANNING_ENABLED")
SEB_PERMISSION_COMPONENTS = ("AlwaysAllowStaff", "AlwaysDenyAccess", "AlwaysGrantAccess", "CheckSEBHashConfigKey",
                             "CheckSEBHashBrowserExamKey", "CheckSEBHashBrowserExamKeyOrConfigKey")
# Open edX's COURSE_ID_PATTERN: what the seb-openedx URL accepts as a course id.
_COURSE_ID = re.compile(r"[^/+]+(/|\+)[^/+]+(/|\+)[^/?]+")
_KEY = re.compile(r"^[a-zA-Z0-9]+$")
_NOT_FOUND_PAGE = "<h1>Page not found</h1><p>The requested resource was not found on this server.</p>"
_DRF_FORBIDDEN = {"detail": "You do not have permission to perform this action."}
_DRF_UNAUTHENTICATED = {"detail": "Authentication credentials were not provided."}
_BEARER_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="api"'}


@dataclass
class FakeCourse:
    """A course; ``start``/``end`` may be datetimes (sent as ``...Z``) or strings sent as they are."""

    id: str
    name: str
    start: datetime | str | None = "2020-01-01T09:00:00Z"
    end: datetime | str | None = None
    short_description: str = ""
    chapters: Sequence[tuple[str, str]] = ()  # (block_id, display_name) in course outline order
    restricted: bool = False  # the course detail answers 403 (what SEB Server saw for SEB-restricted courses)


@dataclass
class FakeUser:
    username: str
    name: str = ""
    email: str = ""
    is_active: bool = True
    country: str | None = None
    date_joined: str = "2020-01-01T00:00:00Z"


@dataclass
class FakeClient:
    """An OAuth2 application; ``staff`` is whether its user is global staff (``is_staff``)."""

    client_id: str
    client_secret: str
    staff: bool = True


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str  # decoded, without the query
    query: Mapping[str, str]  # last value of each parameter
    headers: Mapping[str, str]  # lower-case names
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, str]:
        return {key: values[-1] for key, values in parse_qs(self.body.decode(), keep_blank_values=True).items()}


@dataclass
class _Token:
    client: FakeClient
    scheme: str  # "Bearer" or "JWT"
    expires_at: float


def demo_courses() -> list[FakeCourse]:
    """A few courses shaped like a real Open edX instance's, with chapters."""
    return [
        FakeCourse(
            "course-v1:edX+DemoX+Demo_Course", "Demonstration Course", "2013-02-05T05:00:00Z", None,
            "A course to try the platform.",
            chapters=[("d8a6192ade314473a78242dfeedfbf5b", "Introduction"),
                      ("interactive_demonstrations", "Example Week 1: Getting Started"),
                      ("graded_interactions", "Example Week 2: Get Interactive")],
        ),
        FakeCourse(
            "course-v1:ETH+SEB101+2026_T1", "Safe Exam Browser Final Exam", "2026-01-15T08:00:00Z",
            "2026-01-15T12:00:00Z", "<p>Final exam, with SEB.</p>",
            chapters=[("5e1f0a0c7d9b4a6e8e2f3b4c5d6e7f80", "Part B: Essay"),
                      ("0a1b2c3d4e5f60718293a4b5c6d7e8f9", "Part A: Multiple Choice")],
        ),
        FakeCourse("course-v1:ETH+SEB102+2026_T1", "Networks Midterm", "2026-03-01T08:00:00Z", None),
        FakeCourse("course-v1:UZH+Stat1+2025", "Statistics 1", "2025-09-15T07:00:00Z", "2026-01-31T23:00:00Z"),
        FakeCourse("course-v1:UZH+Stat2+2030", "Statistics 2", "2030-01-01T00:00:00Z", None),
    ]


def demo_users() -> list[FakeUser]:
    return [
        FakeUser("jdoe", "Jane Doe", "jane.doe@example.org"),
        FakeUser("mmuster", "Max Muster", "max@example.org", country="CH"),
        FakeUser("nameless", "", "nameless@example.org"),
    ]


class FakeOpenEdx:
    """A fake Open edX server on 127.0.0.1; use as a context manager (``with FakeOpenEdx() as lms``)."""

    def __init__(
        self,
        *,
        courses: Iterable[FakeCourse] | None = None,
        users: Iterable[FakeUser] | None = None,
        clients: Iterable[FakeClient] | None = None,
        pagination: Literal["nested", "flat"] = "nested",
        page_size: int = 10,
        max_page_size: int = 100,
        public_url: str | None = None,
        seb_plugin: bool = True,
        token_lifetime: int = 36000,
        fail_status: int | None = None,
        failure_path: str = "",
        throttle: int = 0,
        retry_after: float = 1,
        delay: float = 0.0,
        malformed_json: bool = False,
        reject_token: bool = False,
    ) -> None:
        self.courses: list[FakeCourse] = list(demo_courses() if courses is None else courses)
        self.users: list[FakeUser] = list(demo_users() if users is None else users)
        self.clients: list[FakeClient] = list(
            [FakeClient(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET)] if clients is None else clients
        )
        if pagination not in ("nested", "flat"):
            raise ValueError("pagination is 'nested' (Open edX) or 'flat' (legacy shape)")
        self.pagination = pagination
        self.page_size = page_size
        self.max_page_size = max_page_size
        self.public_url = public_url.rstrip("/") if public_url else None  # origin used in pagination links
        self.seb_plugin = seb_plugin
        self.token_lifetime = token_lifetime
        self.fail_status = fail_status
        self.failure_path = failure_path
        self.throttle = throttle
        self.retry_after = retry_after
        self.delay = delay
        self.malformed_json = malformed_json
        self.reject_token = reject_token
        self.restrictions: dict[str, dict[str, Any]] = {}  # course id -> stored seb-openedx configuration
        self.requests: list[RecordedRequest] = []
        self._tokens: dict[str, _Token] = {}
        self._lock = threading.Lock()
        self.app = self._build_app()
        self._background = BackgroundServer(self.app, "fake-openedx")

    # -- lifecycle -------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        if not self.port:
            raise RuntimeError("the fake Open edX server is not running; use it as a context manager")
        return f"http://127.0.0.1:{self.port}"

    @property
    def client_id(self) -> str:
        return self.clients[0].client_id

    @property
    def client_secret(self) -> str:
        return self.clients[0].client_secret

    @property
    def port(self) -> int:
        return self._background.port

    def start(self, timeout: float = 10.0) -> FakeOpenEdx:
        self._background.start(timeout)
        return self

    def stop(self) -> None:
        self._background.stop()

    def __enter__(self) -> FakeOpenEdx:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- helpers for tests -----------------------------------------------------------------------

    def requests_to(self, path: str, method: str | None = None) -> list[RecordedRequest]:
        """Recorded requests whose path starts with ``path`` (and with ``method``, if given)."""
        with self._lock:
            recorded = list(self.requests)
        return [r for r in recorded if r.path.startswith(path) and (method is None or r.method == method.upper())]

    def expire_tokens(self) -> None:
        """Make every issued token invalid (the next API call with one gets a 401)."""
        with self._lock:
            self._tokens.clear()

    def clear_requests(self) -> None:
        with self._lock:
            self.requests.clear()

    def course(self, course_id: str) -> FakeCourse | None:
        return next((course for course in self.courses if course.id == course_id), None)

    # -- the application -------------------------------------------------------------------------

    def _build_app(self) -> Starlette:
        wrap = self._endpoint
        routes = [
            Route("/oauth2/access_token", wrap(self._token, throttled=False), methods=["POST"]),
            Route("/oauth2/access_token/", wrap(self._token, throttled=False), methods=["POST"]),
            Route("/api/courses/v1/courses/", wrap(self._course_list), methods=["GET"]),
            Route("/api/courses/v1/courses/{course_id:path}", wrap(self._course_detail), methods=["GET"]),
            Route("/api/courses/v1/blocks/", wrap(self._blocks), methods=["GET"]),
            Route("/api/user/v1/accounts", wrap(self._accounts, throttled=False), methods=["GET"]),
            Route("/api/user/v1/accounts/", wrap(self._accounts, throttled=False), methods=["GET"]),
            Route("/seb-openedx/seb-info", wrap(self._seb_info, throttled=False), methods=["GET"]),
            Route(
                "/seb-openedx/api/v1/course/{course_id:path}/configuration/",
                wrap(self._seb_configuration, throttled=False),
                methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            ),
        ]
        app = Starlette(routes=routes)
        app.router.redirect_slashes = False
        return app

    def _endpoint(
        self, handler: Callable[[Request], Awaitable[Response]], *, throttled: bool = True
    ) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            body = await request.body()
            recorded = RecordedRequest(
                method=request.method,
                path=request.url.path,
                query={key: value for key, value in request.query_params.multi_items()},
                headers={key.lower(): value for key, value in request.headers.items()},
                body=body,
            )
            with self._lock:
                self.requests.append(recorded)
            affected = request.url.path.startswith(self.failure_path)
            if affected and self.delay > 0:
                await self._background.sleep(self.delay)
            if throttled and self.throttle > 0:
                with self._lock:
                    self.throttle -= 1
                retry_after = f"{self.retry_after:g}"
                return JSONResponse({"detail": f"Request was throttled. Expected available in {retry_after} seconds."},
                                    status_code=429, headers={"Retry-After": retry_after})
            if affected and self.fail_status is not None:
                if self.fail_status >= 500:
                    return HTMLResponse("<h1>Server Error (500)</h1>", status_code=self.fail_status)
                return JSONResponse({"detail": "failure switched on in the fake"}, status_code=self.fail_status)
            if affected and self.malformed_json:
                return Response('{"results": [{"id": "course-v1:', media_type="application/json")
            return await handler(request)

        return endpoint

    # -- OAuth2 ----------------------------------------------------------------------------------

    async def _token(self, request: Request) -> Response:
        form = {key: values[-1] for key, values in parse_qs((await request.body()).decode(errors="replace"),
                                                             keep_blank_values=True).items()}
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != "application/x-www-form-urlencoded" or form.get("grant_type") != "client_credentials":
            return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
        client_id, client_secret = form.get("client_id", ""), form.get("client_secret", "")
        authorization = request.headers.get("authorization", "")
        if authorization.lower().startswith("basic "):
            try:
                client_id, _, client_secret = base64.b64decode(authorization[6:]).decode().partition(":")
            except ValueError:
                return JSONResponse({"error": "invalid_client"}, status_code=401)
        client = next((c for c in self.clients if c.client_id == client_id and c.client_secret == client_secret),
                      None)
        if client is None or self.reject_token:
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        scheme = "JWT" if form.get("token_type", "").lower() == "jwt" else "Bearer"
        token = secrets.token_urlsafe(24)
        with self._lock:
            self._tokens[token] = _Token(client, scheme, time.monotonic() + self.token_lifetime)
        return JSONResponse({"access_token": token, "expires_in": self.token_lifetime, "token_type": scheme,
                             "scope": "read write email profile"})

    def _caller(self, request: Request) -> FakeClient | None | Response:
        """The authenticated client, ``None`` if anonymous, or the 401 response for a bad token."""
        authorization = request.headers.get("authorization", "")
        if not authorization:
            return None
        scheme, _, value = authorization.partition(" ")
        with self._lock:
            token = self._tokens.get(value.strip())
        if token is None or scheme.lower() != token.scheme.lower():
            return JSONResponse({"error_code": "token_nonexistent",
                                 "developer_message": "The provided access token does not match any valid tokens."},
                                status_code=401, headers=_BEARER_CHALLENGE)
        if token.expires_at <= time.monotonic():
            return JSONResponse({"error_code": "token_expired", "developer_message": "The provided access token has "
                                 "expired and is no longer valid."}, status_code=401,
                                headers=_BEARER_CHALLENGE)
        return token.client

    def _required_caller(self, request: Request) -> FakeClient | Response:
        caller = self._caller(request)
        if caller is None:
            return JSONResponse(_DRF_UNAUTHENTICATED, status_code=401, headers=_BEARER_CHALLENGE)
        return caller

    # -- course API ------------------------------------------------------------------------------

    def _origin(self, request: Request) -> str:
        return self.public_url or f"{request.url.scheme}://{request.url.netloc}"

    def _course_json(self, course: FakeCourse, origin: str) -> dict[str, Any]:
        org, number, run = _course_parts(course.id)
        start = _iso(course.start)
        return {
            "blocks_url": f"{origin}/api/courses/v1/blocks/?course_id={quote(course.id, safe='')}",
            "effort": None,
            "end": _iso(course.end),
            "enrollment_start": None,
            "enrollment_end": None,
            "id": course.id,
            "media": {"course_image": {"uri": f"/asset-v1:{org}+{number}+{run}+type@asset+block@images_course_image"
                                              ".jpg"},
                      "course_video": {"uri": None}},
            "name": course.name,
            "number": number,
            "org": org,
            "short_description": course.short_description,
            "start": start,
            "start_display": start[:10] if start else None,
            "start_type": "timestamp" if start else "empty",
            "pacing": "instructor",
            "mobile_available": False,
            "hidden": False,
            "invitation_only": False,
            "course_id": course.id,
        }

    async def _course_list(self, request: Request) -> Response:
        caller = self._caller(request)
        if isinstance(caller, Response):
            return caller
        params = request.query_params
        courses = [c for c in self.courses if not params.get("org") or _course_parts(c.id)[0] == params["org"]]
        size = self.page_size
        if params.get("page_size", "").isdigit() and int(params["page_size"]) > 0:
            size = min(int(params["page_size"]), self.max_page_size)
        size = max(1, size)
        num_pages = max(1, -(-len(courses) // size))
        page_text = params.get("page", "1")
        if not page_text.isdigit() or not 1 <= int(page_text) <= num_pages:
            return JSONResponse({"detail": "Invalid page."}, status_code=404)
        page = int(page_text)
        origin = self._origin(request)
        results = [self._course_json(c, origin) for c in courses[(page - 1) * size: page * size]]

        def link(number: int) -> str:
            query = {key: value for key, value in params.multi_items() if key != "page"}
            if number > 1:
                query["page"] = str(number)
            return f"{origin}{request.url.path}" + (f"?{urlencode(query)}" if query else "")

        next_url = link(page + 1) if page < num_pages else None
        previous_url = link(page - 1) if page > 1 else None
        if self.pagination == "flat":
            return JSONResponse({"count": len(courses), "next": next_url, "previous": previous_url,
                                 "num_pages": num_pages, "results": results})
        return JSONResponse({"results": results, "pagination": {"next": next_url, "previous": previous_url,
                                                                "count": len(courses), "num_pages": num_pages}})

    async def _course_detail(self, request: Request) -> Response:
        caller = self._caller(request)
        if isinstance(caller, Response):
            return caller
        course = self.course(request.path_params["course_id"].rstrip("/"))
        if course is None:
            return JSONResponse({"detail": "Not found."}, status_code=404)
        if course.restricted:
            return JSONResponse(_DRF_FORBIDDEN, status_code=403)
        return JSONResponse(self._course_json(course, self._origin(request)))

    async def _blocks(self, request: Request) -> Response:
        caller = self._caller(request)
        if isinstance(caller, Response):
            return caller
        params = request.query_params
        course_id = params.get("course_id", "")
        if not course_id:
            return JSONResponse({"course_id": ["This field is required."]}, status_code=400)
        all_blocks = params.get("all_blocks", "").lower() == "true"
        if not all_blocks and not params.get("username"):
            return JSONResponse({"username": ["This field is required unless all_blocks is requested."]},
                                status_code=400)
        if all_blocks and (caller is None or not caller.staff):
            return JSONResponse(_DRF_FORBIDDEN, status_code=403)
        course = self.course(course_id)
        if course is None:
            return JSONResponse({"detail": f"Course not found: {course_id}"}, status_code=404)
        origin = self._origin(request)
        with_children = "children" in params.get("requested_fields", "").split(",")
        root = _usage_key(course.id, "course", "course")
        blocks: dict[str, dict[str, Any]] = {root: _block_json(origin, root, "course", "course", course.name)}
        if params.get("depth", "0") != "0":
            for block_id, display_name in course.chapters:
                key = _usage_key(course.id, "chapter", block_id)
                blocks[key] = _block_json(origin, key, block_id, "chapter", display_name)
                if with_children:
                    blocks[key]["children"] = []
        if with_children:
            blocks[root]["children"] = [_usage_key(course.id, "chapter", block_id) for block_id, _ in course.chapters]
        # the real API returns a dict without a meaningful order: do not let clients rely on it
        return JSONResponse({"root": root, "blocks": dict(sorted(blocks.items(), reverse=True))})

    # -- user API --------------------------------------------------------------------------------

    async def _accounts(self, request: Request) -> Response:
        caller = self._required_caller(request)
        if isinstance(caller, Response):
            return caller
        names = [name for name in request.query_params.get("username", "").strip(",").split(",") if name]
        found = [user for name in names for user in self.users if user.username == name]
        if names and not found:
            return Response(status_code=404)
        return JSONResponse([_account_json(user, full=caller.staff) for user in found])

    # -- seb-openedx -----------------------------------------------------------------------------

    async def _seb_info(self, request: Request) -> Response:
        if not self.seb_plugin:
            return HTMLResponse(_NOT_FOUND_PAGE, status_code=404)
        return HTMLResponse("", status_code=403)  # only a logged-in staff *session* may read it

    async def _seb_configuration(self, request: Request) -> Response:
        course_id = request.path_params["course_id"]
        if not self.seb_plugin or not _COURSE_ID.fullmatch(course_id):
            return HTMLResponse(_NOT_FOUND_PAGE, status_code=404)
        caller = self._required_caller(request)
        if isinstance(caller, Response):
            return caller
        if not caller.staff:
            return JSONResponse(_DRF_FORBIDDEN, status_code=403)
        method = request.method
        current = self.restrictions.get(course_id)
        if method == "GET":
            return JSONResponse(current) if current else Response(status_code=404)
        if method == "DELETE":
            self.restrictions.pop(course_id, None)
            return Response(status_code=204)
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != "application/json":
            return JSONResponse({"detail": f'Unsupported media type "{content_type}" in request.'}, status_code=415)
        try:
            data = json.loads(await request.body() or b"{}")
        except ValueError as exc:
            return JSONResponse({"detail": f"JSON parse error - {exc}"}, status_code=400)
        validated, errors = validate_seb_configuration(data)
        if errors:
            return JSONResponse(errors, status_code=400)
        if method == "POST":
            if current:
                return JSONResponse(f"{course_id} already has a SEB configuration. Use PUT to update.",
                                    status_code=422)
            self.restrictions[course_id] = validated
            return JSONResponse(validated)
        if method == "PUT":
            self.restrictions[course_id] = validated
            return JSONResponse(validated)
        merged = {**(current or {}), **validated}  # PATCH
        self.restrictions[course_id] = merged
        return JSONResponse(merged)


def validate_seb_configuration(data: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """seb-openedx's ``SebConfigurationSerializer``: (validated data with only the given keys, errors)."""
    if not isinstance(data, dict):
        return {}, {"non_field_errors": [f"Invalid data. Expected a dictionary, but got {type(data).__name__}."]}
    validated: dict[str, Any] = {}
    errors: dict[str, Any] = {}
    for key in SEB_CONFIG_KEYS:
        if key not in data:
            continue
        value = data[key]
        if key == "USER_BANNING_ENABLED":
            flag = _drf_bool(value)
            if flag is None:
                errors[key] = ["Must be a valid boolean."]
            else:
                validated[key] = flag
            continue
        if not isinstance(value, list):
            errors[key] = [f'Expected a list of items but got type "{type(value).__name__}".']
            continue
        item_errors: dict[str, list[str]] = {}
        for index, item in enumerate(value):
            if not isinstance(item, str | int | float) or isinstance(item, bool) or not str(item).strip():
                item_errors[str(index)] = ["This field may not be blank."]
            elif key in ("BROWSER_KEYS", "CONFIG_KEYS") and not _KEY.match(str(item)):
                item_errors[str(index)] = ["This value does not match the required pattern."]
            elif key == "PERMISSION_COMPONENTS" and item not in SEB_PERMISSION_COMPONENTS:
                item_errors[str(index)] = [f'"{item}" is not a valid choice.']
        if item_errors:
            errors[key] = item_errors
        else:
            validated[key] = [str(item).strip() for item in value]
    return validated, errors


def _drf_bool(value: Any) -> bool | None:
    if value in (True, "true", "True", "TRUE", "on", "On", "ON", "yes", "Yes", "YES", "y", "Y", "1", 1):
        return True
    if value in (False, "false", "False", "FALSE", "off", "Off", "OFF", "no", "No", "NO", "n", "N", "0", 0):
        return False
    return None


def _iso(value: datetime | str | None) -> str | None:
    if isinstance(value, datetime):
        value = value if value.tzinfo else value.replace(tzinfo=UTC)
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return value


def _course_parts(course_id: str) -> tuple[str, str, str]:
    key = course_id.split(":", 1)[1] if course_id.startswith("course-v1:") else course_id
    parts = re.split(r"[+/]", key, maxsplit=2)
    parts += [""] * (3 - len(parts))
    return parts[0], parts[1], parts[2]


def _usage_key(course_id: str, block_type: str, block_id: str) -> str:
    org, number, run = _course_parts(course_id)
    if course_id.startswith("course-v1:"):
        return f"block-v1:{org}+{number}+{run}+type@{block_type}+block@{block_id}"
    return f"i4x://{org}/{number}/{block_type}/{block_id}"


def _block_json(origin: str, key: str, block_id: str, block_type: str, display_name: str) -> dict[str, Any]:
    return {
        "id": key,
        "block_id": block_id,
        "lms_web_url": f"{origin}/courses/{key}/jump_to/{key}",
        "legacy_web_url": f"{origin}/courses/{key}/jump_to/{key}?experience=legacy",
        "student_view_url": f"{origin}/xblock/{key}",
        "type": block_type,
        "display_name": display_name,
    }


def _account_json(user: FakeUser, *, full: bool) -> dict[str, Any]:
    public = {
        "username": user.username,
        "account_privacy": "private",
        "profile_image": {"has_image": False, "image_url_full": "/static/images/profiles/default_500.png"},
    }
    if not full:
        return public
    return {
        **public,
        "name": user.name,
        "email": user.email,
        "bio": None,
        "country": user.country,
        "date_joined": user.date_joined,
        "gender": None,
        "is_active": user.is_active,
        "mailing_address": None,
        "secondary_email": None,
        "year_of_birth": None,
        "level_of_education": None,
        "language_proficiencies": [],
        "requires_parental_consent": False,
    }


__all__ = [
    "DEFAULT_CLIENT_ID",
    "DEFAULT_CLIENT_SECRET",
    "FakeClient",
    "FakeCourse",
    "FakeOpenEdx",
    "FakeUser",
    "RecordedRequest",
    "demo_courses",
    "demo_users",
    "validate_seb_configuration",
]
