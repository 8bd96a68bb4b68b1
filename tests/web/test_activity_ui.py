"""Admin UI: the user activity log lists every change, filtered and paged, times in the user's zone."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from sebframe.core.accounts.roles import Role
from sebframe.core.db.models import ActivityLogEntry
from tests.conftest import PASSWORD, Factory, sign_in

pytestmark = pytest.mark.anyio


def _rows(html: str) -> list[tuple[str, str, str]]:
    """(activity, username, entity name) of each listed entry, in order."""
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    rows = []
    for row in re.findall(r'<tr data-activity="([A-Z_]+)">(.*?)</tr>', body, re.S):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row[1], re.S)
        offset = len(cells) - 6
        rows.append((row[0], cells[offset].strip(), cells[offset + 3].split("<small", 1)[0].strip()))
    return rows


async def test_changes_made_in_the_ui_are_logged_and_filtered(client, factory: Factory) -> None:
    home = await factory.institution("Home")
    await factory.user(home, "root", Role.SEB_SERVER_ADMIN)
    await sign_in(client, "root")
    created = await client.post("/institutions/new", data={"name": "Logged School", "activate": "1"})
    school_id = int(created.headers["location"].rsplit("/", 1)[1])
    await client.post(f"/institutions/{school_id}/edit", data={"name": "Logged School 2"})
    user = await client.post("/users/new", data={
        "institution_id": str(school_id), "name": "Lou", "surname": "Log", "username": "lou", "timezone": "UTC",
        "roles[]": ["EXAM_SUPPORTER"], "password": PASSWORD, "confirm_password": PASSWORD, "activate": "1"})
    lou_id = int(user.headers["location"].rsplit("/", 1)[1])
    await client.post(f"/users/{lou_id}/edit", data={"name": "Louis", "surname": "Log", "username": "lou",
                                                     "timezone": "UTC", "roles[]": ["EXAM_ADMIN"]})
    await client.post(f"/users/{lou_id}/password", data={"current_password": PASSWORD, "password": "new-pass-99",
                                                         "confirm_password": "new-pass-99"})
    await client.post(f"/institutions/{school_id}/deactivate")
    await client.post(f"/users/{lou_id}/delete", data={"option": "ACCOUNT_ONLY"})

    log = await client.get("/activity")
    assert log.status_code == 200
    rows = _rows(log.text)
    # Newest first.
    assert [activity for activity, _, _ in rows[:8]] == [
        "DELETE", "DEACTIVATE", "DEACTIVATE", "PASSWORD_CHANGE", "MODIFY", "CREATE", "MODIFY", "ACTIVATE"]
    assert ("CREATE", "root", "Logged School") in rows and ("LOGIN", "root", "root") in rows
    assert all(username == "root" for _, username, _ in rows)
    assert "<td>Logged School 2</td>" in log.text  # the institution column for SEB Server admins

    by_type = _rows((await client.get("/activity?entity_type=INSTITUTION")).text)
    assert [activity for activity, _, _ in by_type] == ["DEACTIVATE", "MODIFY", "ACTIVATE", "CREATE"]
    by_activity = _rows((await client.get("/activity?activity=PASSWORD_CHANGE")).text)
    assert by_activity == [("PASSWORD_CHANGE", "root", "lou")]
    by_name = _rows((await client.get("/activity?entity_name=LOGGED&sort=at")).text)
    assert [name for _, _, name in by_name] == ["Logged School", "Logged School", "Logged School 2",
                                               "Logged School 2"]
    assert _rows((await client.get("/activity?username=nobody")).text) == []
    by_institution = _rows((await client.get(f"/activity?institution_id={school_id}&activity=CREATE")).text)
    assert [name for _, _, name in by_institution] == ["lou", "Logged School"]


async def test_date_range_is_read_in_the_users_time_zone(client, factory: Factory, services) -> None:
    home = await factory.institution("Home")
    await factory.user(home, "kiwi", Role.SEB_SERVER_ADMIN, timezone="Pacific/Auckland")  # UTC+13 in January
    base = datetime(2026, 1, 10, 11, 30, tzinfo=UTC)  # 2026-01-11 00:30 in Auckland
    async with services.db.transaction() as session:
        for index, at in enumerate([base - timedelta(hours=2), base, base + timedelta(days=1)]):
            session.add(ActivityLogEntry(at=at, user_id=None, username="ghost", institution_id=home.id,
                                         activity="MODIFY", entity_type="EXAM", entity_id=str(index),
                                         entity_name=f"exam-{index}"))
    await sign_in(client, "kiwi")
    whole_day = await client.get("/activity?username=ghost&from=2026-01-11&to=2026-01-11")
    assert [name for _, _, name in _rows(whole_day.text)] == ["exam-1"]
    assert "2026-01-11 00:30:00" in whole_day.text and "2026-01-10 11:30:00 UTC" in whole_day.text
    with_time = await client.get("/activity?username=ghost&from=2026-01-10T22:30&to=2026-01-11T00:30")
    assert [name for _, _, name in _rows(with_time.text)] == ["exam-1", "exam-0"]
    assert 'value="2026-01-10T22:30"' in with_time.text  # the filter shows what was typed
    bad = await client.get("/activity?from=yesterday")
    assert bad.status_code == 422 and "use a date like" in bad.text


async def test_paging_and_tenant_scope(client, factory: Factory, services) -> None:
    eth = await factory.institution("ETH")
    uzh = await factory.institution("UZH")
    await factory.user(eth, "eth-admin", Role.INSTITUTIONAL_ADMIN)
    now = datetime.now(UTC)
    async with services.db.transaction() as session:
        for index in range(25):
            session.add(ActivityLogEntry(at=now - timedelta(minutes=index), username="eth-user",
                                         institution_id=eth.id, activity="MODIFY", entity_type="EXAM",
                                         entity_id=str(index), entity_name=f"eth-exam-{index:02d}"))
        session.add(ActivityLogEntry(at=now, username="uzh-user", institution_id=uzh.id, activity="MODIFY",
                                     entity_type="EXAM", entity_id="99", entity_name="uzh-exam"))
    await sign_in(client, "eth-admin")
    first = await client.get("/activity?entity_type=EXAM&size=10")
    assert "25 entries · page 1 of 3" in first.text
    assert [name for _, _, name in _rows(first.text)][:2] == ["eth-exam-00", "eth-exam-01"]
    assert 'name="institution_id"' not in first.text
    last = await client.get("/activity?entity_type=EXAM&size=10&page=3")
    assert [name for _, _, name in _rows(last.text)] == [f"eth-exam-{index}" for index in range(20, 25)]
    assert "uzh-exam" not in (await client.get(f"/activity?institution_id={uzh.id}")).text
    ascending = await client.get("/activity?entity_type=EXAM&sort=at&size=1")
    assert [name for _, _, name in _rows(ascending.text)] == ["eth-exam-24"]


async def test_activity_log_needs_the_privilege(client, factory: Factory) -> None:
    eth = await factory.institution("ETH")
    await factory.user(eth, "ea", Role.EXAM_ADMIN)
    await sign_in(client, "ea")
    assert (await client.get("/activity")).status_code == 403
    assert "User Logs" not in (await client.get("/")).text
