"""SEB files of a configuration: a new one from an imported ``.seb``, the export and Config Key of the last
published settings, and the file a SEB client downloads through the Exam API (the client is authorised there,
not a user)."""

from __future__ import annotations

from sebframe.core.accounts.activity import Activity, record_activity
from sebframe.core.accounts.actor import Actor
from sebframe.core.db import Database
from sebframe.core.db.models import ExamConfiguration
from sebframe.core.errors import ValidationFailed
from sebframe.core.validation import parse_input

from ..codec import decode_seb
from ..errors import PasswordRequiredError, SebConfigError, WrongPasswordError
from ..settings import SettingsValues
from ..settings_io import exam_config_file, exam_config_key, from_plist_dict
from .access import check_unique_name, load_configuration, require_create
from .schemas import ExamConfigCreate
from .storage import SettingsStorage, add_initial_revisions, last_published
from .types import ConfigKind, ConfigStatus

__all__ = ["EXPORT_FILENAME", "MAX_IMPORT_BYTES", "ConfigFiles"]

EXPORT_FILENAME = "SEBExamSettings.seb"
# Real SEB configuration files are a few dozen KiB; anything this large is not one.
MAX_IMPORT_BYTES = 5 * 1024 * 1024


class ConfigFiles:
    def __init__(self, db: Database, storage: SettingsStorage) -> None:
        self.db = db
        self.storage = storage
        self.catalogue = storage.catalogue

    async def import_seb(
        self,
        actor: Actor,
        data: bytes,
        *,
        password: str | None = None,
        name: str,
        description: str = "",
        status: str = ConfigStatus.CONSTRUCTION.value,
        kind: ConfigKind = ConfigKind.EXAM_CONFIG,
    ) -> tuple[ExamConfiguration, list[str]]:
        """A new configuration from a ``.seb`` file (any packaging SEB writes); returns it with the import
        warnings (ignored or converted settings). Nothing is created when the file cannot be read."""
        fields = parse_input(ExamConfigCreate, {"name": name, "description": description, "status": status})
        require_create(actor, kind)
        if len(data) > MAX_IMPORT_BYTES:
            raise ValidationFailed({"file": f"the file is larger than {MAX_IMPORT_BYTES // (1024 * 1024)} MiB; "
                                            "it is not a SEB configuration"})
        if not data:
            raise ValidationFailed({"file": "the file is empty"})
        try:
            seb = decode_seb(data, password=password or None, max_size=MAX_IMPORT_BYTES)
        except (PasswordRequiredError, WrongPasswordError) as exc:
            raise ValidationFailed({"password": str(exc)}) from None
        except SebConfigError as exc:
            raise ValidationFailed({"file": str(exc)}) from None
        values, warnings = from_plist_dict(seb.settings, self.catalogue)
        async with self.db.transaction() as session:
            await check_unique_name(session, actor.institution_id, kind, fields.name)
            configuration = ExamConfiguration(
                institution_id=actor.institution_id, kind=kind.value, name=fields.name,
                description=fields.description,
                status=fields.status if kind is ConfigKind.EXAM_CONFIG else ConfigStatus.CONSTRUCTION.value,
                owner_id=actor.user_id, hidden_attributes="[]",
            )
            session.add(configuration)
            await session.flush()
            add_initial_revisions(session, configuration, self.storage.encode(values), "imported from a SEB file",
                                  actor)
            record_activity(session, actor, Activity.IMPORT, kind.entity_type, configuration.id, configuration.name,
                            f"imported from a SEB file ({len(warnings)} warning{'s' if len(warnings) != 1 else ''})",
                            institution_id=configuration.institution_id)
        return configuration, warnings

    async def export(self, actor: Actor, config_id: int, *, password: str | None = None) -> bytes:
        """``SEBExamSettings.seb`` of the last published settings: SEB Server's plain XML, or with a password
        ``pswd`` + RNCryptor as SEB Server sends it to clients."""
        if password is not None and (password == "" or "\x00" in password):
            raise ValidationFailed({"password": "give a non-empty password, or none for a plain export"})
        async with self.db.transaction() as session:
            configuration = await load_configuration(session, actor, config_id)
            published = await last_published(session, configuration.id)
            data = exam_config_file(self.storage.decode(published.settings), password=password,
                                    catalogue=self.catalogue)
            kind = ConfigKind(configuration.kind)
            record_activity(session, actor, Activity.EXPORT, kind.entity_type, configuration.id, configuration.name,
                            f"version {published.number}" + (", password protected" if password else ""),
                            institution_id=configuration.institution_id)
        return data

    async def config_key(self, actor: Actor, config_id: int) -> str:
        """The Config Key of the last published settings (what SEB computes from the exported file)."""
        async with self.db.read() as session:
            configuration = await load_configuration(session, actor, config_id)
            published = await last_published(session, configuration.id)
            return exam_config_key(self.storage.decode(published.settings), self.catalogue)

    async def published_values(self, actor: Actor, config_id: int) -> SettingsValues:
        """The last published settings (plaintext passwords; for the exam domain and exports)."""
        async with self.db.read() as session:
            configuration = await load_configuration(session, actor, config_id)
            return self.storage.decode((await last_published(session, configuration.id)).settings)

    # -- SEB clients (Exam API: the client, not a user, is authorised) ---------------------------

    async def published_revision_id(self, config_id: int) -> int:
        async with self.db.read() as session:
            return (await last_published(session, config_id)).id

    async def client_file(self, config_id: int, *, password: str | None) -> tuple[int, bytes]:
        """The last published settings as a SEB client downloads them, with the revision they come from."""
        async with self.db.read() as session:
            published = await last_published(session, config_id)
        return published.id, exam_config_file(self.storage.decode(published.settings), password=password,
                                               catalogue=self.catalogue)
