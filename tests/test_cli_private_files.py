"""What the command line writes that holds a secret is owner-only (0600) from the start: the generated
secret key, the initial passwords and the connection files, in a data directory created 0700."""

from __future__ import annotations

import asyncio
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from sebframe.cli import cli
from sebframe.core.bootstrap import CREDENTIALS_FILE
from sebframe.core.demo import CONNECTION_FILE
from sebframe.core.sebconfig import decode_seb
from sebframe.settings import SECRET_KEY_FILE
from tests.conftest import empty_tables
from tests.core.test_private_files import created_not_changed  # noqa: F401  (a fixture)


@pytest.fixture
def env(database_url: str, tmp_path: Path) -> Iterator[dict[str, str | None]]:
    asyncio.run(empty_tables(database_url))
    yield {"SEBFRAME_DATABASE_URL": database_url, "SEBFRAME_DATA_DIR": str(tmp_path / "data"),
           "SEBFRAME_LOAD_ENTRYPOINT_PLUGINS": "false", "SEBFRAME_EXTERNAL_URL": "",
           "SEBFRAME_SECRET_KEY": None}  # unset: generated into the data directory
    asyncio.run(empty_tables(database_url))


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.usefixtures("created_not_changed")
def test_the_first_serve_writes_its_secrets_owner_only(env: dict[str, str | None],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: None)
    result = CliRunner().invoke(cli, ["serve"], env=env)
    assert result.exit_code == 0, result.output
    data = Path(str(env["SEBFRAME_DATA_DIR"]))
    assert mode(data) == 0o700
    assert {name: mode(data / name) for name in (SECRET_KEY_FILE, CREDENTIALS_FILE, CONNECTION_FILE)} == {
        SECRET_KEY_FILE: 0o600, CREDENTIALS_FILE: 0o600, CONNECTION_FILE: 0o600}


def test_demo_replaces_a_readable_connection_file_with_an_owner_only_one(env: dict[str, str | None],
                                                                       tmp_path: Path) -> None:
    out = tmp_path / "demo.seb"
    out.write_bytes(b"left over")
    out.chmod(0o644)
    result = CliRunner().invoke(cli, ["demo", "--out", str(out)], env=env)
    assert result.exit_code == 0, result.output
    assert mode(out) == 0o600
    assert decode_seb(out.read_bytes()).settings["sebServerConfiguration"]["clientSecret"]
