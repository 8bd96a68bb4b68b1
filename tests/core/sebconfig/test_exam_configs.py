"""ExamConfigService: exam configurations and templates, settings revisions, import/export, privileges."""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import pytest
from sqlalchemy import func, select

from sebframe.core.accounts.activity import Activity
from sebframe.core.accounts.dependencies import DeleteOption
from sebframe.core.accounts.roles import Role
from sebframe.core.db.models import ActivityLogEntry, ExamConfiguration, ExamConfigurationRevision
from sebframe.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from sebframe.core.sebconfig import config_key, decode_seb, default_values, encode_seb, exam_config_key
from sebframe.core.sebconfig.exam_configs import (
    ConfigKind,
    ConfigStatus,
    ExamConfigCreate,
    ExamConfigService,
    ExamConfigUpdate,
)
from tests.conftest import Factory

pytestmark = pytest.mark.anyio


@pytest.fixture
def service(services) -> ExamConfigService:
    return services.exam_configs


@pytest.fixture
async def people(factory: Factory):
    eth = await factory.institution("ETH")
    uzh = await factory.institution("UZH")
    return {
        "eth": eth,
        "uzh": uzh,
        "admin": await factory.actor(eth, "examadmin", Role.EXAM_ADMIN),
        "supporter": await factory.actor(eth, "supporter", Role.EXAM_SUPPORTER),
        "inst": await factory.actor(eth, "instadmin", Role.INSTITUTIONAL_ADMIN),
        "root": await factory.actor(eth, "root", Role.SEB_SERVER_ADMIN),
        "other": await factory.actor(uzh, "uzhadmin", Role.EXAM_ADMIN),
    }


def _new(name: str = "Final Exam", **fields) -> ExamConfigCreate:
    return ExamConfigCreate(name=name, **fields)


async def _count(services, model) -> int:
    async with services.db.read() as session:
        return (await session.execute(select(func.count()).select_from(model))).scalar_one()


async def _activities(services, entity_id: int) -> list[ActivityLogEntry]:
    async with services.db.read() as session:
        rows = await session.execute(select(ActivityLogEntry).where(ActivityLogEntry.entity_id == str(entity_id))
                                     .order_by(ActivityLogEntry.id))
        return list(rows.scalars())


async def test_create_change_publish_export_and_config_key(service, services, people) -> None:
    admin = people["admin"]
    config = await service.create(admin, _new(description="Semester end"))
    assert config.status == ConfigStatus.CONSTRUCTION and config.owner_id == admin.user_id
    working = await service.working_copy.get(admin, config.id)
    assert working.values == default_values() and working.published_number == 0
    assert not working.unpublished_changes
    initial_key = await service.files.config_key(admin, config.id)
    assert initial_key == exam_config_key(default_values())

    assert await service.working_copy.set_value(admin, config.id, "allowQuit", False) == "false"
    assert await service.working_copy.set_value(admin, config.id, "quitURL", "https://lms.example.org/quit") == \
        "https://lms.example.org/quit"
    assert await service.working_copy.has_unpublished_changes(admin, config.id)
    # Unpublished changes count for neither the export nor the Config Key.
    assert await service.files.config_key(admin, config.id) == initial_key
    assert config_key(decode_seb(await service.files.export(admin, config.id)).settings) == initial_key

    revision = await service.revisions.publish(admin, config.id, "no quitting")
    assert revision.number == 1 and revision.summary == "no quitting" and revision.author == "examadmin"
    assert [c.name for c in revision.changes] == ["allowQuit", "quitURL"]
    assert not await service.working_copy.has_unpublished_changes(admin, config.id)

    exported = await service.files.export(admin, config.id)
    assert exported.startswith(b'<?xml version="1.0" encoding="utf-8"?><!DOCTYPE plist')
    settings = decode_seb(exported).settings
    assert settings["allowQuit"] is False and settings["quitURL"] == "https://lms.example.org/quit"
    key = await service.files.config_key(admin, config.id)
    assert key != initial_key and config_key(settings) == key
    protected = await service.files.export(admin, config.id, password="exam-pw")
    assert protected.startswith(b"pswd")
    assert config_key(decode_seb(protected, password="exam-pw").settings) == key
    with pytest.raises(ValidationFailed):
        await service.files.export(admin, config.id, password="")

    # A later change is again not in the export until it is published.
    await service.working_copy.set_value(admin, config.id, "allowQuit", "true")
    assert await service.files.config_key(admin, config.id) == key
    kinds = [(a.activity, a.message) for a in await _activities(services, config.id)]
    assert kinds[0][0] == Activity.CREATE
    assert any(a == Activity.MODIFY and m.startswith("published version 1: no quitting") for a, m in kinds)
    assert any(a == Activity.EXPORT for a, _ in kinds)
    assert ("MODIFY", "changed: allowQuit='false'") in kinds


