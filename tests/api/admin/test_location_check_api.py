"""The public location check ``GET /api/v1/location/check``: authenticated with admin API tokens, answers which
of the caller's institution's visible profiles, locations, rooms and seats an address falls into."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from sebframe.api.location_check import LocationCheckOut
from tests.api.admin.helpers import World, error_of

pytestmark = pytest.mark.anyio

CHECK = "/api/v1/location/check"


async def _check(api_world: World, username: str | None, **params: str) -> httpx.Response:
    headers = {"Authorization": f"Bearer {api_world.tokens[username]}"} if username else {}
    return await api_world.client.get(CHECK, params=params, headers=headers)


async def _ok(api_world: World, username: str, address: str) -> dict[str, Any]:
    response = await _check(api_world, username, address=address)
    assert response.status_code == 200, response.text
    LocationCheckOut.model_validate(response.json())
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture
async def profiles(api_world: World) -> dict[str, int]:
    admin = api_world.api("a-admin")
    center = await admin.ok("POST", "/locations", 201, json={"name": "Testing Center"})
    room_a = await admin.ok("POST", "/location-profiles", 201, json={
        "name": "Room A", "location_id": center["id"], "default_room": "A",
        "rules": "ALLOW 10.1.0.0/24\nBLOCK 10.1.0.66 room=A101 seat=66\nALLOW 2001:db8:1::/48 room=A-v6"})
    wide = await admin.ok("POST", "/location-profiles", 201, json={"name": "Campus", "rules": "ALLOW 10.0.0.0/8"})
    old = await admin.ok("POST", "/location-profiles", 201, json={"name": "Old Room", "rules": "ALLOW 10.1.0.0/16"})
    await admin.ok("POST", f"/location-profiles/{old['id']}/hide")
    theirs = await api_world.api("b-admin").ok("POST", "/location-profiles", 201, json={
        "name": "UZH Lab", "rules": "ALLOW 10.1.0.0/24"})
    return {"center": center["id"], "room_a": room_a["id"], "wide": wide["id"], "old": old["id"],
            "theirs": theirs["id"]}


async def test_matches_of_an_address(api_world: World, profiles: dict[str, int]) -> None:
    body = await _ok(api_world, "a-supporter", "10.1.0.5")
    assert (body["address"], body["family"]) == ("10.1.0.5", 4)
    assert body["matches"] == [
        {"profile_id": profiles["wide"], "profile": "Campus", "location_id": None, "location": "", "action": "ALLOW",
         "rule": "1:ALLOW 10.0.0.0/8", "room": "", "seat": ""},
        {"profile_id": profiles["room_a"], "profile": "Room A", "location_id": profiles["center"],
         "location": "Testing Center", "action": "ALLOW", "rule": "1:ALLOW 10.1.0.0/24", "room": "A", "seat": ""}]
    assert body["allowed_by"] == ["Campus", "Room A"]  # the hidden profile and the other institution's are left out

    seat = await _ok(api_world, "a-supporter", "10.1.0.66")  # the most specific rule of each profile decides
    assert [(item["profile"], item["action"], item["rule"], item["room"], item["seat"]) for item in
            seat["matches"]] == [("Campus", "ALLOW", "1:ALLOW 10.0.0.0/8", "", ""),
                                 ("Room A", "BLOCK", "2:BLOCK 10.1.0.66", "A101", "66")]
    assert seat["allowed_by"] == ["Campus"]

    mapped = await _ok(api_world, "a-admin", "::ffff:10.1.0.5")  # IPv4-mapped IPv6 is the IPv4 address
    assert (mapped["address"], mapped["family"], mapped["allowed_by"]) == ("10.1.0.5", 4, ["Campus", "Room A"])
    v6 = await _ok(api_world, "a-examadmin", "2001:DB8:1::7")
    assert (v6["address"], v6["family"]) == ("2001:db8:1::7", 6)
    assert [(item["profile"], item["room"]) for item in v6["matches"]] == [("Room A", "A-v6")]
    outside = await _ok(api_world, "a-admin", "198.51.100.7")
    assert (outside["matches"], outside["allowed_by"]) == ([], [])

    theirs = await _ok(api_world, "b-admin", "10.1.0.5")  # each institution sees its own profiles
    assert [(item["profile_id"], item["profile"]) for item in theirs["matches"]] == [(profiles["theirs"], "UZH Lab")]

    await api_world.api("a-admin").ok("POST", f"/location-profiles/{profiles['old']}/unhide")
    unhidden = await _ok(api_world, "a-admin", "10.1.0.5")
    assert unhidden["allowed_by"] == ["Campus", "Old Room", "Room A"]


async def test_authentication_is_required(api_world: World, profiles: dict[str, int]) -> None:
    for headers in ({}, {"Authorization": "Bearer sbf_not-a-token"}, {"Authorization": "Basic YTpi"}):
        response = await api_world.client.get(CHECK, params={"address": "10.1.0.5"}, headers=headers)
        assert error_of(response, 401)["error"] == "unauthorized"
        assert "matches" not in response.text


@pytest.mark.parametrize("params", [{}, {"address": ""}, {"address": "10.0.0.01"}, {"address": "lab.example.edu"},
                                    {"address": "10.0.0.0/8"}, {"address": "1.2.3.4:80"}, {"address": "10.1.0.5 x"}])
async def test_a_missing_or_invalid_address_is_refused(api_world: World, params: dict[str, str]) -> None:
    body = error_of(await _check(api_world, "a-admin", **params), 422)
    assert "IPv4 or IPv6 address" in body["field_errors"]["address"]


async def test_unknown_parameters_and_methods(api_world: World) -> None:
    error_of(await _check(api_world, "a-admin", address="10.1.0.5", profile="1"), 422)
    headers = {"Authorization": f"Bearer {api_world.tokens['a-admin']}"}
    assert (await api_world.client.post(CHECK, params={"address": "10.1.0.5"}, headers=headers)).status_code == 405
    error_of(await api_world.client.get("/api/v1/location/nothing", headers=headers), 404)
    error_of(await api_world.client.get("/api/v1/location/%0Acheck", headers=headers), 404)  # a newline: still JSON


async def test_openapi_document(api_world: World) -> None:
    response = await api_world.client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["servers"] == [{"url": "/api/v1"}]
    operation = document["paths"]["/location/check"]["get"]
    assert operation["security"] == [{"bearer": []}] and operation["tags"] == ["locations"]
    assert [param["name"] for param in operation["parameters"]] == ["address"]
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/LocationCheckOut"}
    assert set(document["components"]["schemas"]["LocationCheckOut"]["properties"]) == {
        "address", "family", "matches", "allowed_by"}
