"""An exam's location restriction through the admin API, with real SEB clients of the running demo exam: the
policy and hidden profiles (E10), suspension, planned exceptions, the blocked lane fed by a refused
handshake, idempotent overrides and revocation, the preview, the audit log and its export, who may do what."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from sebframe.api.admin.endpoints.exam_location import (
    ExceptionOut,
    OverrideOut,
    PlacementListOut,
    PolicyOut,
)
from sebframe.api.admin.endpoints.location_audit import AuditRecordOut
from sebframe.api.admin.endpoints.location_profiles import PreviewOut
from sebframe.core.accounts.roles import Role
from sebframe.core.bootstrap import DEMO_INSTITUTION
from sebframe.core.db.models import Institution
from sebframe.core.location.audit_log import CSV_COLUMNS
from sebframe.core.services import Services
from tests.api.admin.helpers import Api, error_of
from tests.conftest import Factory
from tests.seb_client import SebClient, SebWorld, build_seb_world

pytestmark = pytest.mark.anyio

EXAM_ADMIN = "demo-exam-admin"
SUPPORTER = "demo-supporter"  # assigned to the demo exam
ROOM_A = 'ALLOW 10.1.0.0/24 room="Room A"\nBLOCK 10.1.0.66 room="Room A" seat=66'
INSIDE = "10.1.0.5"
OUTSIDE = "198.51.100.7"


@dataclass
class Setting:
    services: Services
    factory: Factory
    app: Any
    client: httpx.AsyncClient
    seb: SebWorld
    tokens: dict[str, str]

    @property
    def exam_id(self) -> int:
        return self.seb.exam_id

    @property
    def base(self) -> str:
        return f"/exams/{self.seb.exam_id}/location"

    def api(self, username: str) -> Api:
        return Api(self.client, self.tokens[username])

    async def add_user(self, institution: Institution, username: str, role: Role) -> Api:
        await self.factory.user(institution, username, role)
        self.tokens[username] = await self.factory.token(username)
        return self.api(username)

    @asynccontextmanager
    async def from_address(self, address: str) -> AsyncIterator[httpx.AsyncClient]:
        """An HTTP client whose requests come from ``address`` (the socket peer the server sees)."""
        transport = httpx.ASGITransport(app=self.app, client=(address, 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http

    async def restrict(self, rules: str = ROOM_A, name: str = "Room A", **policy: Any) -> dict[str, Any]:
        admin = self.api(EXAM_ADMIN)
        profile = await admin.ok("POST", "/location-profiles", 201, json={
            "name": name, "rules": rules, "help_text": "Take a seat in room A."})
        await admin.ok("PUT", self.base, json={"profile_ids": [profile["id"]], **policy})
        await self.services.locations.gate.restriction(self.exam_id)  # warm, as a running server would be
        return profile

    async def second_exam(self) -> int:
        """Another exam of the demo institution, supervised by another supporter."""
        admin = self.api(EXAM_ADMIN)
        setups = await admin.ok("GET", "/lms-setups")
        other = await self.factory.user(await _demo_institution(self.services), "other-supporter",
                                        Role.EXAM_SUPPORTER)
        exam = await admin.ok("POST", "/exams", 201, json={"lms_setup_id": setups["items"][0]["id"],
                                                           "quiz_id": "quiz4", "supporter_ids": [other.id]})
        return int(exam["id"])


@pytest.fixture
async def setting(services: Services, factory: Factory, app: Any, client: httpx.AsyncClient,
                  tmp_path: Path) -> Setting:
    seb = await build_seb_world(services, tmp_path / "seb")
    tokens = {name: await factory.token(name) for name in (EXAM_ADMIN, SUPPORTER, "demo-institution-admin")}
    return Setting(services, factory, app, client, seb, tokens)


async def _demo_institution(services: Services) -> Institution:
    async with services.db.read() as session:
        return (await session.execute(select(Institution).where(Institution.name == DEMO_INSTITUTION))).scalar_one()


async def _blocked_client(setting: Setting, http: httpx.AsyncClient, name: str = "outside") -> tuple[SebClient, str]:
    """A SEB client refused at the handshake step that binds the exam; returns it and its approval code."""
    seb = SebClient(http, setting.seb, name=name)
    assert (await seb.fetch_token()).status_code == 200
    created = await seb.create()
    assert created.status_code == 200 and [item["examId"] for item in created.json()] == [str(setting.exam_id)]
    refused = await seb.exam_config(setting.exam_id)
    assert refused.status_code == 403, refused.text
    body = refused.json()
    assert (body["error"], body["message"]) == ("location_not_allowed", "Take a seat in room A.")
    assert len(body["approval_code"]) == 6
    return seb, body["approval_code"]


async def _connected(http: httpx.AsyncClient, seb_world: SebWorld, name: str, user: str) -> SebClient:
    seb = SebClient(http, seb_world, name=name)
    await seb.connect(user=user)
    return seb


# -- the policy ------------------------------------------------------------------------------------


async def test_policy_round_trip(setting: Setting) -> None:
    admin = setting.api(EXAM_ADMIN)
    empty = PolicyOut.model_validate(await admin.ok("GET", setting.base))
    assert (empty.restricted, empty.mode, empty.profiles, empty.exceptions) == (False, "ENFORCE", [], [])
    a = await admin.ok("POST", "/location-profiles", 201, json={"name": "Room A", "rules": "ALLOW 10.1.0.0/24"})
    b = await admin.ok("POST", "/location-profiles", 201, json={"name": "Room B", "rules": "ALLOW 10.2.0.0/24"})
    policy = PolicyOut.model_validate(await admin.ok("PUT", setting.base, json={
        "profile_ids": [b["id"], a["id"], b["id"]], "mode": "LOG_ONLY", "hide_when_outside": True,
        "on_violation": "QUIT"}))
    assert [(profile.name, profile.version) for profile in policy.profiles] == [("Room A", 1), ("Room B", 1)]
    assert (policy.restricted, policy.mode, policy.hide_when_outside, policy.on_violation) == (
        True, "LOG_ONLY", True, "QUIT")
    assert await admin.ok("GET", setting.base) == policy.model_dump(mode="json")
    assert (await admin.ok("GET", f"/location-profiles/{a['id']}"))["exam_ids"] == [setting.exam_id]
    error_of(await admin.put(setting.base, json={"profile_ids": [a["id"]], "mode": "STRICT"}), 422)
    error_of(await admin.put(setting.base, json={"profile_ids": [999999]}), 422)
    cleared = await admin.ok("PUT", setting.base, json={"profile_ids": []})
    assert (cleared["restricted"], cleared["mode"], cleared["profiles"]) == (False, "ENFORCE", [])


async def test_hidden_profile_stays_on_its_exam_but_is_not_attachable(setting: Setting) -> None:
    """Reference E10: hiding never silently removes protection; a new exam cannot get the hidden profile."""
    admin = setting.api(EXAM_ADMIN)
    profile = await setting.restrict()
    spare = await admin.ok("POST", "/location-profiles", 201, json={"name": "Spare", "rules": "ALLOW 10.9.0.0/24"})
    await admin.ok("POST", f"/location-profiles/{profile['id']}/hide")
    kept = await admin.ok("PUT", setting.base, json={"profile_ids": [profile["id"], spare["id"]]})
    assert [(item["name"], item["hidden"]) for item in kept["profiles"]] == [("Room A", True), ("Spare", False)]
    assert kept["restricted"] is True

    other_exam = await setting.second_exam()
    body = error_of(await admin.put(f"/exams/{other_exam}/location", json={"profile_ids": [profile["id"]]}), 422)
    assert "unavailable" in body["field_errors"]["profile_ids"]
    assert (await admin.ok("GET", f"/exams/{other_exam}/location"))["profiles"] == []
    # The exam that has it is still checked with it: a client outside is refused.
    async with setting.from_address(OUTSIDE) as http:
        await _blocked_client(setting, http)
    # Dropping it from the exam makes it unavailable there too.
    await admin.ok("PUT", setting.base, json={"profile_ids": [spare["id"]]})
    error_of(await admin.put(setting.base, json={"profile_ids": [profile["id"]]}), 422)


async def test_suspend_and_resume(setting: Setting) -> None:
    await setting.restrict()
    supporter = setting.api(SUPPORTER)  # whoever supervises the exam may pull the emergency switch
    error_of(await supporter.post(f"{setting.base}/suspend", json={"reason": ""}), 422)
    error_of(await supporter.post(f"{setting.base}/suspend", json={}), 422)
    suspended = await supporter.ok("POST", f"{setting.base}/suspend", json={"reason": "network down"})
    assert (suspended["suspended"], suspended["restricted"], suspended["suspend_reason"],
            suspended["suspended_by"]) == (True, False, "network down", SUPPORTER)
    assert suspended["suspended_at"] is not None
    async with setting.from_address(OUTSIDE) as http:  # not checked while suspended
        await _connected(http, setting.seb, "outside", "alice")
    resumed = await supporter.ok("POST", f"{setting.base}/resume", json={"reason": "network back"})
    assert (resumed["suspended"], resumed["restricted"], resumed["suspend_reason"]) == (False, True, "")
    audit = await setting.api(EXAM_ADMIN).ok("GET", "/location-audit", params={
        "exam_id": str(setting.exam_id), "code": "1030", "sort": "time"})
    assert [item["fields"]["msg"] for item in audit["items"]] == [
        "location restriction suspended: network down", "location restriction resumed: network back"]
    assert [item["fields"]["proctor_id"] for item in audit["items"]] == [SUPPORTER, SUPPORTER]


# -- planned exceptions ----------------------------------------------------------------------------


async def test_exceptions_crud_and_validation(setting: Setting) -> None:
    admin = setting.api(EXAM_ADMIN)
    substitute = await admin.ok("POST", "/location-profiles", 201, json={"name": "Accessibility room",
                                                                         "rules": "ALLOW 10.9.0.0/24"})
    path = f"{setting.base}/exceptions"
    created = ExceptionOut.model_validate(await admin.ok("POST", path, 201, json={
        "name": "alice", "reason": "remote", "valid_from": "2026-01-05T08:00:00Z",
        "valid_to": "2026-01-05T12:00:00+02:00"}))
    assert (created.kind, created.name, created.members, created.substitute_profile_id, created.created_by) == (
        "USER", "alice", [], None, EXAM_ADMIN)
    assert created.valid_to is not None and created.valid_to.isoformat() == "2026-01-05T10:00:00+00:00"
    one = await admin.ok("GET", f"{path}/{created.id}")
    assert one == created.model_dump(mode="json")

    group = await admin.ok("PUT", f"{path}/{created.id}", json={
        "kind": "GROUP", "name": "Accessibility", "members": "bob\ncarol, bob", "substitute_profile_id":
        substitute["id"]})
    assert (group["kind"], group["members"], group["substitute_profile_id"], group["valid_from"]) == (
        "GROUP", ["bob", "carol"], substitute["id"], None)
    listed = await admin.ok("GET", path)
    assert [item["id"] for item in listed["items"]] == [created.id]
    assert (await admin.ok("GET", setting.base))["exceptions"] == listed["items"]

    refusals = [
        ({"kind": "GROUP", "name": "Nobody"}, "members"),
        ({"name": "x", "valid_from": "2026-01-05T10:00:00Z", "valid_to": "2026-01-05T09:00:00Z"}, "valid_to"),
        ({"name": "x", "valid_from": "2026-01-05T10:00:00"}, "valid_from"),  # no time zone
        ({"name": "x", "valid_to": "tomorrow"}, "valid_to"),
        ({"name": "x", "valid_to": 5}, "valid_to"),
        ({"name": "x", "substitute_profile_id": 999999}, "substitute_profile_id"),
        ({"name": "x", "substitute_profile_id": "5"}, "substitute_profile_id"),
        ({"name": ""}, "name"),
        ({"name": "x", "kind": "TEAM"}, "kind"),
        ({"name": "x", "until": "later"}, "until"),
    ]
    for body, field in refusals:
        assert field in error_of(await admin.post(path, json=body), 422)["field_errors"], body
    error_of(await admin.post(path, json=["alice"]), 422)
    await admin.ok("POST", f"/location-profiles/{substitute['id']}/hide")
    hidden = error_of(await admin.post(path, json={"name": "dave", "substitute_profile_id": substitute["id"]}), 422)
    assert "unavailable" in hidden["field_errors"]["substitute_profile_id"]
    # The exception that already has the hidden substitute keeps it through a change.
    assert (await admin.ok("PUT", f"{path}/{created.id}", json={
        "kind": "GROUP", "name": "Accessibility", "members": ["bob"], "substitute_profile_id": substitute["id"]})
            )["members"] == ["bob"]

    supporter = setting.api(SUPPORTER)  # supporters read exceptions, exam administrators write them
    assert len((await supporter.ok("GET", path))["items"]) == 1
    error_of(await supporter.post(path, json={"name": "mallory"}), 403)
    error_of(await supporter.delete(f"{path}/{created.id}"), 403)
    error_of(await admin.get(f"{path}/999999"), 404)

    assert (await admin.delete(f"{path}/{created.id}")).status_code == 204
    error_of(await admin.get(f"{path}/{created.id}"), 404)
    error_of(await admin.delete(f"{path}/{created.id}"), 404)
    assert (await admin.ok("GET", path))["items"] == []


async def test_an_exception_admits_its_user_from_anywhere(setting: Setting) -> None:
    await setting.restrict()
    await setting.api(EXAM_ADMIN).ok("POST", f"{setting.base}/exceptions", 201, json={"name": "alice"})
    async with setting.from_address(OUTSIDE) as http:
        seb = SebClient(http, setting.seb, name="alice-home")
        assert (await seb.fetch_token()).status_code == 200
        assert (await seb.create()).status_code == 200
        assert (await seb.select_exam(setting.exam_id, "alice")).status_code == 200
        assert (await seb.exam_config()).status_code == 200
        assert (await seb.establish()).status_code == 200
        bob = SebClient(http, setting.seb, name="bob-home")
        assert (await bob.fetch_token()).status_code == 200
        assert (await bob.create()).status_code == 200
        assert (await bob.select_exam(setting.exam_id, "bob")).status_code == 403
    placed = (await setting.api(SUPPORTER).ok("GET", f"{setting.base}/placements"))["items"]
    assert sorted((item["machine"], item["user"], item["status"], item["reason"]) for item in placed) == [
        ("PC-alice-home", "alice", "EXCEPTION", "EXCEPTION"), ("PC-bob-home", "bob-home", "BLOCKED", "NO_MATCH")]


# -- the blocked lane, overrides, the audit log ----------------------------------------------------


async def test_blocked_lane_override_revoke_and_audit(setting: Setting) -> None:
    await setting.restrict()
    supporter = setting.api(SUPPORTER)
    async with setting.from_address(INSIDE) as inside:
        alice = await _connected(inside, setting.seb, "alice", "alice")
    async with setting.from_address(OUTSIDE) as http:
        outside, code = await _blocked_client(setting, http)

        lane = PlacementListOut.model_validate(await supporter.ok("GET", f"{setting.base}/blocked"))
        assert [(item.status, item.reason, item.address, item.machine, item.approval_code)
                for item in lane.items] == [("BLOCKED", "NO_MATCH", OUTSIDE, "PC-outside", code)]
        blocked_id = lane.items[0].connection_id
        by_code = await supporter.ok("GET", f"{setting.base}/blocked", params={"code": code.lower()})
        assert [item["connection_id"] for item in by_code["items"]] == [blocked_id]
        assert (await supporter.ok("GET", f"{setting.base}/blocked", params={"code": "ZZZZZZ"}))["items"] == []
        error_of(await supporter.get(f"{setting.base}/blocked", params={"token": "x"}), 422)
        placements = (await supporter.ok("GET", f"{setting.base}/placements"))["items"]
        assert sorted((item["address"], item["status"], item["room"]) for item in placements) == [
            (INSIDE, "ALLOWED", "Room A"), (OUTSIDE, "BLOCKED", "")]
        tokens = [alice.connection_token, outside.connection_token]
        assert not any(token and token in json.dumps(placements) for token in tokens)

        # Two proctors approve at the same moment: one override, one code 38.
        grant = {"connection_id": blocked_id, "reason": "network of the library", "scope": "CONNECTION"}
        first, second = await asyncio.gather(
            supporter.ok("POST", f"{setting.base}/overrides", 201, json=grant),
            setting.api(EXAM_ADMIN).ok("POST", f"{setting.base}/overrides", 201, json=grant))
        assert first["id"] == second["id"]
        again = OverrideOut.model_validate(await supporter.ok("POST", f"{setting.base}/overrides", 201, json=grant))
        assert (again.id, again.scope, again.address, again.active, again.created_by in (SUPPORTER, EXAM_ADMIN)) == (
            first["id"], "CONNECTION", OUTSIDE, True, True)
        assert len((await supporter.ok("GET", f"{setting.base}/overrides"))["items"]) == 1
        overridden = await supporter.ok("GET", "/location-audit", params={"exam_id": str(setting.exam_id),
                                                                           "code": "38"})
        assert overridden["total"] == 1
        assert overridden["items"][0]["fields"]["override_id"] == str(first["id"])
        assert overridden["items"][0]["fields"]["msg"].endswith("network of the library")

        # The student retries: admitted now, and the lane is empty.
        assert (await outside.exam_config(setting.exam_id)).status_code == 200
        assert (await outside.select_exam(setting.exam_id, "bob")).status_code == 200
        assert (await outside.establish()).status_code == 200
        assert (await supporter.ok("GET", f"{setting.base}/blocked"))["items"] == []

        revoked = OverrideOut.model_validate(await supporter.ok(
            "POST", f"{setting.base}/overrides/{first['id']}/revoke", json={"reason": "seat found"}))
        assert (revoked.active, revoked.revoked_by, revoked.revoke_reason) == (False, SUPPORTER, "seat found")
        assert revoked.revoked_at is not None
        # Revoking re-checks the connection at once: outside again, a violation (code 37) in the lane.
        lane = (await supporter.ok("GET", f"{setting.base}/blocked"))["items"]
        assert [(item["connection_id"], item["status"]) for item in lane] == [(blocked_id, "VIOLATION")]
        again_revoked = await supporter.ok("POST", f"{setting.base}/overrides/{first['id']}/revoke", json={})
        assert again_revoked["revoked_at"] == revoked.model_dump(mode="json")["revoked_at"]
        error_of(await supporter.post(f"{setting.base}/overrides/999999/revoke", json={}), 404)

    codes = await supporter.ok("GET", "/location-audit", params={"exam_id": str(setting.exam_id), "sort": "time",
                                                                  "size": "100"})
    records = [AuditRecordOut.model_validate(item) for item in codes["items"]]
    # alice allowed; the outside client blocked, overridden, admitted (its first allowed decision), revoked,
    # and at once outside again
    assert [record.code for record in records] == [1001, 36, 38, 1001, 1005, 37]
    assert records[3].fields["reason"] == "OVERRIDE" and records[3].fields["override_id"] == str(first["id"])
    assert records[1].fields["src_ip"] == OUTSIDE and records[1].fields["act"] == "blocked"
    assert records[1].fields["session_id"] == str(blocked_id) and records[1].connection_id == blocked_id
    assert records[0].fields["room"] == "Room A" and records[0].outcome == "success"
    assert records[1].name == "location start blocked" and records[1].outcome == "failure"
    one = await supporter.ok("GET", f"/location-audit/{records[1].id}")
    assert one == records[1].model_dump(mode="json")
    failures = await supporter.ok("GET", "/location-audit", params={"outcome": "failure", "address": "198.51"})
    assert [item["code"] for item in failures["items"]] == [37, 36]

    # The export: every record, oldest first, no connection token anywhere.
    admin = setting.api(EXAM_ADMIN)
    log = await admin.get(f"{setting.base}/audit.log")
    assert log.status_code == 200 and log.headers["content-type"] == "text/plain; charset=utf-8"
    assert log.headers["content-disposition"] == f'attachment; filename="location-audit-exam-{setting.exam_id}.log"'
    lines = log.text.splitlines()
    assert [line for line in lines if "|evt_code=36|" in line] == [records[1].line]
    assert len(lines) == 6 and all(line.startswith("timestamp=") for line in lines)
    jsonl = await admin.get(f"{setting.base}/audit.jsonl")
    assert [json.loads(line)["evt_code"] for line in jsonl.text.splitlines()] == [
        "1001", "36", "38", "1001", "1005", "37"]
    table = await admin.get(f"{setting.base}/audit.csv")
    assert table.headers["content-type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(table.text.removeprefix("\ufeff"))))
    assert tuple(rows[0]) == CSV_COLUMNS and [row[1] for row in rows[1:]] == ["1001", "36", "38", "1001", "1005", "37"]
    for export in (log, jsonl, table):
        assert not any(token and token in export.text for token in tokens)
    error_of(await admin.get(f"{setting.base}/audit.log", params={"fmt": "xml"}), 422)


async def test_override_refusals(setting: Setting) -> None:
    await setting.restrict()
    async with setting.from_address(OUTSIDE) as http:
        await _blocked_client(setting, http)
    supporter = setting.api(SUPPORTER)
    [blocked] = (await supporter.ok("GET", f"{setting.base}/blocked"))["items"]
    path = f"{setting.base}/overrides"
    for body, field in [({"connection_id": blocked["connection_id"], "reason": "  "}, "reason"),
                        ({"connection_id": blocked["connection_id"]}, "reason"),
                        ({"connection_id": blocked["connection_id"], "reason": "x", "scope": "ROOM"}, "scope"),
                        ({"connection_id": blocked["connection_id"], "reason": "x", "expires_at": "2020-01-01T00:00"},
                         "expires_at"),
                        ({"connection_id": blocked["connection_id"], "reason": "x",
                          "expires_at": "2020-01-01T00:00:00Z"}, "expires_at")]:
        assert field in error_of(await supporter.post(path, json=body), 422)["field_errors"], body
    error_of(await supporter.post(path, json={"connection_id": 999999, "reason": "x"}), 404)
    # The user scope needs the user, which a client refused before sending it has not told.
    error_of(await supporter.post(path, json={"connection_id": blocked["connection_id"], "reason": "x",
                                              "scope": "USER"}), 422)
    assert (await supporter.ok("GET", path))["items"] == []
    later = await supporter.ok("POST", path, 201, json={"connection_id": blocked["connection_id"], "reason": "x",
                                                        "scope": "ADDRESS", "expires_at": "2099-01-01T00:00:00Z"})
    assert (later["scope"], later["address"], later["connection_id"]) == ("ADDRESS", OUTSIDE, None)
    assert later["expires_at"] < "2099"  # never beyond the exam's end (12 hours for an exam without one)


async def test_preview_who_would_be_blocked(setting: Setting) -> None:
    profile = await setting.restrict(mode="LOG_ONLY")  # a trial: the client outside gets in, marked
    async with setting.from_address(INSIDE) as inside:
        await _connected(inside, setting.seb, "alice", "alice")
    async with setting.from_address(OUTSIDE) as http:
        await _connected(http, setting.seb, "bob", "bob")
    lane = (await setting.api(SUPPORTER).ok("GET", f"{setting.base}/blocked"))["items"]
    assert [(item["address"], item["status"]) for item in lane] == [(OUTSIDE, "WOULD_BLOCK")]
    admin = setting.api(EXAM_ADMIN)
    path = f"/location-profiles/{profile['id']}/preview"
    preview = PreviewOut.model_validate(await admin.ok("POST", path, json={"rules": "ALLOW 198.51.100.0/24"}))
    assert (preview.summary.connections, preview.summary.blocked, preview.summary.newly_blocked,
            preview.summary.newly_allowed) == (2, 1, 1, 1)
    rows = {row.address: row for row in preview.rows}
    assert (rows[INSIDE].before.allowed, rows[INSIDE].before.room, rows[INSIDE].after.allowed,
            rows[INSIDE].after.reason, rows[INSIDE].changed) == (True, "Room A", False, "NO_MATCH", True)
    assert (rows[OUTSIDE].after.allowed, rows[OUTSIDE].after.rule, rows[OUTSIDE].after.profile_version) == (
        True, "1:ALLOW 198.51.100.0/24", 2)
    saved = await admin.ok("POST", path, json={"exam_id": setting.exam_id})  # the saved rules: nothing changes
    assert saved["summary"] == {"connections": 2, "blocked": 1, "newly_blocked": 0, "newly_allowed": 0}
    bad = error_of(await admin.post(path, json={"rules": "ALLOW 10.0.0.0/33\nBLOCK"}), 422)
    assert [(issue["line"], issue["code"]) for issue in bad["issues"]] == [(1, "E005"), (2, "E002")]
    assert (await admin.ok("GET", f"/location-profiles/{profile['id']}"))["version"] == 1  # preview saves nothing


async def test_reading_a_profile_is_not_reading_who_sits_in_its_rooms(setting: Setting) -> None:
    """A SEB Server administrator reads every institution's profiles, not their exams' connections
    (CLIENT_CONNECTION): its preview of another institution's profile lists nobody."""
    profile = await setting.restrict()
    async with setting.from_address(INSIDE) as inside:
        await _connected(inside, setting.seb, "alice", "alice")
    path = f"/location-profiles/{profile['id']}/preview"
    staff = await setting.api(EXAM_ADMIN).ok("POST", path, json={"rules": "ALLOW 198.51.100.0/24"})
    assert staff["summary"]["connections"] == 1
    operator = await setting.add_user(await setting.factory.institution("Server Operations"), "operator",
                                      Role.SEB_SERVER_ADMIN)
    preview = await operator.ok("POST", path, json={"rules": "ALLOW 198.51.100.0/24"})
    assert (preview["summary"]["connections"], preview["rows"]) == (0, [])
    assert "alice" not in str(preview) and INSIDE not in str(preview)
    refused = error_of(await operator.post(path, json={"exam_id": setting.exam_id}), 403)
    assert "alice" not in refused["message"]