async def test_invalid_values_are_refused_and_nothing_is_stored(service, people) -> None:
    admin = people["admin"]
    config = await service.create(admin, _new())
    cases = {
        "allowQuit": ("maybe", "expected true or false"),
        "audioVolumeLevel": ("250", "outside the range"),
        "browserViewMode": ("7", "not one of the options"),
        "lockScreenBackgroundColor": ("red", "expected a colour"),
        "URLFilterRules": ("x", "is a table"),
        "noSuchSetting": ("1", "unknown setting"),
    }
    for name, (value, message) in cases.items():
        with pytest.raises(ValidationFailed) as caught:
            await service.working_copy.set_value(admin, config.id, name, value)
        assert message in caught.value.field_errors[name], (name, caught.value.field_errors)
    # All or nothing: one bad value refuses the valid one beside it.
    with pytest.raises(ValidationFailed) as caught:
        await service.working_copy.set_values(admin, config.id, {"allowQuit": "false", "audioVolumeLevel": "-1"})
    assert list(caught.value.field_errors) == ["audioVolumeLevel"]
    with pytest.raises(ValidationFailed, match="must differ"):
        await service.working_copy.set_values(admin, config.id, {"exitKey1": "2", "exitKey2": "2"})
    with pytest.raises(ValidationFailed) as caught:
        await service.working_copy.update_row(admin, config.id, "prohibitedProcesses", 0, {"os": "9"})
    assert "prohibitedProcesses[0].os" in caught.value.field_errors
    working = await service.working_copy.get(admin, config.id)
    assert working.values == default_values() and not working.unpublished_changes


async def test_tables_rows_add_update_delete(service, people) -> None:
    admin = people["admin"]
    config = await service.create(admin, _new())
    index = await service.working_copy.add_row(admin, config.id, "URLFilterRules",
                                                {"expression": "example.org", "action": "1"})
    assert index == 0
    row = await service.working_copy.update_row(admin, config.id, "URLFilterRules", 0,
                                                {"active": False, "regex": "true"})
    assert row == {"action": "1", "active": "false", "expression": "example.org", "regex": "true"}
    await service.working_copy.add_row(admin, config.id, "URLFilterRules")
    with pytest.raises(NotFound):
        await service.working_copy.update_row(admin, config.id, "URLFilterRules", 5, {"active": "true"})
    with pytest.raises(ValidationFailed, match="no column"):
        await service.working_copy.add_row(admin, config.id, "URLFilterRules", {"bogus": "1"})
    with pytest.raises(ValidationFailed, match="holds one set of values"):
        await service.working_copy.add_row(admin, config.id, "proxies")  # the composite table has its one row already
    await service.working_copy.update_row(admin, config.id, "proxies", 0,
                                          {"HTTPEnable": "true", "HTTPProxy": "proxy.local"})
    prohibited = len(default_values()["prohibitedProcesses"])
    await service.working_copy.delete_row(admin, config.id, "prohibitedProcesses", 0)
    values = (await service.working_copy.get(admin, config.id)).values
    assert len(values["URLFilterRules"]) == 2 and values["URLFilterRules"][0]["expression"] == "example.org"
    assert len(values["prohibitedProcesses"]) == prohibited - 1
    assert values["proxies"][0]["HTTPProxy"] == "proxy.local"
    await service.revisions.publish(admin, config.id)
    settings = decode_seb(await service.files.export(admin, config.id)).settings
    assert settings["URLFilterRules"][0] == {"action": 1, "active": False, "expression": "example.org", "regex": True}
    assert settings["proxies"]["HTTPEnable"] is True
    # Whole tables through set_values (the admin API's PATCH).
    await service.working_copy.set_values(admin, config.id, {"URLFilterRules": [{"expression": "a.org"}]})
    assert (await service.working_copy.get(admin, config.id)).values["URLFilterRules"] == [
        {"action": "0", "active": "true", "expression": "a.org", "regex": "false"}]


