"""The load scenarios, as run by one generator process for its share of the clients.

Every phase has a deadline: clients still busy when it passes are cancelled and counted as
``"<phase>: not finished in time"``, so a run always ends by itself.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from .connfile import ConnectionSettings
from .http import ServerAddress
from .metrics import Metrics
from .seb import BURST_TEXT, SebClient, StepFailed, TokenSource

BARE_PATH = "/bench/bare"
DISCONNECT_SECONDS = 30.0


class Scenario(StrEnum):
    HANDSHAKE = "handshake"
    PING = "ping"
    LOGBURST = "logburst"
    BARE = "bare"


@dataclass(frozen=True)
class Plan:
    """One scenario's settings; picklable, for generator processes."""

    scenario: Scenario
    settings: ConnectionSettings
    clients: int
    duration: float  # ping/bare: how long to ping; logburst: time limit of the burst
    concurrency: int  # handshakes in flight at once; 0: no limit
    per_client_token: bool
    ping_interval: float  # seconds
    events_per_client: int  # logburst
    startup_logs: int  # ping: events each client sends when pinging starts (its log history)
    log_interval: float  # ping: seconds between further events per client; 0: none
    timeout: float  # per request
    handshake_timeout: float  # for the whole handshake phase

    @property
    def hard_deadline(self) -> float:
        """Longest a generator process can take (every phase at its limit)."""
        return self.handshake_timeout + self.duration + self.timeout + DISCONNECT_SECONDS + 10


Sync = Callable[[], Awaitable[None]]


async def run_part(plan: Plan, first: int, count: int, sync: Sync) -> Metrics:
    """Clients ``first`` .. ``first + count - 1`` play ``plan``; ``sync`` waits for the other processes."""
    metrics = Metrics()
    address = ServerAddress.parse(plan.settings.server_url)
    tokens = TokenSource(plan.per_client_token)
    clients = [SebClient(i, plan.settings, address, metrics, tokens, timeout=plan.timeout)
               for i in range(first, first + count)]
    cpu_before = time.process_time()
    try:
        _freeze_garbage()
        if plan.scenario is Scenario.BARE:
            ready = await _phase(metrics, "connect", clients, lambda c: c.prepare_bare(BARE_PATH), plan)
            metrics.counters["connected"] = len(ready)
        else:
            ready = await _phase(metrics, "handshake", clients, SebClient.establish, plan)
        if plan.scenario is Scenario.PING:
            # What a client does when connectivity starts (log history, LMS user) comes before the measured
            # phase, so the ping figures are the steady state of N clients pinging.
            ready = await _phase(metrics, "identify", ready, lambda c: _identify(c, plan), plan)
        await sync()  # the measured phase starts together in all generator processes
        _freeze_garbage()
        if plan.scenario in (Scenario.PING, Scenario.BARE):
            await _ping_phase(metrics, ready, plan)
        elif plan.scenario is Scenario.LOGBURST:
            await _burst_phase(metrics, ready, plan)
        if plan.scenario is not Scenario.BARE:
            await _phase(metrics, "disconnect", ready, SebClient.disconnect, plan, DISCONNECT_SECONDS)
    finally:
        gc.unfreeze()
        for client in clients:
            client.close()
    metrics.cpu_seconds = time.process_time() - cpu_before
    return metrics


def _freeze_garbage() -> None:
    """Full collections walking thousands of clients' objects stall the loop for 100 ms and more (seen as
    server latency); frozen objects are skipped, so collections only scan what the next phase allocates."""
    gc.collect()
    gc.freeze()


async def _phase(metrics: Metrics, name: str, clients: Sequence[SebClient],
                 action: Callable[[SebClient], Awaitable[None]], plan: Plan,
                 limit_seconds: float | None = None) -> list[SebClient]:
    """Run ``action`` for every client (at most ``plan.concurrency`` at once); the clients that succeeded."""
    limit = asyncio.Semaphore(plan.concurrency) if plan.concurrency else None
    succeeded: list[SebClient] = []

    async def one(client: SebClient) -> None:
        if limit is None:
            await action(client)
        else:
            async with limit:
                await action(client)
        succeeded.append(client)

    await _run_until(metrics, name, [one(c) for c in clients], limit_seconds or plan.handshake_timeout)
    return succeeded


async def _ping_phase(metrics: Metrics, clients: Sequence[SebClient], plan: Plan) -> None:
    """Each client pings every interval (timer restarted after each ping), first pings spread over one interval."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    end = start + plan.duration
    spacing = plan.ping_interval / max(1, len(clients))
    pingers = [_pinger(client, start + i * spacing, end, plan) for i, client in enumerate(clients)]
    await _run_until(metrics, "ping", pingers, plan.duration + plan.timeout)


async def _pinger(client: SebClient, first_at: float, end: float, plan: Plan) -> None:
    loop = asyncio.get_running_loop()
    await asyncio.sleep(first_at - loop.time())
    next_log = loop.time() + plan.log_interval if plan.log_interval else float("inf")
    while not client.quit_requested and loop.time() < end:
        await client.ping()
        if loop.time() >= next_log:
            await client.log()
            next_log += plan.log_interval
        await asyncio.sleep(max(0.0, min(plan.ping_interval, end - loop.time())))
    if client.quit_requested:
        await client.disconnect()


async def _identify(client: SebClient, plan: Plan) -> None:
    for _ in range(plan.startup_logs):  # the client's log history, sent when connectivity starts
        await client.log()
    await client.identify_user()


async def _burst_phase(metrics: Metrics, clients: Sequence[SebClient], plan: Plan) -> None:
    """Each client drains a queue of ``events_per_client`` log events, one request after the other."""

    async def drain(client: SebClient) -> None:
        for _ in range(plan.events_per_client):
            await client.log(BURST_TEXT)

    await _run_until(metrics, "logburst", [drain(c) for c in clients], plan.duration)


async def _run_until(metrics: Metrics, name: str, work: Sequence[Awaitable[None]], seconds: float) -> None:
    """Run ``work`` concurrently for at most ``seconds``; record the phase and what did not finish."""
    started = time.time()
    if work:
        tasks = [asyncio.ensure_future(item) for item in work]
        done, pending = await asyncio.wait(tasks, timeout=seconds)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending)
            metrics.errors[f"{name}: not finished in time"] += len(pending)
        for task in done:
            error = task.exception()
            if error is not None and not isinstance(error, StepFailed):  # StepFailed is counted already
                metrics.errors[f"{name}: {type(error).__name__}: {error}"] += 1
    metrics.phase(name, started, time.time())

