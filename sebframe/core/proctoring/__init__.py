"""Live proctoring with meeting-service plugins (Jitsi Meet, Zoom, ...): settings, rooms, assignment, flows."""

from __future__ import annotations

from dataclasses import dataclass

from sebframe.core.db import Database
from sebframe.core.plugins import PluginRegistry
from sebframe.core.proctoring.assignment import RoomAssigner
from sebframe.core.proctoring.meetings import Meetings
from sebframe.core.proctoring.rooms import RoomKeeper
from sebframe.core.proctoring.service import ProctoringService
from sebframe.core.secrets import SecretBox
from sebframe.core.session.runtime import SessionRuntime


@dataclass
class Proctoring:
    """The proctoring domain: ``service`` for screens and the API, ``assigner`` the supervision job."""

    meetings: Meetings
    keeper: RoomKeeper
    service: ProctoringService
    assigner: RoomAssigner

    @classmethod
    def create(cls, db: Database, plugins: PluginRegistry, secrets: SecretBox, runtime: SessionRuntime) -> Proctoring:
        meetings = Meetings(plugins, secrets)
        keeper = RoomKeeper(db, meetings, runtime)
        assigner = RoomAssigner(db, meetings, keeper)
        runtime.supervisor.jobs.append(assigner.run)  # registered here, explicitly: rooms follow the connections
        return cls(meetings, keeper, ProctoringService(db, meetings, keeper), assigner)

    async def close(self) -> None:
        await self.meetings.close()


__all__ = ["Proctoring"]
