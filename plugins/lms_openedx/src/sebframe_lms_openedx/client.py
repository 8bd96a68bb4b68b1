"""HTTP access to Open edX: the OAuth2 token and the REST endpoints SEB Server uses, with strict parsing.

Every request goes through the ``httpx.AsyncClient`` the core injects (``IntegrationContext.http``, proxy and
timeouts applied). The client

- requests an OAuth2 client-credentials token (``POST /oauth2/access_token``, form body), keeps it until
  shortly before it expires, and requests a new one once when an API call answers 401;
- retries a throttled request (HTTP 429) a few times, waiting ``Retry-After`` (capped) or a growing back-off;
- parses every answer into the documented shape, or raises :class:`OpenEdxResponseError` (a ``ValueError``)
  naming the endpoint and what it answered. HTTP errors raise ``httpx.HTTPStatusError``, transport problems
  the ``httpx`` transport errors; :func:`describe_failure` turns any of them into a ``ConnectionTestResult``.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any, TypeVar
from urllib.parse import parse_qsl, quote, urlsplit

import anyio
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from sebframe import describe_http_failure
from sebframe.types import ConnectionTestResult

if TYPE_CHECKING:
    import httpx

TOKEN_PATH = "/oauth2/access_token"
COURSES_PATH = "/api/courses/v1/courses/"
BLOCKS_PATH = "/api/courses/v1/blocks/"
ACCOUNTS_PATH = "/api/user/v1/accounts"
SEB_INFO_PATH = "/seb-openedx/seb-info"
SEB_CONFIGURATION_PATH = "/seb-openedx/api/v1/course/{course_id}/configuration/"
NO_CACHE = {"Cache-Control": "no-cache, no-store, must-revalidate"}
MAX_PAGE_SIZE = 100  # Open edX's max_page_size for the course list

T = TypeVar("T")


class OpenEdxResponseError(ValueError):
    """An Open edX endpoint answered something other than the documented JSON."""

    def __init__(self, method: str, url: str, problem: str) -> None:
        super().__init__(f"{method} {urlsplit(url).path or url} {problem}")
        self.method = method
        self.url = url


# -- the JSON shapes -----------------------------------------------------------------------------


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


UtcDateTime = Annotated[datetime | None, AfterValidator(_utc)]


class _Shape(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


class TokenResponse(_Shape):
    access_token: str = Field(min_length=1)
    token_type: str = "Bearer"
    expires_in: float | None = None


class Course(_Shape):
    """A course of the Course API v1 (only the fields sebframe uses)."""

    id: str = Field(min_length=1)
    name: str
    short_description: str | None = None
    start: UtcDateTime = None
    end: UtcDateTime = None
    blocks_url: str | None = None


class _Pagination(_Shape):
    next: str | None = None
    previous: str | None = None
    count: int | None = None
    num_pages: int | None = None


class CoursePage(_Shape):
    """A page of courses in either shape: Open edX's ``{"results", "pagination": {...}}`` or the flat
    ``{"count", "next", "previous", "num_pages", "results"}`` SEB Server reads."""

    results: list[Course]
    pagination: _Pagination | None = None
    next: str | None = None
    count: int | None = None

    @property
    def next_url(self) -> str | None:
        return (self.pagination.next if self.pagination is not None else None) or self.next

    @property
    def total(self) -> int | None:
        if self.pagination is not None and self.pagination.count is not None:
            return self.pagination.count
        return self.count


class Block(_Shape):
    block_id: str = Field(min_length=1)
    type: str
    display_name: str | None = None
    children: list[str] | None = None


class Blocks(_Shape):
    root: str
    blocks: dict[str, Block]


class Account(_Shape):
    username: str = Field(min_length=1)
    name: str | None = None
    email: str | None = None


class SebConfiguration(_Shape):
    """A seb-openedx course configuration; every key is optional on the wire."""

    config_keys: list[str] = Field(default_factory=list, alias="CONFIG_KEYS")
    browser_keys: list[str] = Field(default_factory=list, alias="BROWSER_KEYS")
    whitelist_paths: list[str] = Field(default_factory=list, alias="WHITELIST_PATHS")
    blacklist_chapters: list[str] = Field(default_factory=list, alias="BLACKLIST_CHAPTERS")
    permission_components: list[str] = Field(default_factory=list, alias="PERMISSION_COMPONENTS")
    user_banning_enabled: bool = Field(default=False, alias="USER_BANNING_ENABLED")


_TOKEN = TypeAdapter(TokenResponse)
_COURSE = TypeAdapter(Course)
_COURSE_PAGE = TypeAdapter(CoursePage)
_BLOCKS = TypeAdapter(Blocks)
_ACCOUNTS = TypeAdapter(list[Account])
_SEB_CONFIGURATION = TypeAdapter(SebConfiguration)


# -- the client ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Token:
    header: str  # "Bearer <token>"
    valid_until: float | None  # clock time; None: until the LMS answers 401


class OpenEdxClient:
    """One Open edX instance reached with one OAuth2 client; safe to share between concurrent tasks."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        base_url: str,
        client_id: str,
        client_secret: str,
        *,
        page_size: int = MAX_PAGE_SIZE,
        max_pages: int = 1000,
        throttle_retries: int = 3,
        retry_wait: float = 0.5,
        max_retry_wait: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
    ) -> None:
        self.http = http
        self.base_url = base_url.strip().rstrip("/")
        self._client_id = client_id
        self._client_secret = client_secret
        self.page_size = max(1, min(page_size, MAX_PAGE_SIZE))
        self.max_pages = max_pages
        self.throttle_retries = throttle_retries
        self.retry_wait = retry_wait
        self.max_retry_wait = max_retry_wait
        self._clock = clock
        self._sleep = sleep
        self._token: _Token | None = None
        self._token_lock = anyio.Lock()

    def url(self, path: str) -> str:
        return self.base_url + path

    # -- token -----------------------------------------------------------------------------------

    async def fetch_token(self) -> None:
        """Request a new token now (the connection test uses this to check the credentials)."""
        async with self._token_lock:
            self._token = await self._request_token()

    async def _current_token(self) -> _Token:
        async with self._token_lock:
            token = self._token
            if token is None or (token.valid_until is not None and self._clock() >= token.valid_until):
                token = self._token = await self._request_token()
            return token

    async def _renew_token(self, rejected: _Token) -> _Token:
        async with self._token_lock:
            if self._token is None or self._token is rejected:  # another task may have renewed it already
                self._token = await self._request_token()
            return self._token

    async def _request_token(self) -> _Token:
        response = await self._send(
            "POST", TOKEN_PATH, authenticated=False,
            data={"grant_type": "client_credentials", "client_id": self._client_id,
                  "client_secret": self._client_secret},
        )
        _expect(response, 200)
        token = _parse(response, _TOKEN)
        scheme = "JWT" if token.token_type.strip().lower() == "jwt" else "Bearer"
        valid_until = None
        if token.expires_in is not None:
            lifetime = max(0.0, token.expires_in)
            valid_until = self._clock() + lifetime - min(60.0, lifetime * 0.1)  # renew shortly before expiry
        return _Token(f"{scheme} {token.access_token}", valid_until)

    # -- sending ---------------------------------------------------------------------------------

    async def _send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        authenticated: bool = True,
    ) -> httpx.Response:
        url = self.url(path)
        throttled = 0
        renewed = False
        token = await self._current_token() if authenticated else None
        while True:
            request_headers = {"Accept": "application/json", **(headers or {})}
            if token is not None:
                request_headers["Authorization"] = token.header
            response = await self.http.request(method, url, params=params, data=data, content=content,
                                               headers=request_headers)
            if response.status_code == 401 and token is not None and not renewed:
                renewed = True  # the token may have been revoked or expired early: one new token, one retry
                token = await self._renew_token(token)
                continue
            if response.status_code == 429 and throttled < self.throttle_retries:
                throttled += 1
                await self._sleep(self._retry_delay(response, throttled))
                continue
            return response

    def _retry_delay(self, response: httpx.Response, attempt: int) -> float:
        try:
            wait = float(response.headers.get("Retry-After", ""))
        except ValueError:
            wait = self.retry_wait * 2 ** (attempt - 1)
        return max(0.0, min(wait, self.max_retry_wait))

    # -- course API ------------------------------------------------------------------------------

    async def first_course_page(self) -> CoursePage:
        """One small page of the course list: the probe of the connection test."""
        return await self._course_page({"page_size": "1"})

    async def _course_page(self, params: Mapping[str, str]) -> CoursePage:
        response = await self._send("GET", COURSES_PATH, params=params)
        _expect(response, 200)
        return _parse(response, _COURSE_PAGE)

    async def iter_courses(self) -> AsyncIterator[Course]:
        """All courses, page by page, following ``next`` in either pagination shape.

        Only the query of a ``next`` link is used, against the configured LMS URL: links that name another
        host (an LMS behind a proxy often builds them with its internal address) still work, and the token
        is never sent anywhere else.
        """
        params = {"page_size": str(self.page_size)}
        seen = {tuple(sorted(params.items()))}
        for _ in range(self.max_pages):
            page = await self._course_page(params)
            for course in page.results:
                yield course
            next_url = page.next_url
            if not next_url:
                return
            params = dict(parse_qsl(urlsplit(next_url).query, keep_blank_values=True))
            marker = tuple(sorted(params.items()))
            if marker in seen:
                raise OpenEdxResponseError("GET", self.url(COURSES_PATH),
                                           f"answered a 'next' link that leads to a page already read: {next_url}")
            seen.add(marker)
        raise OpenEdxResponseError("GET", self.url(COURSES_PATH), f"has more than {self.max_pages} pages; stopped")

    async def course(self, course_id: str) -> Course | None:
        """One course by id, or ``None`` when the detail is not available (unknown, or 403 for a restricted
        course: the caller then looks through the list)."""
        response = await self._send("GET", COURSES_PATH + _path_id(course_id))
        if response.status_code in (400, 403, 404):
            return None
        _expect(response, 200)
        return _parse(response, _COURSE)

    async def course_blocks(self, course_id: str) -> Blocks:
        """The course block and its chapters (depth 1), with the outline order in ``children``."""
        response = await self._send(
            "GET", BLOCKS_PATH,
            params={"depth": "1", "all_blocks": "true", "course_id": course_id, "requested_fields": "children"},
        )
        _expect(response, 200)
        return _parse(response, _BLOCKS)

    # -- user API --------------------------------------------------------------------------------

    async def accounts(self, username: str) -> list[Account]:
        """The accounts of ``username`` (an empty list when there is none)."""
        response = await self._send("GET", ACCOUNTS_PATH, params={"username": username})
        if response.status_code == 404:
            return []
        _expect(response, 200)
        return _parse(response, _ACCOUNTS)

    # -- seb-openedx -----------------------------------------------------------------------------

    async def seb_info_status(self) -> int:
        """The status of ``/seb-openedx/seb-info``: 404 means the plugin is missing (403 is normal: it only
        serves staff sessions, not tokens)."""
        response = await self._send("GET", SEB_INFO_PATH)
        return response.status_code

    async def get_seb_configuration(self, course_id: str) -> SebConfiguration | None:
        response = await self._send("GET", _configuration_path(course_id), headers=NO_CACHE)
        if response.status_code == 404:
            return None
        _expect(response, 200)
        return _parse(response, _SEB_CONFIGURATION)

    async def put_seb_configuration(self, course_id: str, body: bytes) -> SebConfiguration:
        response = await self._send("PUT", _configuration_path(course_id), content=body,
                                    headers={"Content-Type": "application/json", **NO_CACHE})
        _expect(response, 200)
        return _parse(response, _SEB_CONFIGURATION)

    async def delete_seb_configuration(self, course_id: str) -> None:
        response = await self._send("DELETE", _configuration_path(course_id), headers=NO_CACHE)
        _expect(response, 204, 200)


