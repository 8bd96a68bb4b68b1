"""Every negative case of the reference's conversation script, with SEB Server's statuses and bodies."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import update

from sebframe.core.accounts.auth import actor_of
from sebframe.core.db.models import ConnectionConfiguration, Exam, UserAccount
from sebframe.core.services import Services
from tests.seb_client import SebClient, SebWorld

pytestmark = pytest.mark.anyio


@pytest.fixture
async def seb(client: httpx.AsyncClient, seb_world: SebWorld) -> SebClient:
    seb = SebClient(client, seb_world)
    assert (await seb.fetch_token()).status_code == 200
    return seb


def _api_message(response: httpx.Response) -> dict[str, object]:
    body = response.json()
    assert isinstance(body, list) and len(body) == 1
    assert set(body[0]) == {"messageCode", "systemMessage", "details", "attributes"}
    return body[0]


async def test_wrong_institution_is_an_illegal_argument(seb: SebClient, seb_world: SebWorld) -> None:
    response = await seb.create(institution=seb_world.institution_id + 1000)
    assert response.status_code == 400
    assert _api_message(response)["messageCode"] == "1010"
    assert "SEBConnectionToken" not in response.headers


async def test_made_up_exam_ids_do_not_reload_the_running_exams(seb: SebClient, services: Services,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    runtime = services.sessions.runtime
    reloads = 0
    reload = runtime.refresh_running_exams

    async def counting() -> None:
        nonlocal reloads
        reloads += 1
        await reload()

    monkeypatch.setattr(runtime, "refresh_running_exams", counting)
    for exam_id in ("0", "-5", str(2**31), "9" * 300):  # no exam can have these ids
        response = await seb.create(exam_id=exam_id)  # type: ignore[arg-type]
        assert response.status_code == 400
        assert _api_message(response)["details"].endswith("is not running")
    assert reloads == 0
    assert (await seb.create(exam_id=4242)).status_code == 400  # could be an exam that just started: looked up
    assert reloads == 1


async def test_exam_not_running(seb: SebClient, services: Services, seb_world: SebWorld) -> None:
    async with services.db.transaction() as session:
        await session.execute(update(Exam).where(Exam.id == seb_world.exam_id).values(status="FINISHED"))
    await services.sessions.runtime.refresh_running_exams()
    response = await seb.create(exam_id=seb_world.exam_id)
    assert response.status_code == 400
    assert _api_message(response)["details"] == f"The exam {seb_world.exam_id} is not running"


async def test_no_running_exam_gives_an_empty_list_and_still_a_token(seb: SebClient, services: Services,
                                                                    seb_world: SebWorld) -> None:
    async with services.db.transaction() as session:
        await session.execute(update(Exam).where(Exam.id == seb_world.exam_id).values(status="UP_COMING"))
    await services.sessions.runtime.refresh_running_exams()
    response = await seb.create()
    assert response.status_code == 200 and response.json() == []
    assert response.headers["SEBConnectionToken"]


async def test_unknown_connection_token(seb: SebClient, seb_world: SebWorld) -> None:
    seb.connection_token = "00000000-0000-0000-0000-000000000000"
    for response in (await seb.select_exam(seb_world.exam_id), await seb.establish()):
        assert response.status_code == 404
        assert _api_message(response)["messageCode"] == "1002"
    assert (await seb.close()).status_code == 404
    # pings and logs of unknown tokens are answered 204 and dropped
    assert (await seb.ping()).status_code == 204
    assert (await seb.log({"type": "INFO_LOG", "timestamp": 1, "text": "x"})).status_code == 204


async def test_put_without_exam_is_an_integrity_violation(seb: SebClient) -> None:
    assert (await seb.create()).status_code == 200
    response = await seb.establish()
    assert response.status_code == 400
    assert _api_message(response)["details"] == "ClientConnection integrity violation"


async def test_calls_after_delete_are_refused_and_the_next_ping_quits(seb: SebClient, seb_world: SebWorld) -> None:
    assert (await seb.create()).status_code == 200
    assert (await seb.close()).status_code == 200
    response = await seb.select_exam(seb_world.exam_id)
    assert response.status_code == 400
    assert "not in expected state" in str(_api_message(response)["details"])
    ping = await seb.ping()
    assert ping.status_code == 200 and ping.json() == {"instruction": "SEB_QUIT"}
    assert (await seb.close()).status_code == 200  # closing a closed connection still succeeds


async def test_examconfig_without_exam_is_a_500(seb: SebClient) -> None:
    assert (await seb.create()).status_code == 200
    response = await seb.exam_config()
    assert response.status_code == 500
    _api_message(response)


async def test_another_exam_id_on_patch(seb: SebClient, seb_world: SebWorld) -> None:
    assert (await seb.create(exam_id=seb_world.exam_id)).status_code == 200
    response = await seb.select_exam(seb_world.exam_id + 1)
    assert response.status_code == 400
    assert _api_message(response)["details"] == (
        "Exam integrity violation: another examId is already set for the connection")


async def test_bogus_bearer_is_invalid_token(client: httpx.AsyncClient, seb_world: SebWorld) -> None:
    seb = SebClient(client, seb_world)
    seb.access_token = "bogus"
    seb.connection_token = "whatever"
    for response in (await seb.create(), await seb.ping(), await seb.log({"type": "INFO_LOG"}),
                     await seb.exam_config(1), await seb.establish(), await seb.close()):
        assert response.status_code == 401
        assert response.json()["error"] == "invalid_token"
    no_bearer = await client.post("/exam-api/v1/sebping")
    assert no_bearer.status_code == 401


async def test_wrong_secret_and_inactive_configuration(client: httpx.AsyncClient, services: Services,
                                                       seb_world: SebWorld) -> None:
    seb = SebClient(client, seb_world)
    wrong = await seb.fetch_token(secret="wrong")
    assert wrong.status_code == 401 and "error" in wrong.json()
    assert (await seb.fetch_token()).status_code == 200
    assert (await seb.create()).status_code == 200

    async with services.db.read() as session:
        admin = (await session.execute(
            UserAccount.__table__.select().where(UserAccount.username == "demo-exam-admin"))).first()
        admin = await session.get(UserAccount, admin.id)
        assert admin is not None
        config_id = (await session.execute(
            ConnectionConfiguration.__table__.select().where(
                ConnectionConfiguration.name == seb_world.connection_config_name))).first().id
    await services.connection_configs.set_active(actor_of(admin), config_id, False)
    await services.sessions.runtime.sync()  # what every process does within a second

    refused = await seb.fetch_token()
    assert refused.status_code == 401
    revoked = await seb.ping()
    assert revoked.status_code == 401 and revoked.json()["error"] == "invalid_token"


async def test_token_is_shared_and_survives_a_restart_of_the_cache(client: httpx.AsyncClient, services: Services,
                                                                   seb_world: SebWorld) -> None:
    first, second = SebClient(client, seb_world), SebClient(client, seb_world)
    assert (await first.fetch_token()).status_code == 200
    assert (await second.fetch_token()).status_code == 200
    assert first.access_token == second.access_token  # SEB Server hands out the same token per client and scope
    services.sessions.tokens._valid.clear()  # another process (or a restart) knows only the database
    assert (await first.create()).status_code == 200


async def test_missing_grant_type_and_scope(client: httpx.AsyncClient, seb_world: SebWorld) -> None:
    import base64
    auth = {"Authorization": "Basic " + base64.b64encode(f"{seb_world.client_id}:{seb_world.client_secret}".encode())
            .decode(), "Content-Type": "application/x-www-form-urlencoded"}
    assert (await client.post("/oauth/token", content=b"scope=read", headers=auth)).json()["error"] == (
        "invalid_request")
    password = await client.post("/oauth/token", content=b"grant_type=password&scope=read", headers=auth)
    assert password.status_code == 401 and password.json()["error"] == "invalid_client"
    empty = await client.post("/oauth/token", content=b"grant_type=client_credentials", headers=auth)
    assert empty.status_code == 400 and empty.json()["error"] == "invalid_scope"
    no_auth = await client.post("/oauth/token", content=b"grant_type=client_credentials&scope=read")
    assert no_auth.status_code == 401
