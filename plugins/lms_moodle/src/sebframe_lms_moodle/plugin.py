"""Registers the Moodle LMS types and the SEB restriction API. Import-light: descriptors only, no I/O."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from sebframe import hookimpl
from sebframe.types import IntegrationContext, LmsFeature, LmsType, RestrictionType
from sebframe_lms_moodle.settings import MoodleSettings

if TYPE_CHECKING:
    from sebframe.types import LmsAdapter, RestrictionApi

MOODLE = "MOODLE"
MOODLE_PLUGIN = "MOODLE_PLUGIN"


def create_core_adapter(context: IntegrationContext) -> LmsAdapter:
    from sebframe_lms_moodle.adapter import MoodleCoreAdapter  # httpx work only when a setup is used

    return MoodleCoreAdapter(context)


def create_plugin_adapter(context: IntegrationContext) -> LmsAdapter:
    from sebframe_lms_moodle.adapter import MoodlePluginAdapter

    return MoodlePluginAdapter(context)


def create_restriction_api(context: IntegrationContext) -> RestrictionApi:
    from sebframe_lms_moodle.restriction import MoodleRestrictionApi

    return MoodleRestrictionApi(context)


@hookimpl
def sebframe_lms_types() -> Iterator[LmsType]:
    yield LmsType(
        name=MOODLE,
        display_name="Moodle",
        settings_model=MoodleSettings,
        create_adapter=create_core_adapter,
        features=frozenset({LmsFeature.COURSE_API}),
    )
    yield LmsType(
        name=MOODLE_PLUGIN,
        display_name="Moodle with SEB Server plugin",
        settings_model=MoodleSettings,
        create_adapter=create_plugin_adapter,
        features=frozenset({LmsFeature.COURSE_API, LmsFeature.SEB_RESTRICTION}),
    )


@hookimpl
def sebframe_restriction_apis() -> Iterator[RestrictionType]:
    yield RestrictionType(lms_type=MOODLE_PLUGIN, create_api=create_restriction_api)
