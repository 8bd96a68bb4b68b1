"""ASGI entry point for servers started by import string (``uvicorn --factory sebframe.asgi:create``)."""

from __future__ import annotations

from starlette.applications import Starlette

from sebframe.app import create_app


def create() -> Starlette:
    return create_app()
