"""Runs a scenario in this process or split over several generator processes, and merges what they measured."""

from __future__ import annotations

import asyncio
import multiprocessing
import queue
import resource
import threading
import time
import traceback
from collections.abc import Coroutine
from multiprocessing.synchronize import Barrier
from typing import Any, TypeVar

from .metrics import Metrics
from .scenarios import Plan, run_part

T = TypeVar("T")


def run_loop(main: Coroutine[Any, Any, T]) -> T:
    """Run ``main`` on uvloop when it is installed (a good deal cheaper per request), else on asyncio."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    return uvloop.run(main)


def raise_open_files_limit() -> None:
    """Every simulated client holds a socket: allow as many open files as the hard limit does."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def run_scenario(plan: Plan, processes: int = 1) -> Metrics:
    processes = max(1, min(processes, plan.clients))
    if processes == 1:
        return run_loop(run_part(plan, 0, plan.clients, _no_sync))
    context = multiprocessing.get_context("spawn")  # no fork: the RSS sampler thread runs in this process
    barrier = context.Barrier(processes)
    results: multiprocessing.Queue[tuple[str, Any]] = context.Queue()
    children = []
    first = 0
    for share in _shares(plan.clients, processes):
        child = context.Process(target=_child, args=(plan, first, share, barrier, results), daemon=True,
                                name=f"bench-generator-{first}")
        child.start()
        children.append(child)
        first += share
    merged = Metrics()
    deadline = time.monotonic() + plan.hard_deadline + 30  # a child that hangs must not stop the run
    try:
        for _ in children:
            try:
                outcome, value = results.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                merged.errors["generator process: no result in time"] += 1
                break
            if outcome == "ok":
                merged.merge(value)
            else:
                merged.errors[f"generator process failed: {value}"] += 1
    finally:
        for child in children:
            child.join(timeout=5)
            if child.is_alive():
                child.terminate()
    return merged


def _shares(total: int, parts: int) -> list[int]:
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


async def _no_sync() -> None:
    return None


def _child(plan: Plan, first: int, count: int, barrier: Barrier, results: multiprocessing.Queue[Any]) -> None:
    async def sync() -> None:
        try:
            await asyncio.get_running_loop().run_in_executor(None, barrier.wait, plan.handshake_timeout + 30)
        except threading.BrokenBarrierError:  # a sibling died or hangs: measure this part anyway
            pass

    try:
        results.put(("ok", run_loop(run_part(plan, first, count, sync))))
    except BaseException:
        results.put(("error", traceback.format_exc(limit=3).strip().splitlines()[-1]))
        raise