# -- helpers -------------------------------------------------------------------------------------


def _path_id(course_id: str) -> str:
    """A course id as a path segment: kept as Open edX expects it (``course-v1:ORG+NUM+RUN``, also old
    ``ORG/NUM/RUN`` ids), only characters that would break the URL are escaped."""
    return quote(course_id, safe=":+@/!$&'()*,;=~")


def _configuration_path(course_id: str) -> str:
    return SEB_CONFIGURATION_PATH.format(course_id=_path_id(course_id))


def _expect(response: httpx.Response, *statuses: int) -> None:
    if response.status_code in statuses:
        return
    if 200 <= response.status_code < 300:
        raise OpenEdxResponseError(response.request.method, str(response.request.url),
                                   f"answered HTTP {response.status_code} where {statuses[0]} was expected")
    response.raise_for_status()  # httpx.HTTPStatusError for 3xx, 4xx and 5xx


def _snippet(response: httpx.Response, limit: int = 80) -> str:
    text = " ".join(response.text.split())
    return repr(text[:limit] + ("..." if len(text) > limit else "")) if text else "an empty body"


def _parse(response: httpx.Response, shape: TypeAdapter[T]) -> T:
    method, url = response.request.method, str(response.request.url)
    content_type = response.headers.get("content-type", "no content type").split(";")[0]
    try:
        data = json.loads(response.content)
    except ValueError:
        raise OpenEdxResponseError(
            method, url, f"answered HTTP {response.status_code} ({content_type}) that is not JSON: {_snippet(response)}"
        ) from None
    try:
        return shape.validate_python(data)
    except ValidationError as exc:
        problems = [f"{'.'.join(str(part) for part in error['loc']) or 'body'}: {error['msg']}"
                    for error in exc.errors()[:3]]
        more = f" and {exc.error_count() - 3} more" if exc.error_count() > 3 else ""
        raise OpenEdxResponseError(
            method, url,
            f"answered JSON of an unexpected shape ({'; '.join(problems)}{more}): {_snippet(response)}",
        ) from None


