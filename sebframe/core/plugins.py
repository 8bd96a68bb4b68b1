"""Finding, loading and calling plugins.

stevedore discovers and imports the installed distributions of entry-point group ``sebframe.plugins``
(a plugin that fails to import is logged and skipped); pluggy registers each loaded module next to the
built-in plugins and calls the hooks. Registration hooks are collected one implementation at a time, so
a plugin whose hook raises is logged and skipped instead of taking the server down.
"""

from __future__ import annotations

import importlib
import inspect
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any, TypeVar

import pluggy
from stevedore import ExtensionManager

from sebframe.hookspecs import PROJECT_NAME, SPEC_MODULES
from sebframe.settings import Settings
from sebframe.types import AdmissionCheck, IndicatorType, LmsType, ProctoringType, RestrictionType

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "sebframe.plugins"


def builtin_plugins() -> list[tuple[str, object]]:
    """Core features registered through the same hooks as third-party plugins, by name; made anew for each
    registry, so the Testing LMS counts its demo quizzes' times from when this server started."""
    from sebframe.core.lms.testing_lms import PLUGIN_NAME, TestingLms
    from sebframe.web import menu

    return [("sebframe.web.menu", menu), (PLUGIN_NAME, TestingLms())]


T = TypeVar("T")


class PluginConflict(Exception):
    """Two plugins provide the same name."""


@dataclass(frozen=True, slots=True)
class PluginInfo:
    name: str
    distribution: str | None
    version: str | None
    hooks: tuple[str, ...]
    builtin: bool


@dataclass(frozen=True, slots=True)
class PluginFailure:
    name: str
    stage: str  # "load", "register" or the hook name
    error: str


def create_plugin_manager() -> pluggy.PluginManager:
    pm = pluggy.PluginManager(PROJECT_NAME)
    for module_name in SPEC_MODULES:
        pm.add_hookspecs(importlib.import_module(module_name))
    return pm


