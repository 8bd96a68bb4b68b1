"""A Zoom stand-in for tests on 127.0.0.1: Server-to-Server OAuth (``POST /oauth/token`` with
``grant_type=account_credentials``) and the REST API under ``/v2`` (users: me, one, list, custCreate, delete;
meetings: create, get, status end, delete; a user's ZAK), with Zoom's status codes and error JSON.

Tests steer it: ``token_lifetime`` (seconds a token lives), ``revoke_tokens()`` (every token answers 401 with
``{"code":124,"message":"Invalid access token."}`` from then on), ``fail(status, path=..., times=...,
retry_after=...)`` (the next matching requests answer that status: 429 with ``Retry-After``, 5xx), and
``allow_cust_create``. It records every request, every token issued, and what exists: ``running()`` names the
meetings and room users a test expects to be gone, ``start(meeting_id, zak)`` starts a meeting as the SDK does
with a host's ZAK.
"""

from __future__ import annotations

import base64
import itertools
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sebframe.testing.fakes._server import BackgroundServer

INVALID_TOKEN = {"code": 124, "message": "Invalid access token."}


@dataclass
class FakeMeeting:
    id: int
    host_id: str
    topic: str
    password: str
    settings: dict[str, Any]
    duration: int
    status: str = "waiting"  # waiting, started, ended
    deleted: bool = False


@dataclass
class FakeUser:
    id: str
    email: str
    type: int = 2
    created: bool = False  # made through the API (custCreate): a test expects it deleted
    deleted: bool = False
    zak: str = field(default_factory=lambda: secrets.token_urlsafe(24))


@dataclass
class Failure:
    status: int
    path: str  # requests whose path starts with it ("" for all)
    method: str  # "" for any
    times: int
    retry_after: str | None


