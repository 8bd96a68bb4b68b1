"""Admin UI: the participation screen of an exam (linked from the exam view) and its CSV download."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from sebframe.core.accounts.roles import Role
from sebframe.core.bootstrap import DEMO_INSTITUTION
from sebframe.core.db.models import Institution
from sebframe.core.monitoring.participation import CSV_HEADER
from sebframe.core.services import Services
from tests.conftest import Factory, sign_in
from tests.participation_helpers import LAPTOP_ADDRESS, Participants, connect_participants, seat
from tests.seb_client import SebWorld

pytestmark = pytest.mark.anyio


@pytest.fixture
async def participants(services: Services, app: Any, client: httpx.AsyncClient, seb_world: SebWorld) -> Participants:
    return await connect_participants(services, app, client, seb_world)


async def _demo_institution(services: Services) -> Institution:
    async with services.db.read() as session:
        return (await session.execute(select(Institution).where(Institution.name == DEMO_INSTITUTION))).scalar_one()


@pytest.fixture
async def office(services: Services, factory: Factory, client: httpx.AsyncClient,
                 seb_world: SebWorld) -> httpx.AsyncClient:
    """An exam administrator of the demo institution in Zurich time, signed in."""
    await factory.user(await _demo_institution(services), "office", Role.EXAM_ADMIN, timezone="Europe/Zurich")
    await sign_in(client, "office")
    return client


def _rows(html: str) -> list[str]:
    return re.findall(r'<tr data-connection="\d+">(.*?)</tr>', html, re.S)


async def test_the_exam_view_links_to_the_report(office: httpx.AsyncClient, seb_world: SebWorld) -> None:
    response = await office.get(f"/exams/{seb_world.exam_id}")
    assert response.status_code == 200
    assert f'href="/exams/{seb_world.exam_id}/participation"' in response.text


async def test_rows_in_local_time_with_utc(office: httpx.AsyncClient, seb_world: SebWorld,
                                          participants: Participants) -> None:
    response = await office.get(f"/exams/{seb_world.exam_id}/participation")
    assert response.status_code == 200
    html = response.text
    assert f'href="/exams/{seb_world.exam_id}/participation.csv"' in html  # Export CSV
    rows = _rows(html)
    assert len(rows) == 3
    assert "alice" in rows[0] and "PC-alice" in rows[0] and "Closed" in rows[0] and "2 connections" in rows[0]
    assert LAPTOP_ADDRESS in rows[1] and "Active" in rows[1]
    assert "bob" in rows[2] and "connections</span>" not in rows[2]
    # First contact 08:00 UTC is 09:00 in Zurich (winter), with UTC below.
    assert "2026-01-05 09:00:00 <small>CET</small>" in rows[0]
    assert '<small class="utc">2026-01-05 08:00:00 UTC</small>' in rows[0]
    assert "2026-01-05 10:20:00" in rows[2]  # Bob's last event
    assert not any(token in html for token in participants.tokens)


async def test_filter_by_address_and_user(office: httpx.AsyncClient, seb_world: SebWorld,
                                          participants: Participants) -> None:
    by_address = await office.get(f"/exams/{seb_world.exam_id}/participation", params={"address": "10.0.0"})
    assert [LAPTOP_ADDRESS in row for row in _rows(by_address.text)] == [True]
    by_user = await office.get(f"/exams/{seb_world.exam_id}/participation", params={"user": "bob"})
    assert len(_rows(by_user.text)) == 1
    nobody = await office.get(f"/exams/{seb_world.exam_id}/participation", params={"user": "zoe"})
    assert _rows(nobody.text) == [] and "No SEB connections match the filter." in nobody.text
    bad = await office.get(f"/exams/{seb_world.exam_id}/participation", params={"status": "GONE"})
    assert bad.status_code == 422 and "choose one of" in bad.text


async def test_csv_download(office: httpx.AsyncClient, seb_world: SebWorld, participants: Participants) -> None:
    response = await office.get(f"/exams/{seb_world.exam_id}/participation.csv")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"].startswith("attachment;")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))
    assert rows[0] == list(CSV_HEADER) and len(rows) == 4
    assert rows[0][5:7] == ["Room", "Seat"] and [row[5:7] for row in rows[1:]] == [["", ""]] * 3


async def test_room_and_seat(services: Services, office: httpx.AsyncClient, seb_world: SebWorld,
                             participants: Participants) -> None:
    await seat(services, participants.alice_laptop, seb_world.exam_id, "Lab 1", "17")
    html = (await office.get(f"/exams/{seb_world.exam_id}/participation")).text
    assert '<th scope="col" title="The room the location check' in html
    rows = _rows(html)
    assert '<td class="room">Lab 1</td>' in rows[1] and '<td class="seat">17</td>' in rows[1]
    assert '<td class="room">—</td>' in rows[0]
    exported = await office.get(f"/exams/{seb_world.exam_id}/participation.csv")
    lines = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"), newline="")))
    assert [line[4:7] for line in lines[1:]] == [["127.0.0.1", "", ""], [LAPTOP_ADDRESS, "Lab 1", "17"],
                                                 ["127.0.0.1", "", ""]]


async def test_an_unassigned_supporter_does_not_find_it(services: Services, factory: Factory,
                                                         client: httpx.AsyncClient, seb_world: SebWorld,
                                                         participants: Participants) -> None:
    await factory.user(await _demo_institution(services), "other-supporter", Role.EXAM_SUPPORTER)
    await sign_in(client, "other-supporter")
    assert (await client.get(f"/exams/{seb_world.exam_id}/participation")).status_code == 404
    assert (await client.get(f"/exams/{seb_world.exam_id}/participation.csv")).status_code == 404


async def test_a_seb_server_administrator_of_another_institution_sees_the_exam_not_the_report(
        factory: Factory, client: httpx.AsyncClient, seb_world: SebWorld, participants: Participants) -> None:
    await factory.user(await factory.institution("Server Operations"), "operator", Role.SEB_SERVER_ADMIN)
    await sign_in(client, "operator")
    view = await client.get(f"/exams/{seb_world.exam_id}")
    assert view.status_code == 200 and f"/exams/{seb_world.exam_id}/participation" not in view.text
    for path in ("participation", "participation.csv"):
        refused = await client.get(f"/exams/{seb_world.exam_id}/{path}")
        assert refused.status_code == 403 and "alice" not in refused.text


async def test_signed_out_users_sign_in_first(client: httpx.AsyncClient, seb_world: SebWorld) -> None:
    response = await client.get(f"/exams/{seb_world.exam_id}/participation.csv")
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