def response_detail(response: Any) -> str | None:
    """What an error response says, if it says something short and useful (OAuth ``error``, DRF ``detail``)."""
    try:
        data = json.loads(response.content)
    except (ValueError, AttributeError, TypeError):
        return None
    if isinstance(data, str):
        return data[:200] or None
    if not isinstance(data, dict):
        return None
    for key in ("error_description", "error", "detail", "developer_message", "message"):
        value = data.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()[:200]
    fields = "; ".join(f"{key}: {value}" for key, value in list(data.items())[:3])
    return fields[:200] or None


def describe_failure(exc: Exception, fallback_url: str) -> ConnectionTestResult:
    """A failed ``ConnectionTestResult`` naming the cause (DNS, refused, TLS, credentials, API, timeout)."""
    url = getattr(exc, "url", None) if isinstance(exc, OpenEdxResponseError) else _request_url(exc)
    result = describe_http_failure(exc, url or fallback_url)
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None)
    notes = []
    detail = response_detail(response) if response is not None else None
    if detail:
        notes.append(f"Open edX said: {detail}")
    if status == 429:
        notes.append("the LMS kept throttling after retries; try again in a minute")
    message = result.message + (f" ({'; '.join(notes)})" if notes else "")
    return ConnectionTestResult.failure(result.error_kind or "api", message)


def _request_url(exc: Exception) -> str | None:
    try:
        request = exc.request  # type: ignore[attr-defined]
    except (AttributeError, RuntimeError):  # httpx raises RuntimeError when no request is attached
        return None
    return str(request.url) if request is not None else None
