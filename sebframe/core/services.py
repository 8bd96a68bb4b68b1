"""The one object handlers reach services through; built once per app (or CLI command)."""

from __future__ import annotations

from dataclasses import dataclass

from sebframe.core.accounts.activity_log import ActivityLogService
from sebframe.core.accounts.auth import AuthService
from sebframe.core.accounts.dependencies import API_TOKENS
from sebframe.core.accounts.institutions import InstitutionService
from sebframe.core.accounts.users import UserService
from sebframe.core.db import Database
from sebframe.core.exams import ExamService
from sebframe.core.lms.lookup import QuizLookupService
from sebframe.core.lms.setups import LmsSetupService
from sebframe.core.location.locations import Locations
from sebframe.core.monitoring.connection_log import ConnectionLogService
from sebframe.core.monitoring.live import MonitoringService
from sebframe.core.monitoring.logs import ClientLogService
from sebframe.core.monitoring.participation import ParticipationService
from sebframe.core.plugins import PluginRegistry
from sebframe.core.proctoring import Proctoring
from sebframe.core.sebconfig.certificates import CertificateService
from sebframe.core.sebconfig.connection_configs import ConnectionConfigService
from sebframe.core.sebconfig.exam_configs import OWNED_EXAM_CONFIGURATIONS, ExamConfigService
from sebframe.core.secrets import SecretBox
from sebframe.core.session.sessions import Sessions
from sebframe.settings import Settings
from sebframe.types import StartupContext


@dataclass
class Services:
    settings: Settings
    db: Database
    plugins: PluginRegistry
    secrets: SecretBox
    institutions: InstitutionService
    users: UserService
    auth: AuthService
    activity_log: ActivityLogService
    certificates: CertificateService
    connection_configs: ConnectionConfigService
    exam_configs: ExamConfigService
    lms_setups: LmsSetupService
    quiz_lookup: QuizLookupService
    exams: ExamService
    sessions: Sessions
    monitoring: MonitoringService
    connection_log: ConnectionLogService
    participation: ParticipationService
    client_logs: ClientLogService
    locations: Locations
    proctoring: Proctoring

    @classmethod
    def create(cls, settings: Settings, plugins: PluginRegistry | None = None) -> Services:
        db = Database(settings.resolved_database_url)
        if plugins is None:
            plugins = PluginRegistry.load(settings)
        secrets = SecretBox(settings.resolved_secret_key(), settings.old_secret_keys)
        certificates = CertificateService(db, secrets)
        lms_setups = LmsSetupService(db, plugins, secrets)
        exam_configs = ExamConfigService(db, secrets)
        exams = ExamService(db, plugins, secrets, lms_setups, exam_configs,
                            refresh_interval_seconds=settings.exam_refresh_interval_seconds)
        sessions = Sessions.create(db, plugins, secrets, exam_configs, lms_setups,
                                   sync_interval=settings.session_sync_interval_seconds,
                                   supervision_interval=settings.session_supervision_interval_seconds)
        return cls(
            settings=settings,
            db=db,
            plugins=plugins,
            secrets=secrets,
            institutions=InstitutionService(db),
            users=UserService(db, registration_enabled=settings.registration_enabled,
                              dependencies=(API_TOKENS, exams.user_dependencies(), OWNED_EXAM_CONFIGURATIONS)),
            auth=AuthService(db, max_failures=settings.login_max_failures,
                             lockout_seconds=settings.login_lockout_seconds),
            activity_log=ActivityLogService(db),
            certificates=certificates,
            connection_configs=ConnectionConfigService(db, secrets, certificates,
                                                       external_url=settings.external_url),
            exam_configs=exam_configs,
            lms_setups=lms_setups,
            quiz_lookup=QuizLookupService(db, lms_setups),
            exams=exams,
            sessions=sessions,
            monitoring=MonitoringService(db, sessions.runtime),
            connection_log=ConnectionLogService(db),
            participation=ParticipationService(db),
            client_logs=ClientLogService(db),
            locations=Locations.create(db, plugins, sessions.runtime, settings.trusted_proxy_networks),
            proctoring=Proctoring.create(db, plugins, secrets, sessions.runtime),
        )

    def startup_context(self) -> StartupContext:
        """What plugins get at start-up: facts about this server, never the services themselves."""
        return StartupContext(
            data_dir=self.settings.data_dir.resolve(),
            external_url=self.settings.external_url,
            plugin_names=self.plugins.names(),
        )

    async def close(self) -> None:
        await self.sessions.runtime.stop()
        await self.exams.close()
        await self.proctoring.close()
        await self.lms_setups.close()
        await self.db.dispose()
