"""Admin UI: certificate list, import with password, details, delete with confirmation (refused while used)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from sebframe.core.accounts.roles import Role
from sebframe.core.db.models import Certificate
from sebframe.core.sebconfig.connection_configs import ConnectionConfigInput
from tests.conftest import Factory, sign_in

pytestmark = pytest.mark.anyio

CER = "seb-server/sebserver-test.cer"
PFX_123 = "seb-server/testIdentity123.pfx"
PFX_EMPTY = "seb-win-refactoring/UnitTestCert.pfx"


async def _setup(client, factory: Factory, role: Role = Role.INSTITUTIONAL_ADMIN):  # type: ignore[no-untyped-def]
    a = await factory.institution("ETH")
    b = await factory.institution("UZH")
    admin = await factory.actor(a, "a-admin", Role.INSTITUTIONAL_ADMIN)
    other = await factory.actor(b, "b-admin", Role.INSTITUTIONAL_ADMIN)
    if role == Role.INSTITUTIONAL_ADMIN:
        await sign_in(client, "a-admin")
    else:
        await factory.user(a, "signed-in", role)
        await sign_in(client, "signed-in")
    return a, b, admin, other


async def _count(services) -> int:  # type: ignore[no-untyped-def]
    async with services.db.read() as session:
        return (await session.execute(select(func.count()).select_from(Certificate))).scalar_one()


def _upload(test_data: Path, name: str, filename: str | None = None):  # type: ignore[no-untyped-def]
    return {"file": (filename or Path(name).name, (test_data / name).read_bytes(), "application/octet-stream")}


async def test_import_pem_shows_expiry_warning_and_details(client, factory: Factory, services,
                                                           test_data: Path) -> None:
    await _setup(client, factory)
    form = await client.get("/certificates/new")
    assert form.status_code == 200 and 'enctype="multipart/form-data"' in form.text
    assert 'accept=".pem,.crt,.cer,.der,.p12,.pfx"' in form.text and 'class="mandatory"' in form.text
    response = await client.post("/certificates/new", data={"alias": ""}, files=_upload(test_data, CER))
    assert response.status_code == 303
    view = await client.get(response.headers["location"])
    assert "Certificate test.anhefti.sebserver imported." in view.text
    assert 'class="flash warning"' in view.text and "expired on 2022-05-06" in view.text
    assert "3799dc54415d4587d74d390173eb19c0782fcb7e" in view.text and "CN=test.anhefti.sebserver" in view.text
    assert "Remove Certificate" in view.text


async def test_import_pkcs12_with_password(client, factory: Factory, services, test_data: Path) -> None:
    await _setup(client, factory)
    wrong = await client.post("/certificates/new", data={"password": "nope", "alias": "Fiddler"},
                              files=_upload(test_data, PFX_123))
    assert wrong.status_code == 422 and "The password is wrong for this PKCS#12 file" in wrong.text
    assert "nope" not in wrong.text and 'value="Fiddler"' in wrong.text
    missing = await client.post("/certificates/new", data={}, files=_upload(test_data, PFX_123))
    assert missing.status_code == 422 and "enter its password" in missing.text
    assert await _count(services) == 0
    ok = await client.post("/certificates/new", data={"password": "123", "alias": "Fiddler"},
                           files=_upload(test_data, PFX_123))
    assert ok.status_code == 303
    view = await client.get(ok.headers["location"])
    assert "Certificate Fiddler imported." in view.text and "Yes (identity" in view.text
    empty = await client.post("/certificates/new", data={"password": ""}, files=_upload(test_data, PFX_EMPTY))
    assert empty.status_code == 303
    page = await client.get("/certificates?sort=alias")
    assert re.findall(r'<td><a href="/certificates/\d+">([^<]+)</a></td>', page.text) == [
        "Fiddler", "Unit Test Certificate"]
    assert "Import Certificate" in page.text and 'data-flags="deletable"' in page.text


async def test_garbage_missing_and_huge_files(client, factory: Factory, services) -> None:
    await _setup(client, factory)
    garbage = await client.post("/certificates/new", files={"file": ("cert.pem", b"garbage" * 50, "text/plain")})
    assert garbage.status_code == 422 and "neither an X.509 certificate" in garbage.text
    none = await client.post("/certificates/new", data={"alias": "x"})
    assert none.status_code == 422 and "Choose a certificate file." in none.text
    huge = await client.post("/certificates/new", files={"file": ("big.pfx", bytes(100 * 1024 * 1024),
                                                                   "application/x-pkcs12")})
    assert huge.status_code == 413 and "larger than 256 KiB" in huge.text
    just_over = await client.post("/certificates/new", files={"file": ("big.cer", b"0" * (256 * 1024 + 1),
                                                                       "application/pkix-cert")})
    assert just_over.status_code == 422 and "larger than 256 KiB" in just_over.text
    assert await _count(services) == 0


async def test_delete_confirmation_and_refusal_while_used(client, factory: Factory, services,
                                                          test_data: Path) -> None:
    _, _, admin, _ = await _setup(client, factory)
    cert = (await services.certificates.import_file(admin, (test_data / CER).read_bytes())).certificate
    config = await services.connection_configs.create(admin, ConnectionConfigInput(name="Encrypted",
                                                                                    certificate_id=cert.id))
    dialog = await client.get(f"/certificates/{cert.id}/delete")
    assert "cannot be deleted" in dialog.text and f"/connection-configurations/{config.id}" in dialog.text
    assert 'id="delete-form"' not in dialog.text
    refused = await client.post(f"/certificates/{cert.id}/delete")
    assert refused.status_code == 303
    assert "encrypts the connection configuration &#39;Encrypted&#39;" in (
        await client.get(refused.headers["location"])).text
    assert await _count(services) == 1
    await services.connection_configs.delete(admin, config.id)
    dialog = await client.get(f"/certificates/{cert.id}/delete")
    assert 'id="delete-form"' in dialog.text and "cannot be undone" in dialog.text
    deleted = await client.post(f"/certificates/{cert.id}/delete")
    assert deleted.status_code == 303 and deleted.headers["location"] == "/certificates"
    assert await _count(services) == 0


async def test_tenant_isolation(client, factory: Factory, services, test_data: Path) -> None:
    _, _, _, other = await _setup(client, factory)
    foreign = (await services.certificates.import_file(other, (test_data / CER).read_bytes())).certificate
    assert "test.anhefti" not in (await client.get("/certificates")).text
    assert (await client.get(f"/certificates/{foreign.id}")).status_code == 404
    assert (await client.get(f"/certificates/{foreign.id}/delete")).status_code == 404
    assert (await client.post(f"/certificates/{foreign.id}/delete")).status_code == 404
    assert await _count(services) == 1


async def test_supporter_and_seb_server_admin(client, factory: Factory, services, test_data: Path) -> None:
    _, _, admin, _ = await _setup(client, factory, Role.EXAM_SUPPORTER)
    cert = (await services.certificates.import_file(admin, (test_data / CER).read_bytes())).certificate
    assert "/certificates" not in (await client.get("/")).text
    assert (await client.get("/certificates")).status_code == 403
    assert (await client.get("/certificates/new")).status_code == 403
    assert (await client.get(f"/certificates/{cert.id}")).status_code == 404
    assert (await client.post("/certificates/new", files=_upload(test_data, CER))).status_code == 403
    await client.post("/logout")
    root_home = await factory.institution("Root Home")
    await factory.user(root_home, "root", Role.SEB_SERVER_ADMIN)
    await sign_in(client, "root")
    page = await client.get("/certificates")
    assert "test.anhefti.sebserver" in page.text and ">Institution<" in page.text
    assert "Import Certificate" not in page.text
    view = await client.get(f"/certificates/{cert.id}")
    assert view.status_code == 200 and "Remove Certificate" not in view.text
    assert (await client.post(f"/certificates/{cert.id}/delete")).status_code == 403
    assert await _count(services) == 1
