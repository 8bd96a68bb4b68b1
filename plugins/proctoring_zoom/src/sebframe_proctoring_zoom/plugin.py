"""Hook implementations only: cheap to import, no I/O."""

from __future__ import annotations

from pathlib import Path

from sebframe import hookimpl
from sebframe.types import IntegrationContext, ProctoringService, ProctoringType
from sebframe_proctoring_zoom.settings import ZoomSettings

ZOOM = "ZOOM"


def create_service(context: IntegrationContext) -> ProctoringService:
    from sebframe_proctoring_zoom.service import ZoomService  # jwt only when used

    return ZoomService(context)


@hookimpl
def sebframe_proctoring_services():  # type: ignore[no-untyped-def]
    yield ProctoringType(name=ZOOM, display_name="Zoom", settings_model=ZoomSettings, create_service=create_service,
                         default_url="https://zoom.us", static_dir=Path(__file__).parent / "static")
