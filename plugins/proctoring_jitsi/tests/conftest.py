"""Fixtures: Jitsi services for an exam, self-hosted and JaaS, and an RSA key pair for JaaS."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sebframe_proctoring_jitsi.service import JitsiService
from sebframe_proctoring_jitsi.settings import JitsiSettings

from sebframe import create_http_client
from sebframe.types import IntegrationContext, Participant

EXAM_END = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def private_pem(rsa_key: rsa.RSAPrivateKey) -> str:
    return rsa_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption()).decode()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with create_http_client() as client:
        yield client


def service_for(http: httpx.AsyncClient, url: str, **settings: object) -> JitsiService:
    return JitsiService(IntegrationContext(instance_id=7, institution_id=1, url=url,
                                           settings=JitsiSettings.model_validate(settings), http=http))


def participant(name: str, *, moderator: bool, end: datetime = EXAM_END) -> Participant:
    return Participant(display_name=name, moderator=moderator, expires_at=end + timedelta(hours=1), user_id=name)
