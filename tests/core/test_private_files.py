"""Files holding secrets are owner-only from the moment they exist."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from sebframe.core.private_files import ensure_private_dir, write_private_file


@pytest.fixture
def created_not_changed(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No umask and no chmod: a file can then be 0600 only if it was created 0600, never readable by others
    between its creation and a later chmod."""

    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"permissions changed after creation: {args}")

    monkeypatch.setattr(os, "chmod", forbidden)
    monkeypatch.setattr(os, "fchmod", forbidden)
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_file_is_created_owner_only(tmp_path: Path, created_not_changed: None) -> None:
    path = tmp_path / "secret"
    write_private_file(path, b"one\n")
    write_private_file(path, b"two\n", append=True)
    assert (path.read_bytes(), mode(path)) == (b"one\ntwo\n", 0o600)
    with pytest.raises(FileExistsError):
        write_private_file(path, b"three\n", exclusive=True)
    assert path.read_bytes() == b"one\ntwo\n"


def test_a_readable_file_is_made_owner_only_and_replaced(tmp_path: Path) -> None:
    path = tmp_path / "old.seb"
    path.write_bytes(b"an older secret, much longer than the new one")
    path.chmod(0o644)
    write_private_file(path, b"new")
    assert (path.read_bytes(), mode(path)) == (b"new", 0o600)


def test_a_device_is_written_not_changed(created_not_changed: None) -> None:
    write_private_file(Path(os.devnull), b"to nowhere")  # e.g. --out /dev/stdout
    assert mode(Path(os.devnull)) == 0o666


def test_a_new_directory_is_owner_only_an_existing_one_kept(tmp_path: Path, created_not_changed: None) -> None:
    assert mode(ensure_private_dir(tmp_path / "data")) == 0o700
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    assert mode(ensure_private_dir(shared)) == 0o755
