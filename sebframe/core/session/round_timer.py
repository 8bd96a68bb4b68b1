"""Timing a round of awaited work on a shared event loop: how long it took, and how much of that was the round's
own (computing, or waiting for the database) rather than waiting for its turn.

A round that awaits ten queries while another task computes (the templates compiling after start, a monitoring
page being rendered) resumes only when that task yields, and on a machine without a free core the whole thread
waits; either way its wall time says little about the database. The event-loop thread's wall time splits into
the CPU it used for the round, the CPU it used for other tasks, the time it waited for a core (Linux tells), and
the rest: idle, waiting for I/O.
"""

from __future__ import annotations

import types
from collections.abc import Awaitable, Generator
from time import monotonic, thread_time
from typing import Any, TypeVar

T = TypeVar("T")


class RoundTimer:
    def __init__(self) -> None:
        self.steps: list[tuple[str, float]] = []
        self._started = monotonic()
        self._cpu_started = thread_time()
        self._queued_started = runqueue_seconds()
        self._own_cpu = 0.0

    async def run(self, work: Awaitable[T]) -> T:
        """Await ``work``, counting the CPU time it uses while it runs as the round's own."""
        return await _metered(work, self)

    async def step(self, name: str, work: Awaitable[None]) -> None:
        """Await ``work`` and note its wall time under ``name``."""
        before = monotonic()
        await work
        self.steps.append((name, monotonic() - before))

    def elapsed(self) -> float:
        return monotonic() - self._started

    def elsewhere(self) -> float:
        """Seconds this thread computed for other tasks since the round started: the round waited that long."""
        return max(0.0, thread_time() - self._cpu_started - self._own_cpu)

    def waiting_for_core(self) -> float:
        """Seconds this thread was ready to run but had no CPU core since the round started (0 where unknown)."""
        queued = runqueue_seconds()
        if queued is None or self._queued_started is None:
            return 0.0
        return max(0.0, queued - self._queued_started)

    def describe_steps(self) -> str:
        return ", ".join(f"{name} {seconds * 1000:.0f} ms" for name, seconds in self.steps)


def runqueue_seconds() -> float | None:
    """How long the calling thread has waited for a CPU core in all, from Linux's scheduler statistics; None
    elsewhere."""
    try:
        with open("/proc/thread-self/schedstat", "rb") as stats:
            return int(stats.read().split()[1]) / 1e9
    except (OSError, ValueError, IndexError):
        return None


@types.coroutine
def _metered(work: Awaitable[T], timer: RoundTimer) -> Generator[Any, Any, T]:
    """Drive ``work`` as the task would, adding the CPU time of each stretch it runs to the timer."""
    inner = work.__await__()
    value: Any = None
    error: BaseException | None = None
    while True:
        started = thread_time()
        try:
            yielded = inner.send(value) if error is None else inner.throw(error)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]
        finally:
            timer._own_cpu += thread_time() - started
        try:
            value, error = (yield yielded), None
        except GeneratorExit:
            inner.close()
            raise
        except BaseException as exc:  # cancellation: passed into the work, which decides
            value, error = None, exc
