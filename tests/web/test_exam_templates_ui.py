"""Admin UI: exam templates with the institutional default, the supporter picker and the indicator editor."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator

import httpx
import pytest

from sebframe.core.accounts.roles import Role
from sebframe.core.exams.schemas import ExamTemplateInput
from sebframe.core.services import Services
from sebframe.settings import Settings
from tests.conftest import Factory, sign_in
from tests.exam_helpers import exam_services, make_config_template

pytestmark = pytest.mark.anyio


@pytest.fixture
async def services(settings: Settings) -> AsyncIterator[Services]:
    async with exam_services(settings) as services:
        yield services


def _names(html: str) -> list[str]:
    return re.findall(r'<td><a href="/exam-templates/\d+">([^<]+)</a></td>', html)


async def test_create_edit_default_indicators_delete(client: httpx.AsyncClient, factory: Factory,
                                                     services: Services) -> None:
    eth = await factory.institution("ETH")
    admin = await factory.actor(eth, "erika", Role.EXAM_ADMIN)
    supporter = await factory.user(eth, "sam", Role.EXAM_SUPPORTER)
    base = await make_config_template(services, admin, "Strict")
    await sign_in(client, "erika")
    empty = await client.get("/exam-templates")
    assert empty.status_code == 200 and "Add Exam Template" in empty.text and _names(empty.text) == []
    form = await client.get("/exam-templates/new")
    assert f'<option value="{base.id}" >Strict</option>' in form.text and "supporter-search" in form.text
    refused = await client.post("/exam-templates/new", data={"name": "x", "exam_type": "BYOD"})
    assert refused.status_code == 422 and "at least 3 characters" in refused.text
    first = await client.post("/exam-templates/new", data={
        "name": "Finals", "description": "all finals", "exam_type": "MANAGED", "institutional_default": "1",
        "configuration_template_id": str(base.id), "supporter_ids[]": str(supporter.id)}, follow_redirects=True)
    assert first.status_code == 200 and "It is the institutional default now." in first.text
    assert "Managed Devices" in first.text and "Strict" in first.text and "(sam)" in first.text
    second = await client.post("/exam-templates/new", data={"name": "Quizzes", "exam_type": "BYOD",
                                                           "institutional_default": "1"})
    assert second.status_code == 303
    listing = await client.get("/exam-templates?sort=name")
    assert _names(listing.text) == ["Finals", "Quizzes"] and listing.text.count(">Default</span>") == 1
    assert _names((await client.get("/exam-templates?exam_type=BYOD")).text) == ["Quizzes"]
    template_id = int(re.findall(r'/exam-templates/(\d+)">Finals', listing.text)[0])
    # The indicator editor, by position.
    bad = await client.post(f"/exam-templates/{template_id}/indicators/new", data={
        "name": "Ping", "indicator_type": "NOPE"})
    assert bad.status_code == 422 and "unknown indicator type" in bad.text
    added = await client.post(f"/exam-templates/{template_id}/indicators/new", data={
        "name": "Ping", "indicator_type": "LAST_PING", "color": "#ffffff",
        "threshold_value[]": ["5000", "15000"], "threshold_color[]": ["#ffc20e", "#ed1c24"]})
    assert added.status_code == 303
    view = await client.get(f"/exam-templates/{template_id}")
    assert "Last Ping Time" in view.text and f"/exam-templates/{template_id}/indicators/0/edit" in view.text
    edit = await client.get(f"/exam-templates/{template_id}/indicators/0/edit")
    assert 'value="5000"' in edit.text and 'value="15000"' in edit.text
    changed = await client.post(f"/exam-templates/{template_id}/indicators/0/edit", data={
        "name": "Ping", "indicator_type": "LAST_PING", "color": "#ffffff", "threshold_value[]": ["1000"],
        "threshold_color[]": ["#ff0000"]})
    assert changed.status_code == 303
    stored = await services.exams.templates.get(admin, template_id)
    assert json.loads(stored.indicators)[0]["thresholds"] == [{"value": 1000, "color": "ff0000"}]
    assert not stored.institutional_default  # "Quizzes" became the default
    assert (await client.get(f"/exam-templates/{template_id}/indicators/3/edit")).status_code == 404
    # Editing keeps the indicators; deleting an indicator, then the template.
    saved = await client.post(f"/exam-templates/{template_id}/edit", data={
        "name": "Finals 2026", "exam_type": "VDI", "configuration_template_id": "", "supporter_ids[]": []})
    assert saved.status_code == 303
    stored = await services.exams.templates.get(admin, template_id)
    assert stored.name == "Finals 2026" and stored.configuration_template_id is None and stored.indicators != "[]"
    assert (await client.post(f"/exam-templates/{template_id}/indicators/0/delete")).status_code == 303
    assert (await services.exams.templates.get(admin, template_id)).indicators == "[]"
    deleted = await client.post(f"/exam-templates/{template_id}/delete", follow_redirects=True)
    assert "Exam template Finals 2026 deleted" in deleted.text and _names(deleted.text) == ["Quizzes"]


async def test_readers_and_other_institutions(client: httpx.AsyncClient, factory: Factory,
                                              services: Services) -> None:
    eth = await factory.institution("ETH")
    uzh = await factory.institution("UZH")
    admin = await factory.actor(eth, "erika", Role.EXAM_ADMIN)
    template = await services.exams.templates.create(admin, ExamTemplateInput(name="Finals"))
    await factory.user(eth, "ia", Role.INSTITUTIONAL_ADMIN)
    await factory.user(uzh, "ursula", Role.EXAM_ADMIN)
    await sign_in(client, "ia")
    listing = await client.get("/exam-templates")
    assert _names(listing.text) == ["Finals"] and "Add Exam Template" not in listing.text
    view = await client.get(f"/exam-templates/{template.id}")
    assert view.status_code == 200 and "Edit Exam Template" not in view.text
    assert (await client.get(f"/exam-templates/{template.id}/edit")).status_code == 403
    assert (await client.post(f"/exam-templates/{template.id}/delete")).status_code == 403
    assert (await client.get("/exam-templates/new")).status_code == 403
    await sign_in(client, "ursula")
    assert (await client.get(f"/exam-templates/{template.id}")).status_code == 404
    assert _names((await client.get("/exam-templates")).text) == []
