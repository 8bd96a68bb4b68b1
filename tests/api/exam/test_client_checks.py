"""The app signature key sent on PUT, the numerical trust and the allowed SEB versions end up as monitoring
flags, never as a refusal (SEB Server's behaviour)."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select, update

from sebframe.core.db.models import ClientConnection, Exam
from sebframe.core.services import Services
from tests.core.session.test_ask import encrypt_like_seb
from tests.seb_client import SebClient, SebWorld

pytestmark = pytest.mark.anyio


@pytest.fixture
async def exam_with_key_checks(services: Services, seb_world: SebWorld) -> SebWorld:
    """``seb_world`` with the signature-key check on (trust threshold 1) and SEB 3.9.0 or newer required."""
    async with services.db.transaction() as session:
        await session.execute(update(Exam).where(Exam.id == seb_world.exam_id).values(
            signature_key_check_enabled=True, signature_key_trust_threshold=1, allowed_seb_versions="Win.3.9.0.min"))
    await services.sessions.runtime.refresh_running_exams()
    return seb_world


async def _flags(services: Services, token: str) -> tuple[str | None, bool | None, bool | None]:
    async with services.db.read() as session:
        row = (await session.execute(select(ClientConnection)
                                     .where(ClientConnection.connection_token == token))).scalar_one()
    return row.ask, row.security_check_granted, row.client_version_granted


async def _connect_with_key(client: httpx.AsyncClient, seb_world: SebWorld, name: str, key: str) -> SebClient:
    seb = SebClient(client, seb_world, name=name)
    assert (await seb.fetch_token()).status_code == 200
    assert (await seb.create()).status_code == 200
    selected = await seb.select_exam(seb_world.exam_id)
    salt = selected.headers["SEBExamSalt"]
    encrypted = encrypt_like_seb(key, seb.connection_token or "", salt)
    assert (await seb.establish(f"seb_signature_key={encrypted}")).status_code == 200
    return seb


async def test_shared_key_is_trusted_above_the_threshold(client: httpx.AsyncClient, services: Services,
                                                         exam_with_key_checks: SebWorld) -> None:
    first = await _connect_with_key(client, exam_with_key_checks, "pc-1", "the-real-seb")
    runtime = services.sessions.runtime
    await runtime.supervisor.run(runtime)
    ask, granted, version_ok = await _flags(services, first.connection_token or "")
    assert ask is not None and len(ask) == 64
    assert granted is False  # one connection with this key: not above the threshold 1
    assert version_ok is False  # SEB 3.8.0 on Windows, but 3.9.0 or newer is required
    await _connect_with_key(client, exam_with_key_checks, "pc-2", "the-real-seb")
    await runtime.supervisor.run(runtime)
    assert (await _flags(services, first.connection_token or ""))[1] is True


async def test_undecryptable_key_is_only_logged(client: httpx.AsyncClient, services: Services,
                                                exam_with_key_checks: SebWorld) -> None:
    seb = SebClient(client, exam_with_key_checks)
    assert (await seb.fetch_token()).status_code == 200
    assert (await seb.create()).status_code == 200
    assert (await seb.select_exam(exam_with_key_checks.exam_id)).status_code == 200
    assert (await seb.establish("seb_signature_key=00ff")).status_code == 200
    assert (await _flags(services, seb.connection_token or ""))[0] is None