class FakeZoom:
    def __init__(self, *, account_id: str = "acc-1", client_id: str = "s2s-client", client_secret: str = "s2s-secret",
                 host_email: str = "proctor@example.org", token_lifetime: int = 3600,
                 allow_cust_create: bool = True, lifetime: float = 120.0) -> None:
        self.account_id = account_id
        self.client_id = client_id
        self.client_secret = client_secret
        self.token_lifetime = token_lifetime
        self.allow_cust_create = allow_cust_create
        self.requests: list[tuple[str, str]] = []  # (method, path) of every request, in order
        self.tokens_issued: list[str] = []
        self.users: dict[str, FakeUser] = {}
        self.meetings: dict[int, FakeMeeting] = {}
        self.failures: list[Failure] = []
        self._tokens: dict[str, float] = {}  # token -> expiry (time.time())
        self._ids = itertools.count(81234567890)
        self._lock = threading.Lock()
        owner = FakeUser(id="OwnerUserId01", email=host_email, type=2)
        self.users[owner.id] = owner
        self.owner = owner
        self.app = Starlette(routes=[
            Route("/oauth/token", self._token, methods=["POST"]),
            Route("/v2/users", self._users, methods=["GET", "POST"]),
            Route("/v2/users/{user}", self._user, methods=["GET", "DELETE"]),
            Route("/v2/users/{user}/token", self._zak, methods=["GET"]),
            Route("/v2/users/{user}/meetings", self._create_meeting, methods=["POST"]),
            Route("/v2/meetings/{meeting:int}", self._meeting, methods=["GET", "DELETE"]),
            Route("/v2/meetings/{meeting:int}/status", self._status, methods=["PUT"]),
        ])
        self._background = BackgroundServer(self.app, "fake-zoom", http="h11", lifetime=lifetime)

    # -- steering ---------------------------------------------------------------------------------

    def fail(self, status: int, *, path: str = "", method: str = "", times: int = 1,
             retry_after: str | None = None) -> None:
        """The next ``times`` requests matching ``method`` and ``path`` (a prefix) answer ``status``."""
        self.failures.append(Failure(status, path, method.upper(), times, retry_after))

    def revoke_tokens(self) -> None:
        """Every token issued so far is refused (401, code 124), as after it expired or was replaced."""
        self._tokens.clear()

    def start(self, meeting_id: int, zak: str) -> None:
        """Start a meeting as the Meeting SDK does with a host's ZAK (raises if the ZAK is not the host's)."""
        meeting = self.meetings[meeting_id]
        if meeting.deleted or self.users[meeting.host_id].zak != zak:
            raise PermissionError("that ZAK does not start this meeting")
        meeting.status = "started"

    def running(self) -> list[str]:
        """What a test expects to be gone: meetings not deleted and users made by the API not deleted."""
        left = [f"meeting {m.id} ({m.topic}, {m.status})" for m in self.meetings.values() if not m.deleted]
        left += [f"user {u.email}" for u in self.users.values() if u.created and not u.deleted]
        return left

    def calls(self, method: str, prefix: str = "") -> list[str]:
        return [path for verb, path in self.requests if verb == method and path.startswith(prefix)]

    # -- serving ----------------------------------------------------------------------------------

    def _injected(self, request: Request) -> Response | None:
        with self._lock:
            self.requests.append((request.method, request.url.path))
            for failure in self.failures:
                if failure.times > 0 and request.url.path.startswith(failure.path) and \
                        failure.method in ("", request.method):
                    failure.times -= 1
                    headers = {"Retry-After": failure.retry_after} if failure.retry_after is not None else None
                    body = ({"code": 429, "message": "You have reached the maximum per-second rate limit for "
                                                     "this API. Try again later."}
                            if failure.status == 429 else {"code": failure.status, "message": "Internal error."})
                    return JSONResponse(body, status_code=failure.status, headers=headers)
        return None

    def _authorised(self, request: Request) -> Response | None:
        injected = self._injected(request)
        if injected is not None:
            return injected
        header = request.headers.get("authorization", "")
        token = header.removeprefix("Bearer ") if header.startswith("Bearer ") else ""
        expires = self._tokens.get(token)
        if expires is None or expires <= time.time():
            return JSONResponse(INVALID_TOKEN, status_code=401)
        return None

    async def _token(self, request: Request) -> Response:
        injected = self._injected(request)
        if injected is not None:
            return injected
        expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        if request.headers.get("authorization") != f"Basic {expected}":
            return JSONResponse({"reason": "Invalid client_id or client_secret", "error": "invalid_client"},
                                status_code=401)
        if request.query_params.get("grant_type") != "account_credentials":
            return JSONResponse({"reason": "Unsupported grant type", "error": "unsupported_grant_type"},
                                status_code=400)
        if request.query_params.get("account_id") != self.account_id:
            return JSONResponse({"reason": "Invalid account_id", "error": "invalid_request"}, status_code=400)
        token = secrets.token_urlsafe(32)
        self._tokens[token] = time.time() + self.token_lifetime
        self.tokens_issued.append(token)
        return JSONResponse({"access_token": token, "token_type": "bearer", "expires_in": self.token_lifetime,
                             "scope": "meeting:write:admin user:write:admin user:read:admin", "api_url":
                             "https://api.zoom.us"})

    def _path_user(self, request: Request) -> FakeUser | Response:
        """The user the path names, or the answer Zoom gives (token refused, no such user)."""
        refused = self._authorised(request)
        if refused is not None:
            return refused
        key = request.path_params["user"]
        user = self._find_user(key)
        return self._no_user(key) if user is None else user

    def _path_meeting(self, request: Request) -> FakeMeeting | Response:
        """The live meeting the path names, or the answer Zoom gives (token refused, no such meeting)."""
        refused = self._authorised(request)
        if refused is not None:
            return refused
        return self._live_meeting(request.path_params["meeting"])

    def _find_user(self, key: str) -> FakeUser | None:
        if key == "me":
            return self.owner
        found = self.users.get(key) or next((u for u in self.users.values() if u.email == key.lower()), None)
        return None if found is None or found.deleted else found

    @staticmethod
    def _no_user(key: str) -> Response:
        return JSONResponse({"code": 1001, "message": f"User does not exist: {key}."}, status_code=404)

    @staticmethod
    def _user_json(user: FakeUser) -> dict[str, Any]:
        return {"id": user.id, "email": user.email, "type": user.type, "status": "active",
                "first_name": "", "last_name": ""}

    async def _users(self, request: Request) -> Response:
        refused = self._authorised(request)
        if refused is not None:
            return refused
        if request.method == "GET":
            users = [self._user_json(u) for u in self.users.values() if not u.deleted]
            return JSONResponse({"page_number": 1, "page_size": 30, "total_records": len(users), "users": users})
        body = json.loads(await request.body() or b"{}")
        if body.get("action") != "custCreate" or not self.allow_cust_create:
            return JSONResponse({"code": 200, "message": "No privilege."}, status_code=400)
        info = body.get("user_info", {})
        email = str(info.get("email", "")).lower()
        if "@" not in email or any(u.email == email and not u.deleted for u in self.users.values()):
            return JSONResponse({"code": 1005, "message": f"User already in the account: {email}"}, status_code=409)
        user = FakeUser(id=f"U{secrets.token_hex(8)}", email=email, type=int(info.get("type", 1)), created=True)
        self.users[user.id] = user
        return JSONResponse({"id": user.id, "email": email, "type": user.type, "first_name":
                             info.get("first_name", ""), "last_name": info.get("last_name", "")}, status_code=201)

    async def _user(self, request: Request) -> Response:
        user = self._path_user(request)
        if isinstance(user, Response):
            return user
        if request.method == "GET":
            return JSONResponse(self._user_json(user))
        if request.query_params.get("action", "disassociate") != "delete":
            return JSONResponse({"code": 300, "message": "only action=delete is faked"}, status_code=400)
        user.deleted = True
        return Response(status_code=204)

    async def _zak(self, request: Request) -> Response:
        user = self._path_user(request)
        if isinstance(user, Response):
            return user
        if request.query_params.get("type") != "zak":
            return JSONResponse({"code": 300, "message": "only type=zak is faked"}, status_code=400)
        return JSONResponse({"token": user.zak})

    def _meeting_json(self, meeting: FakeMeeting) -> dict[str, Any]:
        user = self.users[meeting.host_id]
        return {"id": meeting.id, "uuid": f"uuid-{meeting.id}", "host_id": meeting.host_id, "host_email": user.email,
                "topic": meeting.topic, "type": 2, "status": meeting.status, "duration": meeting.duration,
                "timezone": "UTC", "password": meeting.password, "encrypted_password": f"enc.{meeting.password}",
                "join_url": f"https://zoom.example/j/{meeting.id}?pwd=enc.{meeting.password}",
                "start_url": f"https://zoom.example/s/{meeting.id}?zak={user.zak}", "settings": meeting.settings}

    async def _create_meeting(self, request: Request) -> Response:
        user = self._path_user(request)
        if isinstance(user, Response):
            return user
        body = json.loads(await request.body() or b"{}")
        password = str(body.get("password", ""))
        if len(password) > 10:
            return JSONResponse({"code": 300, "message": "Password must be at most 10 characters."}, status_code=400)
        meeting = FakeMeeting(id=next(self._ids), host_id=user.id, topic=str(body.get("topic", "")),
                              password=password, settings=dict(body.get("settings", {})),
                              duration=int(body.get("duration", 60)))
        self.meetings[meeting.id] = meeting
        return JSONResponse(self._meeting_json(meeting), status_code=201)

    def _live_meeting(self, meeting_id: int) -> FakeMeeting | Response:
        meeting = self.meetings.get(meeting_id)
        if meeting is None or meeting.deleted:
            return JSONResponse({"code": 3001, "message": f"Meeting does not exist: {meeting_id}."}, status_code=404)
        return meeting

    async def _meeting(self, request: Request) -> Response:
        meeting = self._path_meeting(request)
        if isinstance(meeting, Response):
            return meeting
        if request.method == "GET":
            return JSONResponse(self._meeting_json(meeting))
        meeting.deleted = True
        return Response(status_code=204)

    async def _status(self, request: Request) -> Response:
        meeting = self._path_meeting(request)
        if isinstance(meeting, Response):
            return meeting
        if json.loads(await request.body() or b"{}").get("action") != "end":
            return JSONResponse({"code": 300, "message": "only action=end is faked"}, status_code=400)
        meeting.status = "ended"
        return Response(status_code=204)

    # -- lifecycle ----------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The OAuth base; the REST base is ``api_url``."""
        return f"http://127.0.0.1:{self._background.port}"

    @property
    def api_url(self) -> str:
        return f"{self.url}/v2"

    def start_server(self) -> FakeZoom:
        self._background.start()
        return self

    def stop(self) -> None:
        self._background.stop()

    def __enter__(self) -> FakeZoom:
        return self.start_server()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
