"""LMS setups: validation, encrypted credentials, connection test on save and activation, deactivation cascade."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from sebframe.core.accounts.roles import Role
from sebframe.core.db.models import Exam, LmsSetup
from sebframe.core.errors import NotFound, PermissionDenied, ValidationFailed
from sebframe.core.lms.schemas import LmsSetupInput
from sebframe.core.paging import ListParams
from sebframe.core.validation import parse_input
from tests.conftest import Factory

pytestmark = pytest.mark.anyio


def setup_input(name: str = "Mock LMS", secret: str = "top-secret-value", **extra: object) -> LmsSetupInput:
    return LmsSetupInput.model_validate({
        "name": name, "lms_type": "TESTING", "url": "https://lms.example.org/",
        "settings": {"client_name": "sebserver", "client_secret": secret}, **extra,
    })


async def test_create_tests_the_connection_and_activates(services, factory: Factory) -> None:
    eth = await factory.institution()
    admin = await factory.actor(eth, "ia", Role.INSTITUTIONAL_ADMIN)
    setup, result = await services.lms_setups.create(admin, setup_input(), activate=True)
    assert result.ok and setup.active and setup.last_test_ok
    assert setup.url == "https://lms.example.org"  # trailing slash dropped
    assert services.lms_setups.settings_of(setup) == {"client_name": "sebserver", "client_secret": "********"}


async def test_credentials_are_encrypted_at_rest(services, factory: Factory) -> None:
    eth = await factory.institution()
    admin = await factory.actor(eth, "ia", Role.INSTITUTIONAL_ADMIN)
    setup, _ = await services.lms_setups.create(
        admin, setup_input(proxy_host="proxy.example.org", proxy_port=3128, proxy_username="p",
                             proxy_password="proxy-pass-1"))
    async with services.db.read() as session:
        row = (await session.execute(select(LmsSetup).where(LmsSetup.id == setup.id))).scalar_one()
    assert "top-secret-value" not in row.settings_encrypted
    assert row.proxy_password_encrypted and "proxy-pass-1" not in row.proxy_password_encrypted
    context = services.lms_setups.context(row)
    assert context.settings.client_secret.get_secret_value() == "top-secret-value"


async def test_activation_is_refused_with_the_reason_when_the_test_fails(services, factory: Factory) -> None:
    eth = await factory.institution()
    admin = await factory.actor(eth, "ia", Role.INSTITUTIONAL_ADMIN)
    setup, result = await services.lms_setups.create(admin, setup_input(secret=""))
    assert not result.ok and "client name and secret" in result.message
    with pytest.raises(ValidationFailed, match="connection test failed.*client name and secret"):
        await services.lms_setups.activate(admin, setup.id)
    assert not (await services.lms_setups.get(admin, setup.id)).active


async def test_editing_without_a_secret_keeps_the_stored_one(services, factory: Factory) -> None:
    eth = await factory.institution()
    admin = await factory.actor(eth, "ia", Role.INSTITUTIONAL_ADMIN)
    setup, _ = await services.lms_setups.create(admin, setup_input())
    updated, result = await services.lms_setups.update(admin, setup.id, setup_input(name="Renamed", secret=""))
    assert result.ok and updated.name == "Renamed"
    assert services.lms_setups.settings_of(updated, masked=False)["client_secret"] == "top-secret-value"


@pytest.mark.parametrize(("change", "field"), [
    ({"lms_type": "NO_SUCH_LMS"}, "lms_type"),
    ({"url": "ftp://lms"}, "url"),
    ({"name": "ab"}, "name"),
    ({"proxy_port": 70000}, "proxy_port"),
])
async def test_bad_input_is_refused_by_field(services, factory: Factory, change: dict, field: str) -> None:
    eth = await factory.institution()
    admin = await factory.actor(eth, "ia", Role.INSTITUTIONAL_ADMIN)
    data = {"name": "Mock LMS", "lms_type": "TESTING", "url": "https://lms.example.org",
            "settings": {"client_name": "a", "client_secret": "b"}, **change}
    with pytest.raises(ValidationFailed) as caught:
        await services.lms_setups.create(admin, parse_input(LmsSetupInput, data))
    assert field in caught.value.field_errors
    page = await services.lms_setups.list(admin, ListParams())
    assert page.total == 0


async def test_duplicate_name_in_one_institution(services, factory: Factory) -> None:
    eth = await factory.institution()
    admin = await factory.actor(eth, "ia", Role.INSTITUTIONAL_ADMIN)
    await services.lms_setups.create(admin, setup_input())
    with pytest.raises(ValidationFailed, match="already exists"):
        await services.lms_setups.create(admin, setup_input())


async def test_deactivation_reports_and_deactivates_the_exams(services, factory: Factory) -> None:
    eth = await factory.institution()
    admin = await factory.actor(eth, "ia", Role.INSTITUTIONAL_ADMIN)
    setup, _ = await services.lms_setups.create(admin, setup_input(), activate=True)
    async with services.db.transaction() as session:
        session.add(Exam(institution_id=eth.id, lms_setup_id=setup.id, external_id="quiz1", name="Demo Quiz 1"))
    report = await services.lms_setups.deactivation_report(admin, setup.id)
    assert report.exams and report.exams[0][1] == "Demo Quiz 1"
    await services.lms_setups.deactivate(admin, setup.id)
    async with services.db.read() as session:
        exam = (await session.execute(select(Exam))).scalar_one()
    assert not exam.active
    with pytest.raises(ValidationFailed, match="1 exam"):
        await services.lms_setups.delete(admin, setup.id)


async def test_tenant_isolation_and_roles(services, factory: Factory) -> None:
    eth, uzh = await factory.institution("ETH"), await factory.institution("UZH")
    eth_admin = await factory.actor(eth, "eth-admin", Role.INSTITUTIONAL_ADMIN)
    uzh_admin = await factory.actor(uzh, "uzh-admin", Role.INSTITUTIONAL_ADMIN)
    supporter = await factory.actor(eth, "sup", Role.EXAM_SUPPORTER)
    setup, _ = await services.lms_setups.create(eth_admin, setup_input())
    with pytest.raises(NotFound):
        await services.lms_setups.get(uzh_admin, setup.id)
    with pytest.raises(NotFound):
        await services.lms_setups.update(uzh_admin, setup.id, setup_input(name="Stolen"))
    assert (await services.lms_setups.list(uzh_admin, ListParams())).total == 0
    assert (await services.lms_setups.get(supporter, setup.id)).name == "Mock LMS"  # read in own institution
    with pytest.raises(PermissionDenied):
        await services.lms_setups.update(supporter, setup.id, setup_input(name="Changed"))
    with pytest.raises(PermissionDenied):
        await services.lms_setups.create(supporter, setup_input(name="Other"))


async def test_save_and_activate_saves_even_when_the_test_fails(services, factory: Factory) -> None:
    eth = await factory.institution()
    admin = await factory.actor(eth, "ia", Role.INSTITUTIONAL_ADMIN)
    setup, result = await services.lms_setups.create(admin, setup_input(secret=""), activate=True)
    assert not result.ok and not setup.active  # saved, inactive, with the reason in the result
    updated, result = await services.lms_setups.update(admin, setup.id, setup_input(name="Fixed"), activate=True)
    assert result.ok and updated.active and updated.name == "Fixed"


async def test_testing_and_activating_need_their_privileges_before_anything_happens(services, factory: Factory) -> None:
    eth = await factory.institution()
    admin = await factory.actor(eth, "ia", Role.INSTITUTIONAL_ADMIN)
    exam_admin = await factory.actor(eth, "ea", Role.EXAM_ADMIN)
    supporter = await factory.actor(eth, "sup", Role.EXAM_SUPPORTER)
    setup, _ = await services.lms_setups.create(admin, setup_input())
    with pytest.raises(PermissionDenied):
        await services.lms_setups.test(supporter, setup.id)
    assert (await services.lms_setups.test(exam_admin, setup.id)).ok  # modify privilege
    tested_at = (await services.lms_setups.get(admin, setup.id)).last_tested_at
    with pytest.raises(PermissionDenied):
        await services.lms_setups.activate(exam_admin, setup.id)
    with pytest.raises(PermissionDenied):
        await services.lms_setups.update(exam_admin, setup.id, setup_input(name="Sneaky"), activate=True)
    after = await services.lms_setups.get(admin, setup.id)
    assert after.name == "Mock LMS" and not after.active and after.last_tested_at == tested_at


async def test_check_settings_reports_the_settings_fields(services, factory: Factory) -> None:
    eth = await factory.institution()
    admin = await factory.actor(eth, "ia", Role.INSTITUTIONAL_ADMIN)
    setup, _ = await services.lms_setups.create(admin, setup_input())
    services.lms_setups.check_settings("testing", {"client_name": "a"}, setup)  # stored secret counts
    with pytest.raises(ValidationFailed) as caught:
        services.lms_setups.check_settings("TESTING", {"client_name": 5})
    assert set(caught.value.field_errors) == {"settings.client_name"}
    with pytest.raises(ValidationFailed, match="lms_type"):
        services.lms_setups.check_settings("NOPE", {})
