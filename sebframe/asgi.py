"""ASGI entry point for servers started by import string (``uvicorn --factory sebframe.asgi:create``)."""

from __future__ import annotations

from sebframe.app import Server, create_app


def create() -> Server:
    return create_app()
