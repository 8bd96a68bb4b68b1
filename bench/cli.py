"""``python -m bench <scenario> ...``: parse the options, run the scenarios, print and save the report."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from .connfile import load_connection_file
from .persisted import count_persisted_events
from .report import document, render, summarise, write_json
from .runner import raise_open_files_limit, run_scenario
from .scenarios import Plan, Scenario
from .server import ManagedServer
from .serverstats import ServerSampler

FULL = "full"
FULL_ORDER = (Scenario.HANDSHAKE, Scenario.BARE, Scenario.PING, Scenario.LOGBURST)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench", description="Play N SEB clients against a sebframe server.")
    p.add_argument("scenario", choices=[*(s.value for s in Scenario), FULL])
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--conn-file", type=Path, help="connection configuration (.seb) of the server under test")
    source.add_argument("--start-server", action="store_true",
                        help="start a throw-away server with the demo exam (sebframe demo + serve) for this run")
    p.add_argument("--conn-password", help="password of an encrypted connection file")
    p.add_argument("--server-url", help="use this instead of the file's sebServerURL")
    p.add_argument("--clients", type=int, default=100, help="simulated SEB clients (default 100)")
    p.add_argument("--duration", type=float, default=30.0,
                   help="ping/bare: seconds of pinging; logburst: time limit of the burst (default 30)")
    p.add_argument("--concurrency", type=int, default=500,
                   help="handshakes in flight at once; 0 = all at once (default 500)")
    p.add_argument("--token", choices=["shared", "per-client"], default="shared",
                   help="one access token per generator process, or one per client (default shared)")
    p.add_argument("--ping-interval", type=int, help="milliseconds; default: pingInterval of the connection file")
    p.add_argument("--events", type=int, default=100, help="logburst: events per client (default 100)")
    p.add_argument("--startup-logs", type=int, default=1,
                   help="ping: log events each client sends when it starts pinging (default 1)")
    p.add_argument("--log-interval", type=float, default=0.0,
                   help="ping: seconds between further log events per client; 0 = none (default)")
    p.add_argument("--timeout", type=float, default=30.0, help="per request, seconds (SEB's default 30)")
    p.add_argument("--handshake-timeout", type=float, default=120.0,
                   help="limit of the whole handshake phase, seconds (default 120)")
    p.add_argument("--generator-processes", type=int, default=1, help="split the clients over K processes")
    p.add_argument("--server-pid", type=int, action="append", default=[],
                   help="sample this process's (and its children's) RSS and CPU; repeatable")
    p.add_argument("--database-url", help="the server's database, to count persisted log events (logburst); "
                                          "with --start-server the server uses it (default: SQLite)")
    p.add_argument("--settle", type=float, default=5.0,
                   help="logburst: seconds to wait for the persisted count to reach the acknowledged one")
    p.add_argument("--scenarios", default=",".join(FULL_ORDER),
                   help=f"full: which scenarios, in order (default {','.join(FULL_ORDER)})")
    p.add_argument("--json", type=Path, help="also write all figures to this file")
    server = p.add_argument_group("with --start-server")
    server.add_argument("--port", type=int, default=0, help="default: a free port")
    server.add_argument("--workers", type=int, default=1, help="uvicorn worker processes (default 1)")
    server.add_argument("--keep-server-data", action="store_true", help="keep the temporary data directory")
    return p


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parser().parse_args(argv)
    names = args.scenarios.split(",") if args.scenario == FULL else [args.scenario]
    try:
        scenarios = [Scenario(name.strip()) for name in names]
    except ValueError as exc:
        parser().error(str(exc))
    raise_open_files_limit()
    with ExitStack() as stack:
        conn_file, database_url, pids = args.conn_file, args.database_url, list(args.server_pid)
        if args.start_server:
            server = stack.enter_context(ManagedServer(port=args.port, workers=args.workers,
                                                       database_url=args.database_url,
                                                       keep_data=args.keep_server_data))
            conn_file, database_url = server.connection_file, server.database_url
            pids.append(server.pid)
            print(f"server {server.url} (pid {server.pid}, data in {server.data_dir})", file=sys.stderr)
        settings = load_connection_file(conn_file, password=args.conn_password, server_url=args.server_url)
        sampler = ServerSampler(pids).start()
        stack.callback(sampler.stop)
        results = [_run(scenario, args, settings, sampler, database_url) for scenario in scenarios]
    doc = document(argv, results, args.generator_processes)
    print(render(doc))
    if args.json:
        write_json(args.json, doc)
    return 1 if any(result["headline"]["errors"] for result in results) else 0


def _run(scenario: Scenario, args: argparse.Namespace, settings: Any, sampler: ServerSampler,
         database_url: str | None) -> dict[str, Any]:
    interval_ms = args.ping_interval or settings.ping_interval_ms
    plan = Plan(scenario=scenario, settings=settings, clients=args.clients, duration=args.duration,
                concurrency=args.concurrency, per_client_token=args.token == "per-client",
                ping_interval=interval_ms / 1000, events_per_client=args.events, startup_logs=args.startup_logs,
                log_interval=args.log_interval, timeout=args.timeout, handshake_timeout=args.handshake_timeout)
    print(f"running {scenario.value} with {plan.clients} clients ...", file=sys.stderr)
    started = time.time()
    metrics = run_scenario(plan, args.generator_processes)
    ended = time.time()
    persisted = None
    if scenario is Scenario.LOGBURST and database_url:
        persisted = asyncio.run(count_persisted_events(database_url, metrics.tokens, metrics.counters["log ok"],
                                                       args.settle))
    return summarise(plan, metrics, sampler.usage(started, ended), persisted)
