"""Registration hooks for integrations: LMSs, SEB restriction, indicators, proctoring, admission.

Each is sync and cheap, called once at start-up, and returns (or yields) typed descriptors from
``sebframe.types``. The I/O happens later in the adapters the descriptors create.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from sebframe.hookspecs import hookspec

if TYPE_CHECKING:
    from sebframe.types import AdmissionCheck, IndicatorType, LmsType, ProctoringType, RestrictionType


@hookspec
def sebframe_lms_types() -> Iterable[LmsType]:  # type: ignore[empty-body]
    """LMS types this plugin gives course access to.

    :return: ``LmsType`` descriptors; each name must be unique across plugins.
    """


@hookspec
def sebframe_restriction_apis() -> Iterable[RestrictionType]:  # type: ignore[empty-body]
    """SEB restriction APIs, one per LMS type, that push Config Keys and Browser Exam Keys to the LMS.

    :return: ``RestrictionType`` descriptors keyed by ``lms_type``.
    """


@hookspec
def sebframe_indicator_types() -> Iterable[IndicatorType]:  # type: ignore[empty-body]
    """Monitoring indicator types (last ping, error count, battery, ...).

    :return: ``IndicatorType`` descriptors; their computations must be pure and fast.
    """


@hookspec
def sebframe_proctoring_services() -> Iterable[ProctoringType]:  # type: ignore[empty-body]
    """Live proctoring meeting services (Jitsi Meet, Zoom, ...).

    Each ``ProctoringType`` names the service (its ``name`` is the ``service-type`` SEB clients get), the settings
    model of its part of an exam's proctoring settings, the features it supports, the files of its proctor
    window script, and ``create_service(context)``: a ``ProctoringService`` for one exam that tests the meeting
    server, makes and disposes rooms, gives a SEB client's JOIN attributes and a proctor's window, and maps
    broadcast settings to ``SEB_RECONFIGURE_SETTINGS`` attributes. The core keeps rooms and assignments.

    :return: ``ProctoringType`` descriptors.
    """


@hookspec
def sebframe_admission_checks() -> Iterable[AdmissionCheck]:  # type: ignore[empty-body]
    """Checks run when a SEB client binds to an exam; one denial refuses the client.

    :return: ``AdmissionCheck`` descriptors (e.g. network location restriction).
    """
