"""Turns merged metrics into figures: a table for people, JSON for docs/performance.md."""

from __future__ import annotations

import json
import os
import platform
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .metrics import Distribution, Metrics
from .scenarios import Plan, Scenario
from .serverstats import ServerUsage


def summarise(plan: Plan, metrics: Metrics, server: ServerUsage | None,
              persisted: int | None = None) -> dict[str, Any]:
    """All figures of one scenario run; ``headline`` holds the ones that answer its question."""
    counters = metrics.counters
    headline: dict[str, Any] = {}
    if plan.scenario is Scenario.BARE:
        headline["connected"] = counters["connected"]
    else:
        headline["handshakes_ok"] = counters["handshake ok"]
        headline["handshakes_failed"] = plan.clients - counters["handshake ok"]
        seconds = metrics.phase_seconds("handshake")
        headline["handshake_phase_s"] = round(seconds, 2)
        headline["handshakes_per_s"] = _rate(counters["handshake ok"], seconds)
    if plan.scenario in (Scenario.PING, Scenario.BARE):
        step = "ping" if plan.scenario is Scenario.PING else "bare"
        seconds = metrics.phase_seconds("ping")
        ready = counters["handshake ok"] if step == "ping" else counters["connected"]
        headline["ping_phase_s"] = round(seconds, 2)
        headline[f"{step}_ok"] = counters[f"{step} ok"]
        headline[f"{step}_per_s"] = _rate(counters[f"{step} ok"], seconds)
        headline["offered_per_s"] = round(ready / plan.ping_interval, 1)
        distribution = Distribution.of(metrics.samples(step))
        if distribution is not None:
            headline.update({f"{step}_{k}": v for k, v in distribution.as_dict().items() if k != "count"})
        instructions = {k.removeprefix("instruction "): v for k, v in counters.items() if k.startswith("instruction ")}
        if step == "ping":
            headline["instructions"] = instructions
    if plan.scenario is Scenario.LOGBURST:
        seconds = metrics.phase_seconds("logburst")
        headline["events_sent"] = counters["log sent"]
        headline["events_acked"] = counters["log ok"]
        headline["logburst_phase_s"] = round(seconds, 2)
        headline["events_per_s"] = _rate(counters["log ok"], seconds)
        if persisted is not None:
            headline["events_persisted"] = persisted
            headline["persisted_equals_acked"] = persisted == counters["log ok"]
    headline["errors"] = sum(metrics.errors.values())
    return {
        "scenario": plan.scenario.value,
        "settings": _settings(plan),
        "headline": headline,
        "latency_ms": {step: d.as_dict() for step, values in sorted(metrics.latencies.items())
                       if (d := Distribution.of(values)) is not None},
        "errors": dict(metrics.errors.most_common()),
        "counters": dict(sorted(metrics.counters.items())),
        "phases_s": {name: round(end - start, 3) for name, (start, end) in metrics.phases.items()},
        "generator_cpu_s": round(metrics.cpu_seconds, 2),
        "server": server.as_dict() if server else None,
    }


def _rate(count: int, seconds: float) -> float:
    return round(count / seconds, 1) if seconds > 0 else 0.0


def _settings(plan: Plan) -> dict[str, Any]:
    return {
        "clients": plan.clients,
        "duration_s": plan.duration,
        "concurrency": plan.concurrency,
        "token": "per-client" if plan.per_client_token else "shared",
        "ping_interval_ms": round(plan.ping_interval * 1000),
        "events_per_client": plan.events_per_client if plan.scenario is Scenario.LOGBURST else None,
        "server_url": plan.settings.server_url,
    }


def ping_vs_bare(results: list[dict[str, Any]]) -> float | None:
    """Ping throughput as a percentage of the bare endpoint's, when both ran."""
    by_name = {r["scenario"]: r["headline"] for r in results}
    if "ping" in by_name and "bare" in by_name and by_name["bare"].get("bare_per_s"):
        return round(100 * by_name["ping"]["ping_per_s"] / by_name["bare"]["bare_per_s"], 1)
    return None


def machine() -> dict[str, Any]:
    try:
        import uvloop

        loop = f"uvloop {uvloop.__version__}"
    except ImportError:
        loop = "asyncio"
    return {"cores": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
            "event_loop": loop}


def document(argv: list[str], results: list[dict[str, Any]], generator_processes: int) -> dict[str, Any]:
    return {
        "command": " ".join(["python", "-m", "bench", *argv]),
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine() | {"generator_processes": generator_processes},
        "scenarios": results,
        "ping_vs_bare_percent": ping_vs_bare(results),
    }


def write_json(path: Path, doc: dict[str, Any]) -> None:
    path.write_text(json.dumps(doc, indent=2) + "\n")


def render(doc: dict[str, Any]) -> str:
    m = doc["machine"]
    lines = [f"sebframe bench, {doc['timestamp']}: {m['cores']} cores, Python {m['python']}, {m['event_loop']}, "
             f"{m['generator_processes']} generator process(es)"]
    for result in doc["scenarios"]:
        lines += ["", f"[{result['scenario']}] {_describe(result['scenario'], result['settings'])}"]
        for name, value in result["headline"].items():
            lines.append(f"  {name:<26} {_format(value)}")
        if result["server"]:
            server = result["server"]
            lines.append(f"  {'server max RSS':<26} {server['max_rss_mb']} MB over {server['processes']} process(es), "
                         f"CPU {server['cpu_percent']} % of a core")
        lines.append(f"  {'generator CPU':<26} {result['generator_cpu_s']} s")
        for error, count in result["errors"].items():
            lines.append(f"  ! {count:>8}  {error}")
        lines.append(f"  {'latency ms':<20} {'count':>8} {'p50':>8} {'p95':>8} {'p99':>8} {'max':>8}")
        for step, d in result["latency_ms"].items():
            lines.append(f"    {step:<18} {d['count']:>8} {d['p50_ms']:>8.1f} {d['p95_ms']:>8.1f} "
                         f"{d['p99_ms']:>8.1f} {d['max_ms']:>8.1f}")
    if doc["ping_vs_bare_percent"] is not None:
        lines += ["", f"ping throughput is {doc['ping_vs_bare_percent']} % of bare"]
    return "\n".join(lines)


def _describe(scenario: str, s: dict[str, Any]) -> str:
    text = f"{s['clients']} clients, {s['token']} token, handshake concurrency {s['concurrency'] or 'unlimited'}"
    if scenario in ("ping", "bare"):
        text += f", {s['duration_s']:g} s of pings every {s['ping_interval_ms']} ms"
    elif scenario == "logburst":
        text += f", {s['events_per_client']} events per client (limit {s['duration_s']:g} s)"
    return text


def _format(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k} {v}" for k, v in value.items()) or "-"
    if isinstance(value, float):
        return f"{value:,.2f}" if value < 100 else f"{value:,.1f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)
