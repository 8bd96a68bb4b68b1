"""Registration: descriptors through the hooks, an import-light plugin module, the installed entry point."""

from __future__ import annotations

import subprocess
import sys
from importlib import metadata

import pytest
from sebframe_lms_moodle import plugin
from sebframe_lms_moodle.settings import MoodleSettings

from sebframe import create_http_client
from sebframe.testing import registry_with
from sebframe.types import IntegrationContext, LmsAdapter, LmsFeature, RestrictionApi


def test_registers_both_moodle_types_and_the_plugin_restriction() -> None:
    registry = registry_with(plugin)
    types = registry.lms_types()
    assert types["MOODLE"].features == frozenset({LmsFeature.COURSE_API})
    assert types["MOODLE_PLUGIN"].features == frozenset({LmsFeature.COURSE_API, LmsFeature.SEB_RESTRICTION})
    assert types["MOODLE"].settings_model is MoodleSettings is types["MOODLE_PLUGIN"].settings_model
    restrictions = registry.restriction_types()
    assert "MOODLE_PLUGIN" in restrictions and "MOODLE" not in restrictions
    assert restrictions["MOODLE_PLUGIN"].fields == ()
    assert not [failure for failure in registry.failures if failure.name.endswith("plugin")]

    context = IntegrationContext(instance_id=1, institution_id=1, url="https://moodle.example.org",
                                 settings=MoodleSettings(token="t"), http=create_http_client())
    assert isinstance(types["MOODLE"].create_adapter(context), LmsAdapter)
    assert isinstance(types["MOODLE_PLUGIN"].create_adapter(context), LmsAdapter)
    assert isinstance(restrictions["MOODLE_PLUGIN"].create_api(context), RestrictionApi)


def test_plugin_module_is_import_light() -> None:
    code = ("import sys, sebframe_lms_moodle.plugin; "
            "print(sorted(m for m in sys.modules if m.startswith('sebframe_lms_moodle')))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "['sebframe_lms_moodle', 'sebframe_lms_moodle.plugin', 'sebframe_lms_moodle.settings']"


def _installed() -> bool:
    return any(ep.name == "lms_moodle" for ep in metadata.entry_points(group="sebframe.plugins"))


@pytest.mark.skipif(not _installed(), reason="sebframe-lms-moodle is not installed (pip install -e plugins/lms_moodle)")
def test_installed_plugin_is_listed_by_the_cli() -> None:
    (entry_point,) = [ep for ep in metadata.entry_points(group="sebframe.plugins") if ep.name == "lms_moodle"]
    assert entry_point.value == "sebframe_lms_moodle.plugin"
    listing = subprocess.run([sys.executable, "-m", "sebframe", "plugins", "list"], capture_output=True, text=True,
                             check=True, timeout=60).stdout
    line = next(line for line in listing.splitlines() if line.startswith("lms_moodle"))
    assert "sebframe-lms-moodle" in line
    assert "LMS type MOODLE, LMS type MOODLE_PLUGIN, restriction API MOODLE_PLUGIN" in line
