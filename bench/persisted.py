"""Counts the log-burst events that reached the server's database (it writes them in batches)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import create_async_engine

from sebframe.settings import normalise_database_url

from .seb import BURST_TEXT

_QUERY = text(
    "SELECT count(*) FROM client_event JOIN client_connection ON client_event.connection_id = client_connection.id"
    " WHERE client_connection.connection_token IN :tokens AND client_event.text LIKE :burst"
).bindparams(bindparam("tokens", expanding=True))
_TOKENS_PER_QUERY = 500  # well below every driver's bound-parameter limit


async def count_persisted_events(database_url: str, tokens: Sequence[str], expected: int,
                                 settle_seconds: float = 5.0) -> int:
    """Rows of this run's burst events; polled until it reaches ``expected`` or ``settle_seconds`` pass."""
    engine = create_async_engine(normalise_database_url(database_url))
    deadline = time.monotonic() + settle_seconds
    try:
        while True:
            count = 0
            async with engine.connect() as connection:
                for start in range(0, len(tokens), _TOKENS_PER_QUERY):
                    chunk = list(tokens[start : start + _TOKENS_PER_QUERY])
                    count += (await connection.execute(_QUERY, {"tokens": chunk, "burst": f"{BURST_TEXT} %"})
                              ).scalar_one()
            if count >= expected or time.monotonic() >= deadline:
                return count
            await asyncio.sleep(0.25)
    finally:
        await engine.dispose()
