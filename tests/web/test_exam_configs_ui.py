"""Admin UI: exam configurations and configuration templates, the SEB settings editor and its actions."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from sebframe.core.accounts.roles import Role
from sebframe.core.db.models import ExamConfiguration
from sebframe.core.sebconfig import config_key, decode_seb
from sebframe.core.sebconfig.exam_configs import ConfigKind, ExamConfigCreate
from tests.conftest import Factory, sign_in

pytestmark = pytest.mark.anyio

HX = {"HX-Request": "true"}


async def _world(client, factory: Factory, role: Role = Role.EXAM_ADMIN):
    eth = await factory.institution("ETH")
    uzh = await factory.institution("UZH")
    admin = await factory.actor(eth, "examadmin", Role.EXAM_ADMIN)
    if role != Role.EXAM_ADMIN:
        await factory.user(eth, "viewer", role)
        await sign_in(client, "viewer")
    else:
        await sign_in(client, "examadmin")
    other = await factory.actor(uzh, "uzhadmin", Role.EXAM_ADMIN)
    return admin, other


async def _config(services, actor, name: str = "Final Exam", **fields):
    return await services.exam_configs.create(actor, ExamConfigCreate(name=name, **fields))


def _names(html: str, base: str = "/exam-configurations") -> list[str]:
    return re.findall(rf'<td><a href="{base}/\d+">([^<]+)</a></td>', html)


async def test_list_filters_sort_paging_and_actions(client, factory: Factory, services) -> None:
    admin, other = await _world(client, factory)
    template = await services.exam_configs.create(admin, ExamConfigCreate(name="Base"), kind=ConfigKind.TEMPLATE)
    for index in range(12):
        await _config(services, admin, f"Exam {index:02d}", status="READY_TO_USE" if index % 3 == 0 else "CONSTRUCTION",
                      template_id=template.id if index < 2 else None)
    await _config(services, other, "Foreign")
    page = await client.get("/exam-configurations?size=5")
    assert page.status_code == 200
    assert "12 entries · page 1 of 3" in page.text and "Foreign" not in page.text
    assert _names(page.text) == [f"Exam {i:02d}" for i in range(5)]
    assert "Add Exam Configuration" in page.text and "Import Exam Configuration" in page.text
    assert 'data-row-action="/exam-configurations/{id}/settings"' in page.text
    descending = await client.get("/exam-configurations?sort=-name&size=2")
    assert _names(descending.text) == ["Exam 11", "Exam 10"]
    ready = await client.get("/exam-configurations?status=READY_TO_USE")
    assert _names(ready.text) == ["Exam 00", "Exam 03", "Exam 06", "Exam 09"]
    assert "Ready To Use" in ready.text
    from_template = await client.get(f"/exam-configurations?template_id={template.id}")
    assert _names(from_template.text) == ["Exam 00", "Exam 01"] and ">Base</td>" in from_template.text
    bad = await client.get("/exam-configurations?status=BOGUS")
    assert bad.status_code == 422 and "choose one of" in bad.text
    templates = await client.get("/configuration-templates")
    assert _names(templates.text, "/configuration-templates") == ["Base"]
    assert "Add Configuration Template" in templates.text and "Import Exam Configuration" not in templates.text


async def test_create_view_edit_delete(client, factory: Factory, services) -> None:
    admin, _ = await _world(client, factory)
    template = await services.exam_configs.create(admin, ExamConfigCreate(name="Strict"), kind=ConfigKind.TEMPLATE)
    await services.exam_configs.working_copy.set_value(admin, template.id, "allowQuit", "false")
    await services.exam_configs.revisions.publish(admin, template.id)
    form = await client.get("/exam-configurations/new")
    assert form.status_code == 200 and f'<option value="{template.id}"' in form.text
    refused = await client.post("/exam-configurations/new", data={"name": "x", "status": "CONSTRUCTION"})
    assert refused.status_code == 422 and "at least 3 characters" in refused.text
    created = await client.post("/exam-configurations/new", data={
        "name": "Physics Final", "description": "June", "status": "READY_TO_USE", "template_id": str(template.id)})
    assert created.status_code == 303
    url = created.headers["location"]
    view = await client.get(url)
    assert "Physics Final" in view.text and "Ready To Use" in view.text and "Strict" in view.text
    assert "Edit SEB Settings" in view.text and "Config Key" in view.text
    config_id = int(url.rsplit("/", 1)[1])
    assert (await services.exam_configs.working_copy.get(admin, config_id)).values["allowQuit"] == "false"

    duplicate = await client.post("/exam-configurations/new", data={"name": "physics final", "status": "CONSTRUCTION"})
    assert duplicate.status_code == 422 and "already exists" in duplicate.text
    edit = await client.get(f"{url}/edit")
    assert 'value="Physics Final"' in edit.text and "Archived" in edit.text
    saved = await client.post(f"{url}/edit", data={"name": "Physics Final 2", "description": "July",
                                                   "status": "CONSTRUCTION"})
    assert saved.status_code == 303
    assert (await services.exam_configs.get(admin, config_id)).name == "Physics Final 2"

    await services.exam_configs.update(admin, config_id, _update(status="READY_TO_USE"))
    await services.exam_configs.mark_in_use(admin, config_id)
    in_use_edit = await client.get(f"{url}/edit")
    assert "Attached to an exam" in in_use_edit.text and 'name="status"' not in in_use_edit.text
    refused_delete = await client.post(f"{url}/delete", data={"next": url})
    assert refused_delete.status_code == 303
    assert "cannot be deleted" in (await client.get(refused_delete.headers["location"])).text
    await services.exam_configs.release(admin, config_id)
    deleted = await client.post(f"{url}/delete")
    assert deleted.status_code == 303 and deleted.headers["location"] == "/exam-configurations"
    assert (await client.get(url)).status_code == 404


def _update(**fields):
    from sebframe.core.sebconfig.exam_configs import ExamConfigUpdate

    return ExamConfigUpdate(**fields)


async def test_settings_editor_tabs_fields_and_htmx_saving(client, factory: Factory, services) -> None:
    admin, _ = await _world(client, factory)
    config = await _config(services, admin)
    base = f"/exam-configurations/{config.id}/settings"
    page = await client.get(base)
    assert page.status_code == 200
    for label in ("General", "User Interface", "Browser", "Down/Uploads", "Exam", "Applications",
                  "Additional Resources", "Network", "Security", "Registry", "Hooked Keys", "Proctoring"):
        assert f">{label}</a>" in page.text
    assert f'hx-post="{base}/allowQuit"' in page.text and "Quit/unlock password" in page.text
    assert 'title="SEB setting &#39;allowQuit&#39;. On/off. Default: true."' in page.text
    assert "Unpublished changes" not in page.text
    for tab in ("user_interface", "browser", "down_upload", "exam", "applications", "resources", "network",
                "security", "registry", "hooked_keys", "proctoring"):
        response = await client.get(f"{base}?tab={tab}")
        assert response.status_code == 200, tab
    ui = await client.get(f"{base}?tab=user_interface")
    assert "<legend>Browser View Mode</legend>" in ui.text and "Use full screen mode" in ui.text
    assert (await client.get(f"{base}?tab=nope")).status_code == 404

    # A checkbox: the hidden "false" plus "true" when ticked; unticked sends only "false".
    saved = await client.post(f"{base}/allowQuit", data={"value": "false"}, headers=HX)
    assert saved.status_code == 200 and saved.headers["HX-Trigger"] == "settings-changed"
    assert 'id="s-allowQuit"' in saved.text and "checked" not in saved.text.split('type="checkbox"')[1][:40]
    assert (await services.exam_configs.working_copy.get(admin, config.id)).values["allowQuit"] == "false"
    # A refused value comes back with its message, and nothing is stored.
    refused = await client.post(f"{base}/audioVolumeLevel", data={"value": "250"}, headers=HX)
    assert refused.status_code == 422 and "outside the range 0 to 100" in refused.text
    assert 'value="250"' in refused.text and 'role="alert"' in refused.text
    assert (await services.exam_configs.working_copy.get(admin, config.id)).values["audioVolumeLevel"] == "25"
    radio = await client.post(f"{base}/browserViewMode", data={"value": "1"}, headers=HX)
    assert radio.status_code == 200 and 'value="1" checked' in radio.text
    text = await client.post(f"{base}/quitURL", data={"value": "https://lms.example.org/bye"}, headers=HX)
    assert 'value="https://lms.example.org/bye"' in text.text
    # Passwords: confirmation needed, never echoed.
    mismatch = await client.post(f"{base}/hashedQuitPassword", data={"value": "a-secret", "confirm": "other"},
                                 headers=HX)
    assert mismatch.status_code == 422 and "differ" in mismatch.text and "a-secret" not in mismatch.text
    password = await client.post(f"{base}/hashedQuitPassword", data={"value": "a-secret", "confirm": "a-secret"},
                                 headers=HX)
    assert password.status_code == 200 and "a-secret" not in password.text and ">set<" in password.text
    general = await client.get(base)
    assert "a-secret" not in general.text and "Unpublished changes" in general.text
    status = await client.get(f"{base}/status")
    assert "Unpublished changes" in status.text and 'hx-trigger="settings-changed from:body"' in status.text
    assert (await client.post(f"{base}/noSuchSetting", data={"value": "1"}, headers=HX)).status_code == 404


async def test_table_rows_in_the_editor(client, factory: Factory, services) -> None:
    admin, _ = await _world(client, factory)
    config = await _config(services, admin)
    base = f"/exam-configurations/{config.id}/settings"
    network = await client.get(f"{base}?tab=network")
    assert 'id="t-URLFilterRules"' in network.text and "Add entry" in network.text
    assert "Proxy settings" in network.text  # the composite table's one row
    added = await client.post(f"{base}/URLFilterRules/rows", headers=HX)
    assert added.status_code == 200 and f"{base}/URLFilterRules/rows/0/expression" in added.text
    cell = await client.post(f"{base}/URLFilterRules/rows/0/expression", data={"value": "example.org"}, headers=HX)
    assert cell.status_code == 200 and 'value="example.org"' in cell.text
    bad = await client.post(f"{base}/URLFilterRules/rows/0/action", data={"value": "7"}, headers=HX)
    assert bad.status_code == 422 and "not one of the options" in bad.text
    rows = (await services.exam_configs.working_copy.get(admin, config.id)).values["URLFilterRules"]
    assert rows == [{"action": "0", "active": "true", "expression": "example.org", "regex": "false"}]
    apps = await client.get(f"{base}?tab=applications")
    assert 'id="t-prohibitedProcesses"' in apps.text and "<details class=\"seb-row\"" in apps.text
    removed = await client.post(f"{base}/URLFilterRules/rows/0/delete", headers=HX)
    assert removed.status_code == 200 and "No entries." in removed.text
    twice = await client.post(f"{base}/proxies/rows", headers=HX)
    assert twice.status_code == 422 and "exists already" in twice.text
    assert (await client.post(f"{base}/URLFilterRules/rows/3/delete", headers=HX)).status_code == 404


async def test_publish_undo_history_restore_export_and_config_key(client, factory: Factory, services) -> None:
    admin, _ = await _world(client, factory)
    config = await _config(services, admin)
    url = f"/exam-configurations/{config.id}"
    nothing = await client.post(f"{url}/publish", data={"summary": ""})
    assert "no unpublished changes" in (await client.get(nothing.headers["location"])).text
    await client.post(f"{url}/settings/allowQuit", data={"value": "false"}, headers=HX)
    published = await client.post(f"{url}/publish", data={"summary": "locked down", "next": f"{url}/settings"})
    assert published.status_code == 303
    assert "Version 1 published (1 change)." in (await client.get(published.headers["location"])).text

    download = await client.get(f"{url}/export")
    assert download.status_code == 200
    assert download.headers["content-disposition"] == 'attachment; filename="SEBExamSettings.seb"'
    key_dialog = await client.get(f"{url}/config-key", headers=HX)
    assert "<dialog" in key_dialog.text and "<html" not in key_dialog.text
    shown = re.search(r'<code id="config-key" class="key">([0-9a-f]{64})</code>', key_dialog.text).group(1)
    assert shown == config_key(decode_seb(download.content).settings)
    full_page = await client.get(f"{url}/config-key")
    assert "<html" in full_page.text and shown in full_page.text
    protected = await client.post(f"{url}/export-protected", data={"password": "pw-1", "confirm_password": "pw-1"})
    assert config_key(decode_seb(protected.content, password="pw-1").settings) == shown
    mismatch = await client.post(f"{url}/export-protected", data={"password": "pw-1", "confirm_password": "x"})
    assert mismatch.status_code == 422 and "differ" in mismatch.text

    await client.post(f"{url}/settings/enableF5", data={"value": "true"}, headers=HX)
    history = await client.get(f"{url}/history")
    assert "Version 1" in history.text and "locked down" in history.text and "examadmin" in history.text
    assert "1 unpublished change:" in history.text and "<code>enableF5</code>" in history.text
    undone = await client.post(f"{url}/undo", data={})
    assert "1 unpublished change undone." in (await client.get(undone.headers["location"])).text
    initial = (await services.exam_configs.revisions.history(admin, config.id)).revisions[-1]
    restored = await client.post(f"{url}/history/{initial.id}/restore")
    assert restored.status_code == 303
    assert "Working copy restored (1 change)" in (await client.get(restored.headers["location"])).text
    assert (await services.exam_configs.working_copy.get(admin, config.id)).values["allowQuit"] == "true"
    # Exports keep the published version until the restored values are published.
    assert config_key(decode_seb((await client.get(f"{url}/export")).content).settings) == shown


async def test_copy_and_import(client, factory: Factory, services, test_data: Path) -> None:
    admin, _ = await _world(client, factory)
    config = await _config(services, admin)
    form = await client.get(f"/exam-configurations/{config.id}/copy")
    assert 'value="Copy of Final Exam"' in form.text and "With History" in form.text
    copied = await client.post(f"/exam-configurations/{config.id}/copy",
                               data={"name": "Retake", "description": "", "with_history": "1"})
    assert copied.status_code == 303 and "created as a copy" in (await client.get(copied.headers["location"])).text
    refused = await client.post(f"/exam-configurations/{config.id}/copy", data={"name": "Retake"})
    assert refused.status_code == 422 and "already exists" in refused.text

    data = (test_data / "seb-server" / "importTest_123.seb").read_bytes()
    page = await client.get("/exam-configurations/import")
    assert 'enctype="multipart/form-data"' in page.text
    wrong = await client.post("/exam-configurations/import", data={"name": "Imported", "password": "nope",
                                                                   "status": "CONSTRUCTION"},
                              files={"file": ("importTest_123.seb", data, "application/octet-stream")})
    assert wrong.status_code == 422 and "password" in wrong.text.lower()
    missing = await client.post("/exam-configurations/import", data={"name": "Imported", "status": "CONSTRUCTION"})
    assert missing.status_code == 422 and "choose a SEB configuration file" in missing.text
    imported = await client.post("/exam-configurations/import", data={"name": "Imported", "password": "123",
                                                                      "status": "CONSTRUCTION"},
                                 files={"file": ("importTest_123.seb", data, "application/octet-stream")})
    assert imported.status_code == 303
    view = await client.get(imported.headers["location"])
    assert "Exam configuration Imported imported." in view.text and "import warnings:" in view.text
    async with services.db.read() as session:
        count = (await session.execute(select(func.count()).select_from(ExamConfiguration))).scalar_one()
    assert count == 3


async def test_supporter_reads_only_and_other_tenants_are_not_found(client, factory: Factory, services) -> None:
    admin, other = await _world(client, factory, Role.EXAM_SUPPORTER)
    config = await _config(services, admin)
    foreign = await _config(services, other, "Foreign")
    listing = await client.get("/exam-configurations")
    assert "Final Exam" in listing.text and "Foreign" not in listing.text
    assert "Add Exam Configuration" not in listing.text
    view = await client.get(f"/exam-configurations/{config.id}")
    assert "View SEB Settings" in view.text and "Edit Exam Configuration" not in view.text
    editor = await client.get(f"/exam-configurations/{config.id}/settings")
    assert "hx-post" not in editor.text.split('id="seb-editor"')[1] and "Save / Publish Settings" not in editor.text
    assert (await client.get(f"/exam-configurations/{config.id}/export")).status_code == 200
    for method, path in (("POST", "/settings/allowQuit"), ("POST", "/publish"), ("GET", "/edit"),
                         ("GET", "/copy"), ("POST", "/delete")):
        response = await client.request(method, f"/exam-configurations/{config.id}{path}", data={"value": "false"})
        assert response.status_code == 403, (method, path, response.status_code)
    assert (await client.get("/exam-configurations/new")).status_code == 403
    for path in ("", "/settings", "/export", "/history", "/config-key"):
        assert (await client.get(f"/exam-configurations/{foreign.id}{path}")).status_code == 404, path
    assert (await client.get(f"/configuration-templates/{config.id}")).status_code == 404  # not a template


async def test_templates_attributes_attach_detach_reset_and_create_config(client, factory: Factory,
                                                                          services) -> None:
    admin, _ = await _world(client, factory)
    created = await client.post("/configuration-templates/new", data={"name": "Strict", "description": "d"})
    assert created.status_code == 303
    url = created.headers["location"]
    template_id = int(url.rsplit("/", 1)[1])
    view = await client.get(url)
    assert "Create Exam Configuration" in view.text and "Settings Attributes" in view.text
    settings = await client.get(f"{url}/settings")
    assert "Reset to Defaults" in settings.text
    await client.post(f"{url}/settings/allowQuit", data={"value": "false"}, headers=HX)
    attributes = await client.get(f"{url}/attributes?name=allowquit")
    assert "<code>allowQuit</code>" in attributes.text and "1 entry" in attributes.text
    detached = await client.post(f"{url}/attributes/allowQuit/detach", data={"next": f"{url}/attributes"})
    assert detached.status_code == 303
    hidden = await client.get(f"{url}/attributes?shown=false")
    assert "<code>allowQuit</code>" in hidden.text and "1 entry" in hidden.text
    by_view = await client.get(f"{url}/attributes?view=hooked_keys&size=100")
    assert "20 entries" in by_view.text
    attribute = await client.get(f"{url}/attributes/allowQuit")
    assert "Attach To View" in attribute.text and 'hx-post="' + url + '/settings/allowQuit"' in attribute.text
    refused = await client.post(f"{url}/attributes/originatorVersion/detach")
    assert "no place" in (await client.get(refused.headers["location"])).text
    template_editor = await client.get(f"{url}/settings")
    assert 'class="badge off"' in template_editor.text  # detached settings stay editable in the template, marked
    await client.post(f"{url}/publish", data={"summary": "strict"})

    form = await client.post(f"{url}/create-config", data={"name": "From Strict", "description": ""})
    assert form.status_code == 303
    config_id = int(form.headers["location"].rsplit("/", 1)[1])
    assert form.headers["location"] == f"/exam-configurations/{config_id}"
    config_editor = await client.get(f"/exam-configurations/{config_id}/settings")
    assert f'/exam-configurations/{config_id}/settings/allowQuit"' not in config_editor.text  # hidden here
    assert (await services.exam_configs.working_copy.get(admin, config_id)).values["allowQuit"] == "false"

    reset_one = await client.post(f"{url}/attributes/allowQuit/reset", data={"next": f"{url}/attributes/allowQuit"})
    assert "allowQuit set to its default value." in (await client.get(reset_one.headers["location"])).text
    await client.post(f"{url}/settings/enableF5", data={"value": "true"}, headers=HX)
    reset_all = await client.post(f"{url}/reset")
    assert "All settings set to their defaults." in (await client.get(reset_all.headers["location"])).text
    working = await services.exam_configs.working_copy.get(admin, template_id)
    assert working.values["enableF5"] == "false" and working.values["allowQuit"] == "true"


async def test_in_use_opens_read_only_and_archived_stays_read_only(client, factory: Factory, services) -> None:
    admin, _ = await _world(client, factory)
    config = await _config(services, admin, status="READY_TO_USE")
    await services.exam_configs.mark_in_use(admin, config.id)
    url = f"/exam-configurations/{config.id}/settings"
    locked = await client.get(url)
    assert "Edit SEB settings anyway" in locked.text and f'hx-post="{url}/allowQuit"' not in locked.text
    unlocked = await client.get(f"{url}?edit=1")
    assert f'hx-post="{url}/allowQuit"' in unlocked.text and "publishing is refused" in unlocked.text
    await services.exam_configs.release(admin, config.id)
    await services.exam_configs.update(admin, config.id, _update(status="ARCHIVED"))
    archived = await client.get(url)
    assert "Archived: the settings are read-only" in archived.text and "hx-post=\"" + url not in archived.text
    refused = await client.post(f"{url}/allowQuit", data={"value": "false"}, headers=HX)
    assert refused.status_code == 409 and "archived" in refused.text