async def test_undo_history_and_restore(service, people) -> None:
    admin = people["admin"]
    config = await service.create(admin, _new())
    await service.working_copy.set_value(admin, config.id, "allowQuit", "false")
    first = await service.revisions.publish(admin, config.id, "first")
    await service.working_copy.set_value(admin, config.id, "enableF5", "true")
    await service.working_copy.set_value(admin, config.id, "hashedQuitPassword", "quit-secret")
    second = await service.revisions.publish(admin, config.id)
    with pytest.raises(Conflict, match="no unpublished changes"):
        await service.revisions.publish(admin, config.id)

    await service.working_copy.set_value(admin, config.id, "allowQuit", "true")
    assert await service.revisions.undo(admin, config.id) == 1
    working = await service.working_copy.get(admin, config.id)
    assert working.values["allowQuit"] == "false" and not working.unpublished_changes
    assert await service.revisions.undo(admin, config.id) == 0

    history = await service.revisions.history(admin, config.id)
    assert [r.number for r in history.revisions] == [2, 1, 0]
    assert history.revisions[0].current and not history.revisions[1].current
    assert [c.name for c in history.revisions[1].changes] == ["allowQuit"]
    assert history.revisions[1].changes[0].old == "true" and history.revisions[1].changes[0].new == "false"
    password_change = next(c for c in history.revisions[0].changes if c.name == "hashedQuitPassword")
    assert password_change.old is None and password_change.new == "(hidden)"  # never the plaintext
    assert history.revisions[2].changes == [] and history.pending == []

    # Restore the initial version into the working copy; exports keep version 2 until published.
    initial = history.revisions[2]
    key_v2 = await service.files.config_key(admin, config.id)
    assert await service.revisions.restore(admin, config.id, initial.id) == 3
    working = await service.working_copy.get(admin, config.id)
    assert working.values == default_values() and working.unpublished_changes
    assert await service.files.config_key(admin, config.id) == key_v2
    assert len((await service.revisions.history(admin, config.id)).pending) == 3
    third = await service.revisions.publish(admin, config.id, "back to the defaults")
    assert third.number == 3 and await service.files.config_key(admin, config.id) == exam_config_key(default_values())
    assert first.number == 1 and second.number == 2
    other = await service.create(admin, _new("Other"))
    with pytest.raises(NotFound):
        await service.revisions.restore(admin, other.id, first.id)  # a revision of another configuration


async def test_copy_with_and_without_history(service, people) -> None:
    admin = people["admin"]
    config = await service.create(admin, _new(status="READY_TO_USE"))
    await service.working_copy.set_value(admin, config.id, "allowQuit", "false")
    await service.revisions.publish(admin, config.id, "v1")
    await service.working_copy.set_value(admin, config.id, "enableF5", "true")  # unpublished: not copied

    plain = await service.revisions.copy(admin, config.id, "Copy", description="for the retake")
    assert plain.status == ConfigStatus.CONSTRUCTION and plain.description == "for the retake"
    values = (await service.working_copy.get(admin, plain.id)).values
    assert values["allowQuit"] == "false" and values["enableF5"] == default_values()["enableF5"]
    assert [r.number for r in (await service.revisions.history(admin, plain.id)).revisions] == [0]

    full = await service.revisions.copy(admin, config.id, "Copy with history", with_history=True)
    history = await service.revisions.history(admin, full.id)
    assert [(r.number, r.summary) for r in history.revisions] == [(1, "v1"), (0, "default settings")]
    assert history.pending == []
    assert await service.files.config_key(admin, full.id) == await service.files.config_key(admin, config.id)
    with pytest.raises(ValidationFailed, match="already exists"):
        await service.revisions.copy(admin, config.id, "copy")  # names are unique, case-insensitively


