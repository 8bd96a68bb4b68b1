"""Serving a fake's ASGI app with uvicorn in a background thread on a free 127.0.0.1 port."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from typing import Any

import uvicorn


class _Server(uvicorn.Server):
    """uvicorn's server, stoppable at once: its main loop checks every 0.1 s, this one also wakes on ``wake()``."""

    _loop: asyncio.AbstractEventLoop | None = None
    _wake: asyncio.Event | None = None

    async def main_loop(self) -> None:
        self._loop, self._wake = asyncio.get_running_loop(), asyncio.Event()
        counter = 0
        while not await self.on_tick(counter):
            counter = (counter + 1) % 864000
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), 0.1)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        """uvicorn's shutdown without its fixed 0.1 s pause: close, let connections end, cancel what is left."""
        state = getattr(self, "server_state", None)
        if state is None or not hasattr(self, "servers"):  # another uvicorn version: its own shutdown
            await super().shutdown(sockets)
            return
        for server in self.servers:
            server.close()
        for sock in sockets or []:
            sock.close()
        for connection in list(state.connections):
            connection.shutdown()
        deadline = time.monotonic() + 1.0
        while (state.connections or state.tasks) and time.monotonic() < deadline:
            await asyncio.sleep(0.005)
        for task in list(state.tasks):
            task.cancel()

    def wake(self) -> None:
        loop, event = self._loop, self._wake
        if loop is not None and event is not None:
            with contextlib.suppress(RuntimeError):  # the loop has already closed
                loop.call_soon_threadsafe(event.set)


class BackgroundServer:
    """Runs ``app`` until ``stop()``; with ``lifetime`` > 0 a forgotten server stops by itself."""

    def __init__(self, app: Any, name: str, *, http: str | type[asyncio.Protocol] = "auto",
                 lifetime: float = 0.0) -> None:
        self.app = app
        self.name = name
        self.http = http
        self.lifetime = lifetime
        self.port = 0
        self.stopping = threading.Event()  # set on stop: slow handlers of a fake end early
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None
        self._watchdog: threading.Timer | None = None

    def start(self, timeout: float = 10.0) -> None:
        if self._thread is not None:
            raise RuntimeError("already started")
        # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on such sockets (else ~40 ms per keep-alive request)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self._socket = sock
        self.port = int(sock.getsockname()[1])
        config = uvicorn.Config(self.app, loop="asyncio", http=self.http, lifespan="off", log_config=None,
                                access_log=False, timeout_graceful_shutdown=1)
        self._server = _Server(config)
        self.stopping.clear()
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]}, daemon=True,
                                        name=f"{self.name}-{self.port}")
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the {self.name} server did not start")
            time.sleep(0.005)
        if self.lifetime > 0:
            self._watchdog = threading.Timer(self.lifetime, self.stop)
            self._watchdog.daemon = True
            self._watchdog.start()

    def stop(self) -> None:
        self.stopping.set()
        if self._watchdog is not None and self._watchdog is not threading.current_thread():
            self._watchdog.cancel()
        self._watchdog = None
        if self._server is not None:
            self._server.should_exit = True
            self._server.force_exit = True  # do not wait for keep-alive connections of the clients under test
            self._server.wake()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=10)
        if self._socket is not None:
            self._socket.close()
            self._socket = None
        self._server = None
        self._thread = None

    async def sleep(self, seconds: float) -> None:
        """Sleep in a handler, but wake up when the server stops (a slow fake never blocks a test's end)."""
        deadline = time.monotonic() + seconds
        while not self.stopping.is_set() and time.monotonic() < deadline:
            await asyncio.sleep(min(0.05, max(0.0, deadline - time.monotonic())))
