"""Finding, loading and calling plugins.

stevedore discovers and imports the installed distributions of entry-point group ``sebframe.plugins``
(a plugin that fails to import is logged and skipped); pluggy registers each loaded module next to the
built-in plugins. Every hook is called through a typed method of ``PluginRegistry`` (no hook names as
strings elsewhere), one implementation at a time, so a plugin whose hook raises is logged and skipped
instead of taking the server down.

pluggy's safety nets apply at registration: a plugin implementing a hook that does not exist (a typo such
as ``sebframe_lms_type``) or a hook wrapper is refused with a failure that ``sebframe plugins list`` shows.
Wrappers are refused because hooks are called one implementation at a time, where a wrapper would
silently never run.
"""

from __future__ import annotations

import difflib
import importlib
import inspect
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from types import UnionType
from typing import TYPE_CHECKING, Any, TypeGuard, TypeVar, overload

import pluggy
from stevedore import ExtensionManager

from sebframe.hookspecs import PROJECT_NAME, SPEC_MODULES
from sebframe.settings import Settings
from sebframe.types import (
    Actor,
    AdmissionCheck,
    IndicatorType,
    LmsType,
    MenuItem,
    ProctoringType,
    RestrictionType,
    StartupContext,
)

if TYPE_CHECKING:
    import click
    import jinja2
    from starlette.applications import Starlette
    from starlette.routing import BaseRoute

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
    provides: tuple[str, ...] = ()  # e.g. "LMS type OPEN_EDX", "indicator type LAST_PING"


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
            problem = self._unsupported_hooks(plugin)
        except Exception as error:  # a malformed hookimpl must not stop the server
            log.error("plugin %s could not be registered and is skipped: %s", name, error)
            self.failures.append(PluginFailure(name, "register", f"{type(error).__name__}: {error}"))
            return
        if problem:
            self.pm.unregister(plugin)
            log.error("plugin %s is skipped: %s", name, problem)
            self.failures.append(PluginFailure(name, "register", problem))
            return
        if builtin:
            self.builtin_names.add(name)
        self.pm.check_pending()  # holds after the refusals above; a failure here is a bug in this module

    def _unsupported_hooks(self, plugin: object) -> str | None:
        """Why the just-registered ``plugin`` cannot be used, or None: unknown hook names and hook wrappers."""
        problems = []
        known = [name for name, caller in vars(self.pm.hook).items() if caller.spec is not None]
        for caller in self.pm.get_hookcallers(plugin) or []:
            if caller.spec is None:
                guess = difflib.get_close_matches(caller.name, known, n=1)
                hint = f" (did you mean {guess[0]}?)" if guess else ""
                problems.append(f"{caller.name} is not a sebframe hook{hint}")
                continue
            if any(impl.plugin is plugin and (impl.hookwrapper or impl.wrapper) for impl in caller.get_hookimpls()):
                problems.append(f"{caller.name} is a hook wrapper; sebframe calls each implementation alone "
                                "and does not run wrappers")
        return "; ".join(problems) or None

    # -- calling hooks -------------------------------------------------------------------------

    def _collect(self, hook: pluggy.HookCaller, **kwargs: Any) -> list[tuple[str, Any]]:
        """Call every implementation of a hook alone; returns (plugin name, item) for each result item.

        Results that are iterables are flattened. A raising implementation is logged and left out.
        """
        results: list[tuple[str, Any]] = []
        hook_name = hook.name
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

    @overload
    def _typed(self, hook: pluggy.HookCaller, kind: type[T], **kwargs: Any) -> list[tuple[str, T]]: ...

    @overload
    def _typed(self, hook: pluggy.HookCaller, kind: UnionType, **kwargs: Any) -> list[tuple[str, Any]]: ...

    def _typed(self, hook: pluggy.HookCaller, kind: type[Any] | UnionType, **kwargs: Any) -> list[tuple[str, Any]]:
        """``_collect`` keeping only items of ``kind``; others are logged as the plugin's mistake."""
        items = []
        for plugin_name, item in self._collect(hook, **kwargs):
            if isinstance(item, kind):
                items.append((plugin_name, item))
            else:  # a union (``str | Path``) has no __name__ but says itself what it is
                log.error("plugin %s returned %r from %s; expected %s", plugin_name, item, hook.name,
                          getattr(kind, "__name__", kind))
        return items

    def _by_name(self, hook: pluggy.HookCaller, kind: type[T], key: Callable[[T], str]) -> dict[str, T]:
        found: dict[str, tuple[str, T]] = {}
        for plugin_name, item in self._typed(hook, kind):
            name = key(item)
            if name in found:
                raise PluginConflict(
                    f"{kind.__name__} {name!r} is provided by both {found[name][0]!r} and {plugin_name!r}; "
                    f"disable one with SEBFRAME_DISABLE_PLUGINS"
                )
            found[name] = (plugin_name, item)
        return {name: item for name, (_, item) in sorted(found.items())}

    def lms_types(self) -> dict[str, LmsType]:
        return self._by_name(self.pm.hook.sebframe_lms_types, LmsType, lambda item: item.name)

    def restriction_types(self) -> dict[str, RestrictionType]:
        return self._by_name(self.pm.hook.sebframe_restriction_apis, RestrictionType, lambda item: item.lms_type)

    def indicator_types(self) -> dict[str, IndicatorType]:
        return self._by_name(self.pm.hook.sebframe_indicator_types, IndicatorType, lambda item: item.name)

    def proctoring_types(self) -> dict[str, ProctoringType]:
        return self._by_name(self.pm.hook.sebframe_proctoring_services, ProctoringType, lambda item: item.name)

    def admission_checks(self) -> list[AdmissionCheck]:
        return [item for _, item in self._typed(self.pm.hook.sebframe_admission_checks, AdmissionCheck)]

    async def startup(self, app: Starlette, context: StartupContext) -> None:
        """Run every ``sebframe_startup``; one that raises (or whose awaitable raises) is logged, not fatal."""
        for plugin_name, result in self._collect(self.pm.hook.sebframe_startup, app=app, context=context):
            if inspect.isawaitable(result):
                try:
                    await result
                except Exception as error:
                    log.exception("plugin %s failed in sebframe_startup", plugin_name)
                    self.failures.append(PluginFailure(plugin_name, "sebframe_startup",
                                                       f"{type(error).__name__}: {error}"))

    def routes(self) -> list[BaseRoute]:
        from starlette.routing import BaseRoute

        return [route for _, route in self._typed(self.pm.hook.sebframe_routes, BaseRoute)]

    def menu_items(self, actor: Actor) -> list[MenuItem]:
        return [item for _, item in self._typed(self.pm.hook.sebframe_menu_items, MenuItem, actor=actor)]

    def template_dirs(self) -> list[Path]:
        return [Path(item) for _, item in self._typed(self.pm.hook.sebframe_template_dirs, str | Path)]

    def prepare_jinja_environment(self, env: jinja2.Environment) -> None:
        self._collect(self.pm.hook.sebframe_prepare_jinja_environment, env=env)

    def register_commands(self, cli: click.Group) -> None:
        self._collect(self.pm.hook.sebframe_register_commands, cli=cli)

    def get_lms_type(self, name: str) -> LmsType:
        types = self.lms_types()
        if name not in types:
            choices = ", ".join(types) or "none installed"
            raise LookupError(f"LMS type {name!r} is not available; choose one of: {choices}")
        return types[name]

    # -- listing -------------------------------------------------------------------------------

    def names(self) -> tuple[str, ...]:
        """Every registered plugin, built-ins included."""
        return tuple(name for name, plugin in self.pm.list_name_plugin() if plugin is not None)

    def installed(self) -> list[PluginInfo]:
        provided = self._provided()
        infos = []
        for name, plugin in self.pm.list_name_plugin():
            if plugin is None:
                continue
            hooks = tuple(sorted(caller.name for caller in self.pm.get_hookcallers(plugin) or []))
            dist, version = self.distributions.get(name, (None, None))
            infos.append(PluginInfo(name, dist, version, hooks, name in self.builtin_names,
                                    tuple(provided.get(name, ()))))
        return sorted(infos, key=lambda info: (info.builtin, info.name))

    def _provided(self) -> dict[str, list[str]]:
        """What each plugin contributes through the registration hooks, in words."""
        hook = self.pm.hook
        described: list[tuple[str, list[tuple[str, Any]], Callable[[Any], str]]] = [
            ("LMS type", self._typed(hook.sebframe_lms_types, LmsType), lambda item: item.name),
            ("restriction API", self._typed(hook.sebframe_restriction_apis, RestrictionType),
             lambda item: item.lms_type),
            ("indicator type", self._typed(hook.sebframe_indicator_types, IndicatorType), lambda item: item.name),
            ("proctoring service", self._typed(hook.sebframe_proctoring_services, ProctoringType),
             lambda item: item.name),
            ("admission check", self._typed(hook.sebframe_admission_checks, AdmissionCheck), lambda item: item.name),
            ("routes", self._collect(hook.sebframe_routes), lambda route: str(getattr(route, "path", route))),
            ("templates", self._typed(hook.sebframe_template_dirs, str | Path), str),
        ]
        provided: dict[str, list[str]] = {}
        for label, items, key in described:
            for plugin_name, item in items:
                provided.setdefault(plugin_name, []).append(f"{label} {key(item)}")
        return provided


def _is_iterable_result(value: object) -> TypeGuard[Iterable[Any]]:
    return isinstance(value, Iterable) and not isinstance(value, str | bytes | dict) and not inspect.isawaitable(value)
