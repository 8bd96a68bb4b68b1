"""A SEB client for tests: the Windows client's requests, byte for byte where it matters (unencoded form
values, PUT without body or content type, one log event per request), against any httpx client."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from sebframe.core.bootstrap import ensure_initial_data
from sebframe.core.demo import ensure_demo_exam
from sebframe.core.sebconfig import decode_seb
from sebframe.core.services import Services

WINDOWS_OS = "Windows 10, Microsoft Windows NT 10.0.19045.0 (x64)"
WINDOWS_VERSION = "3.8.0 (x64)"
FORM = "application/x-www-form-urlencoded"


@dataclass(frozen=True)
class SebWorld:
    """A running exam with a published configuration and an active connection configuration."""

    institution_id: int
    exam_id: int
    client_id: str
    client_secret: str
    connection_config_name: str


async def build_seb_world(services: Services, data_dir: Path) -> SebWorld:
    await ensure_initial_data(services.db, data_dir)
    demo = await ensure_demo_exam(services, server_url="http://testserver", out=data_dir / "demo.seb")
    settings = decode_seb(demo.connection_file.read_bytes()).settings
    server = settings["sebServerConfiguration"]
    await services.sessions.runtime.refresh_running_exams()
    return SebWorld(int(server["institution"]), demo.exam_id, server["clientName"], server["clientSecret"],
                    demo.connection_config_name)


class SebClient:
    def __init__(self, http: httpx.AsyncClient, world: SebWorld, *, name: str = "student") -> None:
        self.http = http
        self.world = world
        self.name = name
        self.access_token: str | None = None
        self.connection_token: str | None = None
        self.ping_number = 0
        self.confirm: str | None = None

    def _bearer(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}", "Accept": "application/json, */*"}

    def _headers(self, form: bool = True) -> dict[str, str]:
        headers = self._bearer()
        if self.connection_token is not None:
            headers["SEBConnectionToken"] = self.connection_token
        if form:
            headers["Content-Type"] = FORM
        return headers

    async def discovery(self) -> dict[str, Any]:
        response = await self.http.get("/exam-api/discovery")
        assert response.status_code == 200, response.text
        return response.json()

    async def fetch_token(self, secret: str | None = None) -> httpx.Response:
        raw = f"{self.world.client_id}:{secret if secret is not None else self.world.client_secret}"
        response = await self.http.post(
            "/oauth/token", content=b"grant_type=client_credentials&scope=read write",
            headers={"Authorization": "Basic " + base64.b64encode(raw.encode()).decode(),
                     "Content-Type": FORM, "Accept": "application/json, */*"})
        if response.status_code == 200:
            self.access_token = response.json()["access_token"]
        return response

    async def create(self, *, institution: int | None = None, exam_id: int | None = None) -> httpx.Response:
        body = (f"institutionId={institution if institution is not None else self.world.institution_id}"
                f"&client_id={self.name}&seb_machine_name=PC-{self.name}&seb_os_name={WINDOWS_OS}"
                f"&seb_version={WINDOWS_VERSION}")
        if exam_id is not None:
            body += f"&examId={exam_id}"
        response = await self.http.post("/exam-api/v1/handshake", content=body.encode(), headers=self._headers())
        if response.status_code == 200:
            self.connection_token = response.headers["SEBConnectionToken"]
        return response

    async def exam_config(self, exam_id: int | None = None) -> httpx.Response:
        query = f"?examId={exam_id}" if exam_id is not None else ""
        return await self.http.get(f"/exam-api/v1/examconfig{query}", headers=self._headers(form=False))

    async def select_exam(self, exam_id: int, user: str | None = None) -> httpx.Response:
        body = f"examId={exam_id}" + (f"&seb_user_session_id={user}" if user else "")
        return await self.http.patch("/exam-api/v1/handshake", content=body.encode(), headers=self._headers())

    async def establish(self, body: str | None = None) -> httpx.Response:
        if body is None:  # the Windows client without an app signature key: no body, no content type
            return await self.http.put("/exam-api/v1/handshake", headers=self._headers(form=False))
        return await self.http.put("/exam-api/v1/handshake", content=body.encode(), headers=self._headers())

    async def ping(self) -> httpx.Response:
        self.ping_number += 1
        body = f"timestamp=1700000000000&ping-number={self.ping_number}"
        if self.confirm is not None:
            body += f"&instruction-confirm={self.confirm}"
            self.confirm = None
        response = await self.http.post("/exam-api/v1/sebping", content=body.encode(), headers=self._headers())
        if response.status_code == 200:
            attributes = response.json().get("attributes") or {}
            self.confirm = attributes.get("instruction-confirm")
        return response

    async def log(self, event: dict[str, Any]) -> httpx.Response:
        # Newtonsoft's JObject.ToString(): indented, CRLF line ends.
        body = json.dumps(event, indent=2).replace("\n", "\r\n").encode()
        headers = self._headers(form=False) | {"Content-Type": "application/json; charset=UTF-8"}
        return await self.http.post("/exam-api/v1/seblog", content=body, headers=headers)

    async def close(self) -> httpx.Response:
        return await self.http.request("DELETE", "/exam-api/v1/handshake", content=b"delete=true",
                                       headers=self._headers())

    async def connect(self, user: str | None = None) -> None:
        """The whole handshake as the Windows client runs it: token, POST, examconfig, PATCH, PUT."""
        assert (await self.fetch_token()).status_code == 200
        created = await self.create()
        assert created.status_code == 200, created.text
        exam_id = int(created.json()[0]["examId"])
        assert (await self.exam_config(exam_id)).status_code == 200
        assert (await self.select_exam(exam_id)).status_code == 200
        assert (await self.establish()).status_code == 200
        if user is not None:
            assert (await self.select_exam(exam_id, user)).status_code == 200
