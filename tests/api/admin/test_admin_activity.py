"""The user activity log through the admin API: scope, filters, time format and bad queries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import quote

import pytest

from tests.api.admin.helpers import World, error_of

pytestmark = pytest.mark.anyio


async def _make_history(api_world: World) -> None:
    root, admin = api_world.api("root"), api_world.api("a-admin")
    await root.ok("POST", "/institutions", 201, json={"name": "Stanford", "active": True})
    await root.ok("PUT", f"/institutions/{api_world.b.id}", json={"name": "UZH", "url_suffix": "uzh"})
    await admin.ok("PATCH", f"/users/{api_world.users['a-supporter'].id}", json={"surname": "Changed"})
    await api_world.api("b-admin").ok("PATCH", f"/users/{api_world.users['b-admin'].id}", json={"name": "Bea"})


async def test_server_admin_sees_everything_with_utc_times(api_world: World) -> None:
    await _make_history(api_world)
    page = await api_world.api("root").ok("GET", "/activity-log?size=100")
    entries = page["items"]
    assert {"Stanford", "UZH", "a-supporter", "b-admin"} <= {e["entity_name"] for e in entries}
    assert page["total"] == len(entries)
    first = entries[0]
    assert set(first) == {"id", "at", "user_id", "username", "institution_id", "activity", "entity_type",
                          "entity_id", "entity_name", "message"}
    times = [datetime.fromisoformat(e["at"]) for e in entries]
    assert all(t.utcoffset() == timedelta(0) for t in times) and all(e["at"].endswith("Z") for e in entries)
    assert times == sorted(times, reverse=True)  # newest first by default


async def test_institutional_admin_sees_own_institution_only(api_world: World) -> None:
    await _make_history(api_world)
    api = api_world.api("a-admin")
    entries = (await api.ok("GET", "/activity-log?size=100"))["items"]
    assert entries and all(e["institution_id"] == api_world.a.id for e in entries)
    assert "b-admin" not in {e["entity_name"] for e in entries}
    assert (await api.ok("GET", f"/activity-log?institution_id={api_world.b.id}"))["total"] == 0


@pytest.mark.parametrize("username", ["a-examadmin", "a-supporter"])
async def test_exam_staff_may_not_read_the_log(api_world: World, username: str) -> None:
    body = error_of(await api_world.api(username).get("/activity-log"), 403)
    assert body["error"] == "forbidden"


async def test_filters(api_world: World) -> None:
    await _make_history(api_world)
    api = api_world.api("root")

    async def names(query: str) -> list[str]:
        return [e["entity_name"] for e in (await api.ok("GET", f"/activity-log?size=100&{query}"))["items"]]

    assert await names("activity=MODIFY&entity_type=INSTITUTION") == ["UZH"]
    assert await names("username=B-ADM&entity_type=USER_ACCOUNT&activity=MODIFY") == ["b-admin"]
    assert await names("entity_name=stan&sort=activity") == ["Stanford", "Stanford"]
    assert await names(f"institution_id={api_world.b.id}&activity=MODIFY&sort=entity_type") == ["UZH", "b-admin"]
    past = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    future = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S")
    everything = await names("")
    assert await names(f"from={past.replace('+00:00', 'Z')}") == everything
    assert await names(f"to={future}") == everything
    assert await names(f"from={future}") == []
    assert await names("to=2000-01-01") == []
    # Offsets are honoured: the same instants written in other zones select the same entries.
    ahead = (datetime.now(UTC) + timedelta(hours=1)).astimezone(timezone(timedelta(hours=2)))
    behind = (datetime.now(UTC) - timedelta(hours=1)).astimezone(timezone(timedelta(hours=-5)))
    assert await names(f"from={quote(ahead.isoformat())}") == []
    assert await names(f"from={quote(behind.isoformat())}&to={quote(ahead.isoformat())}") == everything
    assert (await api.ok("GET", "/activity-log?size=2&page=2"))["page"] == 2


BAD_QUERIES = ["activity=HACK", "entity_type=user_account", "from=yesterday", "to=2026-13-01",
               "from=0001-01-01T00:00:00%2B14:00", "institution_id=x", "sort=message", "sort=-id", "page=0",
               "entity=USER_ACCOUNT", "username=%00"]


async def test_bad_queries_are_422(api_world: World) -> None:
    for query in BAD_QUERIES:
        response = await api_world.api("root").get(f"/activity-log?{query}")
        assert response.status_code == 422, query
        assert error_of(response, 422)["field_errors"], query
