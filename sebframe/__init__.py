"""sebframe: a plugin-based server for Safe Exam Browser exams.

Plugins import from here, ``sebframe.types`` and ``sebframe.testing`` only.
"""

from __future__ import annotations

from importlib import metadata

from sebframe.core.http import create_http_client, describe_http_failure
from sebframe.hookspecs import hookimpl

try:
    __version__ = metadata.version("sebframe")
except metadata.PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"

__all__ = ["__version__", "create_http_client", "describe_http_failure", "hookimpl"]
