from __future__ import annotations

import pytest
from pydantic import SecretStr, ValidationError
from sebframe_proctoring_zoom import plugin
from sebframe_proctoring_zoom.settings import ZoomSettings

from sebframe.testing import registry_with
from sebframe.types import ProctoringFeature

BASE = {"account_id": "a", "client_id": "c", "client_secret": "s", "sdk_client_id": "k", "sdk_client_secret": "t",
        "host_user": "proctor@example.org"}


def test_registers_zoom_with_every_feature_and_its_window_script() -> None:
    registry = registry_with(plugin)
    zoom = registry.proctoring_types()["ZOOM"]
    assert (zoom.display_name, zoom.default_url) == ("Zoom", "https://zoom.us")
    assert zoom.features == frozenset(ProctoringFeature)
    assert zoom.static_dir is not None and (zoom.static_dir / "zoom_window.js").is_file()
    assert "proctoring service ZOOM" in {line for info in registry.installed() for line in info.provides}


def test_defaults_and_secret_fields() -> None:
    settings = ZoomSettings.model_validate(BASE)
    assert (settings.api_url, settings.proctor_window, settings.hosting) == ("https://api.zoom.us/v2", "web_sdk",
                                                                             "licensed_user")
    secrets = {name for name, info in ZoomSettings.model_fields.items() if info.annotation == SecretStr | None}
    assert secrets == {"client_secret", "sdk_client_secret"}  # what the core stores encrypted and never shows
    assert settings.model_dump_json().count("**********") == 2


@pytest.mark.parametrize(("changes", "message"), [
    ({"client_secret": ""}, "client secret"),
    ({"sdk_client_secret": None}, "Meeting SDK"),
    ({"host_user": ""}, "host user"),
    ({"hosting": "per_room_users"}, "e-mail domain"),
    ({"hosting": "per_room_users", "user_domain": "no domain"}, "mail domain"),
    ({"api_url": "api.zoom.us/v2"}, "http"),
])
def test_settings_name_what_is_missing(changes: dict[str, str], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        ZoomSettings.model_validate(BASE | changes)
