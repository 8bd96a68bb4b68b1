"""Connection configurations: what a SEB client needs to reach this server, exported as ``SEBServerSettings.seb``.

Each configuration owns OAuth2 client credentials (``client_id`` in the clear, the secret encrypted with
the server key); SEB clients authenticate with them on the Exam API as long as the configuration is
active. Every password (encryption, fallback, quit) is stored encrypted and appears only in the export:
the encryption password encrypts the file, the fallback and quit passwords are written as SHA-256 hashes
(seb-config-formats.md §1.5 and §3).
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from secrets import token_urlsafe
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import Select, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from sebframe.core.accounts.activity import Activity, record_activity
from sebframe.core.accounts.actor import Actor
from sebframe.core.accounts.roles import EntityType, Privilege
from sebframe.core.accounts.scoping import load_visible, scoped_to_institution
from sebframe.core.db import MAX_ID, Database
from sebframe.core.db.models import ActivityLogEntry, Certificate, ConnectionConfiguration, ExamApiToken, Institution
from sebframe.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from sebframe.core.paging import ListParams, Page, contains, fetch_page
from sebframe.core.secrets import SecretBox

from .certificates import CertificateService
from .codec import ConfigPurpose, encode_seb, hash_password

__all__ = [
    "API_DISCOVERY_PATH",
    "CONNECTION_CONFIG_FILTERS",
    "EXPORT_FILENAME",
    "EXPORT_MEDIA_TYPE",
    "RANGES",
    "ClientAccess",
    "ConnectionConfigInput",
    "ConnectionConfigService",
    "ConnectionConfigUpdate",
    "ConnectionPurpose",
    "SebExport",
    "connection_settings",
]

EXPORT_FILENAME = "SEBServerSettings.seb"
EXPORT_MEDIA_TYPE = "application/seb"
API_DISCOVERY_PATH = "/exam-api/discovery"
CONNECTION_CONFIG_FILTERS = ("institution_id", "name", "active", "purpose")
# Who exported from the command line (no signed-in user) in the activity log.
CLI_USERNAME = "sebframe-cli"

# Allowed ranges (inclusive) of the numeric fields; the forms show them as min/max.
RANGES: dict[str, tuple[int, int]] = {
    "fallback_attempts": (1, 1000),
    "fallback_interval_ms": (100, 3_600_000),
    "fallback_timeout_ms": (1_000, 86_400_000),
    "ping_interval_ms": (100, 60_000),
}
DEFAULTS: dict[str, int] = {
    "fallback_attempts": 5,
    "fallback_interval_ms": 2000,
    "fallback_timeout_ms": 30000,
    "ping_interval_ms": 1000,
}
# Password field -> its confirmation field.
PASSWORD_FIELDS = {
    "encryption_password": "confirm_encryption_password",
    "fallback_password": "confirm_fallback_password",
    "quit_password": "confirm_quit_password",
}
_SECRET_COLUMNS = {
    "encryption_password": "encryption_password_encrypted",
    "fallback_password": "fallback_password_encrypted",
    "quit_password": "quit_password_encrypted",
}
_PASSWORD_LABELS = {
    "encryption_password": "configuration password",
    "fallback_password": "fallback password",
    "quit_password": "quit password",
}
_PLAIN_FIELDS = ("name", "purpose", "certificate_id", "asymmetric_only", "fallback", "fallback_start_url",
                 "fallback_attempts", "fallback_interval_ms", "fallback_timeout_ms", "ping_interval_ms")
_SORTABLE = {
    "name": ConnectionConfiguration.name,
    "created_at": ConnectionConfiguration.created_at,
    "active": ConnectionConfiguration.active,
    "purpose": ConnectionConfiguration.purpose,
    "institution_id": ConnectionConfiguration.institution_id,
}


class ConnectionPurpose(StrEnum):
    """"Configuration Purpose" (SEB's "Use SEB settings file for"); ``sebConfigPurpose`` 0 or 1."""

    START_EXAM = "START_EXAM"
    CONFIGURE_CLIENT = "CONFIGURE_CLIENT"

    @property
    def label(self) -> str:
        return "Starting an Exam" if self is ConnectionPurpose.START_EXAM else "Configuring a Client"

    @property
    def seb_purpose(self) -> ConfigPurpose:
        return ConfigPurpose[self.value]


# -- input -----------------------------------------------------------------------------------------


def _range(name: str, default: Any) -> Any:
    low, high = RANGES[name]
    return Field(default=default, ge=low, le=high)


def _check_url(value: str | None) -> str | None:
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or any(ch.isspace() for ch in value):
        raise ValueError("enter a full http:// or https:// address")
    return value


class _ConfigInput(BaseModel):
    # Unlike the account inputs, strings are not stripped globally: passwords keep their spaces.
    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _storable(cls, value: object) -> object:
        if isinstance(value, str) and ("\x00" in value or any("\ud800" <= ch <= "\udfff" for ch in value)):
            raise ValueError("contains characters that cannot be stored")
        return value

    @field_validator("name", "fallback_start_url", mode="before", check_fields=False)
    @classmethod
    def _strip(cls, value: object) -> object:
        return value.strip() if isinstance(value, str) else value

    @field_validator("fallback_start_url", "encryption_password", "confirm_encryption_password",
                     "fallback_password", "confirm_fallback_password", "quit_password", "confirm_quit_password",
                     mode="before", check_fields=False)
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("fallback_start_url", check_fields=False)
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        return _check_url(value)


class ConnectionConfigInput(_ConfigInput):
    """A new connection configuration. Empty passwords mean "none"."""

    name: str = Field(min_length=3, max_length=255)
    purpose: ConnectionPurpose = ConnectionPurpose.START_EXAM
    encryption_password: str | None = Field(default=None, max_length=255)
    confirm_encryption_password: str | None = Field(default=None, max_length=255)
    certificate_id: int | None = Field(default=None, ge=1, le=MAX_ID,
                                       description="a certificate of the institution: encrypt the export with it")
    asymmetric_only: bool = Field(default=False, description="pkhs instead of phsk (SEB clients before 2.2)")
    fallback: bool = False
    fallback_start_url: str | None = Field(default=None, max_length=2048)
    fallback_attempts: int = _range("fallback_attempts", DEFAULTS["fallback_attempts"])
    fallback_interval_ms: int = _range("fallback_interval_ms", DEFAULTS["fallback_interval_ms"])
    fallback_timeout_ms: int = _range("fallback_timeout_ms", DEFAULTS["fallback_timeout_ms"])
    fallback_password: str | None = Field(default=None, max_length=255)
    confirm_fallback_password: str | None = Field(default=None, max_length=255)
    quit_password: str | None = Field(default=None, max_length=255)
    confirm_quit_password: str | None = Field(default=None, max_length=255)
    ping_interval_ms: int = _range("ping_interval_ms", DEFAULTS["ping_interval_ms"])


class ConnectionConfigUpdate(_ConfigInput):
    """Only the fields present change. A password set to null (or "") is removed; a new one needs its
    confirmation. ``certificate_id`` null removes the certificate encryption."""

    name: str | None = Field(default=None, min_length=3, max_length=255)
    purpose: ConnectionPurpose | None = None
    encryption_password: str | None = Field(default=None, max_length=255)
    confirm_encryption_password: str | None = Field(default=None, max_length=255)
    certificate_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    asymmetric_only: bool | None = None
    fallback: bool | None = None
    fallback_start_url: str | None = Field(default=None, max_length=2048)
    fallback_attempts: int | None = _range("fallback_attempts", None)
    fallback_interval_ms: int | None = _range("fallback_interval_ms", None)
    fallback_timeout_ms: int | None = _range("fallback_timeout_ms", None)
    fallback_password: str | None = Field(default=None, max_length=255)
    confirm_fallback_password: str | None = Field(default=None, max_length=255)
    quit_password: str | None = Field(default=None, max_length=255)
    confirm_quit_password: str | None = Field(default=None, max_length=255)
    ping_interval_ms: int | None = _range("ping_interval_ms", None)

    @field_validator("name", "purpose", "asymmetric_only", "fallback", "fallback_attempts", "fallback_interval_ms",
                     "fallback_timeout_ms", "ping_interval_ms", mode="before")
    @classmethod
    def _not_null(cls, value: object) -> object:
        # Absent means "unchanged"; null would mean "clear", which these fields cannot be.
        if value is None:
            raise ValueError("may not be null")
        return value


def _password_errors(values: Mapping[str, Any]) -> dict[str, str]:
    """Each password given must equal its confirmation (the message goes below the confirmation)."""
    errors: dict[str, str] = {}
    for field, confirm in PASSWORD_FIELDS.items():
        password = values.get(field)
        if password is not None and values.get(confirm) != password:
            errors[confirm] = f"the {_PASSWORD_LABELS[field]} and its confirmation differ"
    return errors


def _fallback_errors(fallback: bool, url: str | None) -> dict[str, str]:
    if fallback and not url:
        return {"fallback_start_url": "a fallback URL is required when the fallback is on"}
    return {}


# -- export ----------------------------------------------------------------------------------------


def connection_settings(
    config: ConnectionConfiguration,
    *,
    server_url: str,
    client_secret: str,
    fallback_password: str | None = None,
    quit_password: str | None = None,
) -> dict[str, Any]:
    """The settings dictionary of ``SEBServerSettings.seb``, keys in SEB Server's order (reference §3)."""
    purpose = ConnectionPurpose(config.purpose)
    settings: dict[str, Any] = {
        "sebMode": 1,
        "sebConfigPurpose": int(purpose.seb_purpose),
        "sebServerFallback": bool(config.fallback and config.fallback_start_url),
    }
    if settings["sebServerFallback"]:
        settings["startURL"] = config.fallback_start_url
        settings["sebServerFallbackTimeout"] = config.fallback_timeout_ms
        settings["sebServerFallbackAttempts"] = config.fallback_attempts
        settings["sebServerFallbackAttemptInterval"] = config.fallback_interval_ms
        if fallback_password:
            settings["sebServerFallbackPasswordHash"] = hash_password(fallback_password)
        if quit_password:
            settings["hashedQuitPassword"] = hash_password(quit_password)
    settings["sebServerURL"] = server_url
    settings["sebServerConfiguration"] = {
        "institution": str(config.institution_id),
        "clientName": config.client_id,
        "clientSecret": client_secret,
        "apiDiscovery": API_DISCOVERY_PATH,
        "pingInterval": config.ping_interval_ms,
    }
    return settings


@dataclass(frozen=True)
class SebExport:
    name: str
    content: bytes
    filename: str = EXPORT_FILENAME
    media_type: str = EXPORT_MEDIA_TYPE


@dataclass(frozen=True)
class ClientAccess:
    """What the Exam API needs about the connection configuration a SEB client authenticates with."""

    configuration_id: int
    institution_id: int
    name: str
    client_id: str
    client_secret: str
    ping_interval_ms: int


def normalise_server_url(url: str) -> str:
    url = url.strip().rstrip("/")
    _check_url(url)
    return url


# -- service ---------------------------------------------------------------------------------------


class ConnectionConfigService:
    def __init__(
        self, db: Database, secrets: SecretBox, certificates: CertificateService, *, external_url: str | None = None
    ) -> None:
        self.db = db
        self.secrets = secrets
        self.certificates = certificates
        self.external_url = normalise_server_url(external_url) if external_url else None

    # -- queries -------------------------------------------------------------------------------

    async def list(self, actor: Actor, params: ListParams) -> Page[ConnectionConfiguration]:
        statement = self._visible_statement(actor)
        filters = params.filters
        if "institution_id" in filters:
            try:
                statement = statement.where(ConnectionConfiguration.institution_id == int(filters["institution_id"]))
            except ValueError:
                raise ValidationFailed({"institution_id": "must be a number"}) from None
        if "name" in filters:
            statement = statement.where(contains(ConnectionConfiguration.name, filters["name"]))
        if filters.get("active") in ("true", "false"):
            statement = statement.where(ConnectionConfiguration.active.is_(filters["active"] == "true"))
        if "purpose" in filters:
            if filters["purpose"] not in ConnectionPurpose.__members__:
                raise ValidationFailed({"purpose": f"choose one of {', '.join(ConnectionPurpose)}"})
            statement = statement.where(ConnectionConfiguration.purpose == filters["purpose"])
        async with self.db.read() as session:
            return await fetch_page(session, statement, params, _SORTABLE,
                                    [ConnectionConfiguration.name, ConnectionConfiguration.id])

    async def get(self, actor: Actor, config_id: int) -> ConnectionConfiguration:
        async with self.db.read() as session:
            return await self._visible(session, actor, config_id)

    @staticmethod
    def may_write(actor: Actor, config: ConnectionConfiguration | None = None) -> bool:
        institution_id = actor.institution_id if config is None else config.institution_id
        return actor.may(Privilege.WRITE, EntityType.CONNECTION_CONFIGURATION, institution_id=institution_id)

    # -- create / update -----------------------------------------------------------------------

    async def create(
        self, actor: Actor, data: ConnectionConfigInput, *, institution_id: int | None = None, activate: bool = False
    ) -> ConnectionConfiguration:
        """Create with fresh OAuth client credentials; inactive unless ``activate``."""
        institution_id = actor.institution_id if institution_id is None else institution_id
        if not actor.may(Privilege.WRITE, EntityType.CONNECTION_CONFIGURATION, institution_id=institution_id):
            raise PermissionDenied("you may not create connection configurations in this institution")
        values = data.model_dump()
        errors = {**_password_errors(values), **_fallback_errors(data.fallback, data.fallback_start_url)}
        async with self.db.transaction() as session:
            if await session.get(Institution, institution_id) is None:
                raise ValidationFailed({"institution_id": f"institution {institution_id} not found"})
            errors.update(await self._name_errors(session, institution_id, data.name))
            errors.update(await self._certificate_errors(session, institution_id, data.certificate_id))
            if errors:
                raise ValidationFailed(errors)
            config = ConnectionConfiguration(
                institution_id=institution_id,
                active=False,
                client_id=token_urlsafe(24),
                client_secret_encrypted=self.secrets.encrypt(token_urlsafe(32)),
                **{field: values[field] for field in _PLAIN_FIELDS},
            )
            config.purpose = data.purpose.value
            for field, column in _SECRET_COLUMNS.items():
                plain = values[field]
                setattr(config, column, self.secrets.encrypt(plain) if plain is not None else None)
            session.add(config)
            await session.flush()
            record_activity(session, actor, Activity.CREATE, EntityType.CONNECTION_CONFIGURATION, config.id,
                            config.name, institution_id=institution_id)
            if activate:
                await self._set_active(session, actor, config, True)
        return config

    async def update(
        self, actor: Actor, config_id: int, data: ConnectionConfigUpdate, *, activate: bool = False
    ) -> ConnectionConfiguration:
        """Change the fields present in ``data``; ``activate`` also activates ("Save and Activate")."""
        changes = data.model_dump(exclude_unset=True)
        async with self.db.transaction() as session:
            config = await self._visible(session, actor, config_id)
            self._require(actor, config)
            fallback = changes.get("fallback", config.fallback)
            url = changes["fallback_start_url"] if "fallback_start_url" in changes else config.fallback_start_url
            errors = {**_password_errors(changes), **_fallback_errors(bool(fallback), url)}
            if "name" in changes and changes["name"] != config.name:
                errors.update(await self._name_errors(session, config.institution_id, changes["name"], config.id))
            if changes.get("certificate_id") is not None and changes["certificate_id"] != config.certificate_id:
                errors.update(await self._certificate_errors(session, config.institution_id,
                                                             changes["certificate_id"]))
            if errors:
                raise ValidationFailed(errors)
            changed: list[str] = []
            for field in _PLAIN_FIELDS:
                if field in changes:
                    value = changes[field]
                    value = value.value if isinstance(value, ConnectionPurpose) else value
                    if getattr(config, field) != value:
                        setattr(config, field, value)
                        changed.append(field)
            for field, column in _SECRET_COLUMNS.items():
                if field not in changes:
                    continue
                plain = changes[field]
                if plain is None:
                    if getattr(config, column) is not None:
                        setattr(config, column, None)
                        changed.append(f"{field} removed")
                else:
                    setattr(config, column, self.secrets.encrypt(plain))
                    changed.append(f"{field} set")
            record_activity(session, actor, Activity.MODIFY, EntityType.CONNECTION_CONFIGURATION, config.id,
                            config.name, ", ".join(changed) or "no changes", institution_id=config.institution_id)
            if activate:
                await self._set_active(session, actor, config, True)
        return config

    async def set_active(self, actor: Actor, config_id: int, active: bool) -> ConnectionConfiguration:
        """Activate or deactivate; SEB clients of an inactive configuration are refused (HTTP 401)."""
        async with self.db.transaction() as session:
            config = await self._visible(session, actor, config_id)
            self._require(actor, config)
            await self._set_active(session, actor, config, active)
        return config

    async def regenerate_credentials(self, actor: Actor, config_id: int) -> ConnectionConfiguration:
        """New OAuth client id and secret: files exported before stop working."""
        async with self.db.transaction() as session:
            config = await self._visible(session, actor, config_id)
            self._require(actor, config)
            config.client_id = token_urlsafe(24)
            config.client_secret_encrypted = self.secrets.encrypt(token_urlsafe(32))
            record_activity(session, actor, Activity.MODIFY, EntityType.CONNECTION_CONFIGURATION, config.id,
                            config.name, "client credentials regenerated", institution_id=config.institution_id)
        return config

    async def delete(self, actor: Actor, config_id: int) -> ConnectionConfiguration:
        async with self.db.transaction() as session:
            config = await self._visible(session, actor, config_id)
            self._require(actor, config)
            record_activity(session, actor, Activity.DELETE, EntityType.CONNECTION_CONFIGURATION, config.id,
                            config.name, institution_id=config.institution_id)
            await session.delete(config)
        return config

    # -- export --------------------------------------------------------------------------------

    def server_url(self, request_url: str | None) -> str:
        """``SEBFRAME_EXTERNAL_URL`` when set, else the address the request came to."""
        if self.external_url:
            return self.external_url
        if request_url:
            return normalise_server_url(request_url)
        raise ValidationFailed({"server_url": "the server's external URL is unknown; set SEBFRAME_EXTERNAL_URL"})

    async def export(self, actor: Actor, config_id: int, *, request_url: str | None = None) -> SebExport:
        """``SEBServerSettings.seb`` of an active configuration (write privilege, as in SEB Server: it holds
        the client secret)."""
        server_url = self.server_url(request_url)
        async with self.db.transaction() as session:
            config = await self._visible(session, actor, config_id)
            self._require(actor, config, "export")
            content = await self._export(session, config, server_url)
            record_activity(session, actor, Activity.EXPORT, EntityType.CONNECTION_CONFIGURATION, config.id,
                            config.name, f"{EXPORT_FILENAME} for {server_url}", institution_id=config.institution_id)
        return SebExport(config.name, content)

    async def export_by_name(
        self, name: str, *, institution_id: int | None = None, server_url: str | None = None
    ) -> tuple[ConnectionConfiguration, bytes]:
        """Operator export (command line, no signed-in user): find the configuration by name."""
        url = normalise_server_url(server_url) if server_url else self.server_url(None)
        async with self.db.transaction() as session:
            statement = select(ConnectionConfiguration).where(ConnectionConfiguration.name == name)
            if institution_id is not None:
                statement = statement.where(ConnectionConfiguration.institution_id == institution_id)
            found = list((await session.execute(statement)).scalars())
            if not found:
                where = f" in institution {institution_id}" if institution_id is not None else ""
                raise NotFound(f"no connection configuration named {name!r}{where}")
            if len(found) > 1:
                ids = ", ".join(str(config.institution_id) for config in found)
                raise ValidationFailed({"institution": f"several institutions ({ids}) have a connection "
                                                       f"configuration named {name!r}; choose one"})
            config = found[0]
            content = await self._export(session, config, url)
            session.add(ActivityLogEntry(
                user_id=None, username=CLI_USERNAME, institution_id=config.institution_id,
                activity=Activity.EXPORT.value, entity_type=EntityType.CONNECTION_CONFIGURATION.value,
                entity_id=str(config.id), entity_name=config.name[:255],
                message=f"{EXPORT_FILENAME} for {url} (command line)",
            ))
        return config, content

    async def _export(self, session: AsyncSession, config: ConnectionConfiguration, server_url: str) -> bytes:
        if not config.active:
            raise Conflict(f"connection configuration {config.name!r} is inactive; activate it before exporting")
        settings = connection_settings(
            config,
            server_url=server_url,
            client_secret=self.secrets.decrypt(config.client_secret_encrypted),
            fallback_password=self._plain(config.fallback_password_encrypted),
            quit_password=self._plain(config.quit_password_encrypted),
        )
        certificate = None
        if config.certificate_id is not None:
            row = await session.get(Certificate, config.certificate_id)
            if row is None:  # deleted at the same moment
                raise Conflict(f"the certificate of connection configuration {config.name!r} is gone; choose another")
            certificate = self.certificates.decrypt(row).certificate
        return encode_seb(
            settings,
            password=self._plain(config.encryption_password_encrypted),
            purpose=ConnectionPurpose(config.purpose).seb_purpose,
            certificate=certificate,
            asymmetric_only=config.asymmetric_only,
            xml_indent="  ",
        )

    def _plain(self, token: str | None) -> str | None:
        return self.secrets.decrypt(token) if token is not None else None

    # -- SEB client access (Exam API) ----------------------------------------------------------

    async def by_client_id(self, client_id: str) -> ClientAccess | None:
        """The active configuration (of an active institution) with this OAuth client id, with its secret."""
        if not client_id or len(client_id) > 64:
            return None
        statement = (
            select(ConnectionConfiguration)
            .join(Institution, Institution.id == ConnectionConfiguration.institution_id)
            .where(ConnectionConfiguration.client_id == client_id,
                   ConnectionConfiguration.active.is_(True), Institution.active.is_(True))
        )
        async with self.db.read() as session:
            config = (await session.execute(statement)).scalar_one_or_none()
        if config is None:
            return None
        return ClientAccess(config.id, config.institution_id, config.name, config.client_id,
                            self.secrets.decrypt(config.client_secret_encrypted), config.ping_interval_ms)

    async def is_active_client(self, client_id: str) -> bool:
        return await self.by_client_id(client_id) is not None

    async def verify_client(self, client_id: str, client_secret: str) -> ClientAccess | None:
        """The client's access if the credentials are right and the configuration active, else None."""
        access = await self.by_client_id(client_id)
        if access is None or not hmac.compare_digest(access.client_secret.encode(), client_secret.encode()):
            return None
        return access

    # -- rules ---------------------------------------------------------------------------------

    @staticmethod
    async def _set_active(session: AsyncSession, actor: Actor, config: ConnectionConfiguration, active: bool
                          ) -> None:
        if config.active == active:
            return
        config.active = active
        if not active:  # SEB Server revokes the Exam-API tokens; other processes drop them on their next sync
            await session.execute(delete(ExamApiToken).where(ExamApiToken.connection_config_id == config.id))
        record_activity(session, actor, Activity.ACTIVATE if active else Activity.DEACTIVATE,
                        EntityType.CONNECTION_CONFIGURATION, config.id, config.name,
                        institution_id=config.institution_id)

    @staticmethod
    def _visible_statement(actor: Actor) -> Select[ConnectionConfiguration]:
        return scoped_to_institution(select(ConnectionConfiguration), actor, EntityType.CONNECTION_CONFIGURATION,
                                     ConnectionConfiguration.institution_id, "connection configurations")

    @staticmethod
    async def _visible(session: AsyncSession, actor: Actor, config_id: int) -> ConnectionConfiguration:
        return await load_visible(session, actor, ConnectionConfiguration, config_id,
                                  EntityType.CONNECTION_CONFIGURATION, "connection configuration")

    @staticmethod
    def _require(actor: Actor, config: ConnectionConfiguration, verb: str = "change") -> None:
        if not actor.may(Privilege.WRITE, EntityType.CONNECTION_CONFIGURATION, institution_id=config.institution_id):
            raise PermissionDenied(f"you may not {verb} connection configuration {config.name!r}")

    @staticmethod
    async def _name_errors(
        session: AsyncSession, institution_id: int, name: str, exclude_id: int | None = None
    ) -> dict[str, str]:
        statement = select(ConnectionConfiguration.id).where(
            ConnectionConfiguration.institution_id == institution_id,
            func.lower(ConnectionConfiguration.name) == name.lower(),
        )
        if exclude_id is not None:
            statement = statement.where(ConnectionConfiguration.id != exclude_id)
        if (await session.execute(statement)).first():
            return {"name": f"a connection configuration named {name!r} exists already"}
        return {}

    @staticmethod
    async def _certificate_errors(
        session: AsyncSession, institution_id: int, certificate_id: int | None
    ) -> dict[str, str]:
        if certificate_id is None:
            return {}
        certificate = await session.get(Certificate, certificate_id)
        if certificate is None or certificate.institution_id != institution_id:
            return {"certificate_id": "choose one of the institution's certificates"}
        return {}
