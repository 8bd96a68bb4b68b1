"""``sebframe demo`` and the demo exam of ``sebframe serve``'s first run, against a real database."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from sebframe.cli import cli
from sebframe.core.accounts.auth import actor_of
from sebframe.core.bootstrap import demo_accounts
from sebframe.core.demo import CONNECTION_FILE
from sebframe.core.exams.types import ExamStatus
from sebframe.core.paging import MAX_PAGE_SIZE, ListParams
from sebframe.core.sebconfig import decode_seb
from sebframe.core.sebconfig.exam_configs import ConfigStatus
from sebframe.core.services import Services
from sebframe.settings import Settings
from tests.conftest import empty_tables


@pytest.fixture
def env(database_url: str, tmp_path: Path) -> Iterator[dict[str, str]]:
    asyncio.run(empty_tables(database_url))
    yield {"SEBFRAME_DATABASE_URL": database_url, "SEBFRAME_DATA_DIR": str(tmp_path / "data"),
           "SEBFRAME_LOAD_ENTRYPOINT_PLUGINS": "false", "SEBFRAME_EXTERNAL_URL": ""}
    asyncio.run(empty_tables(database_url))


def _settings(env: dict[str, str]) -> Settings:
    return Settings(database_url=env["SEBFRAME_DATABASE_URL"], data_dir=Path(env["SEBFRAME_DATA_DIR"]),
                    load_entrypoint_plugins=False)


async def _state(env: dict[str, str]) -> dict[str, Any]:
    """What the demo institution holds, and whether the connection file's client credentials verify."""
    services = Services.create(_settings(env))
    try:
        actor = actor_of((await demo_accounts(services.db)).exam_admin)
        params = ListParams(size=MAX_PAGE_SIZE)
        exams = (await services.exams.list(actor, params)).items
        attached = [await services.exams.configuration.attached(actor, exam.id) for exam in exams]
        server = decode_seb((Path(env["SEBFRAME_DATA_DIR"]) / CONNECTION_FILE).read_bytes()).settings
        access = await services.connection_configs.verify_client(server["sebServerConfiguration"]["clientName"],
                                                                 server["sebServerConfiguration"]["clientSecret"])
        return {
            "exams": [(exam.id, exam.status) for exam in exams],
            "configurations": [(item.configuration.name, item.configuration.status) for item in attached if item],
            "exam_configs": (await services.exam_configs.list(actor, params)).total,
            "connection_configs": (await services.connection_configs.list(actor, params)).total,
            "verified": access is not None and access.institution_id == actor.institution_id,
        }
    finally:
        await services.close()


def test_demo_command(env: dict[str, str], tmp_path: Path) -> None:
    runner = CliRunner()
    first = runner.invoke(cli, ["demo", "--server-url", "https://seb.example.org/"], env=env)
    assert first.exit_code == 0, first.output
    path = Path(env["SEBFRAME_DATA_DIR"]) / CONNECTION_FILE
    assert str(path.resolve()) in first.output
    assert "https://seb.example.org " in first.output and "sebframe serve" in first.output
    assert _logins(first.output) == ["admin", "demo-institution-admin", "demo-exam-admin", "demo-supporter"]
    seb = decode_seb(path.read_bytes()).settings
    assert seb["sebServerURL"] == "https://seb.example.org"
    server = seb["sebServerConfiguration"]
    assert server["pingInterval"] == 1000 and server["clientName"] and server["clientSecret"]
    state = asyncio.run(_state(env))
    assert server["institution"] == str(asyncio.run(_demo_institution_id(env)))
    assert len(state["exams"]) == 1 and state["exams"][0][1] == ExamStatus.RUNNING
    assert state["configurations"] == [("Demo Exam Configuration", ConfigStatus.IN_USE)]
    assert state["verified"]

    again = runner.invoke(cli, ["demo"], env=env)  # default server URL; nothing new
    assert again.exit_code == 0, again.output
    assert "http://127.0.0.1:8000 " in again.output and _logins(again.output) == []
    assert decode_seb(path.read_bytes()).settings["sebServerURL"] == "http://127.0.0.1:8000"
    assert asyncio.run(_state(env)) == {**state, "exam_configs": 1, "connection_configs": 1}

    out = tmp_path / "elsewhere.seb"
    external = runner.invoke(cli, ["demo", "--out", str(out)], env={**env, "SEBFRAME_EXTERNAL_URL": "https://x.org"})
    assert external.exit_code == 0, external.output
    assert decode_seb(out.read_bytes()).settings["sebServerURL"] == "https://x.org"

    bad = runner.invoke(cli, ["demo", "--server-url", "seb.example.org"], env=env)
    assert bad.exit_code == 1 and "invalid --server-url" in bad.output


def _logins(output: str) -> list[str]:
    """The usernames of the printed "First run" accounts (the indented lines after that heading)."""
    lines = output.splitlines()
    start = next((index for index, line in enumerate(lines) if line.startswith("First run")), None)
    if start is None:
        return []
    logins = []
    for line in lines[start + 1:]:
        if not line.startswith("  "):
            break
        logins.append(line.split()[0])
    return logins


async def _demo_institution_id(env: dict[str, str]) -> int:
    services = Services.create(_settings(env))
    try:
        return (await demo_accounts(services.db)).institution_id
    finally:
        await services.close()


def test_demo_after_a_start_without_demo_data(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: None)
    runner = CliRunner()
    plain = runner.invoke(cli, ["serve", "--no-demo"], env=env)
    assert plain.exit_code == 0, plain.output
    assert _logins(plain.output) == ["admin"]
    assert not (Path(env["SEBFRAME_DATA_DIR"]) / CONNECTION_FILE).exists()

    demo = runner.invoke(cli, ["demo"], env=env)  # adds the demo institution and its accounts
    assert demo.exit_code == 0, demo.output
    assert _logins(demo.output) == ["demo-institution-admin", "demo-exam-admin", "demo-supporter"]
    assert asyncio.run(_state(env))["verified"]


def test_first_serve_prepares_the_demo_exam(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: None)
    runner = CliRunner()
    first = runner.invoke(cli, ["serve", "--port", "8765"], env=env)
    assert first.exit_code == 0, first.output
    path = Path(env["SEBFRAME_DATA_DIR"]) / CONNECTION_FILE
    assert str(path.resolve()) in first.output and "Safe Exam Browser" in first.output
    assert decode_seb(path.read_bytes()).settings["sebServerURL"] == "http://127.0.0.1:8765"
    assert asyncio.run(_state(env))["exams"][0][1] == ExamStatus.RUNNING

    path.unlink()
    later = runner.invoke(cli, ["serve"], env=env)  # not the first run: no demo work
    assert later.exit_code == 0, later.output
    assert not path.exists()
