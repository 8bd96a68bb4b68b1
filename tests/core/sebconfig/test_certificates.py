"""Certificate store: import PEM/DER/PKCS#12, errors that store nothing, encryption at rest, privileges."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from sqlalchemy import func, select

from sebframe.core.accounts.roles import Role
from sebframe.core.db.models import ActivityLogEntry, Certificate
from sebframe.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from sebframe.core.paging import ListParams
from sebframe.core.sebconfig import load_certificate
from sebframe.core.sebconfig.certificates import (
    MAX_CERTIFICATE_BYTES,
    kind_of_filename,
    parse_certificate_file,
)
from sebframe.core.sebconfig.connection_configs import ConnectionConfigInput
from tests.conftest import Factory

pytestmark = pytest.mark.anyio

CER = "seb-server/sebserver-test.cer"
PFX_123 = "seb-server/testIdentity123.pfx"
PFX_EMPTY = "seb-win-refactoring/UnitTestCert.pfx"


def _read(test_data: Path, name: str) -> bytes:
    return (test_data / name).read_bytes()


async def _world(factory: Factory):  # type: ignore[no-untyped-def]
    a = await factory.institution("ETH")
    b = await factory.institution("UZH")
    return (a, b, await factory.actor(a, "a-admin", Role.INSTITUTIONAL_ADMIN),
            await factory.actor(b, "b-admin", Role.INSTITUTIONAL_ADMIN))


async def _count(services) -> int:  # type: ignore[no-untyped-def]
    async with services.db.read() as session:
        return (await session.execute(select(func.count()).select_from(Certificate))).scalar_one()


async def test_import_pem_certificate_with_expiry_warning(services, factory: Factory, test_data: Path) -> None:
    _, _, admin, _ = await _world(factory)
    result = await services.certificates.import_file(admin, _read(test_data, CER), kind="pem")
    cert = result.certificate
    assert cert.alias == "test.anhefti.sebserver"  # default alias: the subject's CN
    assert cert.subject == "CN=test.anhefti.sebserver" and cert.issuer == "CN=test.anhefti.sebserver"
    assert cert.public_key_hash == "3799dc54415d4587d74d390173eb19c0782fcb7e"
    assert cert.private_key_encrypted is None
    assert cert.not_after is not None and cert.not_after.year == 2022
    assert len(result.warnings) == 1 and "expired on 2022-05-06" in result.warnings[0]
    loaded = await services.certificates.identity(admin, cert.id)
    assert loaded.private_key is None and loaded.identity is None
    assert loaded.certificate == load_certificate(_read(test_data, CER))


async def test_import_der_and_unknown_extension(services, factory: Factory, test_data: Path) -> None:
    _, _, admin, _ = await _world(factory)
    der = load_certificate(_read(test_data, CER)).public_bytes(Encoding.DER)
    result = await services.certificates.import_file(admin, der, kind=kind_of_filename("x.cer"), alias="der")
    assert result.certificate.public_key_hash == "3799dc54415d4587d74d390173eb19c0782fcb7e"
    sniffed = await services.certificates.import_file(admin, _read(test_data, PFX_EMPTY), kind=None)
    assert sniffed.certificate.alias == "Unit Test Certificate" and sniffed.warnings == []


async def test_import_pkcs12_identities(services, factory: Factory, test_data: Path) -> None:
    _, _, admin, _ = await _world(factory)
    with_password = await services.certificates.import_file(
        admin, _read(test_data, PFX_123), password="123", kind="pkcs12", alias="  Fiddler  ")
    assert with_password.certificate.alias == "Fiddler"
    assert with_password.certificate.public_key_hash == "f45ee30dd1847ae18d679ede46e2e2322248bb21"
    empty = await services.certificates.import_file(admin, _read(test_data, PFX_EMPTY), kind="pkcs12")
    assert empty.certificate.public_key_hash == "9a6ff964feef5924c2d8027b384b1519395c53ba"
    assert empty.certificate.serial_number.startswith("-")  # negative serial of the test certificate
    loaded = await services.certificates.identity(admin, empty.certificate.id)
    assert loaded.identity is not None
    assert loaded.identity.public_key_hash.hex() == "9a6ff964feef5924c2d8027b384b1519395c53ba"


async def test_secrets_are_encrypted_at_rest(services, factory: Factory, test_data: Path) -> None:
    _, _, admin, _ = await _world(factory)
    data = _read(test_data, PFX_EMPTY)
    result = await services.certificates.import_file(admin, data, kind="pkcs12")
    loaded = await services.certificates.identity(admin, result.certificate.id)
    der = loaded.certificate.public_bytes(Encoding.DER)
    async with services.db.read() as session:
        row = (await session.execute(select(Certificate.certificate_encrypted, Certificate.private_key_encrypted)
                                     .where(Certificate.id == result.certificate.id))).one()
    assert der not in row.certificate_encrypted and der[:64] not in row.certificate_encrypted
    assert row.private_key_encrypted is not None and b"BEGIN" not in row.private_key_encrypted
    assert services.secrets.decrypt_bytes(row.certificate_encrypted) == der


@pytest.mark.parametrize(("name", "password", "kind", "field", "text"), [
    (PFX_123, "wrong", "pkcs12", "password", "password is wrong"),
    (PFX_123, None, "pkcs12", "password", "password protected"),
    (None, None, "pkcs12", "file", "neither an X.509 certificate"),
    (None, None, "pem", "file", "neither an X.509 certificate"),
    (None, None, None, "file", "neither an X.509 certificate"),
])
async def test_bad_files_store_nothing(services, factory: Factory, test_data: Path, name, password, kind,
                                       field, text) -> None:
    _, _, admin, _ = await _world(factory)
    data = _read(test_data, name) if name else b"this is not a certificate at all\n" * 20
    with pytest.raises(ValidationFailed) as caught:
        await services.certificates.import_file(admin, data, password=password, kind=kind)
    assert text in caught.value.field_errors[field]
    assert await _count(services) == 0


async def test_empty_and_huge_files(services, factory: Factory) -> None:
    _, _, admin, _ = await _world(factory)
    with pytest.raises(ValidationFailed) as empty:
        await services.certificates.import_file(admin, b"")
    assert empty.value.field_errors == {"file": "The file is empty."}
    huge = bytes(100 * 1024 * 1024)
    with pytest.raises(ValidationFailed) as large:
        await services.certificates.import_file(admin, huge, kind="pkcs12")
    assert f"larger than {MAX_CERTIFICATE_BYTES // 1024} KiB" in large.value.field_errors["file"]
    assert await _count(services) == 0


def test_parse_refuses_non_rsa_and_pem_garbage() -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_certificate_file(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    assert "neither an X.509 certificate" in caught.value.field_errors["file"]


async def test_alias_unique_per_institution(services, factory: Factory, test_data: Path) -> None:
    _, _, admin, other = await _world(factory)
    data = _read(test_data, CER)
    await services.certificates.import_file(admin, data)
    with pytest.raises(ValidationFailed) as derived:
        await services.certificates.import_file(admin, data)
    assert "exists already (taken from the certificate's name)" in derived.value.field_errors["alias"]
    with pytest.raises(ValidationFailed) as given:
        await services.certificates.import_file(admin, data, alias="TEST.anhefti.sebserver")
    assert "choose another" in given.value.field_errors["alias"]
    await services.certificates.import_file(other, data)  # another institution may use the same alias
    await services.certificates.import_file(admin, data, alias="second copy")
    assert await _count(services) == 3


async def test_list_filters_and_tenant_isolation(services, factory: Factory, test_data: Path) -> None:
    a, b, admin, other = await _world(factory)
    await services.certificates.import_file(admin, _read(test_data, CER), alias="Server cert")
    await services.certificates.import_file(admin, _read(test_data, PFX_EMPTY))
    foreign = (await services.certificates.import_file(other, _read(test_data, PFX_123), password="123")).certificate
    page = await services.certificates.list(admin, ListParams(sort="alias"))
    assert [c.alias for c in page.items] == ["Server cert", "Unit Test Certificate"]
    assert [c.alias for c in (await services.certificates.list(admin, ListParams(filters={"subject": "unit"}))).items] \
        == ["Unit Test Certificate"]
    with pytest.raises(NotFound):
        await services.certificates.get(admin, foreign.id)
    with pytest.raises(NotFound):
        await services.certificates.delete(admin, foreign.id)
    with pytest.raises(NotFound):
        await services.certificates.identity(admin, foreign.id)
    root = await factory.actor(a, "root", Role.SEB_SERVER_ADMIN)
    everything = await services.certificates.list(root, ListParams(size=10))
    assert everything.total == 3
    assert (await services.certificates.list(root, ListParams(filters={"institution_id": str(b.id)}))).total == 1
    # The SEB Server administrator reads everywhere but imports, deletes and reads keys nowhere else.
    assert (await services.certificates.get(root, foreign.id)).alias == foreign.alias
    with pytest.raises(PermissionDenied):
        await services.certificates.delete(root, foreign.id)
    with pytest.raises(PermissionDenied):
        await services.certificates.identity(root, foreign.id)


async def test_roles(services, factory: Factory, test_data: Path) -> None:
    a, _, admin, _ = await _world(factory)
    cert = (await services.certificates.import_file(admin, _read(test_data, CER))).certificate
    exam_admin = await factory.actor(a, "exam-admin", Role.EXAM_ADMIN)
    await services.certificates.import_file(exam_admin, _read(test_data, PFX_EMPTY))
    supporter = await factory.actor(a, "supporter", Role.EXAM_SUPPORTER)
    with pytest.raises(PermissionDenied):
        await services.certificates.list(supporter, ListParams())
    with pytest.raises(NotFound):
        await services.certificates.get(supporter, cert.id)
    with pytest.raises(PermissionDenied):
        await services.certificates.import_file(supporter, _read(test_data, CER), alias="x")
    root = await factory.actor(a, "root", Role.SEB_SERVER_ADMIN)
    with pytest.raises(PermissionDenied):
        await services.certificates.import_file(root, _read(test_data, CER), alias="x")
    assert await _count(services) == 2


async def test_delete_refused_while_used_and_logged(services, factory: Factory, test_data: Path) -> None:
    _, _, admin, _ = await _world(factory)
    cert = (await services.certificates.import_file(admin, _read(test_data, CER))).certificate
    await services.connection_configs.create(admin, ConnectionConfigInput(name="Exams 2026", certificate_id=cert.id))
    await services.connection_configs.create(admin, ConnectionConfigInput(name="Autumn", certificate_id=cert.id))
    assert [name for _, name in await services.certificates.usage(admin, cert.id)] == ["Autumn", "Exams 2026"]
    with pytest.raises(Conflict) as caught:
        await services.certificates.delete(admin, cert.id)
    assert "'Autumn', 'Exams 2026'" in caught.value.message
    for config_id, _ in await services.certificates.usage(admin, cert.id):
        await services.connection_configs.delete(admin, config_id)
    await services.certificates.delete(admin, cert.id)
    assert await _count(services) == 0
    async with services.db.read() as session:
        log = (await session.execute(select(ActivityLogEntry.activity).where(
            ActivityLogEntry.entity_type == "CERTIFICATE").order_by(ActivityLogEntry.id))).scalars().all()
    assert log == ["IMPORT", "DELETE"]
