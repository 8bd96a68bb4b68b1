"""Files only their owner may read, for everything sebframe writes that holds a secret.

The generated secret key, the initial passwords and ``.seb`` files (a connection configuration carries its
OAuth client secret) are created with mode 0600 from the start, never written first and restricted after,
so there is no moment at which another user of the machine can read them. The data directory is created
0700.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

PRIVATE_FILE_MODE = 0o600
PRIVATE_DIR_MODE = 0o700


def write_private_file(path: Path, data: bytes, *, append: bool = False, exclusive: bool = False) -> None:
    """Write ``data`` to ``path``, a new file created 0600. An existing regular file is emptied (unless
    ``append``) and made 0600 before anything is written to it; ``exclusive`` refuses an existing file."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if append else os.O_TRUNC) | (os.O_EXCL if exclusive else 0)
    fd = os.open(path, flags, PRIVATE_FILE_MODE)
    with os.fdopen(fd, "wb") as handle:
        status = os.fstat(fd)
        # An older file may be readable by others; a device or pipe (--out /dev/stdout) is not ours to change.
        if stat.S_ISREG(status.st_mode) and stat.S_IMODE(status.st_mode) & ~PRIVATE_FILE_MODE:
            os.fchmod(fd, PRIVATE_FILE_MODE)
        handle.write(data)


def ensure_private_dir(path: Path) -> Path:
    """Create ``path`` (and missing parents) with the last part 0700; an existing directory is left as it is."""
    path.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
    return path
