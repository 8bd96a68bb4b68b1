"""Hook implementations only: cheap to import, no I/O."""

from __future__ import annotations

from pathlib import Path

from sebframe import hookimpl
from sebframe.types import IntegrationContext, ProctoringService, ProctoringType
from sebframe_proctoring_jitsi.settings import JitsiSettings

JITSI_MEET = "JITSI_MEET"


def create_service(context: IntegrationContext) -> ProctoringService:
    from sebframe_proctoring_jitsi.service import JitsiService  # jwt and cryptography only when used

    return JitsiService(context)


@hookimpl
def sebframe_proctoring_services():  # type: ignore[no-untyped-def]
    yield ProctoringType(name=JITSI_MEET, display_name="Jitsi Meet", settings_model=JitsiSettings,
                         create_service=create_service, default_url="https://meet.example.org",
                         static_dir=Path(__file__).parent / "static")
