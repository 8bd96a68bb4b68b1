"""The demo exam: everything a SEB client (or the load generator) needs to start an exam on this server.

In the demo institution (``bootstrap.py``): an active Testing LMS setup, a running exam imported from it
with the default Ping indicator, a Ready To Use exam configuration with the default settings attached to
it (so In Use), and an active connection configuration whose ``.seb`` file is written out. Each piece is
looked up first (by name; the exam by its quiz) and only created when missing, or activated when switched
off, so calling ``ensure_demo_exam`` again creates nothing and gives the same result.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from sebframe.core.accounts.actor import Actor
from sebframe.core.accounts.auth import actor_of
from sebframe.core.bootstrap import DemoAccounts, demo_accounts
from sebframe.core.db.models import ConnectionConfiguration, Exam, ExamConfiguration, LmsSetup
from sebframe.core.errors import Conflict
from sebframe.core.exams.schemas import ConfigurationAttach, ExamImport
from sebframe.core.lms.schemas import LmsSetupInput
from sebframe.core.lms.testing_lms import TESTING_LMS
from sebframe.core.paging import MAX_PAGE_SIZE, ListParams, Page
from sebframe.core.private_files import write_private_file
from sebframe.core.sebconfig.connection_configs import ConnectionConfigInput, ConnectionPurpose, normalise_server_url
from sebframe.core.sebconfig.exam_configs import ExamConfigCreate
from sebframe.core.services import Services

LMS_SETUP_NAME = "Demo Testing LMS"
EXAM_CONFIG_NAME = "Demo Exam Configuration"
CONNECTION_CONFIG_NAME = "Demo Connection"
CONNECTION_FILE = "demo-connection.seb"
DEFAULT_SERVER_URL = "http://127.0.0.1:8000"
# Demo Quiz 1 started in 2020 and never ends: the exam stays running however long the demo (or a load
# test) lasts, and its times do not depend on when the server started, unlike quizzes 10-13.
DEMO_QUIZ_ID = "quiz1"
PING_INTERVAL_MS = 1000
_TESTING_SETTINGS = {"client_name": "sebframe-demo", "client_secret": "demo-secret"}

Named = TypeVar("Named", LmsSetup, ExamConfiguration, ConnectionConfiguration)


@dataclass(frozen=True)
class DemoSetup:
    institution_id: int
    exam_id: int
    exam_name: str
    exam_status: str
    lms_setup_name: str
    exam_config_name: str
    connection_config_name: str
    connection_file: Path
    server_url: str


async def ensure_demo_exam(services: Services, *, server_url: str, out: Path | None = None) -> DemoSetup:
    """Make sure the demo exam is ready and write its connection configuration to ``out`` (default
    ``<data_dir>/demo-connection.seb``). Needs the demo institution (``bootstrap.ensure_demo_accounts``)."""
    server_url = normalise_server_url(server_url)  # ValueError for anything but an http(s) address
    accounts = await demo_accounts(services.db)
    institution_admin, exam_admin = actor_of(accounts.institution_admin), actor_of(accounts.exam_admin)
    setup = await _lms_setup(services, institution_admin)
    exam = await _exam(services, exam_admin, setup, accounts)
    configuration = await _exam_configuration(services, exam_admin, exam)
    connection = await _connection_configuration(services, institution_admin)
    _, content = await services.connection_configs.export_by_name(
        connection.name, institution_id=accounts.institution_id, server_url=server_url)
    path = out or services.settings.ensure_data_dir() / CONNECTION_FILE
    write_private_file(path, content)  # it holds the connection configuration's client secret
    return DemoSetup(accounts.institution_id, exam.id, exam.name, exam.status, setup.name, configuration.name,
                     connection.name, path, server_url)


async def _lms_setup(services: Services, actor: Actor) -> LmsSetup:
    found = _named(await services.lms_setups.list(actor, _by_name(LMS_SETUP_NAME)), LMS_SETUP_NAME)
    if found is None:
        data = LmsSetupInput(name=LMS_SETUP_NAME, lms_type=TESTING_LMS, url="http://lms.mockup.com",
                             settings=_TESTING_SETTINGS)
        found, result = await services.lms_setups.create(actor, data, activate=True)
        if not result.ok:
            raise Conflict(f"the demo LMS setup does not work: {result.message}")
    elif not found.active:
        found, _ = await services.lms_setups.activate(actor, found.id)
    return found


async def _exam(services: Services, actor: Actor, setup: LmsSetup, accounts: DemoAccounts) -> Exam:
    preview = await services.exams.preview_import(actor, setup.id, DEMO_QUIZ_ID)
    if preview.imported_exam_id is None:
        # The import adds the default Ping indicator (when an indicator plugin provides it) and, the quiz
        # running, gives the exam the RUNNING status at once: no need to wait for the refresh task.
        return await services.exams.import_exam(actor, ExamImport(
            lms_setup_id=setup.id, quiz_id=DEMO_QUIZ_ID, supporter_ids=[accounts.supporter.id]))
    exam = await services.exams.get(actor, preview.imported_exam_id)
    if not exam.active:
        raise Conflict(f"the demo exam {exam.name!r} is inactive (its LMS setup was deactivated); delete it in "
                       "the web UI and run this again to re-import it")
    return exam


async def _exam_configuration(services: Services, actor: Actor, exam: Exam) -> ExamConfiguration:
    """The attached configuration; the demo one (default settings, published on creation) if none is."""
    attached = await services.exams.configuration.attached(actor, exam.id)
    if attached is not None:
        return attached.configuration
    found = _named(await services.exam_configs.list(actor, _by_name(EXAM_CONFIG_NAME)), EXAM_CONFIG_NAME)
    if found is None:
        found = await services.exam_configs.create(actor, ExamConfigCreate(
            name=EXAM_CONFIG_NAME, description="Default SEB settings, for the demo exam", status="READY_TO_USE"))
    attached = await services.exams.configuration.attach(actor, exam.id, ConfigurationAttach(configuration_id=found.id))
    return attached.configuration


async def _connection_configuration(services: Services, actor: Actor) -> ConnectionConfiguration:
    configs = services.connection_configs
    found = _named(await configs.list(actor, _by_name(CONNECTION_CONFIG_NAME)), CONNECTION_CONFIG_NAME)
    if found is None:
        data = ConnectionConfigInput(name=CONNECTION_CONFIG_NAME, purpose=ConnectionPurpose.START_EXAM,
                                     ping_interval_ms=PING_INTERVAL_MS)
        return await configs.create(actor, data, activate=True)
    if not found.active:
        return await configs.set_active(actor, found.id, True)
    return found


def _by_name(name: str) -> ListParams:
    # The name filters match parts of names; the demo actors see their own institution only.
    return ListParams(size=MAX_PAGE_SIZE, filters={"name": name})


def _named(page: Page[Named], name: str) -> Named | None:
    return next((item for item in page.items if item.name == name), None)