@dataclass
class PluginRegistry:
    """The loaded plugins and what they provide, with by-name lookups that report conflicts."""

    pm: pluggy.PluginManager
    failures: list[PluginFailure] = field(default_factory=list)
    distributions: dict[str, tuple[str, str]] = field(default_factory=dict)  # plugin name -> (dist, version)
    builtin_names: set[str] = field(default_factory=set)

    @classmethod
    def load(
        cls,
        settings: Settings | None = None,
        *,
        extra_plugins: Iterable[object] = (),
        load_entrypoints: bool | None = None,
    ) -> PluginRegistry:
        registry = cls(create_plugin_manager())
        disabled = set(settings.disable_plugins) if settings else set()
        for name in disabled:
            registry.pm.set_blocked(name)
        for name, plugin in builtin_plugins():
            registry._register(plugin, name, builtin=True)
        if load_entrypoints if load_entrypoints is not None else (settings is None or settings.load_entrypoint_plugins):
            registry.load_entrypoints(disabled)
        for plugin in extra_plugins:
            registry._register(plugin, getattr(plugin, "__name__", type(plugin).__name__), builtin=False)
        return registry

    def load_entrypoints(self, disabled: Iterable[str] = ()) -> None:
        def on_failure(_manager: Any, entry_point: metadata.EntryPoint, error: BaseException) -> None:
            log.error("plugin %s could not be loaded and is skipped: %s", entry_point.name, error)
            self.failures.append(PluginFailure(entry_point.name, "load", f"{type(error).__name__}: {error}"))

        manager = ExtensionManager(
            namespace=ENTRY_POINT_GROUP, invoke_on_load=False, on_load_failure_callback=on_failure
        )
        # stevedore's cached entry points do not know their distribution; importlib.metadata does.
        owners = {ep.name: ep.dist for ep in metadata.entry_points(group=ENTRY_POINT_GROUP) if ep.dist}
        for extension in manager:
            if extension.name in set(disabled):
                log.info("plugin %s is disabled by configuration", extension.name)
                continue
            dist = owners.get(extension.name)
            if dist is not None:
                self.distributions[extension.name] = (dist.metadata["Name"], dist.version)
            self._register(extension.plugin, extension.name, builtin=False)

    def add_builtin(self, plugin: object, name: str) -> None:
        """Register a core feature built at startup (it needs the services, e.g. the location gate); a second
        call with the same name replaces the first."""
        if self.pm.has_plugin(name):
            self.pm.unregister(name=name)
        self._register(plugin, name, builtin=True)

    def _register(self, plugin: object, name: str, *, builtin: bool) -> None:
        if self.pm.is_blocked(name):
            return
        try:
            self.pm.register(plugin, name=name)
        except Exception as error:  # a malformed hookimpl must not stop the server
            log.error("plugin %s could not be registered and is skipped: %s", name, error)
            self.failures.append(PluginFailure(name, "register", f"{type(error).__name__}: {error}"))
            return
        if builtin:
            self.builtin_names.add(name)

    # -- calling hooks -------------------------------------------------------------------------

    def collect(self, hook_name: str, **kwargs: Any) -> list[tuple[str, Any]]:
        """Call every implementation of a hook alone; returns (plugin name, item) for each result item.

        Results that are iterables are flattened. A raising implementation is logged and left out.
        """
        results: list[tuple[str, Any]] = []
        hook = getattr(self.pm.hook, hook_name)
        for impl in reversed(hook.get_hookimpls()):
            args = {name: kwargs[name] for name in impl.argnames if name in kwargs}
            try:
                value = impl.function(**args)
                items = list(value) if _is_iterable_result(value) else [value]
            except Exception as error:
                log.exception("plugin %s failed in %s and is skipped there", impl.plugin_name, hook_name)
                self.failures.append(PluginFailure(impl.plugin_name, hook_name, f"{type(error).__name__}: {error}"))
                continue
            results.extend((impl.plugin_name, item) for item in items if item is not None)
        return results

    def _by_name(self, hook_name: str, kind: type[T], key: Callable[[T], str]) -> dict[str, T]:
        found: dict[str, tuple[str, T]] = {}
        for plugin_name, item in self.collect(hook_name):
            if not isinstance(item, kind):
                log.error("plugin %s returned %r from %s; expected %s", plugin_name, item, hook_name, kind.__name__)
                continue
            name = key(item)
            if name in found:
                raise PluginConflict(
                    f"{kind.__name__} {name!r} is provided by both {found[name][0]!r} and {plugin_name!r}; "
                    f"disable one with SEBFRAME_DISABLE_PLUGINS"
                )
            found[name] = (plugin_name, item)
        return {name: item for name, (_, item) in sorted(found.items())}

    def lms_types(self) -> dict[str, LmsType]:
        return self._by_name("sebframe_lms_types", LmsType, lambda item: item.name)

    def restriction_types(self) -> dict[str, RestrictionType]:
        return self._by_name("sebframe_restriction_apis", RestrictionType, lambda item: item.lms_type)

    def indicator_types(self) -> dict[str, IndicatorType]:
        return self._by_name("sebframe_indicator_types", IndicatorType, lambda item: item.name)

    def proctoring_types(self) -> dict[str, ProctoringType]:
        return self._by_name("sebframe_proctoring_services", ProctoringType, lambda item: item.name)

    def admission_checks(self) -> list[AdmissionCheck]:
        return [item for _, item in self.collect("sebframe_admission_checks") if isinstance(item, AdmissionCheck)]

    def get_lms_type(self, name: str) -> LmsType:
        types = self.lms_types()
        if name not in types:
            choices = ", ".join(types) or "none installed"
            raise LookupError(f"LMS type {name!r} is not available; choose one of: {choices}")
        return types[name]

    # -- listing -------------------------------------------------------------------------------

    def installed(self) -> list[PluginInfo]:
        infos = []
        for name, plugin in self.pm.list_name_plugin():
            if plugin is None:
                continue
            hooks = tuple(sorted(caller.name for caller in self.pm.get_hookcallers(plugin) or []))
            dist, version = self.distributions.get(name, (None, None))
            infos.append(PluginInfo(name, dist, version, hooks, name in self.builtin_names))
        return sorted(infos, key=lambda info: (info.builtin, info.name))


def _is_iterable_result(value: object) -> bool:
    return isinstance(value, Iterable) and not isinstance(value, str | bytes | dict) and not inspect.isawaitable(value)
