"""The participation report through the admin API: JSON pages, the CSV file, query checks, who may read it."""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from sebframe.api.admin.endpoints.participation import PARTICIPATION_QUERY, ParticipationOut
from sebframe.core.accounts.roles import Role
from sebframe.core.bootstrap import DEMO_INSTITUTION
from sebframe.core.db.models import Institution
from sebframe.core.monitoring.participation import CSV_HEADER, PARTICIPATION_FILTERS
from sebframe.core.services import Services
from tests.api.admin.helpers import Api, error_of
from tests.conftest import Factory
from tests.participation_helpers import LAPTOP_ADDRESS, Participants, connect_participants, seat
from tests.seb_client import SebWorld

pytestmark = pytest.mark.anyio


@pytest.fixture
async def participants(services: Services, app: Any, client: httpx.AsyncClient, seb_world: SebWorld) -> Participants:
    participants = await connect_participants(services, app, client, seb_world)
    await seat(services, participants.alice_laptop, seb_world.exam_id, "Lab 1", "17")
    return participants


async def _api(factory: Factory, client: httpx.AsyncClient, username: str) -> Api:
    return Api(client, await factory.token(username))


def _base(seb_world: SebWorld) -> str:
    return f"/exams/{seb_world.exam_id}/participation"


async def test_declared_filters_are_the_service_filters() -> None:
    assert {f.name for f in PARTICIPATION_QUERY.filters} == set(PARTICIPATION_FILTERS)


async def test_pages_of_rows(factory: Factory, client: httpx.AsyncClient, seb_world: SebWorld,
                             participants: Participants) -> None:
    api = await _api(factory, client, "demo-supporter")  # assigned to the demo exam
    body = await api.ok("GET", _base(seb_world))
    assert (body["total"], body["page"], body["pages"]) == (3, 1, 1)
    rows = [ParticipationOut.model_validate(item) for item in body["items"]]
    assert [(row.user, row.client_address, row.status, row.status_label, row.user_connections) for row in rows] == [
        ("alice", "127.0.0.1", "CLOSED", "Closed", 2), ("alice", LAPTOP_ADDRESS, "ACTIVE", "Active", 2),
        ("bob", "127.0.0.1", "ACTIVE", "Active", 1)]
    assert [(row.room, row.seat) for row in rows] == [("", ""), ("Lab 1", "17"), ("", "")]  # who sat where
    assert body["items"][0]["first_contact"] == "2026-01-05T08:00:00Z"
    assert body["items"][2]["last_contact"] == "2026-01-05T09:20:00Z"
    assert not any(token in str(body) for token in participants.tokens)

    filtered = await api.ok("GET", _base(seb_world), params={"address": "10.0", "sort": "-first_contact", "size": 1})
    assert [item["os_login"] for item in filtered["items"]] == ["alice-laptop"]
    closed = await api.ok("GET", _base(seb_world), params={"status": "CLOSED"})
    assert [item["machine"] for item in closed["items"]] == ["PC-alice"]


@pytest.mark.parametrize("query", [{"status": "GONE"}, {"sort": "connection_token"}, {"token": "x"},
                                   {"size": "0"}])
async def test_bad_queries_are_refused(factory: Factory, client: httpx.AsyncClient, seb_world: SebWorld,
                                       query: dict[str, str]) -> None:
    api = await _api(factory, client, "demo-exam-admin")
    error_of(await api.get(_base(seb_world), params=query), 422)


async def test_csv_file(factory: Factory, client: httpx.AsyncClient, seb_world: SebWorld,
                        participants: Participants) -> None:
    api = await _api(factory, client, "demo-exam-admin")
    response = await api.get(_base(seb_world) + ".csv")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert (response.headers["content-disposition"]
            == f'attachment; filename="exam-{seb_world.exam_id}-participation.csv"')
    assert response.headers["cache-control"] == "no-store"
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))
    assert rows[0] == list(CSV_HEADER)
    assert [(row[0], row[4], row[5], row[6], row[9], row[-1]) for row in rows[1:]] == [
        ("alice", "127.0.0.1", "", "", "Closed", "2"), ("alice", LAPTOP_ADDRESS, "Lab 1", "17", "Active", "2"),
        ("bob", "127.0.0.1", "", "", "Active", "1")]
    assert not any(token in response.text for token in participants.tokens)


async def _demo_institution(services: Services) -> Institution:
    async with services.db.read() as session:
        return (await session.execute(select(Institution).where(Institution.name == DEMO_INSTITUTION))).scalar_one()


@pytest.mark.parametrize("who", ["other institution", "unassigned supporter"])
async def test_others_get_not_found(services: Services, factory: Factory, client: httpx.AsyncClient,
                                    seb_world: SebWorld, participants: Participants, who: str) -> None:
    if who == "other institution":
        await factory.user(await factory.institution("UZH"), "uzh-admin", Role.EXAM_ADMIN)
        api = await _api(factory, client, "uzh-admin")
    else:
        await factory.user(await _demo_institution(services), "other-supporter", Role.EXAM_SUPPORTER)
        api = await _api(factory, client, "other-supporter")
    error_of(await api.get(_base(seb_world)), 404)
    error_of(await api.get(_base(seb_world) + ".csv"), 404)


async def test_without_token_and_unknown_exam(factory: Factory, client: httpx.AsyncClient, seb_world: SebWorld) -> None:
    error_of(await Api(client, None).get(_base(seb_world) + ".csv"), 401)
    api = await _api(factory, client, "demo-exam-admin")
    error_of(await api.get("/exams/999999/participation"), 404)
    error_of(await api.get("/exams/999999/participation.csv"), 404)
