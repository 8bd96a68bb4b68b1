"""Every hook sebframe calls. A plugin implements some of them with ``@sebframe.hookimpl``.

Quick start for a plugin author::

    # pyproject.toml
    [project.entry-points."sebframe.plugins"]
    my_lms = "sebframe_my_lms.plugin"

    # sebframe_my_lms/plugin.py
    from sebframe import hookimpl
    from sebframe.types import LmsType

    @hookimpl
    def sebframe_lms_types():
        yield LmsType(name="MY_LMS", display_name="My LMS", settings_model=MySettings,
                      create_adapter=MyAdapter)

Hook arguments are opt-in (pluggy passes only the ones an implementation names), so new arguments
can be added later without breaking plugins. ``docs/plugin-hooks.md`` documents each hook.
"""

from __future__ import annotations

import pluggy

PROJECT_NAME = "sebframe"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)

SPEC_MODULES = (
    "sebframe.hookspecs.integrations",
    "sebframe.hookspecs.app",
)
