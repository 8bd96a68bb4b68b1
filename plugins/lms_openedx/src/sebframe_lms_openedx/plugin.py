"""Registers the Open edX LMS type and its SEB restriction API. Import-light: descriptors only, no I/O.

The adapter, the restriction API and the HTTP client are imported when an LMS setup is first used.
"""

from __future__ import annotations

from collections.abc import Iterator

from sebframe import hookimpl
from sebframe.types import IntegrationContext, LmsAdapter, LmsFeature, LmsType, RestrictionApi, RestrictionType
from sebframe_lms_openedx.fields import RESTRICTION_FIELDS
from sebframe_lms_openedx.settings import OpenEdxSettings

OPEN_EDX = "OPEN_EDX"


def create_adapter(context: IntegrationContext) -> LmsAdapter:
    from sebframe_lms_openedx.adapter import OpenEdxAdapter

    return OpenEdxAdapter(context)


def create_restriction_api(context: IntegrationContext) -> RestrictionApi:
    from sebframe_lms_openedx.restriction import OpenEdxRestrictionApi

    return OpenEdxRestrictionApi(context)


@hookimpl
def sebframe_lms_types() -> Iterator[LmsType]:
    yield LmsType(
        name=OPEN_EDX,
        display_name="Open edX",
        settings_model=OpenEdxSettings,
        create_adapter=create_adapter,
        features=frozenset({LmsFeature.COURSE_API, LmsFeature.SEB_RESTRICTION}),
    )


@hookimpl
def sebframe_restriction_apis() -> Iterator[RestrictionType]:
    yield RestrictionType(lms_type=OPEN_EDX, create_api=create_restriction_api, fields=RESTRICTION_FIELDS)
