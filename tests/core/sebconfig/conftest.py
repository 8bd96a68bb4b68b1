"""Shared fixtures for the sebconfig tests: location of the read-only test vectors."""

from __future__ import annotations

from pathlib import Path

import pytest

# tests/core/sebconfig/conftest.py -> repo root is parents[3]; vectors live beside the repo.
VECTORS = Path(__file__).resolve().parents[3].parent / "shared" / "vectors"


@pytest.fixture(scope="session")
def vectors() -> Path:
    if not VECTORS.is_dir():
        pytest.skip(f"test vectors not found at {VECTORS}")
    return VECTORS
