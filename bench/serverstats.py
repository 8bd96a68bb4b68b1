"""Samples the server's memory (VmRSS) and CPU time from /proc, for given processes and all their descendants
(uvicorn's worker processes), in a background thread."""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Sample:
    at: float  # wall clock
    rss_bytes: int  # sum over the process tree
    cpu_seconds: float  # user + system, sum over the process tree
    processes: int


@dataclass(frozen=True)
class ServerUsage:
    max_rss_mb: float
    cpu_percent: float  # of one core; above 100 with several workers
    processes: int

    def as_dict(self) -> dict[str, float]:
        return {"max_rss_mb": round(self.max_rss_mb, 1), "cpu_percent": round(self.cpu_percent, 1),
                "processes": self.processes}


class ServerSampler:
    def __init__(self, pids: list[int], interval: float = 0.5) -> None:
        self.pids = pids
        self.interval = interval
        self.samples: list[Sample] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="server-sampler", daemon=True)

    def start(self) -> ServerSampler:
        if self.pids:
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def usage(self, start: float, end: float) -> ServerUsage | None:
        """Figures over the wall-clock window ``start`` .. ``end``; None without samples there."""
        window = [s for s in self.samples if start <= s.at <= end]
        if not window:
            return None
        elapsed = window[-1].at - window[0].at
        cpu = (window[-1].cpu_seconds - window[0].cpu_seconds) / elapsed * 100 if elapsed > 0 else 0.0
        return ServerUsage(max(s.rss_bytes for s in window) / 2**20, max(0.0, cpu), max(s.processes for s in window))

    def _run(self) -> None:
        while True:
            self.samples.append(sample(self.pids))
            if self._stop.wait(self.interval):
                self.samples.append(sample(self.pids))
                return


def sample(roots: list[int]) -> Sample:
    pids = _tree(roots)
    rss = 0
    cpu = 0.0
    for pid in pids:
        rss += _rss_bytes(pid)
        cpu += _cpu_seconds(pid)
    return Sample(time.time(), rss, cpu, len(pids))


def _tree(roots: list[int]) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in PROC.iterdir():
        if entry.name.isdigit():
            stat = _stat_fields(int(entry.name))
            if stat:
                children.setdefault(int(stat[1]), []).append(int(entry.name))
    found: list[int] = []
    todo = [pid for pid in roots if (PROC / str(pid)).exists()]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, ()))
    return found


def _stat_fields(pid: int) -> list[str]:
    """Fields of /proc/PID/stat after the command name (state, ppid, ...); [] if the process is gone."""
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return []
    return text[text.rfind(")") + 2 :].split()


def _rss_bytes(pid: int) -> int:
    try:
        for line in (PROC / str(pid) / "status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _cpu_seconds(pid: int) -> float:
    fields = _stat_fields(pid)
    # after the name: state(0) ppid(1) ... utime(11) stime(12)
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS if len(fields) > 12 else 0.0
