"""Helpers for testing plugins without installing them (part of the public plugin surface)."""

from __future__ import annotations

from sebframe.core.plugins import PluginRegistry


def registry_with(*plugins: object) -> PluginRegistry:
    """A plugin registry holding the built-ins and ``plugins`` (modules or objects with hookimpls) only."""
    return PluginRegistry.load(load_entrypoints=False, extra_plugins=plugins)


__all__ = ["registry_with"]
