"""Installed plugins and load failures through the admin API."""

from __future__ import annotations

import pytest

from sebframe.core.plugins import PluginFailure
from tests.api.admin.helpers import World, error_of

pytestmark = pytest.mark.anyio


async def test_server_admin_lists_plugins_and_failures(api_world: World, services) -> None:
    services.plugins.failures.append(PluginFailure("broken_lms", "load", "ImportError: no module named x"))
    body = await api_world.api("root").ok("GET", "/plugins")
    menu = next(p for p in body["installed"] if p["name"] == "sebframe.web.menu")
    assert menu["builtin"] is True and "sebframe_menu_items" in menu["hooks"]
    assert set(menu) == {"name", "distribution", "version", "hooks", "builtin"}
    assert body["failures"] == [{"name": "broken_lms", "stage": "load", "error": "ImportError: no module named x"}]


@pytest.mark.parametrize("username", ["a-admin", "a-examadmin", "a-supporter"])
async def test_others_may_not_list_plugins(api_world: World, username: str) -> None:
    error_of(await api_world.api(username).get("/plugins"), 403)
