"""Real-browser tests: a live server in a thread and Debian's chromium driven by Playwright.

Without ``/usr/bin/chromium`` every selected browser test fails with the fix, and the run ends with a
section saying so; leave them out explicitly with ``-m "not browser"``. Never a silent skip.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import threading
import time
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from sqlalchemy.ext.asyncio import AsyncSession

from sebframe.app import create_app
from sebframe.core.accounts.passwords import hash_password
from sebframe.core.bootstrap import create_admin
from sebframe.core.db import Database
from sebframe.core.db.models import Institution, UserAccount, UserRoleGrant
from sebframe.settings import Settings
from tests.conftest import PASSWORD, empty_tables

CHROMIUM = "/usr/bin/chromium"
MISSING_CHROMIUM = (f"{CHROMIUM} is missing, so the real-browser tests cannot run: install it (Debian: "
                    "`apt-get install chromium`) or leave them out explicitly with `-m \"not browser\"`")
_MISSING = pytest.StashKey[int]()  # how many browser tests failed for want of chromium
ADMIN_PASSWORD = "admin-password-1"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]


@dataclass
class LiveServer:
    url: str
    settings: Settings


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _seed_admin(database_url: str) -> None:
    db = Database(database_url)
    await create_admin(db, "admin", ADMIN_PASSWORD, institution_name="Server Operations")
    await db.dispose()


async def add_exam_admin(session: AsyncSession, username: str = "erika") -> Institution:
    """An institution "ETH" with one exam administrator (password ``PASSWORD``), inside the caller's transaction."""
    institution = Institution(name="ETH", active=True)
    session.add(institution)
    await session.flush()
    session.add(UserAccount(institution_id=institution.id, username=username, name=username.title(),
                            surname="Tester", password_hash=hash_password(PASSWORD), active=True,
                            roles=[UserRoleGrant(role="EXAM_ADMIN")]))
    return institution


def seed(work: Coroutine[Any, Any, None]) -> None:
    """Run a seeding coroutine: Playwright's sync API runs an event loop in the test's thread, so in another one."""
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, work).result()


def sign_in_page(page: Any, url: str, username: str, password: str = PASSWORD) -> None:
    page.goto(url + "/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button:has-text('Sign In')")


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """Run ``app`` with uvicorn in a thread on a free port; yields its URL, stops it on exit."""
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           proxy_headers=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the live server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def live_server(database_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    asyncio.run(empty_tables(database_url))
    asyncio.run(_seed_admin(database_url))
    settings = Settings(database_url=database_url, data_dir=tmp_path / "data", secret_key="browser-test-secret-key",
                        load_entrypoint_plugins=False)
    try:
        with serving(create_app(settings)) as url:
            yield LiveServer(url, settings)
    finally:
        asyncio.run(empty_tables(database_url))


@pytest.fixture
def browser_page(request: pytest.FixtureRequest) -> Iterator[object]:
    if not shutil.which(CHROMIUM):
        request.config.stash[_MISSING] = request.config.stash.get(_MISSING, 0) + 1
        pytest.fail(MISSING_CHROMIUM, pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        context = browser.new_context()
        page = context.new_page()
        page.set_default_timeout(10_000)
        try:
            yield page
        finally:
            context.close()
            browser.close()


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    missing = config.stash.get(_MISSING, 0)
    if missing:
        terminalreporter.section("real-browser tests", red=True, bold=True)
        terminalreporter.line(f"{missing} browser test(s) could not run: {MISSING_CHROMIUM}", red=True)
