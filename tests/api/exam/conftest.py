"""Fixtures of the Exam-API tests: a running exam that SEB clients can connect to."""

from __future__ import annotations

from pathlib import Path

import pytest

from sebframe.core.services import Services
from tests.seb_client import SebWorld, seb_world


@pytest.fixture
async def world(services: Services, tmp_path: Path) -> SebWorld:
    return await seb_world(services, tmp_path / "seb")