async def test_import_seb_server_and_moodle_vectors(service, services, people, test_data: Path) -> None:
    admin = people["admin"]
    data = (test_data / "seb-server" / "importTest_123.seb").read_bytes()
    config, warnings = await service.files.import_seb(admin, data, password="123", name="Imported")
    assert warnings and all(isinstance(w, str) for w in warnings)
    values = (await service.working_copy.get(admin, config.id)).values
    assert values["URLFilterRules"][0]["expression"] == "jrtjrtzj"
    plain, _ = await service.files.import_seb(admin, (test_data / "seb-server" / "importTest.seb").read_bytes(),
                                        name="Imported plain")
    assert (await service.working_copy.get(admin, plain.id)).values["URLFilterEnable"] == "true"
    # The imported settings are version 0: exported and keyed as imported.
    settings = decode_seb(await service.files.export(admin, config.id)).settings
    assert config_key(settings) == await service.files.config_key(admin, config.id)
    assert (await _activities(services, config.id))[0].activity == Activity.IMPORT

    moodle = test_data / "moodle-quizaccess_seb"
    for index, (name, password) in enumerate([
        ("unencrypted.seb", None), ("encrypted.seb", "test"), ("unencrypted_mac_001.seb", None),
        ("unencrypted_win_223.seb", None), ("simpleunencrypted.seb", None),
    ]):
        imported, _ = await service.files.import_seb(admin, (moodle / name).read_bytes(), password=password,
                                               name=f"Moodle {index}")
        assert (await service.get(admin, imported.id)).name == f"Moodle {index}"
    plain, _ = await service.files.import_seb(admin, (moodle / "unencrypted.seb").read_bytes(), name="Again")
    encrypted, _ = await service.files.import_seb(admin, (moodle / "encrypted.seb").read_bytes(), password="test",
                                            name="Again encrypted")
    assert await service.files.config_key(admin, plain.id) == await service.files.config_key(admin, encrypted.id)


