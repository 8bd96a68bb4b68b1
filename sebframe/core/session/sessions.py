"""The session domain's services of one server process, built once like the other services."""

from __future__ import annotations

from dataclasses import dataclass

from sebframe.core.db import Database
from sebframe.core.lms.setups import LmsSetupService
from sebframe.core.plugins import PluginRegistry
from sebframe.core.sebconfig.exam_configs import ExamConfigService
from sebframe.core.secrets import SecretBox
from sebframe.core.session.actions import SupervisorActions
from sebframe.core.session.handshake import HandshakeService
from sebframe.core.session.runtime import SessionRuntime
from sebframe.core.session.tokens import ExamApiTokens


@dataclass
class Sessions:
    """The session domain of one server process, built once like the other services."""

    tokens: ExamApiTokens
    runtime: SessionRuntime
    handshakes: HandshakeService
    actions: SupervisorActions  # what supporters do with connections (instructions, cancel, confirm)

    @classmethod
    def create(cls, db: Database, plugins: PluginRegistry, secrets: SecretBox, exam_configs: ExamConfigService,
               lms_setups: LmsSetupService, *, sync_interval: float, supervision_interval: float) -> Sessions:
        tokens = ExamApiTokens(db, secrets)
        runtime = SessionRuntime(db, plugins, tokens, sync_interval=sync_interval,
                                 supervision_interval=supervision_interval)
        return cls(tokens=tokens, runtime=runtime,
                   handshakes=HandshakeService(db, runtime, plugins, secrets, exam_configs, lms_setups),
                   actions=SupervisorActions(db, runtime))


