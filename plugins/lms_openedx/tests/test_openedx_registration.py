"""The plugin registers OPEN_EDX and its restriction API; installed, `sebframe plugins list` shows it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError
from sebframe_lms_openedx import plugin
from sebframe_lms_openedx.settings import OpenEdxSettings

from sebframe.testing import registry_with
from sebframe.types import ChoiceSource, IntegrationContext, LmsAdapter, LmsFeature, RestrictionApi


def test_registers_the_lms_type_and_restriction_api() -> None:
    registry = registry_with(plugin)
    lms_type = registry.get_lms_type("OPEN_EDX")
    assert lms_type.display_name == "Open edX"
    assert lms_type.features == {LmsFeature.COURSE_API, LmsFeature.SEB_RESTRICTION}
    assert lms_type.settings_model is OpenEdxSettings
    restriction = registry.restriction_types()["OPEN_EDX"]
    fields = {field.name: field for field in restriction.fields}
    assert list(fields) == ["WHITELIST_PATHS", "BLACKLIST_CHAPTERS", "PERMISSION_COMPONENTS", "USER_BANNING_ENABLED"]
    assert fields["WHITELIST_PATHS"].choices == ("about", "course-outline", "courseware", "discussion", "progress",
                                                 "wiki")
    assert fields["PERMISSION_COMPONENTS"].choices == (
        "AlwaysAllowStaff", "CheckSEBHashBrowserExamKey", "CheckSEBHashConfigKey",
        "CheckSEBHashBrowserExamKeyOrConfigKey")
    assert fields["WHITELIST_PATHS"].multiple and fields["BLACKLIST_CHAPTERS"].multiple
    # The chapters are the course's: the core lists them through the adapter, the plugin only declares it.
    assert fields["BLACKLIST_CHAPTERS"].choices_from == ChoiceSource.CHAPTERS
    assert not fields["BLACKLIST_CHAPTERS"].choices
    assert not registry.failures


def test_descriptors_create_working_objects() -> None:
    registry = registry_with(plugin)
    settings = OpenEdxSettings.model_validate({"client_id": "id", "client_secret": "secret"})
    context = IntegrationContext(instance_id=1, institution_id=1, url="https://lms.example.org", settings=settings,
                                 http=httpx.AsyncClient())
    assert isinstance(registry.get_lms_type("OPEN_EDX").create_adapter(context), LmsAdapter)
    assert isinstance(registry.restriction_types()["OPEN_EDX"].create_api(context), RestrictionApi)


def test_settings_model() -> None:
    settings = OpenEdxSettings.model_validate({"client_id": " id ", "client_secret": "s3cret"})
    assert settings.client_id == "id" and "s3cret" not in repr(settings)
    for bad in ({"client_id": "", "client_secret": "x"}, {"client_id": "id", "client_secret": "  "},
                {"client_id": "id"}, {"client_id": "id", "client_secret": "x", "url": "extra"}):
        with pytest.raises(ValidationError):
            OpenEdxSettings.model_validate(bad)


def test_plugin_module_is_import_light() -> None:
    code = ("import sys, sebframe_lms_openedx.plugin; "
            "print(sorted(m for m in sys.modules if m.startswith('sebframe_lms_openedx')))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert "client" not in loaded.stdout and "adapter" not in loaded.stdout and "restriction" not in loaded.stdout


def test_installed_plugin_is_listed(tmp_path: Path) -> None:
    try:
        metadata.distribution("sebframe-lms-openedx")
    except metadata.PackageNotFoundError:
        pytest.skip("sebframe-lms-openedx is not installed (pip install -e plugins/lms_openedx)")
    env = {**os.environ, "SEBFRAME_DATA_DIR": str(tmp_path / "data"), "SEBFRAME_LOAD_ENTRYPOINT_PLUGINS": "true"}
    env.pop("SEBFRAME_DISABLE_PLUGINS", None)
    listed = subprocess.run([sys.executable, "-m", "sebframe", "plugins", "list", "--json"], capture_output=True,
                            text=True, env=env, cwd=tmp_path, timeout=60)
    assert listed.returncode == 0, listed.stderr
    plugins = {entry["name"]: entry for entry in json.loads(listed.stdout)["plugins"]}
    entry = plugins["lms_openedx"]
    assert entry["distribution"] == "sebframe-lms-openedx"
    assert set(entry["hooks"]) == {"sebframe_lms_types", "sebframe_restriction_apis"}