async def test_malformed_imports_create_nothing(service, services, people, test_data: Path) -> None:
    admin = people["admin"]
    good = (test_data / "seb-server" / "importTest_123.seb").read_bytes()
    plain_xml = (test_data / "seb-server" / "importTest.seb").read_bytes()
    cases = [
        (good[: len(good) // 2], None, "file", None),  # truncated gzip
        (good, "wrong", "password", None),
        (good, None, "password", None),
        (b'<?xml version="1.0"?><html><body>not a plist</body></html>', None, "file", None),
        (b"", None, "file", "empty"),
        (b"\x00" * (100 * 1024 * 1024), None, "file", "larger than"),
        (gzip.compress(b"plnd" + b"garbage"), None, "file", None),
    ]
    for data, password, field, text in cases:
        with pytest.raises(ValidationFailed) as caught:
            await service.files.import_seb(admin, data, password=password, name="Broken")
        assert field in caught.value.field_errors, (caught.value.field_errors, data[:20])
        if text:
            assert text in caught.value.field_errors[field]
    with pytest.raises(ValidationFailed) as caught:
        await service.files.import_seb(admin, plain_xml, name="x")  # the name is checked before the file
    assert "name" in caught.value.field_errors
    assert await _count(services, ExamConfiguration) == 0
    assert await _count(services, ExamConfigurationRevision) == 0


async def test_passwords_are_encrypted_at_rest(service, services, people, test_data: Path) -> None:
    admin = people["admin"]
    config = await service.create(admin, _new())
    await service.working_copy.set_values(admin, config.id, {"hashedQuitPassword": "quit-secret-1",
                                                "hashedAdminPassword": "admin-secret-2"})
    await service.revisions.publish(admin, config.id)
    imported, _ = await service.files.import_seb(
        admin, encode_seb({"hashedQuitPassword": hashlib.sha256(b"x").hexdigest()}), name="With hash")
    async with services.db.read() as session:
        raw = " ".join((await session.execute(select(ExamConfigurationRevision.settings))).scalars())
    for secret in ("quit-secret-1", "admin-secret-2", hashlib.sha256(b"x").hexdigest()):
        assert secret not in raw
    assert (await service.working_copy.get(admin, config.id)).values["hashedQuitPassword"] == "quit-secret-1"
    settings = decode_seb(await service.files.export(admin, config.id)).settings
    assert settings["hashedQuitPassword"] == hashlib.sha256(b"quit-secret-1").hexdigest()
    imported_settings = decode_seb(await service.files.export(admin, imported.id)).settings
    assert imported_settings["hashedQuitPassword"] == hashlib.sha256(b"x").hexdigest()  # exported unchanged
    async with services.db.read() as session:
        log = " ".join((await session.execute(select(ActivityLogEntry.message))).scalars())
    assert "quit-secret-1" not in log and "hashedQuitPassword set" in log


async def test_roles_and_tenant_isolation(service, people) -> None:
    admin, supporter, inst, root, other = (people[k] for k in ("admin", "supporter", "inst", "root", "other"))
    config = await service.create(admin, _new())
    template = await service.create(admin, _new("Template"), kind=ConfigKind.TEMPLATE)
    for reader in (supporter, inst, root):
        assert (await service.get(reader, config.id)).name == "Final Exam"
        await service.files.export(reader, config.id)
        await service.files.config_key(reader, config.id)
        for attempt in (
            service.working_copy.set_value(reader, config.id, "allowQuit", "false"),
            service.revisions.publish(reader, config.id),
            service.update(reader, config.id, ExamConfigUpdate(name="Renamed")),
            service.delete(reader, config.id),
            service.template_attributes.set_shown(reader, template.id, "allowQuit", False),
        ):
            with pytest.raises(PermissionDenied):
                await attempt
        with pytest.raises(PermissionDenied):
            await service.create(reader, _new("Mine"))
    from sebframe.core.paging import ListParams

    assert (await service.list(supporter, ListParams())).total == 1
    assert (await service.list(root, ListParams())).total == 1
    # Another institution's exam administrator sees nothing of it.
    for attempt in (
        service.get(other, config.id),
        service.working_copy.get(other, config.id),
        service.working_copy.set_value(other, config.id, "allowQuit", "false"),
        service.files.export(other, config.id),
        service.revisions.copy(other, config.id, "Stolen"),
        service.revisions.history(other, config.id),
    ):
        with pytest.raises(NotFound):
            await attempt
    assert (await service.list(other, ListParams())).total == 0
    with pytest.raises(ValidationFailed, match="template"):
        await service.create(other, _new("From foreign template", template_id=template.id))
    # The kinds do not mix: a template id is no exam configuration.
    with pytest.raises(NotFound):
        await service.get(admin, template.id, kind=ConfigKind.EXAM_CONFIG)


async def test_list_filters_sorting_paging(service, people) -> None:
    from sebframe.core.paging import ListParams

    admin = people["admin"]
    template = await service.create(admin, _new("Base"), kind=ConfigKind.TEMPLATE)
    for index in range(5):
        await service.create(admin, _new(f"Config {index}", status="READY_TO_USE" if index % 2 else "CONSTRUCTION",
                                         template_id=template.id if index < 2 else None))
    page = await service.list(admin, ListParams(size=2, sort="name", descending=True))
    assert page.total == 5 and [c.name for c in page.items] == ["Config 4", "Config 3"]
    ready = await service.list(admin, ListParams(filters={"status": "READY_TO_USE"}))
    assert [c.name for c in ready.items] == ["Config 1", "Config 3"]
    from_template = await service.list(admin, ListParams(filters={"template_id": str(template.id)}))
    assert [c.name for c in from_template.items] == ["Config 0", "Config 1"]
    assert (await service.list(admin, ListParams(filters={"name": "fig 2"}))).total == 1
    assert [t.name for t in (await service.list(admin, ListParams(), kind=ConfigKind.TEMPLATE)).items] == ["Base"]
    for bad in ({"status": "NOPE"}, {"template_id": "x"}):
        with pytest.raises(ValidationFailed):
            await service.list(admin, ListParams(filters=bad))


async def test_template_values_and_hidden_attributes_are_inherited(service, people) -> None:
    admin = people["admin"]
    template = await service.create(admin, _new("Strict"), kind=ConfigKind.TEMPLATE)
    await service.working_copy.set_value(admin, template.id, "allowQuit", "false")
    await service.revisions.publish(admin, template.id, "strict defaults")
    await service.working_copy.set_value(admin, template.id, "enableF5", "true")  # unpublished: not inherited
    assert await service.template_attributes.set_shown(admin, template.id, "allowQuit", False) == ["allowQuit"]
    assert await service.template_attributes.set_shown(admin, template.id, "enableF1", False) == \
        ["allowQuit", "enableF1"]
    assert await service.template_attributes.set_shown(admin, template.id, "enableF1", True) == ["allowQuit"]
    with pytest.raises(ValidationFailed, match="no place"):
        await service.template_attributes.set_shown(admin, template.id, "originatorVersion", False)

    config = await service.create_from_template(admin, template.id, "From strict")
    assert config.template_id == template.id
    working = await service.working_copy.get(admin, config.id)
    assert working.values["allowQuit"] == "false" and working.values["enableF5"] == "false"
    assert working.hidden == frozenset({"allowQuit"})
    assert working.published_number == 0
    with pytest.raises(NotFound):
        await service.template_attributes.set_shown(admin, config.id, "allowQuit", True)  # only templates

    # Reset to defaults: one setting, then all.
    await service.working_copy.reset_to_defaults(admin, template.id, "enableF5")
    assert (await service.working_copy.get(admin, template.id)).values["enableF5"] == "false"
    await service.working_copy.reset_to_defaults(admin, template.id)
    assert (await service.working_copy.get(admin, template.id)).values == default_values()
    # Deleting the template keeps the configurations made from it.
    await service.delete(admin, template.id)
    assert (await service.get(admin, config.id)).template_id is None


async def test_publish_guards_refuse_with_their_message(service, people) -> None:
    admin = people["admin"]
    config = await service.create(admin, _new())
    await service.working_copy.set_value(admin, config.id, "allowQuit", "false")
    seen = []

    async def active_connections(session, configuration) -> str | None:
        seen.append(configuration.id)
        return f"exam 'Physics' has 2 active SEB connections (alice, bob) using {configuration.name!r}"

    service.revisions.publish_guards.append(active_connections)
    try:
        with pytest.raises(Conflict, match="2 active SEB connections \\(alice, bob\\)"):
            await service.revisions.publish(admin, config.id)
    finally:
        service.revisions.publish_guards.remove(active_connections)
    assert seen == [config.id]
    assert [r.number for r in (await service.revisions.history(admin, config.id)).revisions] == [0]
    assert (await service.revisions.publish(admin, config.id)).number == 1


async def test_status_rules_in_use_and_archived(service, people) -> None:
    admin = people["admin"]
    config = await service.create(admin, _new())
    with pytest.raises(Conflict, match="Ready To Use"):
        await service.mark_in_use(admin, config.id)
    await service.update(admin, config.id, ExamConfigUpdate(status="READY_TO_USE"))
    assert (await service.mark_in_use(admin, config.id)).status == ConfigStatus.IN_USE
    with pytest.raises(Conflict, match="in use"):
        await service.delete(admin, config.id)
    with pytest.raises(Conflict, match="in use"):
        await service.update(admin, config.id, ExamConfigUpdate(status="CONSTRUCTION"))
    # Settings of a configuration in use can still change; publishing goes through the guards.
    await service.working_copy.set_value(admin, config.id, "allowQuit", "false")
    await service.revisions.publish(admin, config.id)
    assert (await service.release(admin, config.id)).status == ConfigStatus.READY_TO_USE
    await service.update(admin, config.id, ExamConfigUpdate(status="ARCHIVED", description="old"))
    for attempt in (
        service.working_copy.set_value(admin, config.id, "allowQuit", "true"),
        service.update(admin, config.id, ExamConfigUpdate(status="CONSTRUCTION")),
        service.revisions.undo(admin, config.id),
        service.mark_in_use(admin, config.id),
    ):
        with pytest.raises(Conflict):
            await attempt
    await service.files.export(admin, config.id)  # still readable and exportable
    copy = await service.revisions.copy(admin, config.id, "Revived")
    assert copy.status == ConfigStatus.CONSTRUCTION
    await service.delete(admin, config.id)
    with pytest.raises(NotFound):
        await service.get(admin, config.id)


async def test_unique_names_per_institution_and_kind(service, people) -> None:
    admin, other = people["admin"], people["other"]
    await service.create(admin, _new("Midterm"))
    await service.create(admin, _new("Midterm"), kind=ConfigKind.TEMPLATE)  # another kind: allowed
    await service.create(other, _new("Midterm"))  # another institution: allowed
    with pytest.raises(ValidationFailed, match="already exists"):
        await service.create(admin, _new("MIDTERM"))
    second = await service.create(admin, _new("Final"))
    with pytest.raises(ValidationFailed, match="already exists"):
        await service.update(admin, second.id, ExamConfigUpdate(name="midterm"))


async def test_deleting_a_user_with_all_dependencies_deletes_owned_configurations(services, people) -> None:
    admin, inst = people["admin"], people["inst"]
    config = await services.exam_configs.create(admin, _new())
    report = await services.users.deletion_report(inst, admin.user_id, DeleteOption.ACCOUNT_ONLY)
    assert [(label, [e.name for e in entities]) for label, entities in report.kept] == [
        ("Exam configurations", ["Final Exam"])]
    await services.users.delete(inst, admin.user_id, DeleteOption.WITH_ALL)
    assert await _count(services, ExamConfiguration) == 0
    assert await _count(services, ExamConfigurationRevision) == 0
    with pytest.raises(NotFound):
        await services.exam_configs.get(inst, config.id)
