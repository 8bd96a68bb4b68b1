"""Helpers for the admin API tests: a bearer-token client, a two-institution world, test images."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

from sebframe.core.accounts.roles import Role
from sebframe.core.db.models import Institution, UserAccount
from tests.conftest import Factory

BASE = "/admin-api/v1"


@dataclass
class Api:
    """An HTTP client that sends one user's token to ``/admin-api/v1``."""

    client: httpx.AsyncClient
    token: str | None

    def _headers(self, extra: dict[str, str] | None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return {**headers, **(extra or {})}

    async def request(self, method: str, path: str, *, headers: dict[str, str] | None = None,
                      **kwargs: Any) -> httpx.Response:
        return await self.client.request(method, BASE + path, headers=self._headers(headers), **kwargs)

    async def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.request("GET", path, **kwargs)

    async def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.request("POST", path, **kwargs)

    async def put(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.request("PUT", path, **kwargs)

    async def patch(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.request("PATCH", path, **kwargs)

    async def delete(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.request("DELETE", path, **kwargs)

    async def ok(self, method: str, path: str, status: int = 200, **kwargs: Any) -> Any:
        response = await self.request(method, path, **kwargs)
        assert response.status_code == status, (method, path, response.status_code, response.text)
        return response.json()


@dataclass
class World:
    """Institution A (ETH) and B (UZH); a SEB Server admin and one user per role in A, an admin in B."""

    factory: Factory
    client: httpx.AsyncClient
    a: Institution
    b: Institution
    users: dict[str, UserAccount] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)

    async def user(self, institution: Institution, username: str, *roles: Role, active: bool = True,
                   token: bool = True) -> UserAccount:
        user = await self.factory.user(institution, username, *roles, active=active)
        self.users[username] = user
        if token and active:
            self.tokens[username] = await self.factory.token(username)
        return user

    def api(self, username: str | None) -> Api:
        return Api(self.client, self.tokens[username] if username else None)


ROLE_USERS = {
    Role.SEB_SERVER_ADMIN: "root",
    Role.INSTITUTIONAL_ADMIN: "a-admin",
    Role.EXAM_ADMIN: "a-examadmin",
    Role.EXAM_SUPPORTER: "a-supporter",
}


def error_of(response: httpx.Response, status: int) -> dict[str, Any]:
    """Assert a JSON error body with that status; returns it."""
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/json"), response.headers
    body = response.json()
    assert isinstance(body.get("error"), str) and body["error"], body
    assert isinstance(body.get("message"), str) and body["message"], body
    return body


# A valid 1x1 PNG and a minimal JPEG (start and end markers are what the server checks).
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4"
       b"\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 32 + b"\xff\xd9"
