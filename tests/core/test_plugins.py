"""The plugin system: discovery, failure isolation, conflicts, blocking, documentation of every hook."""

from __future__ import annotations

import inspect
import re
import sys
import textwrap
from pathlib import Path

import pytest
from pydantic import BaseModel

from sebframe import hookimpl
from sebframe.core.plugins import PluginConflict, PluginRegistry
from sebframe.settings import Settings
from sebframe.testing import registry_with
from sebframe.types import LmsType, MenuItem

DOCS = Path(__file__).resolve().parents[2] / "docs" / "plugin-hooks.md"


class _Settings(BaseModel):
    url: str = ""


def _lms(name: str) -> LmsType:
    return LmsType(name=name, display_name=name.title(), settings_model=_Settings,
                   create_adapter=lambda context: None)  # type: ignore[arg-type,return-value]


class GoodPlugin:
    __name__ = "good"

    @hookimpl
    def sebframe_lms_types(self):  # type: ignore[no-untyped-def]
        yield _lms("good_lms")


class RaisingPlugin:
    __name__ = "raising"

    @hookimpl
    def sebframe_lms_types(self):  # type: ignore[no-untyped-def]
        raise RuntimeError("boom")


class DuplicatePlugin:
    __name__ = "duplicate"

    @hookimpl
    def sebframe_lms_types(self):  # type: ignore[no-untyped-def]
        yield _lms("GOOD_LMS")


def test_core_works_with_no_plugin_installed() -> None:
    registry = PluginRegistry.load(load_entrypoints=False)
    assert list(registry.lms_types()) == ["TESTING"]  # the built-in Testing LMS
    assert [info.name for info in registry.installed()] == ["sebframe.core.lms.testing_lms", "sebframe.web.menu"]


def test_descriptor_names_are_normalised_and_collected() -> None:
    registry = registry_with(GoodPlugin())
    assert list(registry.lms_types()) == ["GOOD_LMS", "TESTING"]
    assert registry.get_lms_type("GOOD_LMS").display_name == "Good_Lms"


def test_unknown_type_names_the_choices() -> None:
    registry = PluginRegistry.load(load_entrypoints=False, extra_plugins=[GoodPlugin()])
    with pytest.raises(LookupError, match="choose one of: GOOD_LMS, TESTING"):
        registry.get_lms_type("MOODLE")


def test_a_raising_hook_is_logged_and_skipped(caplog: pytest.LogCaptureFixture) -> None:
    registry = PluginRegistry.load(load_entrypoints=False, extra_plugins=[GoodPlugin(), RaisingPlugin()])
    assert list(registry.lms_types()) == ["GOOD_LMS", "TESTING"]
    assert any(f.name == "raising" and "boom" in f.error for f in registry.failures)
    assert "raising failed in sebframe_lms_types" in caplog.text


def test_two_plugins_with_one_name_are_a_conflict() -> None:
    registry = PluginRegistry.load(load_entrypoints=False, extra_plugins=[GoodPlugin(), DuplicatePlugin()])
    with pytest.raises(PluginConflict, match="'good'.*'duplicate'|'duplicate'.*'good'"):
        registry.lms_types()


def test_a_malformed_hookimpl_is_skipped() -> None:
    class Misspelled:
        __name__ = "misspelled"

        @hookimpl
        def sebframe_lms_types(self, no_such_argument):  # type: ignore[no-untyped-def]
            return []

    registry = PluginRegistry.load(load_entrypoints=False, extra_plugins=[Misspelled(), GoodPlugin()])
    assert any(f.name == "misspelled" and f.stage == "register" for f in registry.failures)
    assert list(registry.lms_types()) == ["GOOD_LMS", "TESTING"]


def _install_fake_distribution(root: Path, name: str, module_source: str) -> None:
    """A plugin 'installed' on sys.path: a module plus dist-info with a sebframe.plugins entry point."""
    (root / f"sebframe_{name}.py").write_text(textwrap.dedent(module_source))
    dist = root / f"sebframe_{name}-1.2.3.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: sebframe-{name}\nVersion: 1.2.3\n")
    (dist / "entry_points.txt").write_text(f"[sebframe.plugins]\n{name} = sebframe_{name}\n")


def test_entry_point_plugins_load_and_a_broken_one_is_skipped(tmp_path: Path, monkeypatch) -> None:
    _install_fake_distribution(tmp_path, "fine", """
        from sebframe import hookimpl
        from sebframe.types import MenuItem

        @hookimpl
        def sebframe_menu_items(actor):
            yield MenuItem("Tools", "Fine tool", "/plugins/fine/")
    """)
    _install_fake_distribution(tmp_path, "broken", "raise ImportError('missing SDK')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        registry = PluginRegistry.load(Settings(data_dir=tmp_path))
    finally:
        for module in ("sebframe_fine", "sebframe_broken"):
            sys.modules.pop(module, None)
    infos = {info.name: info for info in registry.installed()}
    assert infos["fine"].distribution == "sebframe-fine" and infos["fine"].version == "1.2.3"
    assert "sebframe_menu_items" in infos["fine"].hooks
    assert [(f.name, f.stage) for f in registry.failures] == [("broken", "load")]
    items = registry.menu_items(actor=None)  # type: ignore[arg-type]
    assert MenuItem("Tools", "Fine tool", "/plugins/fine/") in items


def test_disabled_plugins_are_not_registered(tmp_path: Path, monkeypatch) -> None:
    _install_fake_distribution(tmp_path, "unwanted", """
        from sebframe import hookimpl
        @hookimpl
        def sebframe_routes():
            return []
    """)
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        registry = PluginRegistry.load(Settings(data_dir=tmp_path, disable_plugins="unwanted"))
    finally:
        sys.modules.pop("sebframe_unwanted", None)
    assert "unwanted" not in {info.name for info in registry.installed()}


def _hookspecs() -> dict[str, inspect.Signature]:
    registry = PluginRegistry.load(load_entrypoints=False)
    specs = {}
    for name in dir(registry.pm.hook):
        if name.startswith("sebframe_"):
            caller = getattr(registry.pm.hook, name)
            specs[name] = inspect.signature(caller.spec.function)
    return specs


def test_every_hook_is_documented_with_its_signature() -> None:
    documented = dict(re.findall(r"^### (sebframe_\w+)\(([^)]*)\)$", DOCS.read_text(), flags=re.MULTILINE))
    specs = _hookspecs()
    assert specs, "no hookspecs found"
    for name, signature in specs.items():
        assert name in documented, f"{name} is not documented in docs/plugin-hooks.md"
        assert documented[name] == ", ".join(signature.parameters), f"signature of {name} differs in the docs"
    assert set(documented) <= set(specs), "docs/plugin-hooks.md documents hooks that do not exist"
