"""Locations and IP profiles through the admin API: round trips, parsed canonical rules, versions, rules with
errors refused with every line-numbered issue (nothing saved), the check endpoint, hiding, who may do what."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from sebframe.api.admin.endpoints.location_profiles import CheckOut, ProfileDetailsOut, ProfileOut, VersionDetailsOut
from sebframe.api.admin.endpoints.locations import LocationOut
from sebframe.core.db.models import LocationProfile, LocationProfileVersion
from tests.api.admin.helpers import BASE, Api, World, error_of

pytestmark = pytest.mark.anyio

LAB_RULES = 'ALLOW 192.168.217.1/24 room="Lab 1" seat=17  # pool\nBLOCK 192.168.217.66\n\n# IPv6\nallow 2001:DB8::/32'


async def _profile(api: Api, name: str = "Lab", rules: str = LAB_RULES, **fields: Any) -> dict[str, Any]:
    return await api.ok("POST", "/location-profiles", 201, json={"name": name, "rules": rules, **fields})


async def _profile_rows(api_world: World) -> tuple[int, int]:
    async with api_world.factory.services.db.read() as session:
        profiles = (await session.execute(select(func.count()).select_from(LocationProfile))).scalar_one()
        versions = (await session.execute(select(func.count()).select_from(LocationProfileVersion))).scalar_one()
    return profiles, versions


# -- locations -------------------------------------------------------------------------------------


async def test_location_round_trip(api_world: World) -> None:
    api = api_world.api("a-admin")
    created = await api.ok("POST", "/locations", 201, json={"name": "HG E 19", "description": "computer pool"})
    LocationOut.model_validate(created)
    assert (created["institution_id"], created["name"], created["hidden"]) == (api_world.a.id, "HG E 19", False)
    location_id = created["id"]
    assert await api.ok("GET", f"/locations/{location_id}") == created

    replaced = await api.ok("PUT", f"/locations/{location_id}", json={"name": "HG E 20", "description": "pool 2"})
    assert (replaced["name"], replaced["description"]) == ("HG E 20", "pool 2")
    patched = await api.ok("PATCH", f"/locations/{location_id}", json={"description": "the big pool"})
    assert (patched["name"], patched["description"]) == ("HG E 20", "the big pool")

    await api.ok("POST", "/locations", 201, json={"name": "CAB"})
    listed = await api.ok("GET", "/locations", params={"name": "hg"})
    assert [item["name"] for item in listed["items"]] == ["HG E 20"]
    assert (await api.ok("GET", "/locations"))["total"] == 2

    hidden = await api.ok("POST", f"/locations/{location_id}/hide")
    assert hidden["hidden"] is True
    assert [item["name"] for item in (await api.ok("GET", "/locations"))["items"]] == ["CAB"]
    assert [item["name"] for item in (await api.ok("GET", "/locations", params={"hidden": "true"}))["items"]] == [
        "HG E 20"]
    assert (await api.ok("GET", "/locations", params={"hidden": "all"}))["total"] == 2
    assert (await api.ok("POST", f"/locations/{location_id}/unhide"))["hidden"] is False
    assert (await api.ok("GET", "/locations"))["total"] == 2


async def test_location_refusals(api_world: World) -> None:
    api = api_world.api("a-admin")
    location = await api.ok("POST", "/locations", 201, json={"name": "HG E 19"})
    error_of(await api.post("/locations", json={"name": "hg e 19"}), 409)  # names are unique, any case
    error_of(await api.post("/locations", json={"name": ""}), 422)
    error_of(await api.post("/locations", json={"name": "X", "rooms": 3}), 422)
    error_of(await api.get("/locations", params={"hidden": "maybe"}), 422)
    # Supporters read locations but do not write them; another institution does not see them.
    supporter = api_world.api("a-supporter")
    assert (await supporter.ok("GET", "/locations"))["total"] == 1
    error_of(await supporter.post("/locations", json={"name": "Mine"}), 403)
    error_of(await supporter.put(f"/locations/{location['id']}", json={"name": "Mine"}), 403)
    error_of(await supporter.post(f"/locations/{location['id']}/hide"), 403)
    other = api_world.api("b-admin")
    error_of(await other.get(f"/locations/{location['id']}"), 404)
    error_of(await other.patch(f"/locations/{location['id']}", json={"name": "Mine"}), 404)
    assert (await other.ok("GET", "/locations"))["total"] == 0
    error_of(await api_world.client.get(BASE + "/locations"), 401)


# -- profiles --------------------------------------------------------------------------------------


async def test_profile_round_trip_with_parsed_rules(api_world: World) -> None:
    api = api_world.api("a-examadmin")  # exam offices write profiles
    location = await api.ok("POST", "/locations", 201, json={"name": "HG E 19"})
    created = await _profile(api, help_text="Go to room HG E 19.", default_room="HG", location_id=location["id"])
    details = ProfileDetailsOut.model_validate(created)
    assert (details.name, details.version, details.location_id, details.location, details.hidden) == (
        "Lab", 1, location["id"], "HG E 19", False)
    assert details.rules == LAB_RULES  # as written
    assert [(rule.line, rule.action, rule.spec, rule.size, rule.room, rule.seat, rule.comment)
            for rule in details.parsed_rules] == [
        (1, "ALLOW", "192.168.217.0/24", 256, "Lab 1", "17", "pool"),
        (2, "BLOCK", "192.168.217.66", 1, None, None, None),
        (5, "ALLOW", "2001:db8::/32", 2**96, None, None, None)]
    assert details.parsed_rules[0].text == 'ALLOW 192.168.217.0/24 room="Lab 1" seat=17  # pool'
    assert ("W101", 1, "warning") in [(issue.code, issue.line, issue.severity) for issue in details.issues]
    assert details.exam_ids == []
    assert await api.ok("GET", f"/location-profiles/{details.id}") == created

    listed = await api.ok("GET", "/location-profiles", params={"location": str(location["id"])})
    assert [ProfileOut.model_validate(item).name for item in listed["items"]] == ["Lab"]
    assert "parsed_rules" not in listed["items"][0]
    assert (await api.ok("GET", "/location-profiles", params={"name": "nothing"}))["total"] == 0
    error_of(await api.post("/location-profiles", json={"name": "LAB", "rules": "ALLOW 10.0.0.1"}), 409)
    error_of(await api.post("/location-profiles", json={"name": "X", "rules": "ALLOW 10.0.0.1",
                                                        "location_id": 999999}), 422)


async def test_versions_increment_and_never_change(api_world: World) -> None:
    api = api_world.api("a-admin")
    profile = await _profile(api, rules="ALLOW 10.1.0.0/24")
    path = f"/location-profiles/{profile['id']}"
    body = {"name": "Lab", "rules": "ALLOW 10.1.0.0/24\nBLOCK 10.1.0.66", "help_text": ""}
    assert (await api.ok("PUT", path, json=body))["version"] == 2
    renamed = await api.ok("PUT", path, json={**body, "name": "Lab A", "default_room": "A"})
    assert (renamed["version"], renamed["name"], renamed["default_room"]) == (2, "Lab A", "A")  # no new version
    helped = await api.ok("PUT", path, json={**body, "name": "Lab A", "help_text": "Ask the proctor."})
    assert helped["version"] == 3  # the help text is part of a version

    versions = (await api.ok("GET", f"{path}/versions"))["items"]
    assert [(item["version"], item["rules"], item["help_text"], item["created_by"]) for item in versions] == [
        (3, body["rules"], "Ask the proctor.", "a-admin"), (2, body["rules"], "", "a-admin"),
        (1, "ALLOW 10.1.0.0/24", "", "a-admin")]
    first = VersionDetailsOut.model_validate(await api.ok("GET", f"{path}/versions/1"))
    assert (first.rules, [rule.spec for rule in first.parsed_rules]) == ("ALLOW 10.1.0.0/24", ["10.1.0.0/24"])
    assert (await api.ok("GET", f"{path}/versions/2"))["parsed_rules"][1]["spec"] == "10.1.0.66"
    error_of(await api.get(f"{path}/versions/4"), 404)
    # No endpoint changes or deletes a version or a profile.
    for method in ("PUT", "PATCH", "DELETE"):
        assert (await api.request(method, f"{path}/versions/1", json=body)).status_code == 405
    assert (await api.request("DELETE", path)).status_code == 405
    assert (await api.ok("GET", f"{path}/versions/1"))["rules"] == "ALLOW 10.1.0.0/24"


async def test_rules_with_errors_are_refused_with_every_issue(api_world: World) -> None:
    api = api_world.api("a-admin")
    rules = "\nALLOW 10.0.0.256\nALLOW 10.1.0.0/24\nALLOW 10.1.0.0/24\nDENY 10.2.0.0/16\nALLOW lab.example.edu"
    response = await api.post("/location-profiles", json={"name": "Broken", "rules": rules})
    body = error_of(response, 422)
    assert body["error"] == "validation_failed" and "rules" in body["field_errors"]
    issues = [(issue["line"], issue["code"], issue["severity"]) for issue in body["issues"]]
    # Lines count as written (the leading blank line is line 1); errors and warnings come together.
    assert (2, "E003", "error") in issues and (5, "E001", "error") in issues and (6, "E012", "error") in issues
    assert any(severity == "warning" and line in (3, 4) for line, _, severity in issues)  # the duplicate
    assert all(issue["message"].startswith(f"line {issue['line']}: ") for issue in body["issues"]
               if issue["line"] > 0)
    assert "(write BLOCK)" in next(issue["message"] for issue in body["issues"] if issue["code"] == "E001")
    assert await _profile_rows(api_world) == (0, 0)  # nothing saved

    profile = await _profile(api, rules="ALLOW 10.1.0.0/24")
    bad = await api.put(f"/location-profiles/{profile['id']}", json={"name": "Renamed", "rules": "ALLOW 10.0.0.0/33"})
    assert [issue["code"] for issue in error_of(bad, 422)["issues"]] == ["E005"]
    unchanged = await api.ok("GET", f"/location-profiles/{profile['id']}")
    assert (unchanged["name"], unchanged["version"], unchanged["rules"]) == ("Lab", 1, "ALLOW 10.1.0.0/24")
    assert await _profile_rows(api_world) == (1, 1)


async def test_check_rules_without_saving(api_world: World) -> None:
    api = api_world.api("a-supporter")  # checking is reading: anyone signed in may
    checked = CheckOut.model_validate(await api.ok("POST", "/location-profiles/check", json={
        "rules": "allow   10.0.0.1   # PC 1\r\nALLOW 10.0.*\nBLOCK 10.0.0.0/255.255.255.0\nALLOW ::ffff:10.0.0.0/104"}))
    assert not checked.ok
    assert [(issue.line, issue.code) for issue in checked.issues if issue.severity == "error"] == [
        (2, "E010"), (3, "E006")]
    assert "10.0.0.0/16" in next(issue.message for issue in checked.issues if issue.code == "E010")
    assert [(rule.line, rule.action, rule.spec, rule.size) for rule in checked.rules] == [
        (1, "ALLOW", "10.0.0.1", 1), (4, "ALLOW", "10.0.0.0/8", 2**24)]
    assert checked.canonical == "ALLOW 10.0.0.1  # PC 1\nALLOW 10.0.0.0/8"

    fine = CheckOut.model_validate(await api.ok("POST", "/location-profiles/check", json={
        "rules": "ALLOW 10.1.1.*\nBLOCK *"}))
    assert fine.ok and [rule.size for rule in fine.rules] == [256, 2**32 + 2**128]
    empty = await api.ok("POST", "/location-profiles/check", json={"rules": "# nothing yet"})
    assert empty["ok"] and [issue["code"] for issue in empty["issues"]] == ["W106"]
    error_of(await api.post("/location-profiles/check", json={"rules": 5}), 422)
    error_of(await api.post("/location-profiles/check", json={}), 422)
    assert await _profile_rows(api_world) == (0, 0)


async def test_hide_and_unhide_profiles(api_world: World) -> None:
    api = api_world.api("a-admin")
    profile = await _profile(api)
    hidden = await api.ok("POST", f"/location-profiles/{profile['id']}/hide")
    assert (hidden["hidden"], hidden["version"]) == (True, 1)
    assert (await api.ok("GET", "/location-profiles"))["total"] == 0
    assert [item["id"] for item in (await api.ok("GET", "/location-profiles", params={"hidden": "true"}))[
        "items"]] == [profile["id"]]
    assert (await api.ok("GET", f"/location-profiles/{profile['id']}"))["hidden"] is True  # still readable
    assert (await api.ok("POST", f"/location-profiles/{profile['id']}/unhide"))["hidden"] is False
    assert (await api.ok("GET", "/location-profiles"))["total"] == 1
    audit = await api.ok("GET", "/location-audit", params={"sort": "time"})
    assert [item["code"] for item in audit["items"]] == [1010, 1012, 1013]
    assert all(item["fields"]["profile_id"] == str(profile["id"]) for item in audit["items"])


async def test_who_may_do_what_with_profiles(api_world: World) -> None:
    profile = await _profile(api_world.api("a-admin"))
    path = f"/location-profiles/{profile['id']}"
    supporter = api_world.api("a-supporter")
    error_of(await supporter.post("/location-profiles", json={"name": "Mine", "rules": "ALLOW 10.0.0.1"}), 403)
    error_of(await supporter.put(path, json={"name": "Mine", "rules": "ALLOW 10.0.0.1"}), 403)
    error_of(await supporter.post(f"{path}/hide"), 403)
    assert (await supporter.ok("GET", path))["name"] == "Lab"  # supporters read profiles
    assert (await supporter.ok("GET", f"{path}/versions"))["items"][0]["version"] == 1
    root = api_world.api("root")  # SEB Server administrators read every institution's profiles, write none
    assert (await root.ok("GET", path))["id"] == profile["id"]
    error_of(await root.post("/location-profiles", json={"name": "Root", "rules": "ALLOW 10.0.0.1"}), 403)
    other = api_world.api("b-admin")
    for response in (await other.get(path), await other.get(f"{path}/versions"), await other.get(f"{path}/versions/1"),
                     await other.put(path, json={"name": "Mine", "rules": "ALLOW 10.0.0.1"}),
                     await other.post(f"{path}/hide"), await other.post(f"{path}/preview", json={})):
        error_of(response, 404)
    assert (await other.ok("GET", "/location-profiles"))["total"] == 0
    mine = await _profile(other, "Lab")  # names are unique per institution
    assert mine["institution_id"] == api_world.b.id
    error_of(await api_world.client.get(BASE + path), 401)
