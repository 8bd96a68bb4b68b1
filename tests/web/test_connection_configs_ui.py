"""Admin UI: connection configuration list, create/edit with validation, activation, export, delete."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from sebframe.core.accounts.roles import Role
from sebframe.core.db.models import ConnectionConfiguration
from sebframe.core.sebconfig import decode_seb, hash_password, load_identity
from sebframe.core.sebconfig.connection_configs import ConnectionConfigInput
from tests.conftest import Factory, sign_in

pytestmark = pytest.mark.anyio

BASE = "/connection-configurations"


async def _setup(client, factory: Factory, role: Role = Role.INSTITUTIONAL_ADMIN):  # type: ignore[no-untyped-def]
    a = await factory.institution("ETH")
    b = await factory.institution("UZH")
    admin = await factory.actor(a, "a-admin", Role.INSTITUTIONAL_ADMIN)
    other = await factory.actor(b, "b-admin", Role.INSTITUTIONAL_ADMIN)
    if role != Role.INSTITUTIONAL_ADMIN:
        await factory.user(a, "signed-in", role)
        await sign_in(client, "signed-in")
    else:
        await sign_in(client, "a-admin")
    return a, b, admin, other


async def _count(services) -> int:  # type: ignore[no-untyped-def]
    async with services.db.read() as session:
        return (await session.execute(select(func.count()).select_from(ConnectionConfiguration))).scalar_one()


def _names(html: str) -> list[str]:
    return re.findall(r'<td><a href="/connection-configurations/\d+">([^<]+)</a></td>', html)


FORM = {"name": "Semester", "purpose": "START_EXAM", "certificate_id": "", "fallback_start_url": "",
        "fallback_attempts": "5", "fallback_interval_ms": "2000", "fallback_timeout_ms": "30000",
        "ping_interval_ms": "1000"}


async def test_create_view_activate_and_export(client, factory: Factory, services) -> None:
    a, _, _, _ = await _setup(client, factory)
    form = await client.get(f"{BASE}/new")
    assert form.status_code == 200 and 'class="mandatory"' in form.text and "data-warn-unsaved" in form.text
    assert 'data-toggles="fallback-fields"' in form.text and "Starting an Exam" in form.text
    assert "Configuring a Client" in form.text and "Use asymmetric-only encryption" in form.text
    created = await client.post(f"{BASE}/new", data={
        **FORM, "fallback": "1", "fallback_start_url": "https://lms.example.org", "encryption_password": "pw 1",
        "confirm_encryption_password": "pw 1", "quit_password": "q", "confirm_quit_password": "q"})
    assert created.status_code == 303, created.text
    view = await client.get(created.headers["location"])
    assert "Connection configuration Semester created." in view.text
    assert "Activate Connection Configuration" in view.text and "/export" not in view.text
    assert "pw 1" not in view.text and "set" in view.text
    config_id = int(created.headers["location"].rsplit("/", 1)[1])
    refused = await client.get(f"{BASE}/{config_id}/export")
    assert refused.status_code == 303
    assert "activate it before exporting" in (await client.get(refused.headers["location"])).text

    activated = await client.post(f"{BASE}/{config_id}/activate", data={"next": f"{BASE}/{config_id}"})
    assert activated.status_code == 303
    view = await client.get(f"{BASE}/{config_id}")
    assert "activated; it can be exported now" in view.text and "Export Connection Configuration" in view.text
    download = await client.get(f"{BASE}/{config_id}/export")
    assert download.status_code == 200
    assert download.headers["content-type"] == "application/seb"
    assert download.headers["content-disposition"] == 'attachment; filename="SEBServerSettings.seb"'
    seb = decode_seb(download.content, password="pw 1")
    assert seb.layers[:2] == ("gzip", "pswd")
    assert seb.settings["sebServerURL"] == "http://testserver"
    assert seb.settings["startURL"] == "https://lms.example.org"
    assert seb.settings["hashedQuitPassword"] == hash_password("q")
    assert seb.settings["sebServerConfiguration"]["institution"] == str(a.id)

    deactivated = await client.post(f"{BASE}/{config_id}/deactivate", data={"next": f"{BASE}/{config_id}"})
    assert "SEB clients using it are refused" in (await client.get(deactivated.headers["location"])).text


async def test_validation_rerenders_without_secrets(client, factory: Factory, services) -> None:
    await _setup(client, factory)
    response = await client.post(f"{BASE}/new", data={
        **FORM, "name": "ab", "fallback": "1", "fallback_attempts": "0", "ping_interval_ms": "abc",
        "encryption_password": "Secret-One", "confirm_encryption_password": "Secret-Two"})
    assert response.status_code == 422
    assert "Please correct the marked fields" in response.text
    assert "at least 3 characters" in response.text
    assert "greater than or equal to 1" in response.text
    assert "Secret-One" not in response.text and "Secret-Two" not in response.text
    assert 'value="ab"' in response.text and "checked" in response.text  # the fallback box stays on
    # Fields the model accepts, rules the service checks: fallback URL and password confirmation.
    second = await client.post(f"{BASE}/new", data={
        **FORM, "fallback": "1", "encryption_password": "Secret-One", "confirm_encryption_password": "Other"})
    assert second.status_code == 422
    assert "a fallback URL is required when the fallback is on" in second.text
    assert "the configuration password and its confirmation differ" in second.text
    assert "Secret-One" not in second.text
    await client.post(f"{BASE}/new", data=FORM)
    duplicate = await client.post(f"{BASE}/new", data={**FORM, "name": "SEMESTER"})
    assert duplicate.status_code == 422 and "exists already" in duplicate.text
    assert await _count(services) == 1


async def test_edit_keeps_and_removes_passwords(client, factory: Factory, services) -> None:
    _, _, admin, _ = await _setup(client, factory)
    config = await services.connection_configs.create(admin, ConnectionConfigInput(
        name="Edit me", encryption_password="keep", confirm_encryption_password="keep",
        quit_password="quit", confirm_quit_password="quit"))
    form = await client.get(f"{BASE}/{config.id}/edit")
    assert 'value="Edit me"' in form.text and "Remove the current configuration password" in form.text
    assert "keep" not in form.text.replace("keep their", "")
    saved = await client.post(f"{BASE}/{config.id}/edit", data={**FORM, "name": "Edited", "ping_interval_ms": "1500"})
    assert saved.status_code == 303
    async with services.db.read() as session:
        row = await session.get(ConnectionConfiguration, config.id)
    assert row.name == "Edited" and row.ping_interval_ms == 1500
    assert row.encryption_password_encrypted == config.encryption_password_encrypted
    removed = await client.post(f"{BASE}/{config.id}/edit", data={
        **FORM, "name": "Edited", "remove_encryption_password": "1", "quit_password": "new",
        "confirm_quit_password": "new"})
    assert removed.status_code == 303
    async with services.db.read() as session:
        row = await session.get(ConnectionConfiguration, config.id)
    assert row.encryption_password_encrypted is None
    assert services.secrets.decrypt(row.quit_password_encrypted) == "new"
    mismatch = await client.post(f"{BASE}/{config.id}/edit", data={
        **FORM, "name": "Edited", "quit_password": "a", "confirm_quit_password": "b"})
    assert mismatch.status_code == 422 and "the quit password and its confirmation differ" in mismatch.text


async def test_certificate_choice_and_save_and_activate(client, factory: Factory, services,
                                                        test_data: Path) -> None:
    _, _, admin, other = await _setup(client, factory)
    pfx = (test_data / "seb-win-refactoring/UnitTestCert.pfx").read_bytes()
    cert = (await services.certificates.import_file(admin, pfx)).certificate
    foreign = (await services.certificates.import_file(other, pfx)).certificate
    form = await client.get(f"{BASE}/new")
    assert f'<option value="{cert.id}"' in form.text and f'<option value="{foreign.id}"' not in form.text
    bad = await client.post(f"{BASE}/new", data={**FORM, "certificate_id": str(foreign.id)})
    assert bad.status_code == 422 and "choose one of the institution&#39;s certificates" in bad.text
    created = await client.post(f"{BASE}/new", data={**FORM, "certificate_id": str(cert.id), "asymmetric_only": "1",
                                                     "activate": "1"})
    assert created.status_code == 303
    view = await client.get(created.headers["location"])
    assert "created and activated" in view.text and "Unit Test Certificate" in view.text
    download = await client.get(created.headers["location"] + "/export")
    seb = decode_seb(download.content, identities=[load_identity(pfx, "")])
    assert seb.layers[:2] == ("gzip", "pkhs")


async def test_list_filter_and_row_actions(client, factory: Factory, services) -> None:
    _, _, admin, other = await _setup(client, factory)
    for name in ("Spring", "Autumn"):
        await services.connection_configs.create(admin, ConnectionConfigInput(name=name), activate=name == "Spring")
    await services.connection_configs.create(other, ConnectionConfigInput(name="Foreign"))
    page = await client.get(BASE)
    assert page.status_code == 200 and _names(page.text) == ["Autumn", "Spring"]
    assert "Add Connection Configuration" in page.text
    assert 'data-row-action="/connection-configurations/{id}/export"' in page.text
    assert 'data-flags="active writable"' in page.text
    assert _names((await client.get(f"{BASE}?active=true")).text) == ["Spring"]
    assert _names((await client.get(f"{BASE}?sort=-name")).text) == ["Spring", "Autumn"]
    bad = await client.get(f"{BASE}?sort=secret")
    assert bad.status_code == 422 and "cannot sort by" in bad.text


async def test_tenant_isolation_and_delete(client, factory: Factory, services) -> None:
    _, _, admin, other = await _setup(client, factory)
    foreign = await services.connection_configs.create(other, ConnectionConfigInput(name="Foreign"), activate=True)
    for path in ("", "/edit", "/export", "/delete"):
        assert (await client.get(f"{BASE}/{foreign.id}{path}")).status_code == 404
    for path in ("/activate", "/deactivate", "/credentials", "/delete", "/edit"):
        assert (await client.post(f"{BASE}/{foreign.id}{path}", data=FORM)).status_code == 404
    mine = await services.connection_configs.create(admin, ConnectionConfigInput(name="Mine"))
    confirm = await client.get(f"{BASE}/{mine.id}/delete")
    assert "cannot be undone" in confirm.text
    deleted = await client.post(f"{BASE}/{mine.id}/delete")
    assert deleted.status_code == 303 and deleted.headers["location"] == BASE
    assert await _count(services) == 1


async def test_regenerate_credentials(client, factory: Factory, services) -> None:
    _, _, admin, _ = await _setup(client, factory)
    config = await services.connection_configs.create(admin, ConnectionConfigInput(name="Creds"))
    response = await client.post(f"{BASE}/{config.id}/credentials")
    assert response.status_code == 303
    assert "files exported before no longer connect" in (await client.get(response.headers["location"])).text
    assert (await services.connection_configs.get(admin, config.id)).client_id != config.client_id


async def test_supporter_has_no_access(client, factory: Factory, services) -> None:
    _, _, admin, _ = await _setup(client, factory, Role.EXAM_SUPPORTER)
    config = await services.connection_configs.create(admin, ConnectionConfigInput(name="Hidden"))
    home = await client.get("/")
    assert "/connection-configurations" not in home.text
    assert (await client.get(BASE)).status_code == 403
    assert (await client.get(f"{BASE}/new")).status_code == 403
    assert (await client.post(f"{BASE}/new", data=FORM)).status_code == 403
    assert (await client.get(f"{BASE}/{config.id}")).status_code == 404
    assert await _count(services) == 1


async def test_seb_server_admin_reads_all_but_changes_nothing(client, factory: Factory, services) -> None:
    _, _, admin, other = await _setup(client, factory, Role.SEB_SERVER_ADMIN)
    await services.connection_configs.create(admin, ConnectionConfigInput(name="ETH config"))
    foreign = await services.connection_configs.create(other, ConnectionConfigInput(name="UZH config"), activate=True)
    page = await client.get(BASE)
    assert _names(page.text) == ["ETH config", "UZH config"] and ">Institution<" in page.text
    assert "Add Connection Configuration" not in page.text
    view = await client.get(f"{BASE}/{foreign.id}")
    assert view.status_code == 200 and "Edit Connection Configuration" not in view.text
    assert (await client.get(f"{BASE}/{foreign.id}/edit")).status_code == 403
    assert (await client.get(f"{BASE}/{foreign.id}/export")).status_code == 403
    assert (await client.post(f"{BASE}/{foreign.id}/deactivate")).status_code == 403
