"""Connection configurations: CRUD and validation, credentials, activation, export as SEBServerSettings.seb."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from sebframe.core.accounts.roles import Role
from sebframe.core.db.models import ActivityLogEntry, ConnectionConfiguration
from sebframe.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from sebframe.core.paging import ListParams
from sebframe.core.sebconfig import PasswordRequiredError, decode_seb, hash_password, load_identity
from sebframe.core.sebconfig.connection_configs import (
    ConnectionConfigInput,
    ConnectionConfigUpdate,
    ConnectionPurpose,
)
from sebframe.core.validation import parse_input
from tests.conftest import Factory

pytestmark = pytest.mark.anyio

SERVER = "https://seb.example.org"
PFX_123 = "seb-server/testIdentity123.pfx"
PFX_EMPTY = "seb-win-refactoring/UnitTestCert.pfx"


async def _world(factory: Factory):  # type: ignore[no-untyped-def]
    a = await factory.institution("ETH")
    b = await factory.institution("UZH")
    return (a, b, await factory.actor(a, "a-admin", Role.INSTITUTIONAL_ADMIN),
            await factory.actor(b, "b-admin", Role.INSTITUTIONAL_ADMIN))


def _expected(config: ConnectionConfiguration, secret: str, *, purpose: int = 0,
              fallback: dict[str, Any] | None = None) -> dict[str, Any]:
    settings: dict[str, Any] = {"sebMode": 1, "sebConfigPurpose": purpose, "sebServerFallback": fallback is not None}
    settings.update(fallback or {})
    settings["sebServerURL"] = SERVER
    settings["sebServerConfiguration"] = {
        "institution": str(config.institution_id), "clientName": config.client_id, "clientSecret": secret,
        "apiDiscovery": "/exam-api/discovery", "pingInterval": config.ping_interval_ms,
    }
    return settings


async def _secret(services, config_id: int) -> str:  # type: ignore[no-untyped-def]
    async with services.db.read() as session:
        row = await session.get(ConnectionConfiguration, config_id)
    return services.secrets.decrypt(row.client_secret_encrypted)


async def test_create_defaults_credentials_and_plain_export(services, factory: Factory) -> None:
    a, _, admin, _ = await _world(factory)
    config = await services.connection_configs.create(admin, ConnectionConfigInput(name="  Semester 1  "))
    assert config.name == "Semester 1" and config.purpose == "START_EXAM" and config.active is False
    assert config.institution_id == a.id and len(config.client_id) >= 32
    assert (config.fallback_attempts, config.fallback_interval_ms, config.fallback_timeout_ms,
            config.ping_interval_ms) == (5, 2000, 30000, 1000)
    with pytest.raises(Conflict, match="inactive; activate it before exporting"):
        await services.connection_configs.export(admin, config.id, request_url=SERVER)
    await services.connection_configs.set_active(admin, config.id, True)
    exported = await services.connection_configs.export(admin, config.id, request_url=SERVER + "/")
    assert exported.filename == "SEBServerSettings.seb" and exported.media_type == "application/seb"
    seb = decode_seb(exported.content)
    assert seb.layers == ("gzip", "plnd", "gzip", "xml")
    secret = await _secret(services, config.id)
    assert len(secret) >= 43
    assert seb.settings == _expected(config, secret)
    assert list(seb.settings) == ["sebMode", "sebConfigPurpose", "sebServerFallback", "sebServerURL",
                                  "sebServerConfiguration"]
    assert seb.xml.startswith(b'<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE plist PUBLIC '
                              b'"-//Apple Computer//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">')
    assert b"<key>institution</key>" in seb.xml and b"<integer>1000</integer>" in seb.xml


async def test_password_export_pswd_and_pwcc_with_fallback(services, factory: Factory) -> None:
    _, _, admin, _ = await _world(factory)
    data = ConnectionConfigInput(
        name="Secure", encryption_password="exam pass ", confirm_encryption_password="exam pass ",
        fallback=True, fallback_start_url="https://lms.example.org/start", fallback_attempts=3,
        fallback_interval_ms=1500, fallback_timeout_ms=20000, fallback_password="fb", confirm_fallback_password="fb",
        quit_password="quit", confirm_quit_password="quit", ping_interval_ms=2500)
    config = await services.connection_configs.create(admin, data, activate=True)
    exported = await services.connection_configs.export(admin, config.id, request_url=SERVER)
    with pytest.raises(PasswordRequiredError):
        decode_seb(exported.content)
    seb = decode_seb(exported.content, password="exam pass ")  # spaces are part of the password
    assert seb.layers[:2] == ("gzip", "pswd") and seb.rncryptor_version == 3
    fallback = {
        "startURL": "https://lms.example.org/start", "sebServerFallbackTimeout": 20000,
        "sebServerFallbackAttempts": 3, "sebServerFallbackAttemptInterval": 1500,
        "sebServerFallbackPasswordHash": hash_password("fb"), "hashedQuitPassword": hash_password("quit"),
    }
    secret = await _secret(services, config.id)
    assert seb.settings == _expected(config, secret, fallback=fallback)
    assert list(seb.settings)[3:9] == list(fallback)
    assert all(type(seb.settings[key]) is int for key in ("sebServerFallbackTimeout", "sebServerFallbackAttempts",
                                                          "sebServerFallbackAttemptInterval", "sebMode"))
    assert seb.settings["sebServerFallback"] is True

    await services.connection_configs.update(admin, config.id, ConnectionConfigUpdate(
        purpose=ConnectionPurpose.CONFIGURE_CLIENT, quit_password=None))
    client = decode_seb((await services.connection_configs.export(admin, config.id, request_url=SERVER)).content,
                        password="exam pass ")
    assert client.layers[:2] == ("gzip", "pwcc")
    del fallback["hashedQuitPassword"]
    assert client.settings == _expected(config, secret, purpose=1, fallback=fallback)


@pytest.mark.parametrize(("asymmetric", "layer"), [(False, "phsk"), (True, "pkhs")])
async def test_certificate_export(services, factory: Factory, test_data: Path, asymmetric: bool,
                                  layer: str) -> None:
    _, _, admin, _ = await _world(factory)
    pfx = (test_data / PFX_123).read_bytes()
    cert = (await services.certificates.import_file(admin, pfx, password="123")).certificate
    config = await services.connection_configs.create(admin, ConnectionConfigInput(
        name="Cert", certificate_id=cert.id, asymmetric_only=asymmetric), activate=True)
    content = (await services.connection_configs.export(admin, config.id, request_url=SERVER)).content
    seb = decode_seb(content, identities=[load_identity(pfx, "123")])
    assert seb.layers[:3] == ("gzip", layer, "plnd") and seb.certificate_hash.hex() == cert.public_key_hash
    assert seb.settings == _expected(config, await _secret(services, config.id))
    # Certificate and password together: the password block sits inside the certificate layer.
    await services.connection_configs.update(admin, config.id, ConnectionConfigUpdate(
        encryption_password="pw", confirm_encryption_password="pw"))
    both = decode_seb((await services.connection_configs.export(admin, config.id, request_url=SERVER)).content,
                      password="pw", identities=[load_identity(pfx, "123")])
    assert both.layers[:3] == ("gzip", layer, "pswd")


async def test_external_url_setting_wins(services, factory: Factory) -> None:
    _, _, admin, _ = await _world(factory)
    services.connection_configs.external_url = "https://public.example.org"
    config = await services.connection_configs.create(admin, ConnectionConfigInput(name="Public"), activate=True)
    seb = decode_seb((await services.connection_configs.export(admin, config.id, request_url=SERVER)).content)
    assert seb.settings["sebServerURL"] == "https://public.example.org"


async def test_secrets_encrypted_at_rest(services, factory: Factory) -> None:
    _, _, admin, _ = await _world(factory)
    config = await services.connection_configs.create(admin, ConnectionConfigInput(
        name="Secrets", encryption_password="enc-PLAIN-1", confirm_encryption_password="enc-PLAIN-1",
        fallback_password="fb-PLAIN-2", confirm_fallback_password="fb-PLAIN-2",
        quit_password="quit-PLAIN-3", confirm_quit_password="quit-PLAIN-3"))
    secret = await _secret(services, config.id)
    async with services.db.read() as session:
        row = (await session.execute(select(ConnectionConfiguration.__table__).where(
            ConnectionConfiguration.id == config.id))).one()
    raw = " ".join(str(value) for value in row)
    for plain in ("enc-PLAIN-1", "fb-PLAIN-2", "quit-PLAIN-3", secret, hash_password("quit-PLAIN-3")):
        assert plain not in raw


async def test_validation_messages(services, factory: Factory) -> None:
    _, _, admin, _ = await _world(factory)
    with pytest.raises(ValidationFailed) as caught:
        await services.connection_configs.create(admin, ConnectionConfigInput(
            name="Fallback", fallback=True, encryption_password="a", confirm_encryption_password="b",
            quit_password="q"))
    assert caught.value.field_errors == {
        "fallback_start_url": "a fallback URL is required when the fallback is on",
        "confirm_encryption_password": "the configuration password and its confirmation differ",
        "confirm_quit_password": "the quit password and its confirmation differ",
    }
    bad = {"name": "ab", "fallback_attempts": "0", "fallback_interval_ms": "99", "fallback_timeout_ms": "x",
           "ping_interval_ms": "60001", "fallback_start_url": "ftp://host/", "purpose": "OTHER"}
    with pytest.raises(ValidationFailed) as parsed:
        parse_input(ConnectionConfigInput, bad)
    errors = parsed.value.field_errors
    assert set(errors) == set(bad)
    assert "at least 3 characters" in errors["name"]
    assert "greater than or equal to 1" in errors["fallback_attempts"]
    assert "less than or equal to 60000" in errors["ping_interval_ms"]
    assert errors["fallback_start_url"] == "enter a full http:// or https:// address"
    with pytest.raises(ValidationFailed) as nulls:
        parse_input(ConnectionConfigUpdate, {"name": None, "fallback": None, "certificate_id": None})
    assert set(nulls.value.field_errors) == {"name", "fallback"}
    async with services.db.read() as session:
        assert (await session.execute(select(ConnectionConfiguration.id))).first() is None


async def test_unique_names_per_institution(services, factory: Factory) -> None:
    _, _, admin, other = await _world(factory)
    first = await services.connection_configs.create(admin, ConnectionConfigInput(name="Exams"))
    with pytest.raises(ValidationFailed) as caught:
        await services.connection_configs.create(admin, ConnectionConfigInput(name="EXAMS"))
    assert caught.value.field_errors == {"name": "a connection configuration named 'EXAMS' exists already"}
    await services.connection_configs.create(other, ConnectionConfigInput(name="Exams"))
    second = await services.connection_configs.create(admin, ConnectionConfigInput(name="Other"))
    with pytest.raises(ValidationFailed):
        await services.connection_configs.update(admin, second.id, ConnectionConfigUpdate(name="exams"))
    renamed = await services.connection_configs.update(admin, first.id, ConnectionConfigUpdate(name="Exams 2"))
    assert renamed.name == "Exams 2"


async def test_update_keeps_unset_fields_and_fallback_rules(services, factory: Factory) -> None:
    _, _, admin, _ = await _world(factory)
    config = await services.connection_configs.create(admin, ConnectionConfigInput(
        name="Keep", encryption_password="pw", confirm_encryption_password="pw"))
    with pytest.raises(ValidationFailed) as caught:
        await services.connection_configs.update(admin, config.id, ConnectionConfigUpdate(fallback=True))
    assert set(caught.value.field_errors) == {"fallback_start_url"}
    updated = await services.connection_configs.update(admin, config.id, ConnectionConfigUpdate(
        fallback=True, fallback_start_url="http://fallback.example.org"))
    assert updated.fallback and updated.encryption_password_encrypted == config.encryption_password_encrypted
    with pytest.raises(ValidationFailed):  # the stored URL cannot be removed while the fallback is on
        await services.connection_configs.update(admin, config.id, ConnectionConfigUpdate(fallback_start_url=None))
    removed = await services.connection_configs.update(admin, config.id, ConnectionConfigUpdate(
        encryption_password=None))
    assert removed.encryption_password_encrypted is None


async def test_certificate_must_belong_to_institution(services, factory: Factory, test_data: Path) -> None:
    _, _, admin, other = await _world(factory)
    foreign = (await services.certificates.import_file(other, (test_data / PFX_EMPTY).read_bytes())).certificate
    with pytest.raises(ValidationFailed) as caught:
        await services.connection_configs.create(admin, ConnectionConfigInput(name="Foreign cert",
                                                                              certificate_id=foreign.id))
    assert caught.value.field_errors == {"certificate_id": "choose one of the institution's certificates"}


async def test_activation_and_client_lookup(services, factory: Factory) -> None:
    a, _, admin, _ = await _world(factory)
    config = await services.connection_configs.create(admin, ConnectionConfigInput(name="Clients"))
    assert await services.connection_configs.by_client_id(config.client_id) is None
    await services.connection_configs.set_active(admin, config.id, True)
    access = await services.connection_configs.by_client_id(config.client_id)
    secret = await _secret(services, config.id)
    assert access is not None and access.client_secret == secret and access.institution_id == a.id
    assert await services.connection_configs.is_active_client(config.client_id)
    assert await services.connection_configs.verify_client(config.client_id, secret) == access
    assert await services.connection_configs.verify_client(config.client_id, secret + "x") is None
    assert await services.connection_configs.by_client_id("unknown") is None
    await services.connection_configs.set_active(admin, config.id, False)
    assert not await services.connection_configs.is_active_client(config.client_id)
    await services.connection_configs.set_active(admin, config.id, True)
    regenerated = await services.connection_configs.regenerate_credentials(admin, config.id)
    assert regenerated.client_id != config.client_id
    assert await services.connection_configs.by_client_id(config.client_id) is None
    assert await services.connection_configs.verify_client(regenerated.client_id, secret) is None
    assert await services.connection_configs.is_active_client(regenerated.client_id)


async def test_list_filters_sort_and_tenant_isolation(services, factory: Factory) -> None:
    a, b, admin, other = await _world(factory)
    for name in ("Spring", "Autumn", "Winter"):
        await services.connection_configs.create(admin, ConnectionConfigInput(
            name=name, purpose="CONFIGURE_CLIENT" if name == "Winter" else "START_EXAM"), activate=name != "Autumn")
    foreign = await services.connection_configs.create(other, ConnectionConfigInput(name="Foreign"))
    names = [c.name for c in (await services.connection_configs.list(admin, ListParams())).items]
    assert names == ["Autumn", "Spring", "Winter"]
    assert [c.name for c in (await services.connection_configs.list(
        admin, ListParams(sort="name", descending=True, filters={"active": "true"}))).items] == ["Winter", "Spring"]
    assert [c.name for c in (await services.connection_configs.list(
        admin, ListParams(filters={"purpose": "CONFIGURE_CLIENT"}))).items] == ["Winter"]
    assert [c.name for c in (await services.connection_configs.list(
        admin, ListParams(filters={"name": "UMN"}))).items] == ["Autumn"]
    with pytest.raises(ValidationFailed):
        await services.connection_configs.list(admin, ListParams(filters={"purpose": "X"}))
    for call in (services.connection_configs.get(admin, foreign.id),
                 services.connection_configs.set_active(admin, foreign.id, True),
                 services.connection_configs.update(admin, foreign.id, ConnectionConfigUpdate(name="Mine")),
                 services.connection_configs.export(admin, foreign.id, request_url=SERVER),
                 services.connection_configs.regenerate_credentials(admin, foreign.id),
                 services.connection_configs.delete(admin, foreign.id)):
        with pytest.raises(NotFound):
            await call
    root = await factory.actor(a, "root", Role.SEB_SERVER_ADMIN)
    assert (await services.connection_configs.list(root, ListParams())).total == 4
    assert (await services.connection_configs.list(root, ListParams(filters={"institution_id": str(b.id)}))).total == 1
    assert (await services.connection_configs.get(root, foreign.id)).name == "Foreign"
    for call in (services.connection_configs.set_active(root, foreign.id, True),
                 services.connection_configs.export(root, foreign.id, request_url=SERVER),
                 services.connection_configs.delete(root, foreign.id)):
        with pytest.raises(PermissionDenied):
            await call
    with pytest.raises(PermissionDenied):
        await services.connection_configs.create(root, ConnectionConfigInput(name="Root's"))


async def test_supporter_and_exam_admin(services, factory: Factory) -> None:
    a, _, admin, _ = await _world(factory)
    config = await services.connection_configs.create(admin, ConnectionConfigInput(name="Roles"))
    supporter = await factory.actor(a, "supporter", Role.EXAM_SUPPORTER)
    with pytest.raises(PermissionDenied):
        await services.connection_configs.list(supporter, ListParams())
    with pytest.raises(NotFound):
        await services.connection_configs.get(supporter, config.id)
    with pytest.raises(PermissionDenied):
        await services.connection_configs.create(supporter, ConnectionConfigInput(name="Mine"))
    exam_admin = await factory.actor(a, "exam-admin", Role.EXAM_ADMIN)
    await services.connection_configs.set_active(exam_admin, config.id, True)
    await services.connection_configs.export(exam_admin, config.id, request_url=SERVER)


async def test_activity_log(services, factory: Factory) -> None:
    _, _, admin, _ = await _world(factory)
    config = await services.connection_configs.create(admin, ConnectionConfigInput(name="Logged"), activate=True)
    await services.connection_configs.update(admin, config.id, ConnectionConfigUpdate(
        ping_interval_ms=2000, quit_password="secret-quit", confirm_quit_password="secret-quit"))
    await services.connection_configs.export(admin, config.id, request_url=SERVER)
    await services.connection_configs.set_active(admin, config.id, False)
    await services.connection_configs.regenerate_credentials(admin, config.id)
    await services.connection_configs.delete(admin, config.id)
    async with services.db.read() as session:
        entries = (await session.execute(select(ActivityLogEntry).where(
            ActivityLogEntry.entity_type == "CONNECTION_CONFIGURATION").order_by(ActivityLogEntry.id))).scalars().all()
    assert [e.activity for e in entries] == ["CREATE", "ACTIVATE", "MODIFY", "EXPORT", "DEACTIVATE", "MODIFY",
                                             "DELETE"]
    assert entries[2].message == "ping_interval_ms, quit_password set"
    assert all("secret-quit" not in e.message for e in entries)
    assert entries[5].message == "client credentials regenerated"
    assert {e.entity_name for e in entries} == {"Logged"}
