"""Moodle's web-service protocol: token requests, REST calls with PHP-style arguments, and Moodle's errors.

- Token: ``POST {url}/login/token.php`` with ``username``, ``password`` and ``service`` (sent in the form body,
  which Moodle reads like the query string SEB Server uses, so passwords stay out of access logs). Moodle
  answers ``{"token": ...}`` or, with HTTP 200, ``{"error", "errorcode"}``.
- Calls: ``POST {url}/webservice/rest/server.php?wsfunction={fn}&moodlewsrestformat=json`` with ``wstoken`` and
  the arguments in an ``application/x-www-form-urlencoded`` body (Moodle merges query and body). Lists and
  mappings are encoded as PHP arrays with explicit indexes (``courseids[0]=5``, ``options[ids][0]=5``,
  ``data[quizid]=7``), so a one-element list is still an array and needs no padding.
- Errors come back with HTTP 200 as ``{"exception", "errorcode", "message"[, "debuginfo"]}``; they become a
  :class:`MoodleError` whose ``kind`` and message say what to fix. A token from ``token.php`` that Moodle
  rejects is requested again once; a configured token is never replaced.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

from pydantic import BaseModel, ValidationError

from sebframe import describe_http_failure
from sebframe.types import IntegrationContext
from sebframe_lms_moodle.responses import SiteInfo
from sebframe_lms_moodle.settings import MoodleSettings

log = logging.getLogger(__name__)

SEB_SERVER_SERVICE = "SEB-Server-Webservice"
MOBILE_APP_SERVICE = "moodle_mobile_app"
TOKEN_PATH = "login/token.php"
REST_PATH = "webservice/rest/server.php"
PLUGIN_PREFIX = "quizaccess_sebserver_"


class MoodleError(Exception):
    """A failed Moodle request; ``kind`` is a ``ConnectionTestResult`` error kind, ``message`` is for the admin."""

    kind = "api"

    def __init__(self, message: str, *, kind: str | None = None, errorcode: str | None = None,
                 function: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if kind is not None:
            self.kind = kind
        self.errorcode = errorcode
        self.function = function


class MoodleAuthError(MoodleError):
    """Moodle refused the user name and password, or the token."""

    kind = "unauthorized"


class MoodleFunctionUnavailable(MoodleError):
    """The web service does not offer a function (not installed, or not part of the token's service)."""


class MoodleNotFound(MoodleError, LookupError):
    """Moodle has no such quiz or user."""


def php_form(args: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Encode arguments as PHP reads them from a form: lists get indexes, mappings get keys, booleans are 1/0.

    ``{"courseids": [5], "options": {"ids": [1, 2]}}`` -> ``courseids[0]=5&options[ids][0]=1&options[ids][1]=2``.
    ``None`` values are left out; an empty list sends nothing (Moodle then uses the parameter's default).
    """
    pairs: list[tuple[str, str]] = []

    def add(key: str, value: Any) -> None:
        if value is None:
            return
        if isinstance(value, Mapping):
            for sub, item in value.items():
                add(f"{key}[{sub}]", item)
        elif isinstance(value, list | tuple | set | frozenset):
            for index, item in enumerate(value):
                add(f"{key}[{index}]", item)
        elif isinstance(value, bool):
            pairs.append((key, "1" if value else "0"))
        else:
            pairs.append((key, str(value)))

    for name, value in args.items():
        add(name, value)
    return pairs


# Tokens from token.php survive the adapter objects (the core builds one per operation), like SEB Server's
# per-setup template: keyed by URL, user, a hash of the password and the services, never by the password itself.
_TOKENS: OrderedDict[str, tuple[str, str]] = OrderedDict()  # key -> (token, service)
_MAX_TOKENS = 512


def _token_key(url: str, username: str, password: str, services: Sequence[str]) -> str:
    material = json.dumps([url, username, password, list(services)])
    return hashlib.sha256(material.encode()).hexdigest()


def forget_tokens() -> None:
    """Drop every cached token (tests; a changed setup gets a new key anyway)."""
    _TOKENS.clear()


class MoodleClient:
    """Calls Moodle web-service functions for one LMS setup, through the core's HTTP client."""

    def __init__(self, context: IntegrationContext, *, default_services: Sequence[str]) -> None:
        settings = context.settings
        if not isinstance(settings, MoodleSettings):
            settings = MoodleSettings.model_validate(settings.model_dump())
        self.settings = settings
        self.http = context.http
        self.base_url = context.url.strip().rstrip("/") + "/"
        self.services: tuple[str, ...] = (settings.service,) if settings.service else tuple(default_services)
        self._fixed_token = settings.token.get_secret_value().strip() if settings.has_token and settings.token \
            else None
        password = settings.password.get_secret_value() if settings.password is not None else ""
        self._key = _token_key(self.base_url, settings.username, password, self.services)
        self.service_used: str | None = None

    def url(self, path: str) -> str:
        return self.base_url + path

    # -- token -----------------------------------------------------------------------------------------------

    @property
    def uses_fixed_token(self) -> bool:
        return self._fixed_token is not None

    async def token(self) -> str:
        if self._fixed_token is not None:
            return self._fixed_token
        cached = _TOKENS.get(self._key)
        if cached is not None:
            self.service_used = cached[1]
            return cached[0]
        token = await self._request_token()
        _TOKENS[self._key] = (token, self.service_used or "")
        while len(_TOKENS) > _MAX_TOKENS:
            _TOKENS.popitem(last=False)
        return token

    def _forget_token(self) -> None:
        _TOKENS.pop(self._key, None)

    async def _request_token(self) -> str:
        url = self.url(TOKEN_PATH)
        password = self.settings.password.get_secret_value() if self.settings.password is not None else ""
        unavailable: list[str] = []
        for service in self.services:
            body = urlencode({"username": self.settings.username, "password": password, "service": service})
            answer = await self._post_json(url, params=None, content=body, what="the token request")
            if not isinstance(answer, dict):
                raise MoodleError(f"{url} answered the token request with something that is not Moodle's token "
                                  f"JSON: {_snippet(answer)}")
            token = answer.get("token")
            if isinstance(token, str) and token:
                self.service_used = service
                return token
            code = str(answer.get("errorcode") or "")
            text = str(answer.get("error") or answer.get("message") or "")
            if code == "servicenotavailable":
                unavailable.append(service)
                continue
            raise _token_error(url, code, text, answer)
        names = ", ".join(f"'{name}'" for name in unavailable)
        if SEB_SERVER_SERVICE in unavailable:
            raise MoodleFunctionUnavailable(
                f"the web service {names} is not available on Moodle: the SEB Server Moodle plugin "
                f"(quizaccess_sebserver) is not installed, or its service is disabled (Site administration > "
                f"Server > Web services > External services)", errorcode="servicenotavailable")
        raise MoodleFunctionUnavailable(
            f"the web service {names} is not available on Moodle: enable it (Site administration > Server > "
            f"Web services > External services; 'moodle_mobile_app' is enabled with 'Enable web services for "
            f"mobile devices') or enter the short name of a service that has the needed functions",
            errorcode="servicenotavailable")

    # -- calls -----------------------------------------------------------------------------------------------

    async def call(self, function: str, args: Mapping[str, Any] | None = None, *,
                   query: Mapping[str, Any] | None = None, tolerate: Sequence[str] = ()) -> Any:
        """Call ``function``; returns the decoded JSON. Moodle errors raise, except those in ``tolerate``
        (error codes), which are returned as the error object."""
        token = await self.token()
        try:
            return await self._call_once(token, function, args, query, tolerate)
        except _TokenRejected as rejected:
            if self._fixed_token is not None:
                raise rejected.error() from None
            log.info("Moodle rejected the cached token for %s; requesting a new one", self.base_url)
            self._forget_token()
        token = await self.token()
        try:
            return await self._call_once(token, function, args, query, tolerate)
        except _TokenRejected as again:
            if again.maybe_function:  # a new token did not help: the function is what is refused
                raise self.function_unavailable(function, again.code) from None
            self._forget_token()
            raise again.error(fresh=True) from None

    async def _call_once(self, token: str, function: str, args: Mapping[str, Any] | None,
                         query: Mapping[str, Any] | None, tolerate: Sequence[str]) -> Any:
        url = self.url(REST_PATH)
        params = (("wsfunction", function), ("moodlewsrestformat", "json"), *php_form(query or {}))
        body = urlencode([("wstoken", token), *php_form(args or {})])
        answer = await self._post_json(url, params=params, content=body, what=function)
        if isinstance(answer, dict) and "exception" in answer and "errorcode" in answer:
            code = str(answer.get("errorcode") or "")
            if code in tolerate:
                return answer
            raise self._call_error(function, answer)
        return answer

    def _call_error(self, function: str, answer: Mapping[str, Any]) -> Exception:
        code = str(answer.get("errorcode") or "")
        message = _clean_message(str(answer.get("message") or ""))
        debuginfo = str(answer.get("debuginfo") or "")
        if code == "invalidtoken" or (code == "accessexception" and "invalid token" in debuginfo.lower()):
            return _TokenRejected(function, code, message)
        if code == "accessexception" and not self.uses_fixed_token and "not allowed" not in debuginfo:
            # Without debug output an expired token and a function missing from the service look the same.
            return _TokenRejected(function, code, message, maybe_function=True)
        if code == "accessexception" or (code == "invalidrecord" and "external_functions" in f"{message}{debuginfo}"):
            return self.function_unavailable(function, code)
        if code == "sitemaintenance":
            return MoodleError("Moodle is in maintenance mode; try again later", errorcode=code, function=function)
        if code in ("nopermissions", "requireloginerror") or answer.get("exception") == "required_capability_exception":
            return MoodleAuthError(f"Moodle refused {function}: {message} ({code}); give the web-service user the "
                                   f"capabilities the service needs", errorcode=code, function=function)
        detail = f": {_clean_message(debuginfo)}" if debuginfo and code == "invalidparameter" else ""
        return MoodleError(f"Moodle could not run {function}: {message or code} ({code}){detail}", errorcode=code,
                           function=function)

    def function_unavailable(self, functions: str | Sequence[str], code: str = "") -> MoodleFunctionUnavailable:
        """The error for functions the web service does not offer, naming the SEB Server plugin if it is one."""
        names = [functions] if isinstance(functions, str) else list(functions)
        listed = ", ".join(names)
        if self.uses_fixed_token:
            service = "the web service of the configured token"
        elif self.service_used:
            service = f"the web service '{self.service_used}'"
        else:
            service = "the web service " + " or ".join(f"'{name}'" for name in self.services)
        if any(name.startswith(PLUGIN_PREFIX) for name in names):
            return MoodleFunctionUnavailable(
                f"the SEB Server Moodle plugin is not installed or not enabled for this web service: {listed} not "
                f"available through {service}", errorcode=code or None, function=names[0])
        return MoodleFunctionUnavailable(
            f"{service} does not offer {listed}: add the functions to the external service (Site administration > "
            f"Server > Web services > External services) or use a service that has them", errorcode=code or None,
            function=names[0])

    async def site_info(self) -> SiteInfo:
        """``core_webservice_get_site_info``: who the token belongs to and which functions it may call."""
        answer = await self.call("core_webservice_get_site_info")
        info: SiteInfo = parse(SiteInfo, answer, "core_webservice_get_site_info")
        return info

    async def require_functions(self, functions: Sequence[str]) -> SiteInfo:
        """Site info, after checking that the web service offers ``functions``."""
        info = await self.site_info()
        missing = [name for name in functions if name not in info.function_names]
        if missing:
            raise self.function_unavailable(missing)
        return info

    async def _post_json(self, url: str, *, params: tuple[tuple[str, str], ...] | None, content: str,
                         what: str) -> Any:
        try:
            response = await self.http.post(
                url, params=params, content=content.encode(),
                headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
            )
        except Exception as exc:  # transport: DNS, refused, TLS, timeout
            failure = describe_http_failure(exc, url)
            raise MoodleError(failure.message, kind=failure.error_kind or "api", function=what) from exc
        status = response.status_code
        if 300 <= status < 400:
            target = response.headers.get("location", "")
            raise MoodleError(f"{url} redirects (HTTP {status}) to {target or 'another address'}: enter the Moodle "
                              f"URL it redirects to (e.g. https instead of http)", kind="api", function=what)
        if status != 200:
            raise MoodleError(_status_message(url, status, what), kind="api", function=what)
        try:
            return response.json()
        except ValueError:
            raise MoodleError(f"{url} answered {what} with something that is not JSON (is the URL the Moodle root, "
                              f"and is debug output switched off?): {_snippet(response.text)}",
                              function=what) from None


class _TokenRejected(Exception):
    def __init__(self, function: str, code: str, message: str, *, maybe_function: bool = False) -> None:
        super().__init__(message)
        self.function, self.code, self.message, self.maybe_function = function, code, message, maybe_function

    def error(self, *, fresh: bool = False) -> MoodleAuthError:
        if fresh:
            return MoodleAuthError(f"Moodle rejected a freshly issued web-service token ({self.code}: "
                                   f"{self.message})", errorcode=self.code, function=self.function)
        return MoodleAuthError(
            f"Moodle rejected the configured web-service token ({self.code}: {self.message}): check the token in "
            f"the LMS setup; it may have expired or been deleted", errorcode=self.code, function=self.function)


def _token_error(url: str, code: str, text: str, answer: Mapping[str, Any]) -> MoodleError:
    if code == "invalidlogin":
        return MoodleAuthError("Moodle refused the user name or password of the web-service user (invalidlogin)",
                               errorcode=code)
    if code == "enablewsdescription":
        return MoodleError("web services are disabled in Moodle: switch on 'Enable web services' (Site "
                           "administration > General > Advanced features)", errorcode=code)
    if code == "sitemaintenance":
        return MoodleError("Moodle is in maintenance mode; try again later", errorcode=code)
    if code in ("usernotconfirmed", "restoredaccountresetpassword", "passwordisexpired", "forcepasswordchangenotice",
                "accountsuspended", "usersuspended", "sitepolicynotagreed"):
        return MoodleAuthError(f"Moodle refused to issue a token to the web-service user: {text} ({code})",
                               errorcode=code)
    if not code and not text:
        return MoodleError(f"{url} answered the token request without a token: {_snippet(answer)}")
    return MoodleError(f"Moodle refused the token request: {text or code} ({code})", errorcode=code or None)


def _status_message(url: str, status: int, what: str) -> str:
    if status == 404:
        return f"{url} does not exist (HTTP 404): check that the URL is the Moodle root (wwwroot)"
    if status == 403 and url.endswith(REST_PATH):
        return (f"Moodle refused {what} with HTTP 403: web services or the REST protocol are disabled (Site "
                f"administration > Server > Web services > Manage protocols)")
    if status in (401, 403):
        return f"{url} refused the request (HTTP {status})"
    return f"{url} answered {what} with HTTP {status}"


def _clean_message(message: str) -> str:
    """Moodle prints exceptions without a language string as ``module/text``; keep the text."""
    for prefix in ("error/", "webservice/", "sebserver/", "debug/"):
        if message.startswith(prefix) and " " in message:
            return message[len(prefix):]
    return message


def _snippet(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    text = " ".join(text.split())
    return text[:200] + ("..." if len(text) > 200 else "")


def parse(model: type[BaseModel], data: Any, what: str) -> Any:
    """Validate a Moodle answer against ``model``; a wrong shape is a :class:`MoodleError` naming the field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "the answer"
        raise MoodleError(f"Moodle answered {what} with an unexpected shape ({where}: {first['msg']}): "
                          f"{_snippet(data)}", function=what) from None
