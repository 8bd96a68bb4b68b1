"""``--start-server``: a throw-away sebframe server with the demo exam, for one bench run.

``sebframe demo`` writes the connection file, ``sebframe serve --no-demo`` serves it with the
``/bench/bare`` endpoint switched on (SEBFRAME_BENCH_ENDPOINT=1). The data directory is temporary.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

READY_SECONDS = 90.0
STOP_SECONDS = 15.0


class ManagedServer:
    def __init__(self, *, port: int = 0, workers: int = 1, database_url: str | None = None,
                 keep_data: bool = False) -> None:
        self.port = port or _free_port()
        self.workers = workers
        self.url = f"http://127.0.0.1:{self.port}"
        self.keep_data = keep_data
        self.data_dir = Path(tempfile.mkdtemp(prefix="sebframe-bench-"))
        self.connection_file = self.data_dir / "demo.seb"
        self.log_file = self.data_dir / "server.log"
        # the database the events land in; SQLite by default, in the temporary data directory
        self.database_url = database_url or f"sqlite:///{self.data_dir / 'sebframe.db'}"
        self.env = os.environ | {
            "SEBFRAME_DATA_DIR": str(self.data_dir),
            "SEBFRAME_BENCH_ENDPOINT": "1",
            "SEBFRAME_LOG_LEVEL": os.environ.get("SEBFRAME_LOG_LEVEL", "WARNING"),  # warnings and errors only
            "SEBFRAME_DATABASE_URL": self.database_url,
        }
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def __enter__(self) -> ManagedServer:
        try:
            self._sebframe("db", "upgrade")
            self._sebframe("demo", "--out", str(self.connection_file), "--server-url", self.url)
            with self.log_file.open("ab") as log:
                self.process = subprocess.Popen(
                    [_sebframe_command(), "serve", "--host", "127.0.0.1", "--port", str(self.port),
                     "--workers", str(self.workers), "--no-demo"],
                    env=self.env, stdout=log, stderr=subprocess.STDOUT)
            self._wait_ready()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *_exc: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()  # uvicorn's supervisor stops its workers on SIGTERM
            try:
                self.process.wait(STOP_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if not self.keep_data:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def _sebframe(self, *args: str) -> None:
        done = subprocess.run([_sebframe_command(), *args], env=self.env, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"sebframe {' '.join(args)} failed:\n{done.stdout}{done.stderr}")

    def _wait_ready(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + READY_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited with {self.process.returncode}:\n{self._log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.url}/exam-api/discovery", timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.2)
        raise RuntimeError(f"the server did not answer within {READY_SECONDS:g} s:\n{self._log_tail()}")

    def _log_tail(self) -> str:
        return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-30:])


def _sebframe_command() -> str:
    """The sebframe script of the virtualenv running the bench."""
    return str(Path(sys.executable).parent / "sebframe")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
