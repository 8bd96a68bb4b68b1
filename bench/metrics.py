"""What one generator process measured; picklable, so parts from several processes merge into one."""

from __future__ import annotations

import math
from array import array
from collections import Counter
from dataclasses import dataclass, field


@dataclass
class Metrics:
    counters: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)  # "step: HTTP 500", "ping: ConnectionResetError"
    latencies: dict[str, array[float]] = field(default_factory=dict)  # seconds, per step
    phases: dict[str, tuple[float, float]] = field(default_factory=dict)  # wall-clock start, end
    tokens: list[str] = field(default_factory=list)  # connection tokens of this run
    cpu_seconds: float = 0.0  # the generator's own CPU time

    def samples(self, step: str) -> array[float]:
        found = self.latencies.get(step)
        if found is None:
            found = self.latencies[step] = array("d")
        return found

    def phase(self, name: str, start: float, end: float) -> None:
        self.phases[name] = (start, end)

    def merge(self, other: Metrics) -> None:
        self.counters.update(other.counters)
        self.errors.update(other.errors)
        for step, values in other.latencies.items():
            self.samples(step).extend(values)
        for name, (start, end) in other.phases.items():
            mine = self.phases.get(name)
            self.phases[name] = (start, end) if mine is None else (min(mine[0], start), max(mine[1], end))
        self.tokens.extend(other.tokens)
        self.cpu_seconds += other.cpu_seconds

    def phase_seconds(self, name: str) -> float:
        start, end = self.phases.get(name, (0.0, 0.0))
        return end - start


@dataclass(frozen=True)
class Distribution:
    """Latency figures in milliseconds (nearest-rank percentiles)."""

    count: int
    p50: float
    p95: float
    p99: float
    max: float

    @classmethod
    def of(cls, seconds: array[float]) -> Distribution | None:
        if not seconds:
            return None
        ordered = sorted(seconds)

        def rank(p: float) -> float:
            return ordered[max(0, math.ceil(p * len(ordered)) - 1)] * 1000

        return cls(len(ordered), rank(0.50), rank(0.95), rank(0.99), ordered[-1] * 1000)

    def as_dict(self) -> dict[str, float]:
        return {"count": self.count, "p50_ms": round(self.p50, 2), "p95_ms": round(self.p95, 2),
                "p99_ms": round(self.p99, 2), "max_ms": round(self.max, 2)}