async def test_who_may_see_which_exam(setting: Setting) -> None:
    await setting.restrict()
    other_exam = await setting.second_exam()
    supporter = setting.api(SUPPORTER)  # a supporter of the demo exam only
    for path in (f"/exams/{other_exam}/location", f"/exams/{other_exam}/location/blocked",
                 f"/exams/{other_exam}/location/placements", f"/exams/{other_exam}/location/overrides",
                 f"/exams/{other_exam}/location/exceptions", f"/exams/{other_exam}/location/audit.log"):
        error_of(await supporter.get(path), 404)
    error_of(await supporter.post(f"/exams/{other_exam}/location/suspend", json={"reason": "x"}), 404)
    error_of(await supporter.post(f"/exams/{other_exam}/location/overrides", json={"connection_id": 1,
                                                                                    "reason": "x"}), 404)
    error_of(await supporter.put(setting.base, json={"profile_ids": []}), 403)  # reads, does not configure
    assert (await supporter.ok("GET", setting.base))["restricted"] is True

    stranger = await setting.add_user(await setting.factory.institution("Elsewhere"), "elsewhere-admin",
                                      Role.INSTITUTIONAL_ADMIN)
    for path in (setting.base, f"{setting.base}/blocked", f"{setting.base}/audit.csv"):
        error_of(await stranger.get(path), 404)
    error_of(await stranger.put(setting.base, json={"profile_ids": []}), 404)
    error_of(await stranger.post(f"{setting.base}/exceptions", json={"name": "x"}), 404)
    assert (await stranger.ok("GET", "/location-audit"))["total"] == 0
    # The stranger's own profile cannot be attached to the exam of another institution either.
    theirs = await stranger.ok("POST", "/location-profiles", 201, json={"name": "Theirs", "rules": "ALLOW *"})
    error_of(await setting.api(EXAM_ADMIN).put(setting.base, json={"profile_ids": [theirs["id"]]}), 422)
